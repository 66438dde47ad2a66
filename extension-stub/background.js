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
// 4. when it ends: a notification (Open / Show in folder; Firefox: a click opens), and the result
//    with the job's id and each failed file for the page, which offers the same actions.
//
// The popup (popup.js) and the options page (options.js) reach the native host through this
// script too: {kind:"native", request} sends one request ("status", "open", "status_link") and
// answers the reply. The options the user chose (include, naming) go with every grab.
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
// The content script and the helper it uses, in the manifest's order.
const CONTENT_FILES = ['wrap.js', 'content.js'];
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

// The toolbar button opens the popup; its "Save this page" asks for this.
ext.runtime.onMessage.addListener((msg, sender, respond) => {
  if (!msg || typeof msg !== 'object') return false;
  const fromPage = typeof sender.url === 'string' && sender.url.startsWith(ext.runtime.getURL(''));
  let answer = null;
  if (msg.kind === 'native' && fromPage && msg.request && typeof msg.request === 'object') {
    answer = nativeRequest(msg.request);
  } else if (msg.kind === 'save-active-tab' && fromPage) {
    answer = ext.tabs.query({ active: true, currentWindow: true }).then(async ([tab]) => {
      if (!tab) return { error: 'no page is open' };
      await startInTab(tab, null);
      return {};
    });
  } else if (msg.kind === 'status-page') {
    answer = openStatusPage(sender.tab);
  } else if (msg.kind === 'open' && Number.isInteger(msg.job)) {
    // From the popup, or from the result a content script shows for its own grab.
    answer = nativeRequest({ type: 'open', job: msg.job, target: msg.target === 'folder' ? 'folder' : 'file' });
  }
  if (!answer) return false;
  answer.then(respond, (e) => respond({ type: 'error', message: messageOf(e), fix: 'run `haul doctor`' }));
  return true; // respond comes later
});

// --- notifications ----------------------------------------------------------------------------------

const NOTE_PREFIX = 'haul-job-';

function notifyFinished(msg) {
  if (!ext.notifications) return;
  const saved = `${msg.saved} of ${msg.total} file${msg.total === 1 ? '' : 's'}`;
  const title =
    msg.status === 'complete' ? 'haul: saved' : msg.status === 'partial' ? 'haul: saved, some failed' : 'haul could not save';
  const options = {
    type: 'basic',
    iconUrl: ext.runtime.getURL('icons/icon-128.png'),
    title,
    message: msg.output ? `${saved} → ${msg.output}` : saved,
  };
  // Firefox has no notification buttons: a click on the notification opens the package.
  if (!globalThis.browser && msg.output) options.buttons = [{ title: 'Open' }, { title: 'Show in folder' }];
  const made = ext.notifications.create(`${NOTE_PREFIX}${msg.job}`, options);
  if (made && typeof made.catch === 'function') made.catch(ignore);
}

function jobOfNote(id) {
  const job = Number(String(id).slice(NOTE_PREFIX.length));
  return String(id).startsWith(NOTE_PREFIX) && Number.isInteger(job) ? job : null;
}

if (ext.notifications) {
  ext.notifications.onClicked.addListener((id) => {
    const job = jobOfNote(id);
    if (job !== null) nativeRequest({ type: 'open', job, target: 'file' });
  });
  if (ext.notifications.onButtonClicked) {
    ext.notifications.onButtonClicked.addListener((id, index) => {
      const job = jobOfNote(id);
      if (job !== null) nativeRequest({ type: 'open', job, target: index === 1 ? 'folder' : 'file' });
    });
  }
}

// One request to haul through a port of its own; resolves with the reply to it, or an error
// ({type:"error", message, fix}) — never rejects.
function nativeRequest(request, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const id = `req-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    let native = null;
    let done = false;
    const finish = (reply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        if (native) native.disconnect();
      } catch (_) {
        ignore();
      }
      resolve(reply);
    };
    const timer = setTimeout(
      () => finish({ type: 'error', message: 'haul did not answer in time', fix: 'run `haul doctor`' }),
      timeoutMs,
    );
    try {
      native = ext.runtime.connectNative(HOST);
    } catch (e) {
      const message = messageOf(e);
      finish({ type: 'error', message, fix: fixFor(message) });
      return;
    }
    native.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== 'object' || msg.type === 'hello') return;
      if (msg.type === 'error') finish({ ...msg, fix: fixForCode(msg.code) });
      else if (msg.id === id) finish(msg);
    });
    native.onDisconnect.addListener((port) => {
      const err = (port && port.error) || ext.runtime.lastError;
      const message = err && err.message ? err.message : 'Native host has exited.';
      finish({ type: 'error', message, fix: fixFor(message) });
    });
    native.postMessage({ type: 'hello' });
    native.postMessage({ ...request, id });
  });
}

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
  await ext.scripting.executeScript({ target: { tabId: tab.id }, files: CONTENT_FILES });
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
    { id, matches: [pattern], js: CONTENT_FILES, runAt: 'document_idle', persistAcrossSessions: true },
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
    await ext.scripting.executeScript({ target: { tabId: tab.id }, files: CONTENT_FILES });
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

async function grab(ui, tabId, request) {
  // The options page's choices (absent: haul's own config decides).
  const { settings } = await ext.storage.local.get('settings').catch(() => ({}));
  const options = {};
  if (settings && Array.isArray(settings.include)) options.include = settings.include;
  if (settings && typeof settings.naming === 'string' && settings.naming) options.naming = settings.naming;

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
        notifyFinished(msg);
        tell({
          kind: 'finished',
          job: msg.job,
          status: msg.status,
          output: msg.output || '',
          saved: msg.saved,
          failed: msg.failed,
          total: msg.total,
          reason,
          failures: Array.isArray(msg.failures) ? msg.failures.slice(0, 50) : [],
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
    options,
  });
}

// Asks haul for a one-time link into its status page and opens it in a new tab; answers the
// reply (the popup shows an error).
async function openStatusPage(tab) {
  const reply = await nativeRequest({ type: 'status_link' });
  if (reply.type === 'status_link' && typeof reply.url === 'string') {
    await ext.tabs.create({ url: reply.url }).catch(ignore);
  } else if (reply.type === 'error') {
    badge(tab && tab.id, 'error', `${reply.message} — ${reply.fix}`);
  }
  return reply;
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
