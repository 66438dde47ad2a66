// haul background script (Chrome's service worker, Firefox's background script): talks to haul.
//
// For each grab:
// 1. a content script (declared on product pages, or injected by the toolbar action / context
//    menu on any page) connects a "haul-grab" port and posts {kind:"grab", page, media};
// 2. this script opens chrome.runtime.connectNative("haul.native_host") and sends
//    {"type":"hello"}, then {"type":"grab", id, page, media, options:{}};
// 3. it turns what comes back ("accepted", "progress", "finished", "error", or the browser's own
//    error when the host is missing) into {kind:"progress"|"finished"|"error"} for the page and
//    the toolbar badge, with the command that fixes a problem.
//
// No network requests, no remote code, no analytics: the only thing this script talks to is the
// local native host.
//
// The in-page button appears by itself only on the product pages of the marketplaces haul has an
// extractor for (the manifest's content script, checked against haul's site registry). On any
// other shop the toolbar button and the context menu work through activeTab; a user who wants the
// button there too chooses "Show the haul button on this shop" in the toolbar button's menu:
// 1. permissions.request for that shop's origin only (optional_host_permissions; asked first,
//    inside the click's handler, because Firefox grants nothing once the handler has awaited);
// 2. scripting.registerContentScripts for that origin, persisted across browser sessions, and the
//    button injected into the open page at once;
// "Stop showing it" unregisters the script and gives the permission back; a permission the user
// removes in the browser's own settings unregisters the script too.
//
// "Open haul's status page" (the toolbar button's menu) asks haul, through the native host, for
// {"type":"status_link"}: a link that works once, within a minute, and signs this browser in to
// the page. Only the user's own socket hands such links out, so the page is the user's alone.
'use strict';

const ext = globalThis.browser ?? globalThis.chrome;
const HOST = 'haul.native_host';
const MENU_ID = 'haul-save';
const SHOW_ID = 'haul-show-on-shop';
const HIDE_ID = 'haul-hide-on-shop';
const STATUS_ID = 'haul-status-page';
// Registered content scripts are named after the shop's origin pattern.
const SHOP_SCRIPT_PREFIX = 'haul-shop:';

// Stable error codes of haul's protocol (haul_protocol::message::ErrorCode).
const VERSION_MISMATCH = 6;
const DAEMON_UNAVAILABLE = 7;
const FORBIDDEN = 9;

function ignore() {}

ext.runtime.onInstalled.addListener(() => {
  const menus = [
    { id: MENU_ID, title: 'Save with haul', contexts: ['page', 'image', 'video', 'link'] },
    // The toolbar button's own menu: per-shop settings belong with the button.
    { id: SHOW_ID, title: 'Show the haul button on this shop', contexts: ['action'] },
    { id: HIDE_ID, title: 'Stop showing the haul button on this shop', contexts: ['action'] },
    { id: STATUS_ID, title: "Open haul's status page", contexts: ['action'] },
  ];
  for (const menu of menus) ext.contextMenus.create(menu, () => void ext.runtime.lastError);
});

ext.action.onClicked.addListener((tab) => startInTab(tab, null));

ext.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === SHOW_ID) {
    showOnShop(tab); // synchronously: see the permission note at the top
    return;
  }
  if (info.menuItemId === HIDE_ID) {
    hideOnShop(tab);
    return;
  }
  if (info.menuItemId === STATUS_ID) {
    openStatusPage(tab);
    return;
  }
  if (info.menuItemId !== MENU_ID) return;
  const kind = info.mediaType === 'video' ? 'video' : info.mediaType === 'image' ? 'image' : null;
  startInTab(tab, kind && info.srcUrl ? { url: info.srcUrl, kind } : null);
});

// --- the button on a shop of the user's choice ----------------------------------------------------

// `https://shop.example/*` for a web page's tab (its origin, any port), else null.
function shopPattern(tab) {
  try {
    const url = new URL(tab && tab.url ? tab.url : '');
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return `${url.protocol}//${url.hostname}/*`;
  } catch (_) {
    return null;
  }
}

