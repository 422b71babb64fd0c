// PBT's family tree: generations left to right, each member linked to the
// parent it loaded its checkpoint from, coloured by its last objective, with
// the hyperparameters PBT changed written beside it (when zoomed in far
// enough to read; always in the tooltip), and the best member's whole
// lineage in red. Wheel zooms, drag pans, double-click fits.
import { HIGHLIGHT, LINEAGE, objectiveScale, rgba, viridis } from './colors.js';
import { Surface } from './canvas.js';
import { formatValue } from './model.js';

const M = { left: 36, right: 110, top: 36, bottom: 16 };

export function describeChange(name, [a, b]) {
  if (typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0 && !Number.isInteger(a)) {
    return `${name} \u00d7${Number((b / a).toPrecision(3))}`;
  }
  return `${name} ${formatValue(a)}\u2192${formatValue(b)}`;
}

export class Tree {
  constructor(container, app) {
    this.app = app;
    this.view = { k: 1, x: 0, y: 0 }; // zoom and pan
    this.surface = new Surface(container, () => app.invalidate('tree'));
    this.tip = document.createElement('div');
    this.tip.className = 'tip';
    container.appendChild(this.tip);
    const c = this.surface.canvas;
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const [x, y] = this.surface.point(e);
      const f = Math.exp(-e.deltaY * 0.0015);
      const k = Math.max(0.5, Math.min(60, this.view.k * f));
      // Keep the point under the cursor in place.
      this.view.x = x - ((x - this.view.x) * k) / this.view.k;
      this.view.y = y - ((y - this.view.y) * k) / this.view.k;
      this.view.k = k;
      app.invalidate('tree');
    }, { passive: false });
    c.addEventListener('mousedown', (e) => {
      this.pan = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      if (this.pan) {
        const dx = e.clientX - this.pan.x;
        const dy = e.clientY - this.pan.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) this.pan.moved = true;
        this.view.x = this.pan.vx + dx;
        this.view.y = this.pan.vy + dy;
        app.invalidate('tree');
      } else if (e.target === c) {
        this.hover(e);
      }
    });
    window.addEventListener('mouseup', (e) => {
      if (this.pan && !this.pan.moved && e.target === c) {
        const n = this.nodeAt(...this.surface.point(e));
        if (n) app.select(n.t.id, true);
      }
      this.pan = null;
    });
    c.addEventListener('mouseleave', () => (this.tip.style.display = 'none'));
    c.addEventListener('dblclick', () => this.fit());
  }

  fit() {
    this.view = { k: 1, x: 0, y: 0 };
    this.app.invalidate('tree');
  }

  // Node positions in unzoomed coordinates: x by generation; in generation
  // 1 members are ranked by objective, later members follow their parent's
  // row so that edges cross as little as possible.
  layout() {
    const model = this.app.model;
    const gens = new Map();
    for (const t of model.order) {
      if (t.generation == null) continue;
      if (!gens.has(t.generation)) gens.set(t.generation, []);
      gens.get(t.generation).push(t);
    }
    const keys = [...gens.keys()].sort((a, b) => a - b);
    const rank = new Map();
    const cmp = (a, b) => {
      if (a.last == null && b.last == null) return a.id - b.id;
      if (a.last == null) return 1;
      if (b.last == null) return -1;
      return model.better(a.last, b.last) ? -1 : model.better(b.last, a.last) ? 1 : a.id - b.id;
    };
    let rows = 1;
    for (const g of keys) {
      const members = gens.get(g);
      members.sort((a, b) => {
        const pa = rank.has(a.parentId) ? rank.get(a.parentId) : Infinity;
        const pb = rank.has(b.parentId) ? rank.get(b.parentId) : Infinity;
        return pa !== pb ? pa - pb : cmp(a, b);
      });
      members.forEach((t, i) => rank.set(t.id, i));
      rows = Math.max(rows, members.length);
    }
    const { width, height } = this.surface;
    const colW = keys.length > 1 ? (width - M.left - M.right) / (keys.length - 1) : 0;
    const rowH = rows > 1 ? (height - M.top - M.bottom) / (rows - 1) : 0;
    const nodes = new Map();
    keys.forEach((g, gi) => {
      for (const t of gens.get(g)) {
        nodes.set(t.id, { t, x: M.left + (keys.length > 1 ? gi * colW : (width - M.left - M.right) / 2), y: M.top + (rows > 1 ? rank.get(t.id) * rowH : (height - M.top - M.bottom) / 2) });
      }
    });
    return { nodes, keys, colW, rowH };
  }

  draw() {
    this.surface.fit();
    const { ctx, width, height } = this.surface;
    this.surface.clear();
    const model = this.app.model;
    if (!model.isPbt) {
      ctx.fillStyle = '#777';
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText('This study has no PBT generations: there is no family tree to draw.', 20, 30);
      return;
    }
    const L = this.layout();
    this.L = L;
    const { k, x: vx, y: vy } = this.view;
    const X = (x) => x * k + vx;
    const Y = (y) => y * k + vy;
    this.X = X;
    this.Y = Y;
    const scale = objectiveScale(model);
    const rowPx = L.rowH * k;
    const colPx = L.colW * k;
    const r = Math.max(1.5, Math.min(7, rowPx * 0.35, colPx * 0.3 || 7));
    this.r = r;

    // Generation labels.
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#555';
    ctx.textAlign = 'center';
    const every = Math.max(1, Math.ceil(40 / Math.max(colPx, 1)));
    L.keys.forEach((g, gi) => {
      if (gi % every) return;
      const gx = L.keys.length > 1 ? M.left + gi * L.colW : (width - M.left - M.right) / 2;
      ctx.fillText(`gen ${g}`, X(gx), 14);
    });

    // Edges: ordinary ones in one path, the lineage on top.
    const edges = new Path2D();
    const visible = (x, y) => x > -50 && x < width + 50 && y > -50 && y < height + 50;
    for (const n of L.nodes.values()) {
      const p = n.t.parentId != null ? L.nodes.get(n.t.parentId) : null;
      if (!p) continue;
      const x0 = X(p.x), y0 = Y(p.y), x1 = X(n.x), y1 = Y(n.y);
      if (!visible(x0, y0) && !visible(x1, y1)) continue;
      edges.moveTo(x0, y0);
      const mx = (x0 + x1) / 2;
      edges.bezierCurveTo(mx, y0, mx, y1, x1, y1);
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = L.nodes.size > 2000 ? 'rgba(90,90,90,0.18)' : 'rgba(90,90,90,0.45)';
    ctx.stroke(edges);
    ctx.strokeStyle = LINEAGE;
    ctx.lineWidth = 3;
    ctx.beginPath();
    for (const t of model.lineage) {
      const n = L.nodes.get(t.id);
      const p = t.parentId != null ? L.nodes.get(t.parentId) : null;
      if (!n || !p) continue;
      const x0 = X(p.x), y0 = Y(p.y), x1 = X(n.x), y1 = Y(n.y);
      const mx = (x0 + x1) / 2;
      ctx.moveTo(x0, y0);
      ctx.bezierCurveTo(mx, y0, mx, y1, x1, y1);
    }
    ctx.stroke();

    // Nodes.
    for (const n of L.nodes.values()) {
      const x = X(n.x), y = Y(n.y);
      if (!visible(x, y)) continue;
      const t = n.t;
      const c = scale(t.last);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.fillStyle = Number.isNaN(c) ? '#ccc' : rgba(viridis(c), 1);
      ctx.fill();
      if (t.state === 'FAILED' || t.state === 'STOPPED') {
        ctx.strokeStyle = t.state === 'FAILED' ? '#b00020' : '#444';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x - r, y - r);
        ctx.lineTo(x + r, y + r);
        ctx.stroke();
      } else if (t.state === 'RUNNING' && r > 2) {
        ctx.setLineDash([2, 2]);
        ctx.strokeStyle = '#222';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.arc(x, y, r + 2, 0, Math.PI * 2);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      if (model.lineageIds.has(t.id) || t.id === this.app.selected) {
        ctx.strokeStyle = t.id === this.app.selected ? '#000' : LINEAGE;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.arc(x, y, r + 1.5, 0, Math.PI * 2);
        ctx.stroke();
      }
    }

    // What PBT changed, beside each member, once there is room to read it.
    if (rowPx >= 16 && colPx >= 70) {
      ctx.font = '10px system-ui, sans-serif';
      ctx.textAlign = 'left';
      for (const n of L.nodes.values()) {
        const t = n.t;
        const x = X(n.x), y = Y(n.y);
        if (!visible(x, y)) continue;
        const label = t.changed ? Object.entries(t.changed).map(([name, ch]) => describeChange(name, ch)).join(', ') : '';
        ctx.fillStyle = model.lineageIds.has(t.id) ? HIGHLIGHT : '#333';
        ctx.fillText(`#${t.id}${label ? ` ${label}` : ''}`, x + r + 3, y - r - 1, Math.max(40, Math.min(colPx - r - 8, width - x - r - 6)));
      }
    }
    this.highlighted = model.lineage.map((t) => t.id);
  }

  nodeAt(x, y) {
    if (!this.L) return null;
    let best = null;
    let bestD = Math.max(36, (this.r + 3) ** 2);
    for (const n of this.L.nodes.values()) {
      const dx = this.X(n.x) - x;
      const dy = this.Y(n.y) - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = n;
      }
    }
    return best;
  }

  hover(e) {
    const [x, y] = this.surface.point(e);
    const n = this.nodeAt(x, y);
    if (!n) {
      this.tip.style.display = 'none';
      return;
    }
    const t = n.t;
    const lines = [
      `<b>trial ${t.id}</b> \u00b7 generation ${t.generation} \u00b7 ${t.state}`,
      `objective ${formatValue(t.last)} at iteration ${formatValue(t.lastIter)}`,
      t.parentId != null ? `loaded from trial ${t.parentId}` : 'fresh start',
    ];
    if (t.changed && Object.keys(t.changed).length) {
      lines.push(`changed: ${Object.entries(t.changed).map(([name, ch]) => escapeHtml(describeChange(name, ch))).join(', ')}`);
    } else if (t.parentId != null) {
      lines.push('hyperparameters unchanged');
    }
    this.tip.innerHTML = lines.join('<br>');
    this.tip.style.display = 'block';
    this.tip.style.left = `${Math.min(x + 14, this.surface.width - 260)}px`;
    this.tip.style.top = `${y + 14}px`;
  }
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
