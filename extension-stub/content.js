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
// data-haul-status (the job's end status), data-haul-output (the saved file) and
// data-haul-message; #haul-status repeats the detail as text.
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
    'word-break:break-all;user-select:text';
  status.hidden = true;
  root.append(status, button);

  function render(state, label, detail, extra = {}) {
    button.dataset.haulState = state;
    button.textContent = label;
    button.title = detail || label;
    status.textContent = detail || '';
    status.hidden = !detail;
    status.style.display = detail ? 'block' : 'none';
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
        const where = msg.output ? `Saved to ${msg.output}` : '';
        if (msg.status === 'complete') {
          render('done', 'Saved ✓', where, { status: msg.status, output: msg.output });
        } else if (msg.status === 'partial') {
          const label = `Saved, ${msg.failed} of ${msg.total} failed`;
          render('done', label, [where, msg.reason].filter(Boolean).join('\n'), {
            status: msg.status,
            output: msg.output,
          });
        } else {
          const text = msg.reason || 'Nothing could be saved.';
          render('error', 'haul could not save this page', text, { status: msg.status, message: text });
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
