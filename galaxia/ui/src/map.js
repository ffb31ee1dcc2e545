// The service map: one card per workload (Hubble UI's "service"), arrows between them coloured by
// the verdicts of their recent flows, a counter per arrow, all on a namespace backplate.
//
// Flows are folded in as they arrive (cheap, bounded: cards x cards links, a few per-second
// buckets each); the DOM is touched at most a few times a second, and the layout is computed again
// only when the picture's shape changes (a card, an arrow, a port or an HTTP endpoint appears).
//
// Layout: each namespace is laid out by dagre (a layered graph layout, left to right: clients on
// the left, servers on the right), then a rank taller than MAX_COLUMN cards is wrapped into
// several columns and cards without arrows go in a grid below, so that a namespace of 50
// workloads stays on a screen or two; namespaces are packed side by side, each on its backplate.

import { Graph, layout } from '@dagrejs/dagre';
import { el, svg, setText, rate } from './util.js';

// An arrow's colour follows the flows of the last WINDOW_MS.
const WINDOW_MS = 3000;
// The counters are averages over the last RATE_SECONDS whole seconds.
const RATE_SECONDS = 5;
const MAX_HTTP = 12;
const MAX_COLUMN = 8;
const GAP = 28;
const PLATE_PAD = 36;
const PLATE_ROW = 2400;

