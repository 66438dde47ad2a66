// haul: one helper the content script, the popup and the options page share — a file path shown
// so that it wraps between folder names, never in the middle of one: a <wbr> after each `/` and
// `\`. Loaded before content.js (manifest, executeScript, registered scripts) and by the pages.
'use strict';
globalThis.haulPathNodes = function haulPathNodes(path) {
  const fragment = document.createDocumentFragment();
  const parts = String(path).split(/(?<=[\\/])/);
  parts.forEach((part, i) => {
    fragment.append(document.createTextNode(part));
    if (i < parts.length - 1) fragment.append(document.createElement('wbr'));
  });
  return fragment;
};
