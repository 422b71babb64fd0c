// The best member's schedule: every step of its lineage, oldest first, with
// the hyperparameters PBT applied at that step and the iterations they were
// trained for; one small step plot per hyperparameter; and a JSON export a
// user can replay in a single run (docs/dashboard.md gives the format).
import { Surface } from './canvas.js';
import { HIGHLIGHT } from './colors.js';
import { formatValue } from './model.js';
import { describeChange, escapeHtml } from './tree.js';

export class Schedule {
  constructor(container, app) {
    this.app = app;
    this.root = container;
    this.head = document.createElement('div');
    this.head.className = 'schedule-head';
    this.list = document.createElement('ol');
    this.list.id = 'lineage';
    this.plots = document.createElement('div');
    this.plots.className = 'schedule-plots';
    container.append(this.head, this.list, this.plots);
    this.surfaces = new Map();
  }

  exportJson() {
    const schedule = this.app.model.schedule();
    const blob = new Blob([JSON.stringify(schedule, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `pbt_schedule_trial_${schedule.best_trial_id}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  draw() {
    const model = this.app.model;
    const best = model.best;
    if (!best || !model.isPbt) {
      this.head.textContent = model.isPbt ? 'No observations yet.' : 'Not a PBT study: no schedule.';
      this.list.replaceChildren();
      this.plots.replaceChildren();
      this.surfaces.clear();
      return;
    }
    const key = `${model.version}`;
    if (this.key === key) return;
    this.key = key;
    this.head.innerHTML =
      `<b>Best member:</b> trial ${best.trial.id}, objective ${escapeHtml(formatValue(best.objective))} at iteration ${escapeHtml(formatValue(best.iteration))}; ` +
      `its lineage spans ${model.lineage.length} generation${model.lineage.length === 1 ? '' : 's'}. `;
    const button = document.createElement('button');
    button.id = 'export-schedule';
    button.textContent = 'Export schedule (JSON)';
    button.addEventListener('click', () => this.exportJson());
    this.head.appendChild(button);

    this.list.replaceChildren(
      ...model.lineage.map((t) => {
        const li = document.createElement('li');
        li.dataset.trial = t.id;
        const params = model.paramNames
          .map((n) => {
            const changed = t.changed && n in t.changed;
            const text = `${escapeHtml(n)}=${escapeHtml(formatValue(t.params[n]))}`;
            return changed ? `<b title="${escapeHtml(describeChange(n, t.changed[n]))}">${text}</b>` : text;
          })
          .join(' ');
        const iters = t.iters.length ? `iterations ${Math.min(...t.iters)}\u2013${Math.max(...t.iters)}` : 'no iterations';
        li.innerHTML = `<span class="gen">gen ${t.generation ?? '?'}</span> <a href="#" data-select="${t.id}">trial ${t.id}</a> \u00b7 ${iters} \u00b7 objective ${escapeHtml(formatValue(t.last))}<br><span class="params">${params}</span>`;
        return li;
      }),
    );
    this.list.onclick = (e) => {
      const a = e.target.closest('[data-select]');
      if (!a) return;
      e.preventDefault();
      this.app.select(Number(a.dataset.select), true);
    };

    // One step plot per hyperparameter along the lineage.
    const names = model.paramNames;
    for (const n of [...this.surfaces.keys()]) if (!names.includes(n)) this.surfaces.delete(n);
    if (this.plots.childElementCount !== names.length) {
      this.plots.replaceChildren();
      this.surfaces.clear();
      for (const n of names) {
        const box = document.createElement('div');
        box.className = 'schedule-plot';
        const label = document.createElement('div');
        label.className = 'label';
        label.textContent = n;
        const area = document.createElement('div');
        area.className = 'area';
        box.append(label, area);
        this.plots.appendChild(box);
        this.surfaces.set(n, new Surface(area, () => { this.key = null; this.app.invalidate('tree'); }));
      }
    }
    for (const n of names) this.plot(n, this.surfaces.get(n));
  }

  plot(name, surface) {
    surface.fit();
    const { ctx, width, height } = surface;
    surface.clear();
    const steps = this.app.model.lineage;
    const pts = [];
    steps.forEach((t, i) => {
      const x0 = t.iters.length ? Math.min(...t.iters) - 1 : i;
      const x1 = t.iters.length ? Math.max(...t.iters) : i + 1;
      pts.push([x0, x1, t.params[name]]);
    });
    const values = pts.map((p) => p[2]);
    const numeric = values.every((v) => typeof v === 'number');
    const cats = [...new Set(values.map(String))];
    let lo = Math.min(...(numeric ? values : [0]));
    let hi = Math.max(...(numeric ? values : [cats.length - 1]));
    if (lo === hi) {
      lo -= Math.abs(lo) * 0.1 + 0.5;
      hi += Math.abs(hi) * 0.1 + 0.5;
    }
    const xmin = Math.min(...pts.map((p) => p[0]));
    const xmax = Math.max(...pts.map((p) => p[1]));
    const X = (x) => 6 + ((x - xmin) / (xmax - xmin || 1)) * (width - 12);
    const Y = (v) => {
      const u = numeric ? v : cats.indexOf(String(v));
      return 6 + (1 - (u - lo) / (hi - lo)) * (height - 12);
    };
    ctx.strokeStyle = HIGHLIGHT;
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach(([x0, x1, v]) => {
      ctx.lineTo(X(x0), Y(v));
      ctx.lineTo(X(x1), Y(v));
    });
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.fillText(formatValue(values[values.length - 1]), Math.min(X(pts[pts.length - 1][0]) + 2, width - 60), Math.max(12, Y(values[values.length - 1]) - 4));
  }
}