export class ServiceMap {
  constructor(root, { onCard }) {
    this.root = root;
    this.onCard = onCard;
    this.world = el('div.map-world');
    this.plates = el('div.map-plates');
    this.svg = svg('svg', { class: 'map-arrows' });
    const defs = svg('defs');
    for (const v of ['forwarded', 'dropped', 'mixed', 'idle']) {
      const m = svg('marker', {
        id: `head-${v}`, viewBox: '0 0 10 10', refX: '9', refY: '5',
        markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse',
      });
      m.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `head head-${v}` }));
      defs.append(m);
    }
    this.svg.append(defs);
    this.labels = el('div.map-labels');
    this.cardsLayer = el('div.map-cards');
    this.world.append(this.plates, this.svg, this.labels, this.cardsLayer);
    this.empty = el('div.map-empty', null, 'Waiting for flows…');
    this.root.append(this.world, this.empty);
    this.view = { x: 0, y: 0, k: 1, user: false };
    this.bounds = { w: 0, h: 0 };
    this.panZoom();
    this.cards = new Map();
    this.links = new Map();
    this.endpoints = new Map();
    this.namespace = '';
    this.shapeDirty = true;
    this.lastLayout = 0;
    this.lastPaint = 0;
  }

  // A new picture: the galaxy's cards for this namespace (all when ''), no arrows yet.
  reset(state, namespace) {
    this.namespace = namespace;
    this.endpoints = new Map(state.endpoints.map((e) => [e.id, e]));
    // Cards not drawn yet (a second reset before the next layout) or hidden have no element.
    for (const c of this.cards.values()) if (c.el) c.el.remove();
    for (const l of this.links.values()) if (l.path) { l.path.remove(); l.label.remove(); }
    this.cards = new Map();
    this.links = new Map();
    for (const c of state.cards) {
      this.cards.set(c.id, {
        ...c, ports: new Set(), http: new Map(), el: null, shown: false, w: 0, h: 0, x: 0, y: 0,
      });
    }
    this.view.user = false;
    this.shapeDirty = true;
  }

  card(endpointId) {
    const e = this.endpoints.get(endpointId);
    return e && this.cards.get(e.card);
  }

  // Fold one flow in. Replies run server to client: they count on the request's arrow, not on
  // an arrow of their own.
  add(f) {
    if (f.reply === true) return;
    const s = this.card(f.src);
    const d = this.card(f.dst);
    if (!s || !d || s === d) return;
    const key = `${s.id}>${d.id}`;
    let l = this.links.get(key);
    if (!l) {
      l = { key, src: s.id, dst: d.id, lastFwd: 0, lastDrop: 0, buckets: new Map(), path: null, label: null };
      this.links.set(key, l);
      this.shapeDirty = true;
    }
    const dropped = f.verdict === 'DROPPED';
    if (dropped) l.lastDrop = Math.max(l.lastDrop, f.ms);
    else l.lastFwd = Math.max(l.lastFwd, f.ms);
    const port = `${f.dst_port} • TCP`;
    if (!d.ports.has(port)) { d.ports.add(port); this.shapeDirty = true; }
    let kind = null;
    if (f.event_type === 'Drop') kind = 'dropped';
    else if (f.l7 && f.l7.kind === 'request') {
      kind = dropped ? 'denied' : 'landed';
      const ep = `${f.l7.method} ${f.l7.path.split('?')[0]}`;
      let h = d.http.get(ep);
      if (!h && d.http.size < MAX_HTTP) {
        h = { forwarded: 0, denied: 0 };
        d.http.set(ep, h);
        this.shapeDirty = true;
      }
      if (h) h[dropped ? 'denied' : 'forwarded'] += 1;
    } else if (f.event_type === 'Trace' && f.event === 'to-endpoint' && f.flags === 'SYN') {
      // Without an L7 policy Hubble sees no requests: a new connection is the nearest thing.
      kind = 'landed';
    }
    if (kind) {
      const sec = Math.floor(f.ms / 1000);
      let b = l.buckets.get(sec);
      if (!b) {
        b = { landed: 0, denied: 0, dropped: 0 };
        l.buckets.set(sec, b);
        for (const k of l.buckets.keys()) if (k < sec - RATE_SECONDS - 1) l.buckets.delete(k);
      }
      b[kind] += 1;
    }
  }

  verdictOf(l, now) {
    const fwd = now - l.lastFwd < WINDOW_MS;
    const drop = now - l.lastDrop < WINDOW_MS;
    if (fwd && drop) return 'mixed';
    if (drop) return 'dropped';
    if (fwd) return 'forwarded';
    return l.lastDrop > l.lastFwd ? 'dropped' : 'forwarded';
  }

  rates(l, now) {
    const sec = Math.floor(now / 1000);
    const sum = { landed: 0, denied: 0, dropped: 0 };
    for (const [k, b] of l.buckets) {
      if (k >= sec - RATE_SECONDS && k < sec) {
        sum.landed += b.landed; sum.denied += b.denied; sum.dropped += b.dropped;
      }
    }
    return { landed: sum.landed / RATE_SECONDS, denied: sum.denied / RATE_SECONDS, dropped: sum.dropped / RATE_SECONDS };
  }

  visibleCards() {
    const linked = new Set();
    for (const l of this.links.values()) { linked.add(l.src); linked.add(l.dst); }
    return [...this.cards.values()].filter(
      (c) => linked.has(c.id) || !this.namespace || c.namespace === this.namespace,
    );
  }

  // Redraw what changed; `now` is the wall clock in ms.
  paint(now) {
    if (this.shapeDirty && now - this.lastLayout > 300) {
      this.shapeDirty = false;
      this.lastLayout = now;
      this.relayout();
      this.lastPaint = 0;
    }
    if (now - this.lastPaint < 250) return;
    this.lastPaint = now;
    for (const l of this.links.values()) {
      if (!l.path) continue;
      const v = this.verdictOf(l, now);
      if (l.verdict !== v) {
        l.verdict = v;
        l.path.setAttribute('class', `arrow arrow-${v}`);
        l.path.setAttribute('marker-end', `url(#head-${v})`);
        l.label.dataset.verdict = v;
        l.path.dataset.verdict = v;
      }
      const r = this.rates(l, now);
      setText(l.counts.landed, `✓ ${rate(r.landed)}/s`);
      setText(l.counts.denied, `⊘ ${rate(r.denied)}/s`);
      setText(l.counts.dropped, `✕ ${rate(r.dropped)}/s`);
      l.counts.denied.hidden = r.denied === 0;
    }
    for (const c of this.cards.values()) {
      if (!c.shown) continue;
      for (const [ep, h] of c.http) {
        const row = c.httpRows && c.httpRows.get(ep);
        if (row) row.dataset.verdict = h.denied && h.forwarded ? 'mixed' : h.denied ? 'dropped' : 'forwarded';
      }
    }
  }

  cardElement(c) {
    const ports = el('div.card-ports');
    c.httpRows = new Map();
    for (const p of [...c.ports].sort()) ports.append(el('div.card-port', null, p));
    for (const ep of [...c.http.keys()].sort()) {
      const [method, ...rest] = ep.split(' ');
      const row = el('div.card-http', { title: ep }, el('span.http-method', null, method), ' ', rest.join(' '));
      c.httpRows.set(ep, row);
      ports.append(row);
    }
    const icon = c.role === 'death-star' ? '◉' : '➤';
    const pods = c.pods.length === 1 ? c.pods[0] : `${c.pods.length} pods`;
    const e = el(
      'div.card',
      { dataset: { card: c.id, role: c.role }, title: `${c.id}\nidentity ${c.identities.join(', ')}\nclick: show its flows`, onclick: () => this.onCard(c) },
      el('div.card-head', null, el('span.card-icon', null, icon), el('span.card-name', null, c.app)),
      el('div.card-sub', null, `${c.namespace} · ${pods}`),
      ports,
    );
    return e;
  }

  relayout() {
    const cards = this.visibleCards();
    const shown = new Set(cards.map((c) => c.id));
    for (const c of this.cards.values()) {
      if (c.el) c.el.remove();
      c.el = null;
      c.shown = shown.has(c.id);
    }
    for (const c of cards) {
      c.el = this.cardElement(c);
      this.cardsLayer.append(c.el);
    }
    // Measured once drawn: a card is as tall as its ports and endpoints.
    for (const c of cards) { c.w = c.el.offsetWidth; c.h = c.el.offsetHeight; }
    const links = [...this.links.values()].filter((l) => shown.has(l.src) && shown.has(l.dst));
    const byNs = new Map();
    for (const c of cards) {
      if (!byNs.has(c.namespace)) byNs.set(c.namespace, []);
      byNs.get(c.namespace).push(c);
    }
    // Namespaces left to right as their flows run: one whose pods call into others before those
    // (clients of cilium-test-1 left of the Death Star they call), then the chosen one, then by name.
    const nsOf = (id) => this.cards.get(id).namespace;
    const lean = new Map();
    for (const l of links) {
      const a = nsOf(l.src); const b = nsOf(l.dst);
      if (a === b) continue;
      lean.set(a, (lean.get(a) || 0) + 1);
      lean.set(b, (lean.get(b) || 0) - 1);
    }
    const names = [...byNs.keys()].sort((a, b) => (lean.get(b) || 0) - (lean.get(a) || 0)
      || (a === this.namespace ? -1 : b === this.namespace ? 1 : a.localeCompare(b)));
    this.plates.replaceChildren();
    let x = 0; let y = 0; let rowH = 0; let width = 0;
    for (const ns of names) {
      const members = byNs.get(ns);
      const ids = new Set(members.map((c) => c.id));
      const inner = links.filter((l) => ids.has(l.src) && ids.has(l.dst));
      // Arrows to and from other namespaces rank their ends too, through a stand-in for the
      // other side (clients of another namespace's server stay in a column on the left).
      const outward = links.filter((l) => ids.has(l.src) !== ids.has(l.dst))
        .map((l) => (ids.has(l.src) ? { src: l.src, dst: OUTSIDE } : { src: OUTSIDE, dst: l.dst }));
      const box = layoutGroup(members, inner, outward);
      if (x > 0 && x + box.w > PLATE_ROW) { x = 0; y += rowH + GAP * 2; rowH = 0; }
      for (const c of members) {
        c.x += x + PLATE_PAD;
        c.y += y + PLATE_PAD;
        c.el.style.transform = `translate(${c.x}px, ${c.y}px)`;
      }
      const plate = el('div.plate', { dataset: { namespace: ns } }, el('div.plate-name', null, ns));
      plate.style.transform = `translate(${x}px, ${y}px)`;
      plate.style.width = `${box.w + PLATE_PAD * 2}px`;
      plate.style.height = `${box.h + PLATE_PAD * 2}px`;
      this.plates.append(plate);
      x += box.w + PLATE_PAD * 2 + GAP * 2;
      rowH = Math.max(rowH, box.h + PLATE_PAD * 2);
      width = Math.max(width, x);
    }
    this.bounds = { w: width, h: y + rowH };
    this.svg.setAttribute('width', Math.max(1, this.bounds.w));
    this.svg.setAttribute('height', Math.max(1, this.bounds.h));
    for (const l of this.links.values()) {
      if (l.path) { l.path.remove(); l.label.remove(); l.path = null; l.label = null; }
    }
    for (const l of links) this.drawLink(l);
    this.empty.hidden = cards.length > 0;
    if (!this.view.user) this.fit();
  }

  drawLink(l) {
    const s = this.cards.get(l.src);
    const d = this.cards.get(l.dst);
    const x1 = s.x + s.w; const y1 = s.y + Math.min(s.h / 2, 22);
    const x2 = d.x - 2; const y2 = d.y + Math.min(d.h / 2, 22);
    const dx = Math.max(40, Math.abs(x2 - x1) / 2);
    l.path = svg('path', {
      d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`,
      class: 'arrow', 'data-link': l.key,
    });
    l.path.dataset.src = l.src;
    l.path.dataset.dst = l.dst;
    l.verdict = null;
    this.svg.append(l.path);
    l.counts = {
      landed: el('span.count-landed', { title: 'landed per second: forwarded HTTP requests (new connections where no L7 policy shows requests)' }),
      denied: el('span.count-denied', { title: 'denied per second: HTTP requests refused by an L7 rule (403)' }),
      dropped: el('span.count-dropped', { title: 'dropped per second: packets dropped by policy' }),
    };
    l.label = el('div.arrow-label', { dataset: { link: l.key } }, l.counts.landed, l.counts.denied, l.counts.dropped);
    // At 40% of the curve, before the arrows into one card converge.
    const t = 0.4; const u = 1 - t;
    const lx = u * u * u * x1 + 3 * u * u * t * (x1 + dx) + 3 * u * t * t * (x2 - dx) + t * t * t * x2;
    const ly = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
    l.label.style.transform = `translate(${lx}px, ${ly}px) translate(-50%, -50%)`;
    this.labels.append(l.label);
  }

  setView() {
    const { x, y, k } = this.view;
    this.world.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
  }

  fit() {
    const W = this.root.clientWidth; const H = this.root.clientHeight;
    if (!W || !H || !this.bounds.w) return;
    const k = Math.min(1.25, (W - 40) / this.bounds.w, (H - 40) / this.bounds.h);
    this.view = { k, x: (W - this.bounds.w * k) / 2, y: (H - this.bounds.h * k) / 2, user: false };
    this.setView();
  }

  panZoom() {
    let drag = null;
    this.root.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.root.getBoundingClientRect();
      const px = e.clientX - r.left; const py = e.clientY - r.top;
      const k = Math.min(3, Math.max(0.1, this.view.k * Math.exp(-e.deltaY / 500)));
      this.view.x = px - ((px - this.view.x) * k) / this.view.k;
      this.view.y = py - ((py - this.view.y) * k) / this.view.k;
      this.view.k = k;
      this.view.user = true;
      this.setView();
    }, { passive: false });
    this.root.addEventListener('pointerdown', (e) => {
      if (e.target.closest('.card')) return;
      drag = { x: e.clientX - this.view.x, y: e.clientY - this.view.y };
      this.root.setPointerCapture(e.pointerId);
    });
    this.root.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.view.x = e.clientX - drag.x;
      this.view.y = e.clientY - drag.y;
      this.view.user = true;
      this.setView();
    });
    this.root.addEventListener('pointerup', () => { drag = null; });
    new ResizeObserver(() => { if (!this.view.user) this.fit(); }).observe(this.root);
  }
}

// Place one namespace's cards: dagre for those with arrows, wrapped where a rank is too tall, and a
// grid below for the rest. Sets each card's x, y (top left, relative to the group); returns the
// group's size.
const OUTSIDE = '\u0000outside';

function layoutGroup(cards, links, outward = []) {
  const linked = new Set();
  for (const l of [...links, ...outward]) { linked.add(l.src); linked.add(l.dst); }
  const connected = cards.filter((c) => linked.has(c.id));
  const alone = cards.filter((c) => !linked.has(c.id)).sort((a, b) => a.app.localeCompare(b.app));
  let w = 0; let h = 0;
  if (connected.length) {
    const g = new Graph();
    g.setGraph({ rankdir: 'LR', nodesep: GAP, ranksep: 110, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const c of connected) g.setNode(c.id, { width: c.w, height: c.h });
    // The other namespaces, as two points: where arrows come from and where they go.
    const ends = { src: `${OUTSIDE}:in`, dst: `${OUTSIDE}:out` };
    for (const l of outward) {
      const src = l.src === OUTSIDE ? ends.src : l.src;
      const dst = l.dst === OUTSIDE ? ends.dst : l.dst;
      for (const n of [src, dst]) if (!g.hasNode(n)) g.setNode(n, { width: 1, height: 1 });
      g.setEdge(src, dst);
    }
    for (const l of links) g.setEdge(l.src, l.dst);
    layout(g);
    for (const c of connected) {
      const n = g.node(c.id);
      c.x = n.x - c.w / 2;
      c.y = n.y - c.h / 2;
    }
    // The stand-ins take no room: the group starts at its leftmost, topmost card.
    const x0 = Math.min(...connected.map((c) => c.x));
    const y0 = Math.min(...connected.map((c) => c.y));
    for (const c of connected) { c.x -= x0; c.y -= y0; }
    wrapTallRanks(connected);
    for (const c of connected) { w = Math.max(w, c.x + c.w); h = Math.max(h, c.y + c.h); }
  }
  if (alone.length) {
    const cw = Math.max(...alone.map((c) => c.w)) + GAP;
    const cols = Math.max(1, Math.floor(Math.max(w, cw * Math.ceil(Math.sqrt(alone.length * 2))) / cw));
    const top = connected.length ? h + GAP * 2 : 0;
    let rowY = top; let rowH = 0;
    alone.forEach((c, i) => {
      if (i > 0 && i % cols === 0) { rowY += rowH + GAP; rowH = 0; }
      c.x = (i % cols) * cw;
      c.y = rowY;
      rowH = Math.max(rowH, c.h);
      w = Math.max(w, c.x + c.w);
    });
    h = rowY + rowH;
  }
  return { w, h };
}

// A rank (cards dagre put in one column) taller than MAX_COLUMN becomes a grid of columns, in
// dagre's order; the ranks to its right move over to make room.
function wrapTallRanks(cards) {
  const ranks = new Map();
  for (const c of cards) {
    const key = Math.round(c.x + c.w / 2);
    if (!ranks.has(key)) ranks.set(key, []);
    ranks.get(key).push(c);
  }
  let shift = 0;
  for (const key of [...ranks.keys()].sort((a, b) => a - b)) {
    const rank = ranks.get(key).sort((a, b) => a.y - b.y);
    for (const c of rank) c.x += shift;
    if (rank.length <= MAX_COLUMN) continue;
    const cols = Math.ceil(rank.length / MAX_COLUMN);
    const cw = Math.max(...rank.map((c) => c.w)) + GAP;
    const left = Math.min(...rank.map((c) => c.x));
    let y = 0; let rowH = 0;
    rank.forEach((c, i) => {
      if (i > 0 && i % cols === 0) { y += rowH + GAP; rowH = 0; }
      c.x = left + (i % cols) * cw;
      c.y = y;
      rowH = Math.max(rowH, c.h);
    });
    shift += (cols - 1) * cw;
  }
}
