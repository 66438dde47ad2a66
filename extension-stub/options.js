// haul's options page: where haul saves (as haul reports it: the browser cannot change it), which
// roles to include and how files are named. The choices are kept in the extension's storage and
// sent with every grab (`options.include`, `options.naming`); nothing leaves the computer.
'use strict';

const ext = globalThis.browser ?? globalThis.chrome;
const message = document.getElementById('message');
const naming = document.getElementById('naming');
const template = document.getElementById('template');
const boxes = [...document.querySelectorAll('input[name="include"]')];
const ROLES = boxes.map((b) => b.value);

function say(text, bad) {
  message.textContent = text;
  message.className = bad ? 'bad' : '';
}

function showTemplate() {
  template.disabled = naming.value !== 'template';
}

async function load() {
  const { settings } = await ext.storage.local.get('settings');
  const s = settings || {};
  const include = Array.isArray(s.include) ? s.include : ROLES;
  for (const b of boxes) b.checked = include.includes(b.value);
  if (s.naming && !['default', 'amazon-upload'].includes(s.naming)) {
    naming.value = 'template';
    template.value = s.naming;
  } else {
    naming.value = s.naming || '';
  }
  showTemplate();
  const reply = await ext.runtime.sendMessage({ kind: 'native', request: { type: 'status' } });
  const out = document.getElementById('output-dir');
  if (reply && reply.type === 'status') {
    out.replaceChildren(globalThis.haulPathNodes(reply.output_dir));
  } else {
    out.textContent = reply && reply.message ? `haul did not answer: ${reply.message}` : 'haul did not answer';
    out.className = 'bad';
  }
}

naming.addEventListener('change', showTemplate);

document.getElementById('save').addEventListener('click', async () => {
  const include = boxes.filter((b) => b.checked).map((b) => b.value);
  if (!include.length) {
    say('Choose at least one kind of picture to include.', true);
    return;
  }
  let scheme = naming.value;
  if (scheme === 'template') {
    scheme = template.value.trim();
    if (!scheme.includes('{')) {
      say('A template names parts like {product_id}, {role}, {index} and {ext}.', true);
      return;
    }
  }
  const settings = {};
  // Everything ticked means "haul's own setting": nothing is sent.
  if (include.length < ROLES.length) settings.include = include;
  if (scheme) settings.naming = scheme;
  await ext.storage.local.set({ settings });
  say('Saved. The next grab uses these settings.');
});

load().catch((e) => say(String(e && e.message ? e.message : e), true));
