// Small DOM and formatting helpers shared by the page's parts.

// el('div.card', {title: 'x', onclick: f}, child, 'text'): an element with classes, properties
// (on* become listeners, dataset entries go to data-*) and children.
// el('select#namespace'): an element with an id.
export function el(tag, props, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const id = rest.filter((p) => p[0] === '#').map((p) => p.slice(1))[0];
  const classes = rest.filter((p) => p[0] === '.').map((p) => p.slice(1));
  const e = document.createElement(name);
  if (id) e.id = id;
  if (classes.length) e.className = classes.join(' ');
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e && k !== 'list') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// Set text only when it changed: the table and map rewrite the same cells many times a second.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// `Dec 1 23:57:52.895`, local time, as Hubble prints timestamps.
export function stamp(ms) {
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function rate(n) {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  return String(Math.round(n));
}

// Query string of the non-empty entries.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// `k8s:org=imperio` -> `org=imperio`; Cilium's bookkeeping labels are left out of cards.
export function shortLabels(labels) {
  return labels
    .filter((l) => !l.includes('io.cilium.k8s.') && !l.includes('io.kubernetes.pod.namespace'))
    .map((l) => l.replace(/^k8s:/, ''));
}
