// galaxia's Hubble UI: the page `galaxia up` serves on 127.0.0.1:12000. It reads the galaxy's
// state once, then follows its flows over server-sent events (the server filters them, as Hubble
// Relay does for Hubble UI) and draws the service map and the flows table from them; the policies
// panel is fetched again whenever the stream says the policies changed. Read-only: nothing here
// changes the galaxy.

import { el, query, stamp, shortLabels } from './util.js';
import { ServiceMap } from './map.js';
import { FlowTable, l7Info, policyText } from './table.js';

const $ = (sel) => document.querySelector(sel);

const ui = {
  state: null,
  endpoints: new Map(),
  policies: null,
  namespace: '',
  verdict: '',
  filter: '',
  paused: false,
  source: null,
  next: null,
  lost: 0,
  received: 0,
  rateWindow: [],
  selected: null,
  connected: false,
  frames: 0,
  status: '',
};
// For the browser tests and the benchmark (read-only numbers).
window.__galaxia = ui;

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

// The page's skeleton.
function build() {
  const nsSelect = el('select#namespace', { title: 'Namespace', onchange: (e) => setFilters({ namespace: e.target.value }) });
  const verdict = el('select#verdict', { title: 'Verdict', onchange: (e) => setFilters({ verdict: e.target.value }) },
    el('option', { value: '' }, 'Any verdict'),
    el('option', { value: 'forwarded' }, 'Forwarded'),
    el('option', { value: 'dropped' }, 'Dropped'));
  const text = el('input#filter', {
    type: 'search', placeholder: 'Filter: pod=caca-tie  from:label=org=alianca  to:identity=…  ip=…  !pod=…',
    spellcheck: false, autocomplete: 'off',
    onkeydown: (e) => { if (e.key === 'Enter') setFilters({ filter: e.target.value.trim() }); },
    onsearch: (e) => setFilters({ filter: e.target.value.trim() }),
  });
  const pause = el('button#pause', { type: 'button', onclick: togglePause, title: 'Pause or resume the live flows' }, 'Pause');
  const columnsBtn = el('button#columns', { type: 'button', onclick: () => $('#columns-menu').classList.toggle('open') }, 'Columns');
  const exportLink = el('a#export', { href: '/api/v1/flows/export', download: 'galaxia-flows.json', title: 'The selected flows as Hubble JSON (hubble observe -o json)' }, 'Export JSON');
  const policiesBtn = el('button#policies-toggle', { type: 'button', onclick: () => openSide('policies') }, 'Policies');
  const header = el('header.top',
    null,
    el('div.brand', null, el('span.logo', null, '⬡'), el('span', null, 'Hubble'), el('span.brand-sub#cluster', null, 'galaxia')),
    nsSelect, verdict, text, pause, columnsBtn, exportLink, policiesBtn,
    el('div.status#status', null, 'connecting…'));
  const menu = el('div.columns-menu#columns-menu');
  const filterError = el('div.filter-error#filter-error', { hidden: true });
  const map = el('section.map#map');
  const flows = el('section.flows#flows');
  const side = el('aside.side#side', { hidden: true });
  const modal = el('div.modal#modal', { hidden: true, onclick: (e) => { if (e.target.id === 'modal') closeModal(); } });
  document.body.append(header, menu, filterError, el('main.body', null, el('div.panes', null, map, flows), side), modal);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') { closeModal(); } });
}

function fillNamespaces() {
  const sel = $('#namespace');
  sel.replaceChildren(el('option', { value: '' }, 'All namespaces'), ...ui.state.namespaces.map((n) => el('option', { value: n }, n)));
  sel.value = ui.namespace;
  $('#cluster').textContent = `galaxia · ${ui.state.cluster}`;
}

function fillColumnsMenu() {
  const menu = $('#columns-menu');
  menu.replaceChildren(...ui.table.cols.map((c) => el('label', null,
    el('input', { type: 'checkbox', checked: c.on, dataset: { col: c.id }, onchange: (e) => ui.table.toggle(c.id, e.target.checked) }),
    c.title)));
}

function setFilters(change) {
  // Enter fires both keydown and search: one restart is enough.
  if (Object.entries(change).every(([k, v]) => ui[k] === v) && ui.source) return;
  Object.assign(ui, change);
  const u = new URL(location.href);
  for (const k of ['namespace', 'verdict', 'filter']) {
    if (ui[k]) u.searchParams.set(k, ui[k]); else u.searchParams.delete(k);
  }
  history.replaceState(null, '', u);
  restart();
}

function filterQuery(extra) {
  return query({ namespace: ui.namespace, verdict: ui.verdict, filter: ui.filter, ...extra });
}

// A fresh view: empty map and table, the stream again from the ring's recent past.
function restart() {
  ui.map.reset(ui.state, ui.namespace);
  ui.table.clear();
  ui.next = null;
  ui.lost = 0;
  $('#export').href = `/api/v1/flows/export${filterQuery()}`;
  if (!ui.paused) connect();
}

