// The trials table: sortable by any column, filtered by the text box and by
// the parallel-coordinates brushes, and virtualized (only the rows in view
// exist in the DOM) so 10,000 trials scroll smoothly.
import { formatValue } from './model.js';

const ROW = 24;

export class Table {
  constructor(container, app) {
    this.app = app;
    this.sort = { key: 'id', dir: 1 };
    this.rows = [];
    this.root = container;
    container.classList.add('table');
    this.header = document.createElement('div');
    this.header.className = 'thead';
    this.scroller = document.createElement('div');
    this.scroller.className = 'tscroll';
    this.spacer = document.createElement('div');
    this.spacer.className = 'tspacer';
    this.body = document.createElement('div');
    this.body.className = 'tbody';
    this.spacer.appendChild(this.body);
    this.scroller.appendChild(this.spacer);
    container.append(this.header, this.scroller);
    this.shown = new Map(); // trial id -> {sig, el, top}
    this.scroller.addEventListener('scroll', () => {
      this.header.scrollLeft = this.scroller.scrollLeft; // columns stay under their names
      this.renderRows();
    });
    this.header.addEventListener('click', (e) => {
      const key = e.target.closest('[data-key]')?.dataset.key;
      if (!key) return;
      this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
      this.app.invalidate('table');
    });
    this.body.addEventListener('click', (e) => {
      const stop = e.target.closest('button[data-stop]');
      if (stop) {
        e.stopPropagation();
        this.app.stopTrial(Number(stop.dataset.stop), stop);
        return;
      }
      const row = e.target.closest('[data-trial]');
      if (row) this.app.select(Number(row.dataset.trial), false);
    });
    new ResizeObserver(() => this.renderRows()).observe(this.scroller);
  }

  columns() {
    const model = this.app.model;
    const cols = [
      { key: 'id', label: 'trial', width: 60, get: (t) => t.id },
      { key: 'state', label: 'status', width: 96, get: (t) => t.state },
    ];
    // Next to the status, so it is in view however many columns follow.
    if (this.app.canStop) cols.push({ key: 'action', label: '', width: 64, get: () => null });
    if (model.isPbt) {
      cols.push({ key: 'generation', label: 'gen', width: 48, get: (t) => t.generation });
      cols.push({ key: 'parent', label: 'parent', width: 60, get: (t) => t.parentId });
    }
    for (const name of model.paramNames) cols.push({ key: `p:${name}`, label: name, width: 90, get: (t) => t.params[name] });
    cols.push({ key: 'objective', label: 'objective', width: 90, get: (t) => t.last });
    cols.push({ key: 'best', label: 'best', width: 90, get: (t) => t.bestObj });
    cols.push({ key: 'iteration', label: 'iter', width: 52, get: (t) => t.lastIter });
    cols.push({ key: 'reason', label: 'note', width: 160, get: (t) => t.reason });
    return cols;
  }

