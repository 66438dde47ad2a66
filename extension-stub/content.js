// haul content script: one "Save with haul" button on product pages.
//
// Declared in the manifest for the supported marketplaces' product pages, and registered for the
// shops the user turned the button on for; the toolbar action and the context menu inject the
// same file into any other page (activeTab + scripting) and send "haul-start". "haul-hide" takes
// the button off the page (the user turned it off for this shop).
// A click collects the page (URL, title, outerHTML) and the media URLs the DOM shows, hands them
// to the background script, and shows what comes back. All site-specific work happens in haul
// itself; this file only reads the DOM.
//
// State for people and tests: the button carries data-haul-state = idle | working | done | error,
// data-haul-status (the job's end status), data-haul-output (the saved file), data-haul-job and
// data-haul-message; #haul-status repeats the detail as text — the saved file's path wrapped at
// its separators (wrap.js), each failed file by name with its reason — followed by the actions
// the popup offers too: Open, Show in folder, haul's status page.
(() => {
  'use strict';
  if (globalThis.__haulContentLoaded) return; // injected twice (manifest + action): keep one
  globalThis.__haulContentLoaded = true;

  const ext = globalThis.browser ?? globalThis.chrome;
  const MAX_MEDIA = 2000;
  // A request must stay under the browser's 64 MiB limit to the host; without the HTML haul
  // still saves the media the DOM shows.
  const MAX_HTML_CHARS = 24 * 1024 * 1024;

  const root = document.createElement('div');
  root.id = 'haul-root';
  root.style.cssText =
    'all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483647;display:flex;' +
    'flex-direction:column;align-items:flex-end;gap:4px;font:13px/1.3 system-ui,sans-serif';
  const button = document.createElement('button');
  button.id = 'haul-save';
  button.type = 'button';
  button.style.cssText =
    'all:initial;cursor:pointer;padding:8px 14px;border-radius:6px;background:#1f2328;' +
    'color:#fff;font:600 13px/1.3 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)';
  const status = document.createElement('div');
  status.id = 'haul-status';
  status.style.cssText =
    'all:initial;max-width:360px;padding:6px 10px;border-radius:6px;background:#fff;color:#1f2328;' +
    'font:12px/1.4 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);white-space:pre-wrap;' +
    'overflow-wrap:anywhere;user-select:text';
  status.hidden = true;
  root.append(status, button);

  const ACTION_STYLE =
    'all:initial;cursor:pointer;margin:6px 6px 0 0;padding:3px 8px;border:1px solid #8c959f;' +
    'border-radius:5px;background:#f6f8fa;color:#1f2328;font:12px/1.3 system-ui,sans-serif';

  function actionButton(label, request) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.style.cssText = ACTION_STYLE;
    b.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation();
      ext.runtime.sendMessage(request).then((reply) => {
        if (reply && reply.type === 'error') {
          const line = document.createElement('div');
          line.textContent = reply.fix ? `${reply.message} — ${reply.fix}` : reply.message;
          status.append(line);
        }
      }, () => {});
    });
    return b;
  }

  // The last segment of a URL's path, decoded: how a person recognises a file.
  function fileName(url) {
    try {
      const segments = new URL(url).pathname.split('/').filter(Boolean);
      return decodeURIComponent(segments[segments.length - 1] || url);
    } catch (_) {
      return String(url);
    }
  }

  // The detail under the button: text lines, the saved path wrapped at its separators, the
  // failed files and the actions on the job.
  function fillStatus(detail, result) {
    status.replaceChildren();
    if (result && result.output) {
      const where = document.createElement('div');
      where.append('Saved to ', globalThis.haulPathNodes(result.output));
      status.append(where);
    }
    if (detail) {
      const text = document.createElement('div');
      text.textContent = detail;
      status.append(text);
    }
    const failures = (result && result.failures) || [];
    if (failures.length) {
      const list = document.createElement('ul');
      list.style.cssText = 'all:initial;display:block;margin:4px 0 0 16px;font:inherit;list-style:disc';
      for (const f of failures) {
        const item = document.createElement('li');
        item.style.cssText = 'display:list-item;font:inherit';
        item.textContent = `${fileName(f.url)}: ${f.reason}`;
        item.title = f.url;
        list.append(item);
      }
      status.append(list);
    }
    if (result && Number.isInteger(result.job)) {
      const actions = document.createElement('div');
      if (result.output) {
        actions.append(
          actionButton('Open', { kind: 'open', job: result.job, target: 'file' }),
          actionButton('Show in folder', { kind: 'open', job: result.job, target: 'folder' }),
        );
      }
      actions.append(actionButton("haul's status page", { kind: 'status-page' }));
      status.append(actions);
    }
  }

  function render(state, label, detail, extra = {}, result = null) {
    button.dataset.haulState = state;
    button.textContent = label;
    button.title = detail || label;
    fillStatus(detail, result);
    const shown = Boolean(detail || result);
    status.hidden = !shown;
    status.style.display = shown ? 'block' : 'none';
    if (result && Number.isInteger(result.job)) button.dataset.haulJob = String(result.job);
    else delete button.dataset.haulJob;
    for (const key of ['status', 'output', 'message']) {
      if (extra[key]) button.dataset['haul' + key[0].toUpperCase() + key.slice(1)] = extra[key];
      else delete button.dataset['haul' + key[0].toUpperCase() + key.slice(1)];
    }
  }

  function mount() {
    if (!root.isConnected) (document.body || document.documentElement).append(root);
  }

  render('idle', 'Save with haul', '');
  mount();

  // --- what the page shows -------------------------------------------------------------------

  function absolute(url) {
    if (!url) return null;
    try {
      const u = new URL(url, document.baseURI);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  // The largest candidate of a srcset. URLs may contain commas (CDN size modifiers), so this
  // follows the HTML parsing rules: a URL runs to whitespace, descriptors run to the next comma.
  function largestFromSrcset(srcset) {
    let best = null;
    let bestScore = -1;
    let i = 0;
    while (i < srcset.length) {
      while (i < srcset.length && /[\s,]/.test(srcset[i])) i++;
      let start = i;
      while (i < srcset.length && !/\s/.test(srcset[i])) i++;
      let url = srcset.slice(start, i);
      let descriptor = '';
      if (/,$/.test(url)) {
        url = url.replace(/,+$/, '');
      } else {
        start = i;
        while (i < srcset.length && srcset[i] !== ',') i++;
        descriptor = srcset.slice(start, i).trim();
      }
      if (!url) continue;
      const score = parseFloat(descriptor) || 1; // "800w" → 800, "2x" → 2, none → 1x
      if (score > bestScore) {
        best = url;
        bestScore = score;
      }
    }
    return best;
  }

  function collectMedia(extra) {
    const seen = new Set();
    const media = [];
    const add = (url, kind, chosen) => {
      const abs = absolute(url);
      if (!abs || seen.has(abs) || media.length >= MAX_MEDIA) return;
      seen.add(abs);
      media.push(chosen ? { url: abs, kind, chosen: true } : { url: abs, kind });
    };
    // The image or video the user right-clicked is saved whatever the page says; the rest is
    // what the page shows, for haul to sort the product's media from the page's.
    if (extra && extra.url) add(extra.url, extra.kind === 'video' ? 'video' : 'image', true);
    for (const video of document.querySelectorAll('video')) {
      add(video.currentSrc || video.getAttribute('src'), 'video');
      for (const source of video.querySelectorAll('source[src]')) add(source.getAttribute('src'), 'video');
    }
    for (const img of document.querySelectorAll('img')) {
      if (root.contains(img)) continue;
      // Icons and tracking pixels are not product media.
      if (img.complete && img.naturalWidth > 0 && img.naturalWidth < 32 && img.naturalHeight < 32) continue;
      const fromPicture = [];
      if (img.parentElement && img.parentElement.tagName === 'PICTURE') {
        for (const source of img.parentElement.querySelectorAll('source[srcset]')) {
          fromPicture.push(largestFromSrcset(source.getAttribute('srcset')));
        }
      }
      const srcset = img.getAttribute('srcset');
      const largest = srcset ? largestFromSrcset(srcset) : null;
      add(largest || img.currentSrc || img.getAttribute('src') || img.getAttribute('data-src'), 'image');
      for (const url of fromPicture) add(url, 'image');
    }
    return media;
  }

  function collectPage() {
    // Our own button is not part of the page.
    root.remove();
    let html = document.documentElement.outerHTML;
    mount();
    if (html.length > MAX_HTML_CHARS) html = undefined;
    const page = { url: location.href, title: document.title };
    if (html !== undefined) page.html = html;
    return page;
  }

  // --- one grab ------------------------------------------------------------------------------

  let busy = false;

  function grab(extra) {
    if (busy) return;
    busy = true;
    render('working', 'Saving…', '');
    let port;
    try {
      port = ext.runtime.connect({ name: 'haul-grab' });
    } catch (e) {
      busy = false;
      render('error', 'haul: reload the page', String(e && e.message ? e.message : e), { message: String(e) });
      return;
    }
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== 'object') return;
      if (msg.kind === 'progress') {
        const text = msg.total > 0 ? `Saving… ${msg.done}/${msg.total}` : 'Saving…';
        render('working', text, '');
      } else if (msg.kind === 'finished') {
        busy = false;
        if (msg.status === 'complete') {
          render('done', 'Saved ✓', '', { status: msg.status, output: msg.output }, msg);
        } else if (msg.status === 'partial') {
          const label = `Saved, ${msg.failed} of ${msg.total} failed`;
          const detail = `${msg.failed} file${msg.failed === 1 ? '' : 's'} could not be saved:`;
          render('done', label, detail, { status: msg.status, output: msg.output }, msg);
        } else {
          const text = msg.failures && msg.failures.length ? 'Nothing could be saved:' : msg.reason || 'Nothing could be saved.';
          render('error', 'haul could not save this page', text, { status: msg.status, message: msg.reason || text }, msg);
        }
        port.disconnect();
      } else if (msg.kind === 'error') {
        busy = false;
        const text = msg.fix ? `${msg.message}\nTo fix: ${msg.fix}` : msg.message;
        render('error', 'haul: see what to do', text, { message: text });
        port.disconnect();
      }
    });
    port.onDisconnect.addListener(() => {
      if (busy) {
        busy = false;
        render('error', 'haul: see what to do', 'The extension stopped. Reload the page and try again.', {
          message: 'The extension stopped.',
        });
      }
    });
    port.postMessage({ kind: 'grab', page: collectPage(), media: collectMedia(extra) });
  }

  button.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    grab(null);
  });

  ext.runtime.onMessage.addListener((msg) => {
    if (msg && msg.kind === 'haul-start') {
      mount();
      grab(msg.extra || null);
    } else if (msg && msg.kind === 'haul-hide' && !busy) {
      root.remove();
    }
  });
})();
