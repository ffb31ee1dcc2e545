// The flows table: Hubble UI's columns (and its optional ones), newest first, plus galaxia's own
// Policy column (which policy and rule decided). Virtualised: however many flows it holds (at most
// MAX_ROWS), only the rows on screen exist in the DOM, and they are rewritten at most once a frame.

import { el, setText, stamp } from './util.js';

export const MAX_ROWS = 2000;
const ROW = 26;
const OVERSCAN = 6;

const ident = (t) => (f, side) => {
  const e = t.endpoint(side === 'src' ? f.src : f.dst);
  return e ? `${e.app}` : '?';
};

export function columns(t) {
  const ep = (f, side) => t.endpoint(side === 'src' ? f.src : f.dst) || {};
  return [
    { id: 'src', title: 'Source Identity', on: true, width: '1.3fr', text: (f) => ident(t)(f, 'src'), sub: (f) => ep(f, 'src').namespace },
    { id: 'dst', title: 'Destination Identity', on: true, width: '1.3fr', text: (f) => ident(t)(f, 'dst'), sub: (f) => ep(f, 'dst').namespace },
    { id: 'port', title: 'Destination Port', on: true, width: '0.7fr', text: (f) => String(f.dst_port) },
    { id: 'l7', title: 'L7 info', on: true, width: '1.6fr', text: l7Info },
    { id: 'verdict', title: 'Verdict', on: true, width: '1.1fr', text: (f) => f.verdict.toLowerCase(), sub: verdictNote, cls: (f) => `v-${f.verdict.toLowerCase()}` },
    { id: 'policy', title: 'Policy (rule)', on: true, width: '2.4fr', text: policyText, cls: (f) => (f.reason && f.reason.policy ? 'has-policy' : 'no-policy') },
    { id: 'time', title: 'Timestamp', on: true, width: '1.2fr', text: (f) => stamp(f.ms) },
    { id: 'src_pod', title: 'Source Pod', on: false, width: '1.6fr', text: (f) => ep(f, 'src').pod || '' },
    { id: 'src_ip', title: 'Source IP', on: false, width: '1fr', text: (f) => ep(f, 'src').ip || '' },
    { id: 'dst_pod', title: 'Destination Pod', on: false, width: '1.6fr', text: (f) => ep(f, 'dst').pod || '' },
    { id: 'dst_ip', title: 'Destination IP', on: false, width: '1fr', text: (f) => ep(f, 'dst').ip || '' },
    { id: 'flags', title: 'TCP Flags', on: false, width: '0.9fr', text: (f) => f.flags || '' },
    { id: 'direction', title: 'Traffic Direction', on: false, width: '0.9fr', text: (f) => f.direction },
    { id: 'event', title: 'Event Type', on: false, width: '1.4fr', text: (f) => f.event },
  ];
}

export function l7Info(f) {
  const h = f.l7;
  if (!h) return '';
  if (h.kind === 'response') return `${h.protocol} ${h.code} ${Math.round(h.latency_ms)}ms ${h.method} ${h.path}`;
  return `${h.method} ${h.path}`;
}

function verdictNote(f) {
  if (f.drop_reason) return f.drop_reason;
  if (f.verdict === 'DROPPED' && f.l7) return 'Access denied';
  return '';
}

export function policyText(f) {
  const r = f.reason;
  if (!r) return '';
  if (r.policy && r.rule) return `${r.policy} ${r.rule}`;
  if (r.policy) return `${r.policy} (default deny)`;
  return r.text;
}

export class FlowTable {
  constructor(root, { endpoint, onSelect }) {
    this.endpoint = endpoint;
    this.onSelect = onSelect;
    this.cols = columns(this);
    this.rows = [];
    this.selected = null;
    this.head = el('div.thead');
    this.viewport = el('div.tbody');
    this.spacer = el('div.tspacer');
    this.rowsEl = el('div.trows');
    this.spacer.append(this.rowsEl);
    this.viewport.append(this.spacer);
    this.empty = el('div.tempty', null, 'No flows yet.');
    root.append(this.head, this.viewport, this.empty);
    this.pool = [];
    this.dirty = true;
    this.viewport.addEventListener('scroll', () => { this.dirty = true; });
    this.viewport.addEventListener('click', (e) => {
      const r = e.target.closest('.trow');
      if (r && r.flow) this.select(r.flow);
    });
    new ResizeObserver(() => { this.dirty = true; }).observe(this.viewport);
    this.renderHead();
  }

  visible() { return this.cols.filter((c) => c.on); }

  toggle(id, on) {
    const c = this.cols.find((x) => x.id === id);
    if (c) c.on = on;
    this.renderHead();
    for (const r of this.pool) r.remove();
    this.pool = [];
    this.dirty = true;
  }

  renderHead() {
    const vis = this.visible();
    const tpl = vis.map((c) => c.width).join(' ');
    this.template = tpl;
    this.head.style.gridTemplateColumns = tpl;
    this.head.replaceChildren(...vis.map((c) => el('div.th', { dataset: { col: c.id } }, c.title)));
  }

  clear() {
    this.rows = [];
    this.dirty = true;
  }

  // Newest at the end of `rows`, shown first.
  add(flows) {
    for (const f of flows) this.rows.push(f);
    if (this.rows.length > MAX_ROWS * 1.25) this.rows.splice(0, this.rows.length - MAX_ROWS);
    this.dirty = true;
  }

  select(f) {
    this.selected = f ? f.uuid : null;
    this.dirty = true;
    this.onSelect(f);
  }

  rowElement() {
    const vis = this.visible();
    const r = el('div.trow');
    r.style.gridTemplateColumns = this.template;
    r.cells = vis.map((c) => {
      const main = el('span.cell-main');
      const sub = c.sub ? el('span.cell-sub') : null;
      const cell = el('div.td', { dataset: { col: c.id } }, main, sub);
      cell.main = main;
      cell.sub = sub;
      cell.col = c;
      r.append(cell);
      return cell;
    });
    return r;
  }

  render() {
    if (!this.dirty) return;
    this.dirty = false;
    const n = Math.min(this.rows.length, MAX_ROWS);
    this.empty.hidden = n > 0;
    this.spacer.style.height = `${n * ROW}px`;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + height) / ROW) + OVERSCAN);
    const count = Math.max(0, last - first);
    while (this.pool.length < count) {
      const r = this.rowElement();
      this.pool.push(r);
      this.rowsEl.append(r);
    }
    this.rowsEl.style.transform = `translateY(${first * ROW}px)`;
    for (let i = 0; i < this.pool.length; i++) {
      const r = this.pool[i];
      if (i >= count) { r.hidden = true; r.flow = null; continue; }
      r.hidden = false;
      const f = this.rows[this.rows.length - 1 - (first + i)];
      if (r.flow === f) continue;
      r.flow = f;
      r.dataset.verdict = f.verdict.toLowerCase();
      r.classList.toggle('selected', f.uuid === this.selected);
      for (const cell of r.cells) {
        const c = cell.col;
        setText(cell.main, c.text(f));
        if (cell.sub) setText(cell.sub, c.sub(f) || '');
        const cls = c.cls ? `td ${c.cls(f)}` : 'td';
        if (cell.className !== cls) cell.className = cls;
      }
    }
    // Selection can change without the row's flow changing.
    for (const r of this.pool) if (r.flow) r.classList.toggle('selected', r.flow.uuid === this.selected);
  }
}
