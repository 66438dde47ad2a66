// haul's popup: the current and recent grabs as haul lists them, with live progress, and the
// actions on each (Open, Show in folder) and on haul (its status page, "Save this page").
//
// Everything goes through the background script to the native host: `status` every second
// while the popup is open, `open` for a grab's package or folder, `status_link` for the page.
// The popup makes no network request of its own.
'use strict';

const ext = globalThis.browser ?? globalThis.chrome;
const list = document.getElementById('grabs');
const message = document.getElementById('message');
const SHOWN = 8;
// Jobs already drawn, by id: a redraw updates them in place so focus and screen readers stay put.
const rows = new Map();

function ask(request) {
  return ext.runtime.sendMessage({ kind: 'native', request });
}

function say(text, bad) {
  message.textContent = text || '';
  message.className = bad ? 'bad' : '';
}

function failed(reply) {
  if (reply && reply.type === 'error') {
    say(reply.fix ? `${reply.message} — ${reply.fix}` : reply.message, true);
    return true;
  }
  return false;
}

function stateText(job) {
  switch (job.state) {
    case 'queued':
      return 'waiting';
    case 'running':
      return job.total > 0 ? `saving… ${job.saved + job.failed} of ${job.total}` : 'saving…';
    case 'complete':
      return `saved ${job.saved} file${job.saved === 1 ? '' : 's'}`;
    case 'partial':
      return `saved ${job.saved}, ${job.failed} failed`;
    default:
      return job.state;
  }
}

function button(label, onClick, describedBy) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (describedBy) b.setAttribute('aria-describedby', describedBy);
  b.addEventListener('click', onClick);
  return b;
}

async function open(job, target) {
  const reply = await ask({ type: 'open', job, target });
  if (!failed(reply)) say(`opened ${reply.path}`);
}

function row(job) {
  let li = rows.get(job.job);
  if (!li) {
    li = document.createElement('li');
    li.dataset.job = String(job.job);
    const title = document.createElement('div');
    title.className = 'label';
    title.id = `job-${job.job}`;
    const state = document.createElement('div');
    state.className = 'state muted';
    const bar = document.createElement('progress');
    bar.setAttribute('aria-labelledby', title.id);
    const path = document.createElement('div');
    path.className = 'path';
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      button('Open', () => open(job.job, 'file'), title.id),
      button('Show in folder', () => open(job.job, 'folder'), title.id),
    );
    li.append(title, state, bar, path, actions);
    rows.set(job.job, li);
  }
  const [title, state, bar, path, actions] = li.children;
  title.textContent = job.label || `job ${job.job}`;
  state.textContent = stateText(job);
  li.dataset.state = job.state;
  const running = job.state === 'running' || job.state === 'queued';
  bar.hidden = !running;
  if (running && job.total > 0) {
    bar.max = job.total;
    bar.value = job.saved + job.failed;
  }
  if (li.dataset.output !== (job.output || '')) {
    li.dataset.output = job.output || '';
    path.replaceChildren(job.output ? globalThis.haulPathNodes(job.output) : '');
  }
  actions.hidden = !job.output;
  return li;
}

async function refresh() {
  let reply;
  try {
    reply = await ask({ type: 'status' });
  } catch (e) {
    say(String(e && e.message ? e.message : e), true);
    return;
  }
  if (failed(reply) || !reply || reply.type !== 'status') return;
  const jobs = (reply.jobs || []).slice(0, SHOWN);
  if (!jobs.length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'Nothing saved yet: press Save with haul on a product page.';
    list.replaceChildren(li);
    rows.clear();
    return;
  }
  list.replaceChildren(...jobs.map(row));
}

document.getElementById('save').addEventListener('click', async () => {
  const reply = await ext.runtime.sendMessage({ kind: 'save-active-tab' });
  if (reply && reply.error) say(reply.error, true);
  else say('saving this page…');
  refresh();
});

document.getElementById('status-page').addEventListener('click', async () => {
  const reply = await ext.runtime.sendMessage({ kind: 'status-page' });
  if (!failed(reply)) window.close();
});

refresh();
setInterval(refresh, 1000);
