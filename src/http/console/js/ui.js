// DOM helpers shared by the pages: element builders (text only: no HTML strings,
// so nothing the agent answers can inject markup), formatters, a sortable table,
// the confirmation dialog and the flash messages.

/** h('div', {class: 'x', on: {click: f}}, child, ...): an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key === 'data') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---- formatters -------------------------------------------------------------

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  let value = Number(n);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

export function num(n, digits = 0) {
  if (n === null || n === undefined || n === '') return '–';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function ms(n) {
  if (n === null || n === undefined) return '–';
  const value = Number(n);
  if (value >= 60000) return `${(value / 60000).toFixed(1)} min`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

export function seconds(n) {
  if (n === null || n === undefined) return '–';
  const value = Number(n);
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  const h = Math.floor(value / 3600);
  const m = Math.floor((value % 3600) / 60);
  const sec = Math.floor(value % 60);
  return h ? `${h} h ${m} min` : `${m} min ${sec} s`;
}

export function time(epochMs) {
  return new Date(epochMs).toLocaleTimeString('en-GB', { hour12: false });
}

/** 'PostgreSQL 15.18 (Debian ...) on x86_64 ...' -> 'PostgreSQL 15.18'. */
export function shortVersion(full) {
  if (!full) return '–';
  const m = /^PostgreSQL [^\s,]+/.exec(full);
  return m ? m[0] : full;
}

// ---- messages ---------------------------------------------------------------

export function message(kind, text) {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** A short-lived message at the top of the page. */
export function flash(kind, text) {
  const box = document.getElementById('flash');
  const item = message(kind, text);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 10000 : 5000);
}

export function loading() {
  return h('p', { class: 'muted loading' }, 'Loading…');
}

// ---- confirmation -----------------------------------------------------------

/** Asks before an action; answers true when the user confirms. */
export function confirm(title, body, okLabel = 'OK') {
  const dialog = document.getElementById('confirm');
  clear(document.getElementById('confirm-title'), title);
  clear(document.getElementById('confirm-body'), body);
  const yes = document.getElementById('confirm-yes');
  const no = document.getElementById('confirm-no');
  yes.textContent = okLabel;
  return new Promise((resolve) => {
    const done = (answer) => {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dialog.removeEventListener('cancel', onNo);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dialog.addEventListener('cancel', onNo);
    dialog.showModal();
    no.focus();
  });
}

export function dialogOpen() {
  return document.getElementById('confirm').open;
}

// ---- sortable table ---------------------------------------------------------

/**
 * A table whose column headers sort it. columns: [{key, label, num, render(row),
 * value(row), title}]; options: {sortKey, desc, empty, rowClass(row)}.
 */
export class SortableTable {
  constructor(columns, options = {}) {
    this.columns = columns;
    this.sortKey = options.sortKey ?? null;
    this.desc = options.desc ?? false;
    this.empty = options.empty ?? 'Nothing to show.';
    this.rowClass = options.rowClass ?? (() => null);
    this.rows = [];
    this.tbody = h('tbody');
    this.thead = h('thead');
    this.el = h('div', { class: 'table-wrap' }, h('table', { class: 'grid' }, this.thead, this.tbody));
    this.renderHead();
  }

  renderHead() {
    const cells = this.columns.map((col) => {
      const sortable = col.sort !== false;
      const arrow = this.sortKey === col.key ? (this.desc ? ' ▼' : ' ▲') : '';
      return h(
        'th',
        {
          class: [col.num ? 'num' : '', sortable ? 'sortable' : ''].join(' ').trim() || null,
          title: col.title,
          'aria-sort': this.sortKey === col.key ? (this.desc ? 'descending' : 'ascending') : null,
          data: { key: col.key },
          on: sortable ? { click: () => this.sortBy(col.key) } : {},
        },
        col.label,
        arrow,
      );
    });
    clear(this.thead, h('tr', null, cells));
  }

  sortBy(key) {
    if (this.sortKey === key) {
      this.desc = !this.desc;
    } else {
      this.sortKey = key;
      const col = this.columns.find((c) => c.key === key);
      this.desc = Boolean(col && col.num);
    }
    this.renderHead();
    this.render();
  }

  update(rows) {
    this.rows = rows;
    this.render();
  }

  render() {
    let rows = this.rows.slice();
    const col = this.columns.find((c) => c.key === this.sortKey);
    if (col) {
      const value = col.value ?? ((row) => row[col.key]);
      rows.sort((a, b) => compare(value(a), value(b)) * (this.desc ? -1 : 1));
    }
    if (!rows.length) {
      clear(this.tbody, h('tr', null, h('td', { class: 'muted empty', colspan: this.columns.length }, this.empty)));
      return;
    }
    clear(
      this.tbody,
      rows.map((row) =>
        h(
          'tr',
          { class: this.rowClass(row) },
          this.columns.map((c) => {
            const content = c.render ? c.render(row) : row[c.key];
            return h('td', { class: c.num ? 'num' : null }, content ?? '–');
          }),
        ),
      ),
    );
  }
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

/** A query text cut to one line; a click shows it all. `expanded` (a Set), when
 * given, remembers which `key`s are open across re-renders of a refreshing table. */
export function queryText(text, expanded = null, key = null) {
  if (text === null || text === undefined) return h('span', { class: 'muted' }, '(no text)');
  const open = Boolean(expanded && expanded.has(key));
  const el = h('pre', { class: open ? 'query' : 'query collapsed', title: 'Click to expand or collapse' }, text);
  el.addEventListener('click', () => {
    const collapsed = el.classList.toggle('collapsed');
    if (expanded) collapsed ? expanded.delete(key) : expanded.add(key);
  });
  return el;
}

export function field(label, control) {
  return h('label', { class: 'field' }, h('span', null, label), control);
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, children);
}
