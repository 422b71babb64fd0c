// Progress over wall-clock time: the best objective so far (a step line) and
// how many trials have ended, by final status.
import { Surface, niceTicks } from './canvas.js';
import { HIGHLIGHT } from './colors.js';
import { formatValue } from './model.js';

const M = { left: 60, right: 16, top: 20, bottom: 28 };
const STATE_COLORS = { COMPLETED: '#2a9d8f', STOPPED: '#e9c46a', FAILED: '#b00020' };

export class Progress {
  constructor(bestBox, countBox, app) {
    this.app = app;
    this.best = new Surface(bestBox, () => app.invalidate('progress'));
    this.counts = new Surface(countBox, () => app.invalidate('progress'));
  }

  draw() {
    const model = this.app.model;
    const ends = model.order.filter((t) => t.endedAt && t.state !== 'RUNNING' && t.state !== 'QUEUED').sort((a, b) => a.endedAt - b.endedAt);
    const starts = model.order.map((t) => t.createdAt).filter((x) => x);
    const pts = model.bestSoFar;
    const t0 = Math.min(...starts, ...(pts.length ? [pts[0][0]] : []));
    const t1 = Math.max(Date.now() / 1000 > t0 && model.study.live ? Date.now() / 1000 : -Infinity, ...ends.map((t) => t.endedAt), ...(pts.length ? [pts[pts.length - 1][0]] : []));
    this.plot(this.best, 'best objective so far', t0, t1, (ctx, X, Yof) => {
      if (!pts.length) return null;
      const ys = pts.map((p) => p[1]);
      const Y = Yof(Math.min(...ys), Math.max(...ys));
      ctx.strokeStyle = HIGHLIGHT;
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach(([t, v], i) => {
        if (i > 0) ctx.lineTo(X(t), Y(pts[i - 1][1]));
        ctx.lineTo(X(t), Y(v));
      });
      ctx.lineTo(X(t1), Y(pts[pts.length - 1][1]));
      ctx.stroke();
      return Y;
    });
    this.plot(this.counts, 'trials ended', t0, t1, (ctx, X, Yof) => {
      if (!ends.length) return null;
      const Y = Yof(0, ends.length);
      for (const state of Object.keys(STATE_COLORS)) {
        let n = 0;
        ctx.strokeStyle = STATE_COLORS[state];
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(X(t0), Y(0));
        for (const t of ends) {
          if (t.state !== state) continue;
          ctx.lineTo(X(t.endedAt), Y(n));
          n++;
          ctx.lineTo(X(t.endedAt), Y(n));
        }
        ctx.lineTo(X(t1), Y(n));
        ctx.stroke();
      }
      ctx.font = '11px system-ui, sans-serif';
      let lx = M.left + 8;
      for (const [state, color] of Object.entries(STATE_COLORS)) {
        ctx.fillStyle = color;
        ctx.fillText(state.toLowerCase(), lx, M.top + 12);
        lx += 80;
      }
      return Y;
    });
  }

  plot(surface, title, t0, t1, body) {
    surface.fit();
    const { ctx, width, height } = surface;
    surface.clear();
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#222';
    ctx.textAlign = 'left';
    ctx.fillText(title, M.left, 12);
    if (!isFinite(t0) || !isFinite(t1)) return;
    const span = Math.max(1, t1 - t0);
    const X = (t) => M.left + ((t - t0) / span) * (width - M.left - M.right);
    let yTicks = null;
    const Yof = (lo, hi) => {
      if (lo === hi) {
        lo -= 0.5;
        hi += 0.5;
      }
      yTicks = niceTicks(lo, hi, 4);
      return (v) => M.top + (1 - (v - lo) / (hi - lo)) * (height - M.top - M.bottom);
    };
    const Y = body(ctx, X, Yof);
    ctx.fillStyle = '#555';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const s of niceTicks(0, span, 6)) ctx.fillText(`${formatValue(s)} s`, X(t0 + s), height - 8);
    if (Y && yTicks) {
      ctx.textAlign = 'right';
      for (const v of yTicks) ctx.fillText(formatValue(v), M.left - 4, Y(v) + 4);
    }
  }
}