function shopName(pattern) {
  return pattern.replace(/^[a-z]+:\/\//, '').replace(/\/\*$/, '');
}

function showOnShop(tab) {
  const pattern = shopPattern(tab);
  if (!pattern) {
    badge(tab && tab.id, 'error', 'haul can show its button on web pages only');
    return;
  }
  const shop = shopName(pattern);
  ext.permissions
    .request({ origins: [pattern] })
    .then((granted) => {
      if (granted) return buttonOnShop(tab, pattern);
      badge(tab.id, 'error', `haul: the button stays off ${shop} (access was not granted)`);
      return undefined;
    })
    .catch((e) => badge(tab.id, 'error', `haul could not show its button on ${shop}: ${messageOf(e)}`));
}

// Once the shop's access is granted: the button on its every page from now on, and on this one now.
async function buttonOnShop(tab, pattern) {
  await registerShop(pattern);
  await ext.scripting.executeScript({ target: { tabId: tab.id }, files: ['content.js'] });
  badge(tab.id, 'done', `haul: the button now shows on every page of ${shopName(pattern)}`);
}

async function hideOnShop(tab) {
  const pattern = shopPattern(tab);
  if (!pattern) return;
  const shop = shopName(pattern);
  try {
    if (!(await unregisterShop(pattern))) {
      badge(tab.id, 'error', `haul: the button was not turned on for ${shop} from this menu`);
      return;
    }
    // Give the access back too; the marketplaces' own access is not optional and stays.
    await ext.permissions.remove({ origins: [pattern] }).catch(ignore);
    await ext.tabs.sendMessage(tab.id, { kind: 'haul-hide' }).catch(ignore);
    badge(tab.id, 'done', `haul: the button no longer shows on ${shop}`);
  } catch (e) {
    badge(tab.id, 'error', `haul could not turn its button off on ${shop}: ${messageOf(e)}`);
  }
}

async function registerShop(pattern) {
  const id = SHOP_SCRIPT_PREFIX + pattern;
  const existing = await ext.scripting.getRegisteredContentScripts({ ids: [id] });
  if (existing.length) return;
  await ext.scripting.registerContentScripts([
    { id, matches: [pattern], js: ['content.js'], runAt: 'document_idle', persistAcrossSessions: true },
  ]);
}

// Whether a script was registered for `pattern` (and is now gone).
async function unregisterShop(pattern) {
  const id = SHOP_SCRIPT_PREFIX + pattern;
  const existing = await ext.scripting.getRegisteredContentScripts({ ids: [id] });
  if (!existing.length) return false;
  await ext.scripting.unregisterContentScripts({ ids: [id] });
  return true;
}

// Access the user takes back in the browser's settings takes the button away with it.
ext.permissions.onRemoved.addListener((removed) => {
  for (const origin of (removed && removed.origins) || []) unregisterShop(origin).catch(ignore);
});

function messageOf(e) {
  return String(e && e.message ? e.message : e);
}

// Any page: the click granted activeTab, so the content script can be injected to read it.
async function startInTab(tab, extra) {
  if (!tab || tab.id === undefined) return;
  try {
    await ext.scripting.executeScript({ target: { tabId: tab.id }, files: ['content.js'] });
    await ext.tabs.sendMessage(tab.id, { kind: 'haul-start', extra });
  } catch (e) {
    badge(tab.id, 'error', `haul cannot read this page: ${messageOf(e)}`);
  }
}

ext.runtime.onConnect.addListener((port) => {
  if (port.name !== 'haul-grab') return;
  const tabId = port.sender && port.sender.tab ? port.sender.tab.id : undefined;
  port.onMessage.addListener((msg) => {
    if (msg && msg.kind === 'grab') grab(port, tabId, msg);
  });
});

// What to run for each way the browser reports a missing or broken host.
function fixFor(message) {
  const id = ext.runtime.id;
  if (/not found|No such native application|is not registered/i.test(message)) {
    return 'haul is not installed for this browser: run `haul install`, then `haul doctor`';
  }
  if (/forbidden|does not have permission/i.test(message)) {
    return `haul does not allow this extension yet: run \`haul install --extension-id ${id}\`, then \`haul doctor\``;
  }
  if (/exited|Failed to start|does not exist, or is not executable/i.test(message)) {
    return "haul's native host did not run: run `haul doctor`";
  }
  return 'run `haul doctor`';
}

function fixForCode(code) {
  switch (code) {
    case DAEMON_UNAVAILABLE:
      return 'start haul with `haul daemon` (or `haul install --autostart`), then `haul doctor`';
    case FORBIDDEN:
      return `run \`haul install --extension-id ${ext.runtime.id}\`, then \`haul doctor\``;
    case VERSION_MISMATCH:
      return 'update haul and this extension to the same version, then restart `haul daemon`';
    default:
      return 'run `haul doctor`';
  }
}

function grab(ui, tabId, request) {
  const requestId = `grab-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  let ended = false;
  let job = null;
  let native = null;

  const tell = (msg) => {
    try {
      ui.postMessage(msg);
    } catch (_) {
      // The tab went away; the job goes on in haul.
    }
  };
  const end = () => {
    ended = true;
    try {
      if (native) native.disconnect();
    } catch (_) {
      ignore();
    }
  };
  const fail = (message, fix) => {
    if (ended) return;
    end();
    badge(tabId, 'error', `${message} — ${fix}`);
    tell({ kind: 'error', message, fix });
  };

  try {
    native = ext.runtime.connectNative(HOST);
  } catch (e) {
    const message = messageOf(e);
    fail(message, fixFor(message));
    return;
  }

  native.onMessage.addListener((msg) => {
    if (ended || !msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'accepted':
        if (msg.id === undefined || msg.id === requestId) job = msg.job;
        break;
      case 'progress':
        if (job !== null && msg.job !== job) break;
        badge(tabId, 'working', `haul: ${msg.done}/${msg.total}`, progressText(msg.done, msg.total));
        tell({ kind: 'progress', done: msg.done, total: msg.total });
        break;
      case 'finished': {
        if (job !== null && msg.job !== job) break;
        end();
        // The first failure's explanation for its kind (what happened, what to do); the precise
        // reason from a daemon older than failure kinds.
        const first = Array.isArray(msg.failures) && msg.failures.length ? msg.failures[0] : null;
        const reason = first ? first.explanation || first.reason || '' : '';
        const state = msg.status === 'complete' ? 'done' : msg.status === 'partial' ? 'partial' : 'error';
        badge(tabId, state, msg.output ? `haul: saved to ${msg.output}` : `haul: ${msg.status}`);
        tell({
          kind: 'finished',
          status: msg.status,
          output: msg.output || '',
          saved: msg.saved,
          failed: msg.failed,
          total: msg.total,
          reason,
        });
        break;
      }
      case 'error':
        fail(String(msg.message || 'haul reported an error'), fixForCode(msg.code));
        break;
      default:
        break; // hello, and types from a newer haul
    }
  });

  native.onDisconnect.addListener((port) => {
    if (ended) return;
    const err = (port && port.error) || ext.runtime.lastError;
    const message = err && err.message ? err.message : 'Native host has exited.';
    fail(message, fixFor(message));
  });

  badge(tabId, 'working', 'haul: saving…');
  native.postMessage({ type: 'hello' });
  native.postMessage({
    type: 'grab',
    id: requestId,
    page: request.page,
    media: Array.isArray(request.media) ? request.media : [],
    options: {},
  });
}

// Asks haul for a one-time link into its status page and opens it in a new tab.
function openStatusPage(tab) {
  const tabId = tab && tab.id;
  let native;
  try {
    native = ext.runtime.connectNative(HOST);
  } catch (e) {
    const message = messageOf(e);
    badge(tabId, 'error', `${message} — ${fixFor(message)}`);
    return;
  }
  let done = false;
  const finish = () => {
    done = true;
    try {
      native.disconnect();
    } catch (_) {
      ignore();
    }
  };
  native.onMessage.addListener((msg) => {
    if (done || !msg || typeof msg !== 'object') return;
    if (msg.type === 'status_link' && typeof msg.url === 'string') {
      finish();
      ext.tabs.create({ url: msg.url }).catch(ignore);
    } else if (msg.type === 'error') {
      finish();
      badge(tabId, 'error', `${msg.message || 'haul reported an error'} — ${fixForCode(msg.code)}`);
    }
  });
  native.onDisconnect.addListener((port) => {
    if (done) return;
    const err = (port && port.error) || ext.runtime.lastError;
    const message = err && err.message ? err.message : 'Native host has exited.';
    badge(tabId, 'error', `${message} — ${fixFor(message)}`);
  });
  native.postMessage({ type: 'hello' });
  native.postMessage({ type: 'status_link', id: 'status-page' });
}

function progressText(done, total) {
  if (!(total > 0)) return '…';
  const text = `${done}/${total}`;
  return text.length <= 4 ? text : `${Math.floor((done * 100) / total)}%`;
}

const BADGES = {
  working: ['…', '#57606a'],
  done: ['✓', '#1a7f37'],
  partial: ['!', '#9a6700'],
  error: ['!', '#cf222e'],
};

function badge(tabId, state, title, text) {
  if (tabId === undefined) return;
  const [mark, color] = BADGES[state] || BADGES.working;
  const calls = [
    ext.action.setBadgeText({ tabId, text: text || mark }),
    ext.action.setBadgeBackgroundColor({ tabId, color }),
    ext.action.setTitle({ tabId, title }),
  ];
  for (const call of calls) {
    if (call && typeof call.catch === 'function') call.catch(ignore); // the tab may be gone
  }
}