function connect() {
  if (ui.source) ui.source.close();
  const since = ui.next == null ? {} : { since: ui.next };
  const src = new EventSource(`/api/v1/flows/stream${filterQuery(since)}`);
  ui.source = src;
  $('#filter-error').hidden = true;
  src.addEventListener('hello', (e) => {
    if (src !== ui.source) return;
    const h = JSON.parse(e.data);
    if (ui.next == null) ui.next = h.next;
    ui.connected = true;
  });
  src.addEventListener('flows', (e) => {
    if (src !== ui.source) return;
    const b = JSON.parse(e.data);
    ui.next = b.next;
    ui.received += b.flows.length;
    ui.rateWindow.push([performance.now(), b.flows.length]);
    // Folded in at once (cheap and bounded), drawn at the next frame.
    for (const f of b.flows) ui.map.add(f);
    ui.table.add(b.flows);
    if (ui.selected) refreshDetail();
  });
  src.addEventListener('lost', (e) => { if (src === ui.source) ui.lost += JSON.parse(e.data).lost; });
  src.addEventListener('policies', () => { if (src === ui.source) loadPolicies(); });
  src.addEventListener('invalid', (e) => {
    if (src !== ui.source) return;
    src.close();
    ui.source = null;
    ui.connected = false;
    const box = $('#filter-error');
    box.textContent = `Filter not applied: ${JSON.parse(e.data)}`;
    box.hidden = false;
  });
  src.onerror = () => {
    // EventSource would reconnect from scratch; reconnect ourselves, from where we were.
    if (src !== ui.source) return;
    src.close();
    ui.connected = false;
    setTimeout(() => { if (src === ui.source && !ui.paused) connect(); }, 1000);
  };
}

function togglePause() {
  ui.paused = !ui.paused;
  $('#pause').textContent = ui.paused ? 'Resume' : 'Pause';
  $('#pause').classList.toggle('paused', ui.paused);
  if (ui.paused) {
    if (ui.source) ui.source.close();
    ui.source = null;
    ui.connected = false;
  } else {
    connect();
  }
}

function statusText(now) {
  while (ui.rateWindow.length && ui.rateWindow[0][0] < now - 5000) ui.rateWindow.shift();
  const n = ui.rateWindow.reduce((s, [, c]) => s + c, 0);
  const live = ui.paused ? 'paused' : ui.connected ? 'live' : 'reconnecting…';
  const lost = ui.lost ? ` · lost ${ui.lost}` : '';
  return `${live} · ${Math.round(n / 5)} flows/s${lost}`;
}

// --- the side panel: a flow's details, or the policies ---------------------------------------

function openSide(what) {
  const side = $('#side');
  if (what === 'policies' && side.dataset.view === 'policies' && !side.hidden) {
    side.hidden = true;
    return;
  }
  side.dataset.view = what;
  side.hidden = false;
  if (what === 'policies') renderPolicies();
  else refreshDetail();
}

function closeSide() {
  $('#side').hidden = true;
  if (ui.selected) ui.table.select(null);
}

function sideHead(title) {
  return el('div.side-head', null, el('h2', null, title), el('button.close', { type: 'button', title: 'Close', onclick: closeSide }, '×'));
}

function endpointRows(prefix, id, port) {
  const e = ui.endpoints.get(id);
  if (!e) return [[`${prefix} endpoint`, String(id)]];
  return [
    [`${prefix} pod`, `${e.namespace}/${e.pod}`],
    [`${prefix} identity`, `${e.identity} (${e.app})`],
    [`${prefix} labels`, shortLabels(e.labels).join('\n')],
    [`${prefix} IP`, `${e.ip}:${port}`],
  ];
}

