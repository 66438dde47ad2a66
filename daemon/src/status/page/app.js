// haul status page. No framework, no remote code: it reads /api/v1 and follows /api/v1/events,
// signed in by the session cookie its one-time link set (HttpOnly: this script never sees it, and
// the page holds no token). Everything shown comes from the API as text (textContent), never as
// HTML.
'use strict';

(() => {
  const PAGE_SIZE = 20;
  const ACTIVE = ['queued', 'running', 'packaging'];
  const FILTERS = {
    all: '',
    active: 'queued,running,packaging',
    attention: 'partial,failed',
  };
  const JOB_WORDS = {
    queued: ['Waiting to start', 'info'],
    running: ['Saving…', 'info'],
    packaging: ['Packing…', 'info'],
    complete: ['Done', 'ok'],
    partial: ['Done — some files failed', 'warn'],
    failed: ['Failed', 'bad'],
    cancelled: ['Stopped', 'grey'],
  };
  const AVAILABILITY_WORDS = {
    InStock: ['In stock', 'ok'],
    OutOfStock: ['Out of stock', 'bad'],
    PreOrder: ['Pre-order', 'warn'],
    BackOrder: ['On back order', 'warn'],
    Discontinued: ['Discontinued', 'bad'],
    LimitedAvailability: ['Limited availability', 'warn'],
  };
  const FORMAT_WORDS = {
    shopify: 'Shopify CSV',
    woocommerce: 'WooCommerce CSV',
    csv: 'spreadsheet (CSV)',
    xlsx: 'Excel workbook',
  };
  const ROLE_WORDS = {
    main: 'Main picture',
    gallery: 'Gallery picture',
    variant: 'Variant picture',
    video: 'Video',
    description: 'Description picture',
    review: 'Review picture',
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    filter: 'all',
    limit: PAGE_SIZE,
    jobs: new Map(), // id -> {summary, detail, el}
    order: [],
    total: 0,
    started: null,
    expanded: new Map(), // id -> bool, set by the user
    selected: new Set(), // ended jobs ticked for a group export
    live: false,
  };

  // ---- helpers -------------------------------------------------------------------------------

  function bytes(n) {
    if (n == null) return '';
    if (n < 1000) return `${n} B`;
    const units = ['kB', 'MB', 'GB', 'TB'];
    let v = n;
    let u = -1;
    do {
      v /= 1000;
      u += 1;
    } while (v >= 1000 && u < units.length - 1);
    return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
  }

  function ago(seconds) {
    if (!seconds) return '';
    const d = Math.max(0, Date.now() / 1000 - seconds);
    if (d < 45) return 'just now';
    if (d < 90) return 'a minute ago';
    if (d < 3600) return `${Math.round(d / 60)} minutes ago`;
    if (d < 5400) return 'an hour ago';
    if (d < 86400) return `${Math.round(d / 3600)} hours ago`;
    return new Date(seconds * 1000).toLocaleDateString();
  }

  function baseName(path) {
    if (!path) return '';
    const parts = path.split(/[\\/]/).filter(Boolean);
    return parts.length ? parts[parts.length - 1] : path;
  }

  function fileOfUrl(url) {
    try {
      const u = new URL(url);
      const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() || u.host);
      return last.length > 48 ? `${last.slice(0, 45)}…` : last;
    } catch (_) {
      return url;
    }
  }

  // A price in the reader's own way of writing money ("€39.00", "39,00 €"), its currency code
  // beside it when the browser does not know the currency.
  function priceText(p) {
    if (!p || !p.price) return '';
    if (!p.currency) return p.price;
    const amount = Number(p.price);
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: p.currency }).format(amount);
    } catch (_) {
      return `${p.price} ${p.currency}`;
    }
  }

  let toastTimer = null;
  function toast(text, tone) {
    const t = $('toast');
    t.textContent = text;
    t.dataset.tone = tone || '';
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, tone === 'bad' ? 8000 : 4000);
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new Error('haul is not answering right now. It reconnects on its own.');
    }
    if (response.status === 401) {
      // The session ended (a new token, or a week passed): only a new link signs in again.
      document.getElementById('signed-out').hidden = false;
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      throw new Error((data && data.message) || `haul answered ${response.status}`);
    }
    return data;
  }

  // The export of `jobs` as a download: fetched first, so a refusal ("job 5 is still running")
  // is shown as a message instead of being saved as a file.
  function exportJobs(button, jobs, format) {
    act(button, async () => {
      let response;
      try {
        response = await fetch(`/api/v1/export?jobs=${jobs.join(',')}&format=${format}`, { cache: 'no-store' });
      } catch (_) {
        throw new Error('haul is not answering right now. It reconnects on its own.');
      }
      if (!response.ok) {
        const data = await response.json().catch(() => null);
        throw new Error((data && data.message) || `haul answered ${response.status}`);
      }
      const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await response.blob());
      link.download = named ? named[1] : `haul-${format}`;
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    }, `Exported ${jobs.length === 1 ? 'the product' : `${jobs.length} products`} as ${FORMAT_WORDS[format] || format}.`);
  }

  async function act(button, work, done) {
    button.disabled = true;
    try {
      await work();
      if (done) toast(done);
    } catch (e) {
      toast(e.message, 'bad');
    } finally {
      button.disabled = false;
    }
  }

  // ---- loading -------------------------------------------------------------------------------

  let reloadTimer = null;
  let reloading = null;
  function scheduleReload(delay) {
    if (reloadTimer) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      reload();
    }, delay == null ? 150 : delay);
  }

  async function reload() {
    if (reloading) {
      scheduleReload(300);
      return reloading;
    }
    reloading = (async () => {
      try {
        const filter = FILTERS[state.filter];
        const q = `limit=${state.limit}${filter ? `&state=${filter}` : ''}`;
        const [list, folders] = await Promise.all([
          api('GET', `/api/v1/jobs?${q}`),
          api('GET', '/api/v1/folders'),
        ]);
        showFolders(folders);
        const details = await Promise.all(
          list.jobs.map((j) => api('GET', `/api/v1/jobs/${j.job}`).catch(() => null)),
        );
        const seen = new Set();
        list.jobs.forEach((summary, n) => {
          seen.add(summary.job);
          const entry = state.jobs.get(summary.job) || { summary: null, detail: null, el: null };
          entry.summary = summary;
          if (details[n]) {
            keepLiveBytes(entry.detail, details[n]);
            entry.detail = details[n];
          }
          state.jobs.set(summary.job, entry);
        });
        for (const [id, entry] of state.jobs) {
          if (!seen.has(id)) {
            if (entry.el) entry.el.remove();
            state.jobs.delete(id);
          }
        }
        state.order = list.jobs.map((j) => j.job);
        state.total = list.total;
        renderAll();
        setOnline(true);
      } catch (e) {
        setOnline(false);
      } finally {
        reloading = null;
      }
    })();
    return reloading;
  }

  async function refreshJob(id) {
    const entry = state.jobs.get(id);
    if (!entry) {
      scheduleReload();
      return;
    }
    try {
      const fresh = await api('GET', `/api/v1/jobs/${id}`);
      keepLiveBytes(entry.detail, fresh);
      entry.detail = fresh;
      syncSummary(entry);
      renderJob(id);
      renderSummary();
    } catch (_) {
      scheduleReload();
    }
  }

  // The journal records a download's bytes only when it ends; the events know better meanwhile,
  // so a fresh detail never moves a bar backwards.
  function keepLiveBytes(old, fresh) {
    if (!old) return;
    for (const it of fresh.items) {
      const before = old.items.find((o) => o.index === it.index);
      if (before && it.state === 'downloading' && before.state === 'downloading' && before.bytes > it.bytes) {
        it.bytes = before.bytes;
        if (it.size == null) it.size = before.size;
      }
    }
  }

  // The list entry follows the detail, so one render path serves both.
  function syncSummary(entry) {
    const d = entry.detail;
    if (!d) return;
    Object.assign(entry.summary, {
      state: d.state,
      label: d.title || d.label,
      output: d.output,
      output_exists: d.output_exists,
      removed_note: d.removed_note,
      saved: d.saved,
      failed: d.failed,
      total: d.total,
      bytes: d.bytes,
      finished_at: d.finished_at,
      product: d.product,
    });
  }

  // ---- rendering -----------------------------------------------------------------------------

  function showFolders(f) {
    $('output-path').textContent = f.output.path;
    $('output-path').title = f.output.path;
    $('inbox-path').textContent = f.inbox.path;
    $('inbox-path').title = f.inbox.path;
    const free = f.output.free_bytes;
    const el = $('output-free');
    if (free == null) {
      el.textContent = '';
    } else {
      const low = free < 1e9;
      el.textContent = `${bytes(free)} free on this disk${low ? ' — running low' : ''}`;
      el.style.color = low ? 'var(--bad)' : '';
    }
  }

  function renderAll() {
    const list = $('jobs');
    state.order.forEach((id) => {
      const el = renderJob(id);
      list.appendChild(el); // keeps order; moving an element is cheap
    });
    const empty = state.total === 0;
    $('empty').hidden = !(empty && state.filter === 'all');
    $('empty-filter').hidden = !(empty && state.filter !== 'all');
    $('more').hidden = state.order.length >= state.total;
    renderSummary();
  }

  function exportable(summary) {
    return Boolean(summary) && !ACTIVE.includes(summary.state);
  }

  // The group export: which ended jobs are ticked, and whether "Select all" is.
  function renderBulk() {
    for (const id of [...state.selected]) {
      const entry = state.jobs.get(id);
      if (!entry || !exportable(entry.summary)) state.selected.delete(id);
    }
    const ended = state.order.filter((id) => state.jobs.has(id) && exportable(state.jobs.get(id).summary));
    $('bulk').hidden = ended.length === 0;
    const n = state.selected.size;
    $('bulk-export').disabled = n === 0;
    $('bulk-export').textContent = n ? `Export ${n} selected` : 'Export selected';
    $('bulk-count').textContent = n ? `${n} of ${ended.length} finished selected` : 'None selected';
    const all = $('select-all');
    all.checked = n > 0 && ended.every((id) => state.selected.has(id));
    all.indeterminate = n > 0 && !all.checked;
  }

  function renderSummary() {
    let active = 0;
    let attention = 0;
    let done = 0;
    for (const { summary } of state.jobs.values()) {
      if (ACTIVE.includes(summary.state)) active += 1;
      else if (summary.state === 'partial' || summary.state === 'failed') attention += 1;
      else done += 1;
    }
    const parts = [];
    if (active) parts.push(`${active} in progress`);
    if (attention) parts.push(`${attention} need${attention === 1 ? 's' : ''} attention`);
    if (done) parts.push(`${done} done`);
    if (state.total > state.order.length) parts.push(`${state.total} in all`);
    $('summary').textContent = parts.join(' · ');
    renderBulk();
  }

  // A job's saved files show while it runs and fold when it ends: what is left to look at then
  // is what failed (always shown, above the actions) and the notes.
  function isExpanded(id, summary) {
    if (state.expanded.has(id)) return state.expanded.get(id);
    return ACTIVE.includes(summary.state);
  }

  // The fraction done: ended items count whole, downloading items by their bytes.
  function fraction(entry) {
    const s = entry.summary;
    const items = entry.detail ? entry.detail.items : null;
    if (!s.total) return null;
    if (!items || !items.length) return (s.saved + s.failed) / s.total;
    let sum = 0;
    for (const it of items) {
      if (it.state === 'saved' || it.state === 'failed' || it.state === 'downloaded') sum += 1;
      else if (it.state === 'downloading' && it.size) sum += Math.min(1, it.bytes / it.size) * 0.95;
    }
    return sum / items.length;
  }

  // Why a package is no longer there, as the journal recorded it ("Deleted from the output
  // folder", "Removed after 30 days (retention_days = 30)"); haul may not have noticed yet.
  function removal(s) {
    const note = s.removed_note;
    return note ? note.charAt(0).toUpperCase() + note.slice(1) : 'Moved or deleted';
  }

  function renderJob(id) {
    const entry = state.jobs.get(id);
    const s = entry.summary;
    if (!entry.el) {
      entry.el = $('tpl-job').content.firstElementChild.cloneNode(true);
      wireJob(entry.el, id);
    }
    const el = entry.el;
    const [word, tone] = JOB_WORDS[s.state] || [s.state, 'grey'];
    el.dataset.job = id;
    el.dataset.state = s.state;
    el.dataset.tone = tone;
    const d = entry.detail;
    // The product's name as soon as the page has been read, not the list or file it came from.
    const name = (s.product && s.product.name) || (d && d.title) || s.label || `Job ${id}`;
    el.querySelector('.label').textContent = name;
    renderProduct(el, s.product);
    const badge = el.querySelector('.badge');
    badge.textContent = word;
    badge.dataset.tone = tone;

    const meta = [];
    if (d && d.site) meta.push(d.site);
    meta.push(ago(s.finished_at || s.created_at));
    if (s.output) meta.push(s.output_exists ? `Saved as ${baseName(s.output)}` : `${baseName(s.output)}: ${removal(s)}`);
    const metaEl = el.querySelector('.meta');
    metaEl.textContent = meta.filter(Boolean).join(' · ');
    metaEl.title = s.output || '';

    const active = ACTIVE.includes(s.state);
    const f = fraction(entry);
    const progress = el.querySelector('.progress');
    const pct = f == null ? 0 : Math.round(f * 1000) / 10;
    progress.dataset.indeterminate = String(active && (f == null || (s.state === 'queued' && !pct)));
    progress.setAttribute('aria-valuenow', String(pct));
    progress.setAttribute('aria-label', `${word}: ${Math.round(pct)}%`);
    progress.querySelector('.bar').style.width = `${pct}%`;

    const counts = el.querySelector('.counts');
    counts.textContent = '';
    const strong = document.createElement('strong');
    if (s.total) {
      strong.textContent = `${s.saved} of ${s.total} files saved`;
      counts.append(strong);
      const extra = [];
      if (s.failed) extra.push(`${s.failed} failed`);
      const received = d && active
        ? d.items.reduce((n, it) => n + (it.state === 'saved' ? it.bytes : it.state === 'downloading' ? it.bytes : 0), 0)
        : s.bytes;
      if (received) extra.push(bytes(received));
      if (extra.length) counts.append(` · ${extra.join(' · ')}`);
    } else {
      // No item was planned: the page could not be read or named no media (the reason is
      // below), or it ended before that.
      strong.textContent = active
        ? 'Reading the page…'
        : s.state === 'failed' ? 'Nothing saved' : s.state === 'cancelled' ? 'Stopped before any file' : 'No files found';
      counts.append(strong);
    }

    renderNotes(el, d);

    const problem = el.querySelector('.job-problem');
    const jobReason = d && d.explanation;
    problem.hidden = !(jobReason && (s.state === 'failed' || s.state === 'partial'));
    if (!problem.hidden) problem.textContent = jobReason;

    const hasOutput = Boolean(s.output && s.output_exists);
    el.querySelector('.act-open').hidden = !hasOutput;
    el.querySelector('.act-reveal').hidden = !hasOutput;
    el.querySelector('.act-retry').hidden = !(s.state === 'partial' || s.state === 'failed' || s.state === 'cancelled');
    // A job that failed before planning any file has no failed files to retry: it starts over.
    el.querySelector('.act-retry').textContent = s.state === 'cancelled'
      ? 'Continue'
      : s.total ? 'Try failed files again' : 'Try again';
    el.querySelector('.act-cancel').hidden = !active;
    el.querySelector('.act-delete').hidden = active;
    el.querySelector('.export').hidden = active;
    const pick = el.querySelector('.job-pick');
    pick.hidden = active;
    pick.querySelector('.job-select').checked = state.selected.has(id);
    pick.querySelector('.select-name').textContent = `Select “${name}” for export`;

    const expanded = isExpanded(id, s);
    const others = d ? d.items.filter((it) => it.state !== 'failed').length : 0;
    const toggle = el.querySelector('.act-toggle');
    toggle.hidden = others === 0;
    const what = ACTIVE.includes(s.state) ? 'files' : 'saved files';
    toggle.textContent = expanded ? `Hide ${what}` : `Show ${what} (${others})`;
    toggle.setAttribute('aria-expanded', String(expanded));
    const list = el.querySelector('.items');
    list.hidden = !expanded || others === 0;
    if (d) renderItems(el, id, d, expanded);
    return el;
  }

  // The price and availability the product page stated, if it did.
  function renderProduct(el, product) {
    const facts = el.querySelector('.product-facts');
    const price = priceText(product);
    const [words, tone] = (product && AVAILABILITY_WORDS[product.availability]) || ['', ''];
    facts.hidden = !price && !words;
    const priceEl = facts.querySelector('.price');
    priceEl.textContent = price;
    priceEl.hidden = !price;
    priceEl.title = product && product.price ? `${product.price} ${product.currency || ''}`.trim() : '';
    const availability = facts.querySelector('.availability');
    availability.textContent = words;
    availability.dataset.tone = tone;
    availability.hidden = !words;
  }

  // What the inbox input's reading refused and what was saved with a warning, on the card.
  function renderNotes(el, d) {
    const box = el.querySelector('.job-notes');
    const notes = (d && d.notes) || [];
    box.hidden = notes.length === 0;
    if (box.hidden) return;
    box.querySelector('.job-notes-title').textContent = d.input
      ? `Worth a look (from ${d.input}):`
      : 'Worth a look:';
    const list = box.querySelector('ul');
    list.textContent = '';
    for (const note of notes) {
      const li = document.createElement('li');
      li.textContent = note;
      list.appendChild(li);
    }
  }

  // Failed files go to the top of the card, always shown; the rest to the foldable list.
  function renderItems(el, id, d, expanded) {
    const list = el.querySelector('.items');
    const attention = el.querySelector('.attention-items');
    let firstThumb = null;
    const existing = new Map();
    for (const li of [...list.children, ...attention.children]) existing.set(Number(li.dataset.index), li);
    for (const it of d.items) {
      if (!firstThumb && it.thumbnail) firstThumb = it.thumbnail;
      const failed = it.state === 'failed';
      let li = existing.get(it.index);
      // A folded list is not filled, but what it holds stays current (a retried file moves
      // back to it from the top of the card).
      if (!failed && !expanded && !li) continue;
      if (!li) {
        li = $('tpl-item').content.firstElementChild.cloneNode(true);
        li.dataset.index = it.index;
        li.querySelector('.act-item-retry').addEventListener('click', (ev) => retry(ev.currentTarget, id));
      }
      const home = failed ? attention : list;
      if (li.parentElement !== home) home.appendChild(li);
      renderItem(li, it);
    }
    attention.hidden = attention.children.length === 0;
    const thumb = el.querySelector('.job-thumb');
    if (firstThumb && thumb.dataset.src !== firstThumb) {
      thumb.dataset.src = firstThumb;
      thumb.textContent = '';
      const img = document.createElement('img');
      img.alt = '';
      img.src = firstThumb;
      thumb.appendChild(img);
    }
  }

  function renderItem(li, it) {
    li.dataset.state = it.state;
    const role = ROLE_WORDS[it.role] || 'File';
    li.querySelector('.item-name').textContent = `${role}${it.variant ? ` — ${it.variant}` : ''}`;
    li.querySelector('.item-name').title = it.url;
    // Its name in the package: for a seller's folder, the SKU and the Seller Central slot.
    const entry = li.querySelector('.item-entry');
    entry.textContent = it.entry || '';
    entry.hidden = !it.entry;
    const img = li.querySelector('.thumb img');
    const ph = li.querySelector('.thumb .ph');
    if (it.thumbnail) {
      if (img.getAttribute('src') !== it.thumbnail) img.src = it.thumbnail;
      img.hidden = false;
      ph.hidden = true;
    } else {
      img.hidden = true;
      img.removeAttribute('src');
      ph.hidden = false;
      ph.textContent = it.state === 'failed' ? '⚠' : it.kind === 'video' ? '▶' : '…';
    }
    let text;
    switch (it.state) {
      case 'pending': text = 'Waiting'; break;
      case 'downloading':
        text = it.size ? `Downloading ${Math.floor((it.bytes / it.size) * 100)}% · ${bytes(it.bytes)}` : `Downloading · ${bytes(it.bytes)}`;
        break;
      case 'downloaded': text = 'Cleaning…'; break;
      case 'saved': {
        const dims = it.width && it.height ? ` · ${it.width}×${it.height}` : '';
        text = `Saved · ${bytes(it.bytes)}${dims}`;
        break;
      }
      case 'failed': text = 'Could not be saved'; break;
      default: text = it.state;
    }
    li.querySelector('.item-state').textContent = text;
    const mini = li.querySelector('.mini');
    mini.hidden = it.state !== 'downloading';
    if (!mini.hidden) mini.querySelector('.bar').style.width = `${it.size ? Math.min(100, (it.bytes / it.size) * 100) : 30}%`;
    const reason = li.querySelector('.item-reason');
    const detail = li.querySelector('.item-detail');
    const failed = it.state === 'failed';
    reason.hidden = !failed;
    detail.hidden = !failed;
    reason.textContent = failed ? (it.explanation || 'It could not be downloaded.') : '';
    detail.textContent = failed ? `${fileOfUrl(it.url)}: ${it.error || ''}` : '';
    detail.title = failed ? it.url : '';
    const job = li.closest('.job');
    const ended = job && !ACTIVE.includes(job.dataset.state);
    li.querySelector('.act-item-retry').hidden = !(failed && ended);
  }

  // ---- actions -------------------------------------------------------------------------------

  function retry(button, id) {
    act(button, async () => {
      const r = await api('POST', `/api/v1/jobs/${id}/retry`);
      const entry = state.jobs.get(id);
      if (entry) entry.summary.state = 'queued';
      await refreshJob(id);
      return r;
    }, 'Trying again…');
  }

  function wireJob(el, id) {
    el.querySelector('.act-open').addEventListener('click', (ev) => act(ev.currentTarget,
      () => api('POST', `/api/v1/jobs/${id}/open`, { target: 'file' }), 'Opening…'));
    el.querySelector('.act-reveal').addEventListener('click', (ev) => act(ev.currentTarget,
      () => api('POST', `/api/v1/jobs/${id}/open`, { target: 'folder' }), 'Opening the folder…'));
    el.querySelector('.act-retry').addEventListener('click', (ev) => retry(ev.currentTarget, id));
    el.querySelector('.act-cancel').addEventListener('click', (ev) => act(ev.currentTarget,
      () => api('POST', `/api/v1/jobs/${id}/cancel`), 'Stopping…'));
    el.querySelector('.act-delete').addEventListener('click', (ev) => {
      const label = el.querySelector('.label').textContent;
      if (!window.confirm(`Remove “${label}” from this list?\n\nThe saved files stay where they are.`)) return;
      act(ev.currentTarget, async () => {
        await api('DELETE', `/api/v1/jobs/${id}`);
        await reload();
      }, 'Removed from the list. The files are still there.');
    });
    el.querySelectorAll('.export-menu button').forEach((b) => b.addEventListener('click', (ev) => {
      el.querySelector('.export').open = false;
      exportJobs(ev.currentTarget, [id], b.dataset.format);
    }));
    el.querySelector('.job-select').addEventListener('change', (ev) => {
      if (ev.currentTarget.checked) state.selected.add(id);
      else state.selected.delete(id);
      renderBulk();
    });
    el.querySelector('.act-toggle').addEventListener('click', () => {
      const entry = state.jobs.get(id);
      state.expanded.set(id, !isExpanded(id, entry.summary));
      renderJob(id);
    });
  }

  document.querySelectorAll('.act-open-folder').forEach((b) => b.addEventListener('click', (ev) =>
    act(ev.currentTarget, () => api('POST', `/api/v1/folders/${b.dataset.folder}/open`), 'Opening the folder…')));

  document.querySelectorAll('.filter').forEach((b) => b.addEventListener('click', () => {
    state.filter = b.dataset.filter;
    state.limit = PAGE_SIZE;
    document.querySelectorAll('.filter').forEach((o) => o.setAttribute('aria-pressed', String(o === b)));
    reload();
  }));

  $('select-all').addEventListener('change', (ev) => {
    for (const id of state.order) {
      const entry = state.jobs.get(id);
      if (!entry || !exportable(entry.summary)) continue;
      if (ev.currentTarget.checked) state.selected.add(id);
      else state.selected.delete(id);
      if (entry.el) entry.el.querySelector('.job-select').checked = state.selected.has(id);
    }
    renderBulk();
  });

  $('bulk-export').addEventListener('click', (ev) => {
    // Oldest first: the sheet lists the products in the order they were saved.
    const jobs = state.order.filter((id) => state.selected.has(id)).reverse();
    if (jobs.length) exportJobs(ev.currentTarget, jobs, $('bulk-format').value);
  });

  $('more').addEventListener('click', () => {
    state.limit += PAGE_SIZE;
    reload();
  });

  $('add-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const urls = $('add-urls').value.split(/\s+/).map((u) => u.trim()).filter(Boolean);
    if (!urls.length) {
      toast('Paste at least one link first.', 'bad');
      return;
    }
    const name = $('add-name').value.trim();
    const boxes = [...$('add-roles').querySelectorAll('input[name="role"]')];
    const include = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!include.length) {
      toast('Choose at least one kind of picture or video to save.', 'bad');
      return;
    }
    const body = { urls };
    if (name) body.name = name;
    // Every box ticked: the daemon's own setting (`include` in its config) decides.
    if (include.length < boxes.length) body.include = include;
    if ($('add-as-given').checked) body.as_given = true;
    const button = ev.target.querySelector('button[type="submit"]');
    act(button, async () => {
      await api('POST', '/api/v1/jobs', body);
      $('add-urls').value = '';
      $('add-name').value = '';
      await reload();
    }, 'Saving started.');
  });

  // ---- live updates --------------------------------------------------------------------------

  function setOnline(up) {
    $('offline').hidden = up;
    const conn = $('conn');
    conn.dataset.state = up ? (state.live ? 'live' : 'connecting') : 'down';
    $('conn-text').textContent = !up ? 'haul is not running' : state.live ? 'Live' : 'Connecting…';
  }

  function onProgress(p) {
    const entry = state.jobs.get(p.job);
    if (!entry) {
      scheduleReload();
      return;
    }
    const s = entry.summary;
    if (!ACTIVE.includes(s.state) || (s.state === 'queued' && p.total)) s.state = 'running';
    s.total = p.total;
    s.failed = p.failed;
    if (p.item && entry.detail) {
      const it = entry.detail.items.find((i) => i.index === p.item.index);
      if (it) {
        const wasSaved = it.state === 'saved';
        Object.assign(it, {
          state: p.item.state,
          bytes: p.item.bytes,
          size: p.item.size == null ? it.size : p.item.size,
          error: p.item.error,
          explanation: p.item.explanation,
        });
        if (p.item.state === 'saved' && !wasSaved) {
          refreshJob(p.job); // the thumbnail and measurements come from the journal
          return;
        }
      } else {
        refreshJob(p.job); // planned since we last looked
        return;
      }
    } else if (!entry.detail || entry.detail.items.length !== p.total) {
      refreshJob(p.job);
      return;
    }
    if (entry.detail) {
      s.saved = entry.detail.items.filter((i) => i.state === 'saved').length;
    }
    renderJob(p.job);
    renderSummary();
  }

  let events = null;
  let watchdog = null;
  function connect() {
    if (events) events.close();
    events = new EventSource('/api/v1/events');
    events.addEventListener('hello', (ev) => {
      const hello = JSON.parse(ev.data);
      state.live = true;
      // A new daemon (restart) or a reconnect: whatever happened meanwhile, reload it all.
      state.started = hello.started;
      reload();
      setOnline(true);
    });
    events.addEventListener('progress', (ev) => onProgress(JSON.parse(ev.data)));
    events.addEventListener('finished', (ev) => refreshJob(JSON.parse(ev.data).job).then(() => scheduleReload()));
    events.addEventListener('jobs', () => scheduleReload());
    events.addEventListener('resync', () => scheduleReload());
    events.onerror = () => {
      state.live = false;
      setOnline(false);
      // The browser retries by itself after a network error, but gives up after an HTTP error
      // (a daemon that is busy or shutting down); then start over after a pause.
      if (events.readyState === EventSource.CLOSED) {
        clearTimeout(watchdog);
        watchdog = setTimeout(connect, 3000);
      }
    };
  }

  // Relative times ("2 minutes ago") age while the page is open.
  setInterval(() => {
    for (const id of state.order) {
      if (state.jobs.has(id)) renderJob(id);
    }
  }, 60000);

  connect();
  reload();
})();
