// Objective versus iteration, one line per trial (of those the filters
// keep), coloured by the trial's last objective. The trial selected in the
// table (or clicked here) is drawn on top in red; in PBT its ancestors are
// drawn too, so the curve reads as one continuous training run.
import { BUCKETS, BUCKET_RGB, HIGHLIGHT, bucketOf, objectiveScale, rgba } from './colors.js';
import { Surface, niceTicks } from './canvas.js';
import { formatValue } from './model.js';

const M = { left: 56, right: 12, top: 12, bottom: 28 };

export class Curves {
  constructor(container, app) {
    this.app = app;
    this.surface = new Surface(container, () => app.invalidate('curves'));
    this.surface.canvas.addEventListener('click', (e) => this.click(e));
  }

  extent() {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const t of this.app.model.order) {
      if (!this.app.visible(t)) continue;
      for (let i = 0; i < t.iters.length; i++) {
        const v = t.objs[i];
        if (v == null) continue;
        x0 = Math.min(x0, t.iters[i]);
        x1 = Math.max(x1, t.iters[i]);
        y0 = Math.min(y0, v);
        y1 = Math.max(y1, v);
      }
    }
    if (!isFinite(x0)) return null;
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) {
      y0 -= 0.5;
      y1 += 0.5;
    }
    const pad = (y1 - y0) * 0.04;
    return { x0, x1, y0: y0 - pad, y1: y1 + pad };
  }

  draw() {
    this.surface.fit();
    const { ctx, width, height } = this.surface;
    this.surface.clear();
    const model = this.app.model;
    const e = this.extent();
    this.e = e;
    ctx.font = '11px system-ui, sans-serif';
    if (!e) {
      ctx.fillStyle = '#777';
      ctx.fillText('no observations yet', M.left + 10, M.top + 20);
      return;
    }
    const X = (v) => M.left + ((v - e.x0) / (e.x1 - e.x0)) * (width - M.left - M.right);
    const Y = (v) => M.top + (1 - (v - e.y0) / (e.y1 - e.y0)) * (height - M.top - M.bottom);
    this.X = X;
    this.Y = Y;
    // Grid and labels.
    ctx.strokeStyle = '#e5e5e5';
    ctx.fillStyle = '#555';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    for (const v of niceTicks(e.y0, e.y1, 5)) {
      ctx.beginPath();
      ctx.moveTo(M.left, Y(v));
      ctx.lineTo(width - M.right, Y(v));
      ctx.stroke();
      ctx.fillText(formatValue(v), M.left - 4, Y(v) + 4);
    }
    ctx.textAlign = 'center';
    for (const v of niceTicks(e.x0, e.x1, 8)) ctx.fillText(formatValue(v), X(v), height - M.bottom + 14);
    ctx.fillText('iteration', width / 2, height - 2);

    const scale = objectiveScale(model);
    const buckets = Array.from({ length: BUCKETS + 1 }, () => new Path2D());
    for (const t of model.order) {
      if (!this.app.visible(t) || t.iters.length === 0) continue;
      const path = buckets[bucketOf(scale(t.last)) + 1];
      if (t.iters.length === 1 && t.objs[0] != null) {
        // One observation is no line: a small ring, so the trial is seen.
        path.moveTo(X(t.iters[0]) + 2, Y(t.objs[0]));
        path.arc(X(t.iters[0]), Y(t.objs[0]), 2, 0, Math.PI * 2);
        continue;
      }
      let pen = false;
      for (let i = 0; i < t.iters.length; i++) {
        const v = t.objs[i];
        if (v == null) {
          pen = false;
          continue;
        }
        if (pen) path.lineTo(X(t.iters[i]), Y(v));
        else path.moveTo(X(t.iters[i]), Y(v));
        pen = true;
      }
    }
    const many = model.order.length > 2000;
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(120,120,120,0.4)';
    ctx.stroke(buckets[0]);
    for (let b = 0; b < BUCKETS; b++) {
      ctx.strokeStyle = rgba(BUCKET_RGB[b], many ? 0.25 : 0.75);
      ctx.stroke(buckets[b + 1]);
    }
    const sel = this.app.selected != null ? model.trials.get(this.app.selected) : null;
    if (sel) {
      // The selected trial and, for PBT, the ancestors it continues.
      const chain = [];
      for (let t = sel; t && chain.length < 10000; t = t.parentId != null ? model.trials.get(t.parentId) : null) chain.push(t);
      chain.forEach((t, k) => {
        ctx.beginPath();
        for (let i = 0; i < t.iters.length; i++) if (t.objs[i] != null) ctx.lineTo(X(t.iters[i]), Y(t.objs[i]));
        ctx.strokeStyle = k === 0 ? HIGHLIGHT : 'rgba(228,87,46,0.55)';
        ctx.lineWidth = k === 0 ? 3 : 2;
        ctx.stroke();
      });
    }
  }

  click(event) {
    if (!this.e) return;
    const [x, y] = this.surface.point(event);
    let best = null;
    let bestD = 64; // within 8 px
    for (const t of this.app.model.order) {
      if (!this.app.visible(t)) continue;
      for (let i = 0; i < t.iters.length; i++) {
        if (t.objs[i] == null) continue;
        const dx = this.X(t.iters[i]) - x;
        const dy = this.Y(t.objs[i]) - y;
        const d = dx * dx + dy * dy;
        if (d < bestD) {
          bestD = d;
          best = t;
        }
      }
    }
    if (best) this.app.select(best.id, true);
  }
}