function refreshDetail() {
  const side = $('#side');
  if (side.hidden || side.dataset.view !== 'flow' || !ui.selected) return;
  if (side.dataset.uuid === ui.selected.uuid) return;
  const f = ui.selected;
  side.dataset.uuid = f.uuid;
  const r = f.reason;
  const rows = [
    ['Timestamp', `${stamp(f.ms)}  (${f.time})`],
    ['Verdict', f.verdict.toLowerCase()],
    ['Drop reason', f.drop_reason || (f.verdict === 'DROPPED' && f.l7 ? 'Access denied (L7 rule, HTTP 403)' : '—')],
    ['Traffic direction', f.direction],
    ['Event type', `${f.event} (${f.event_type})`],
    ['TCP flags', f.flags || '—'],
    ['Is reply', f.reply == null ? 'unknown' : String(f.reply)],
    ...endpointRows('Source', f.src, f.src_port),
    ...endpointRows('Destination', f.dst, f.dst_port),
    ['Destination service', f.service || '—'],
    ['L7', f.l7 ? `${l7Info(f)}  (${f.l7.url})` : '—'],
    ['Summary', f.summary],
    ['Node', f.node],
    ['Allowed by (Hubble)', f.allowed_by || '—'],
  ];
  const decided = r ? el('div.decided', { dataset: { layer: r.layer } },
    el('div.decided-title', null, r.layer === 'http' ? 'Decided at L7 by' : 'Decided at L3/L4 by'),
    el('div.decided-rule', null, policyText(f) || '—'),
    el('div.decided-text', null, r.text),
    r.policy ? el('button.link', { type: 'button', onclick: () => showYaml(r.policy, r.rule) }, `Show ${r.policy}`) : null)
    : el('div.decided', null, el('div.decided-text', null, 'No policy decision is recorded for this event (a trace of an established connection).'));
  side.replaceChildren(
    sideHead('Flow details'),
    decided,
    el('dl.fields', null, rows.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
  );
}

async function loadPolicies() {
  try {
    ui.policies = await getJson('/api/v1/policies');
  } catch (e) {
    ui.status = String(e);
    return;
  }
  const side = $('#side');
  if (!side.hidden && side.dataset.view === 'policies') renderPolicies();
  $('#policies-toggle').textContent = `Policies (${ui.policies.policies.length})`;
}

const VERDICT_CLASS = { forwarded: 'ok', allowed: 'ok', denied: 'bad', dropped: 'bad' };

function renderPolicies() {
  const side = $('#side');
  delete side.dataset.uuid;
  const p = ui.policies;
  if (!p) { side.replaceChildren(sideHead('Policies'), el('p', null, 'Loading…')); return; }
  const list = p.policies.length
    ? el('ul.policy-list', null, p.policies.map((x) => el('li', null,
      el('button.link', { type: 'button', onclick: () => showYaml(`${x.namespace}/${x.name}`) }, `${x.namespace}/${x.name}`),
      el('span.muted', null, ` from ${x.origin}`))))
    : el('p.muted', null, 'No CiliumNetworkPolicy in force: every request is allowed.');
  const cell = (d) => el('td', { className: `tt ${VERDICT_CLASS[d.verdict] || ''}`, title: `${d.reason}${d.policy ? `\n${d.policy}` : ''}` }, d.verdict);
  const table = p.table.length
    ? el('table.truth', null,
      el('thead', null, el('tr', null, ['from', 'to', 'land', 'exhaust', 'info'].map((h) => el('th', null, h)))),
      el('tbody', null, p.table.map((r) => el('tr', null, el('td', null, r.from), el('td', null, `${r.to}:${r.port}`), cell(r.land), cell(r.exhaust), cell(r.info)))))
    : el('p.muted', null, 'No Death Star and caller to tabulate.');
  side.replaceChildren(
    sideHead(`Policies · revision ${p.revision}`),
    el('h3', null, 'In force'), list,
    el('h3', null, 'Who reaches what (galaxia policy table)'),
    el('p.muted', null, 'POST /v1/request-landing (land), PUT /v1/exhaust-port (exhaust), GET /v1 (info), from every workload to every Death Star, under the policies in force.'),
    table,
  );
}

function showYaml(id, rule) {
  const p = ui.policies && ui.policies.policies.find((x) => `${x.namespace}/${x.name}` === id);
  const modal = $('#modal');
  modal.replaceChildren(el('div.modal-box', null,
    el('div.side-head', null, el('h2', null, id), el('button.close', { type: 'button', onclick: closeModal }, '×')),
    rule ? el('p.muted', null, `The deciding rule: ${rule}`) : null,
    el('pre.yaml', null, p ? p.yaml : 'This policy is no longer in force.')));
  modal.hidden = false;
}

function closeModal() { $('#modal').hidden = true; }

// --- start ------------------------------------------------------------------------------------

function frame(now) {
  ui.frames += 1;
  ui.table.render();
  ui.map.paint(Date.now());
  if (ui.frames % 15 === 0) $('#status').textContent = statusText(now);
  requestAnimationFrame(frame);
}

async function main() {
  build();
  const u = new URL(location.href);
  ui.namespace = u.searchParams.get('namespace') || '';
  ui.verdict = u.searchParams.get('verdict') || '';
  ui.filter = u.searchParams.get('filter') || '';
  $('#verdict').value = ui.verdict;
  $('#filter').value = ui.filter;
  ui.state = await getJson('/api/v1/state');
  const cards = new Map(ui.state.cards.map((c) => [c.id, c]));
  for (const e of ui.state.endpoints) {
    e.app = (cards.get(e.card) || { app: e.pod }).app;
    ui.endpoints.set(e.id, e);
  }
  // A single-namespace galaxy opens on its namespace, as Hubble UI opens on the one you pick.
  if (!u.searchParams.has('namespace') && ui.state.namespaces.length === 1) [ui.namespace] = ui.state.namespaces;
  fillNamespaces();
  ui.map = new ServiceMap($('#map'), {
    onCard: (c) => { $('#filter').value = c.filter; setFilters({ filter: c.filter }); },
  });
  ui.table = new FlowTable($('#flows'), {
    endpoint: (id) => ui.endpoints.get(id),
    onSelect: (f) => {
      ui.selected = f;
      if (f) openSide('flow');
      else if ($('#side').dataset.view === 'flow') $('#side').hidden = true;
    },
  });
  fillColumnsMenu();
  if (!ui.state.hubble) $('#status').textContent = 'Hubble is off (galaxia up --no-hubble): no flows';
  loadPolicies();
  restart();
  requestAnimationFrame(frame);
}

main().catch((e) => {
  document.body.append(el('div.fatal', null, `galaxia UI could not start: ${e.message}`));
  throw e;
});