  update() {
    const cols = this.columns();
    this.cols = cols;
    const template = cols.map((c) => `${c.width}px`).join(' ');
    this.template = template;
    this.header.style.gridTemplateColumns = template;
    this.header.replaceChildren(
      ...cols.map((c) => {
        const h = document.createElement('span');
        h.dataset.key = c.key;
        h.textContent = c.label + (this.sort.key === c.key ? (this.sort.dir > 0 ? ' \u25b2' : ' \u25bc') : '');
        return h;
      }),
    );
    const col = cols.find((c) => c.key === this.sort.key) || cols[0];
    const dir = this.sort.dir;
    const rows = this.app.model.order.filter((t) => this.app.visible(t));
    rows.sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      if (x == null && y == null) return a.id - b.id;
      if (x == null) return 1; // missing values last, whatever the direction
      if (y == null) return -1;
      if (x < y) return -dir;
      if (x > y) return dir;
      return a.id - b.id;
    });
    this.rows = rows;
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.spacer.style.width = `${cols.reduce((s, c) => s + c.width, 0)}px`;
    this.renderRows();
  }

  // Rows are positioned absolutely, so their order in the DOM does not
  // matter: a row whose content is unchanged is kept as it is (a live study
  // updates several times a second, and a row rebuilt under the pointer
  // would swallow the user's click), changed rows are replaced, and rows
  // scrolled out of view are removed.
  renderRows() {
    if (!this.cols) return;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW) + 5);
    const model = this.app.model;
    if (this.templateShown !== this.template) {
      this.body.replaceChildren();
      this.shown = new Map();
      this.templateShown = this.template;
    }
    const keep = new Set();
    for (let i = first; i < last; i++) {
      const t = this.rows[i];
      const selected = t.id === this.app.selected;
      const lineage = model.lineageIds.has(t.id);
      const sig = `${t.state}|${t.attempt}|${t.last}|${t.bestObj}|${t.lastIter}|${t.reason}|${t.stopping}|${selected}|${lineage}|${t.generation}`;
      let entry = this.shown.get(t.id);
      if (entry && entry.sig !== sig) {
        entry.el.remove();
        entry = null;
      }
      if (!entry) {
        entry = { sig, el: this.buildRow(t, selected, lineage), top: -1 };
        this.shown.set(t.id, entry);
        this.body.appendChild(entry.el);
      }
      if (entry.top !== i * ROW) {
        entry.top = i * ROW;
        entry.el.style.top = `${entry.top}px`;
      }
      keep.add(t.id);
    }
    for (const [id, entry] of this.shown) {
      if (!keep.has(id)) {
        entry.el.remove();
        this.shown.delete(id);
      }
    }
  }

  buildRow(t, selected, lineage) {
    const row = document.createElement('div');
    row.className = 'trow';
    if (selected) row.classList.add('selected');
    if (lineage) row.classList.add('lineage');
    row.dataset.trial = t.id;
    row.dataset.state = t.state;
    row.style.gridTemplateColumns = this.template;
    for (const c of this.cols) {
      const cell = document.createElement('span');
      if (c.key === 'state') {
        cell.className = `state s-${t.state}`;
        cell.textContent = t.state;
      } else if (c.key === 'action') {
        if (t.state === 'RUNNING') {
          const b = document.createElement('button');
          b.dataset.stop = t.id;
          b.className = 'stop';
          b.textContent = t.stopping ? 'stopping' : 'Stop';
          b.disabled = !!t.stopping;
          cell.appendChild(b);
        }
      } else {
        const v = c.get(t);
        cell.textContent = formatValue(v);
        if (typeof v === 'string') cell.title = v;
      }
      row.appendChild(cell);
    }
    return row;
  }

  // Brings a trial's row into view.
  reveal(id) {
    const i = this.rows.findIndex((t) => t.id === id);
    if (i < 0) return;
    const top = i * ROW;
    const s = this.scroller;
    if (top < s.scrollTop || top > s.scrollTop + s.clientHeight - ROW) s.scrollTop = top - s.clientHeight / 2;
    this.renderRows();
  }
}

// The filter box: space-separated terms, all of which must hold.
//   lr>0.01  objective<=0.5  state:running  id:12  gen:3  plain-text
export function compileFilter(text, model) {
  const terms = text.trim().split(/\s+/).filter(Boolean);
  const tests = terms.map((term) => {
    const m = term.match(/^([A-Za-z_][\w.]*)(:|>=|<=|>|<|=)(.+)$/);
    if (!m) {
      const needle = term.toLowerCase();
      return (t) =>
        String(t.id) === needle ||
        t.state.toLowerCase().includes(needle) ||
        Object.values(t.params).some((v) => String(v).toLowerCase().includes(needle));
    }
    const [, key, op, raw] = m;
    const value = (t) => {
      switch (key) {
        case 'id':
        case 'trial':
          return t.id;
        case 'state':
        case 'status':
          return t.state;
        case 'gen':
        case 'generation':
          return t.generation;
        case 'parent':
          return t.parentId;
        case 'objective':
          return t.last;
        case 'best':
          return t.bestObj;
        case 'iter':
        case 'iteration':
          return t.lastIter;
        default:
          return t.params[key];
      }
    };
    const num = Number(raw);
    return (t) => {
      const v = value(t);
      if (v == null) return false;
      if (op === ':') {
        return typeof v === 'number' && !Number.isNaN(num) ? v === num : String(v).toLowerCase().startsWith(raw.toLowerCase());
      }
      if (op === '=') return String(v) === raw || v === num;
      if (typeof v !== 'number' || Number.isNaN(num)) return false;
      return op === '>' ? v > num : op === '<' ? v < num : op === '>=' ? v >= num : v <= num;
    };
  });
  void model;
  return (t) => tests.every((f) => f(t));
}
