// Parallel coordinates of the trials over their hyperparameters and last
// objective, on a canvas. Dragging along an axis brushes a range; the
// brushes (ANDed) filter the table and the curves. Clicking an axis without
// dragging clears its brush.
import { axisFor, formatValue, position } from './model.js';
import { BUCKETS, BUCKET_RGB, HIGHLIGHT, bucketOf, objectiveScale, rgba } from './colors.js';
import { Surface, niceTicks } from './canvas.js';

const M = { left: 40, right: 60, top: 28, bottom: 18 };

export class ParCoords {
  constructor(container, app) {
    this.app = app;
    this.brushes = new Map(); // axis name -> [lo, hi] in 0..1
    this.surface = new Surface(container, () => app.invalidate('parcoords'));
    this.axes = [];
    this.drag = null;
    const c = this.surface.canvas;
    c.addEventListener('mousedown', (e) => this.down(e));
    window.addEventListener('mousemove', (e) => this.move(e));
    window.addEventListener('mouseup', (e) => this.up(e));
  }

  // True if the trial lies inside every brush.
  passes(t) {
    if (this.brushes.size === 0) return true;
    for (const [name, [lo, hi]] of this.brushes) {
      const axis = this.axes.find((a) => a.name === name);
      if (!axis) continue;
      const p = name === '\u0000objective' ? axis.pos(t.last) : position(axis, t.params[name]);
      if (!(p >= lo && p <= hi)) return false;
    }
    return true;
  }

  layout() {
    const model = this.app.model;
    const axes = model.paramNames.map((n) => axisFor(model, n));
    let min = Infinity;
    let max = -Infinity;
    for (const t of model.order) {
      if (t.last == null) continue;
      min = Math.min(min, t.last);
      max = Math.max(max, t.last);
    }
    if (!isFinite(min)) {
      min = 0;
      max = 1;
    }
    const obj = { name: '\u0000objective', label: 'objective', kind: 'lin', min, max };
    obj.pos = (v) => (v == null ? NaN : max === min ? 0.5 : (v - min) / (max - min));
    axes.push(obj);
    const w = this.surface.width - M.left - M.right;
    axes.forEach((a, i) => {
      a.x = M.left + (axes.length === 1 ? w / 2 : (w * i) / (axes.length - 1));
    });
    this.axes = axes;
  }

  y(p) {
    return M.top + (1 - p) * (this.surface.height - M.top - M.bottom);
  }

  draw() {
    this.surface.fit();
    this.layout();
    const { ctx, width, height } = this.surface;
    const model = this.app.model;
    this.surface.clear();
    const axes = this.axes;
    const scale = objectiveScale(model);
    const inside = [];
    const outside = new Path2D();
    const buckets = Array.from({ length: BUCKETS + 1 }, () => new Path2D());
    const ys = new Float64Array(axes.length);
    for (const t of model.order) {
      let any = false;
      for (let i = 0; i < axes.length; i++) {
        const a = axes[i];
        const p = i === axes.length - 1 ? a.pos(t.last) : position(a, t.params[a.name]);
        ys[i] = p >= 0 ? this.y(p) : NaN;
        if (p >= 0) any = true;
      }
      if (!any) continue;
      const pass = this.app.visible(t);
      const path = pass ? buckets[bucketOf(scale(t.last)) + 1] : outside;
      let pen = false;
      for (let i = 0; i < axes.length; i++) {
        if (Number.isNaN(ys[i])) {
          pen = false;
          continue;
        }
        if (pen) path.lineTo(axes[i].x, ys[i]);
        else path.moveTo(axes[i].x, ys[i]);
        pen = true;
      }
      if (pass) inside.push(t);
    }
    const many = model.order.length > 2000;
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(160,160,160,0.12)';
    ctx.stroke(outside);
    ctx.strokeStyle = 'rgba(120,120,120,0.5)';
    ctx.stroke(buckets[0]); // no objective yet
    for (let b = 0; b < BUCKETS; b++) {
      ctx.strokeStyle = rgba(BUCKET_RGB[b], many ? 0.18 : 0.6);
      ctx.stroke(buckets[b + 1]);
    }
    const sel = this.app.selected != null ? model.trials.get(this.app.selected) : null;
    if (sel) {
      ctx.beginPath();
      axes.forEach((a, i) => {
        const p = i === axes.length - 1 ? a.pos(sel.last) : position(a, sel.params[a.name]);
        if (p >= 0) ctx.lineTo(a.x, this.y(p));
      });
      ctx.strokeStyle = HIGHLIGHT;
      ctx.lineWidth = 3;
      ctx.stroke();
    }
    // Axes, ticks and brushes on top.
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const a of axes) {
      ctx.strokeStyle = '#333';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(a.x, this.y(0));
      ctx.lineTo(a.x, this.y(1));
      ctx.stroke();
      ctx.fillStyle = '#111';
      ctx.fillText(a.label || a.name, a.x, M.top - 12);
      ctx.fillStyle = '#555';
      ctx.textAlign = 'left';
      for (const [label, p] of this.ticks(a)) ctx.fillText(label, a.x + 4, this.y(p) + 4);
      ctx.textAlign = 'center';
      const b = this.brushes.get(a.name);
      if (b) {
        ctx.fillStyle = 'rgba(228,87,46,0.25)';
        ctx.strokeStyle = HIGHLIGHT;
        const y0 = this.y(b[1]);
        const y1 = this.y(b[0]);
        ctx.fillRect(a.x - 8, y0, 16, y1 - y0);
        ctx.strokeRect(a.x - 8, y0, 16, y1 - y0);
      }
    }
    this.inside = inside.length;
    return { width, height };
  }

  ticks(a) {
    if (a.kind === 'cat') return a.categories.map((c, i) => [formatValue(c), a.categories.length <= 1 ? 0.5 : i / (a.categories.length - 1)]);
    if (a.kind === 'log') {
      const out = [];
      for (let e = Math.ceil(Math.log10(a.min)); e <= Math.floor(Math.log10(a.max)); e++) out.push([`1e${e}`, position(a, 10 ** e)]);
      return out;
    }
    const pos = a.pos || ((v) => position(a, v));
    return niceTicks(a.min, a.max, 5).map((v) => [formatValue(v), pos(v)]);
  }

  axisAt(x) {
    let best = null;
    for (const a of this.axes) if (Math.abs(a.x - x) < 14 && (!best || Math.abs(a.x - x) < Math.abs(best.x - x))) best = a;
    return best;
  }

  toP(y) {
    return Math.max(0, Math.min(1, 1 - (y - M.top) / (this.surface.height - M.top - M.bottom)));
  }

  down(e) {
    const [x, y] = this.surface.point(e);
    const a = this.axisAt(x);
    if (!a) return;
    e.preventDefault();
    this.drag = { axis: a, start: this.toP(y), moved: false };
  }

  move(e) {
    if (!this.drag) return;
    const [, y] = this.surface.point(e);
    const p = this.toP(y);
    if (Math.abs(p - this.drag.start) > 0.01) this.drag.moved = true;
    if (this.drag.moved) {
      this.brushes.set(this.drag.axis.name, [Math.min(p, this.drag.start), Math.max(p, this.drag.start)]);
      // With many trials only the plot follows the pointer; the table and
      // the curves are filtered once, when the brush is let go.
      if (this.app.model.order.length > 2000) this.app.invalidate('parcoords');
      else this.app.filterChanged();
    }
  }

  up() {
    if (!this.drag) return;
    if (!this.drag.moved) this.brushes.delete(this.drag.axis.name);
    this.drag = null;
    this.app.filterChanged();
  }

  clear() {
    this.brushes.clear();
    this.app.filterChanged();
  }
}
