// The study as the page knows it: trials, their observations (of the
// current attempt only), and what the views derive from them (last and best
// objective, PBT parent, the hyperparameters that changed, the best
// member's lineage). Fed by the server's incremental feed (`apply`), so a
// live study never reloads the whole table.

export const PBT_KEYS = new Set(['load_from', 'save_to', 'lineage', 'generation']);

export class Model {
  constructor(study) {
    this.study = study;
    this.lowerIsBetter = study.lower_is_better !== false;
    this.trials = new Map(); // id -> trial
    this.order = []; // trials by id
    this.cursor = '';
    this.observationCount = 0;
    this.version = 0; // bumped on every change; views redraw when it moves
    this.paramNames = (study.parameters || []).map((p) => p.name);
    this.paramSpec = new Map((study.parameters || []).map((p) => [p.name, p]));
    this.isPbt = false;
    this.best = null; // {trial, objective, iteration}
    this.bestSoFar = []; // [at, objective] when the global best improved
    this.lineage = []; // the best member's ancestry, oldest first (trials)
    this.lineageIds = new Set();
  }

  better(a, b) {
    if (a == null) return false;
    if (b == null) return true;
    return this.lowerIsBetter ? a < b : a > b;
  }

  trial(id) {
    let t = this.trials.get(id);
    if (!t) {
      // An observation may name a trial whose row the feed has not brought
      // yet (the two are read in separate snapshots): a placeholder, filled
      // in when the row arrives.
      t = {
        id, state: 'RUNNING', attempt: 0, reason: '', params: {}, createdAt: null,
        startedAt: null, endedAt: null, iters: [], objs: [], ats: [], last: null,
        lastIter: null, bestObj: null, bestIter: null, generation: null, parentId: null,
        changed: null, children: [], context: null,
      };
      this.trials.set(id, t);
      this.orderDirty = true;
    }
    return t;
  }

  // Applies one answer of /api/v1/trials or one server-sent event.
  apply(changes) {
    for (const row of changes.trials || []) {
      const t = this.trial(row.id);
      if (row.attempt > t.attempt) this.resetObservations(t);
      t.state = row.state;
      t.attempt = Math.max(t.attempt, row.attempt);
      t.reason = row.reason;
      t.createdAt = row.created_at;
      t.startedAt = row.started_at;
      t.endedAt = row.ended_at;
      t.params = row.parameters || {};
      const g = t.params.generation;
      if (typeof g === 'number') {
        t.generation = g;
        this.isPbt = true;
      }
      const from = t.params.load_from;
      t.parentId = typeof from === 'string' && from !== '' && /^\d+$/.test(from) ? Number(from) : null;
      t.changed = null; // recomputed in derive()
    }
    const o = changes.observations;
    if (o && o.trial_id) {
      const n = o.trial_id.length;
      for (let i = 0; i < n; i++) {
        const t = this.trial(o.trial_id[i]);
        const attempt = o.attempt[i];
        if (attempt < t.attempt) continue; // an interrupted attempt's leftovers
        if (attempt > t.attempt) {
          this.resetObservations(t);
          t.attempt = attempt;
        }
        const v = o.objective[i];
        t.iters.push(o.iteration[i]);
        t.objs.push(v);
        t.ats.push(o.at[i]);
        t.last = v;
        t.lastIter = o.iteration[i];
        if (o.context && o.context[i]) t.context = o.context[i];
        this.observationCount++;
        if (v != null && this.better(v, t.bestObj)) {
          t.bestObj = v;
          t.bestIter = o.iteration[i];
        }
        if (v != null && (!this.best || this.better(v, this.best.objective))) {
          this.best = { trial: t, objective: v, iteration: o.iteration[i] };
          this.bestSoFar.push([o.at[i], v]);
        }
      }
    }
    if (changes.cursor) this.cursor = changes.cursor;
    this.derive();
    this.version++;
  }

  resetObservations(t) {
    this.observationCount -= t.iters.length;
    t.iters = [];
    t.objs = [];
    t.ats = [];
    t.last = t.lastIter = t.bestObj = t.bestIter = null;
  }

  derive() {
    if (this.orderDirty || this.order.length !== this.trials.size) {
      this.order = [...this.trials.values()].sort((a, b) => a.id - b.id);
      this.orderDirty = false;
    }
    if (this.paramNames.length === 0 || this.inferredParams) {
      // A study started from C++ code stores no spec: take the names the
      // trials carry, less PBT's bookkeeping.
      const names = new Set();
      for (const t of this.order) for (const k of Object.keys(t.params)) if (!PBT_KEYS.has(k)) names.add(k);
      this.paramNames = [...names].sort();
      this.inferredParams = true;
    }
    for (const t of this.order) t.children = [];
    for (const t of this.order) {
      if (t.parentId == null) continue;
      const parent = this.trials.get(t.parentId);
      if (!parent) continue;
      parent.children.push(t);
      if (t.changed == null) {
        t.changed = {};
        for (const name of this.paramNames) {
          const a = parent.params[name];
          const b = t.params[name];
          if (a !== b) t.changed[name] = [a, b];
        }
      }
    }
    // The best member and its whole ancestry, oldest first.
    this.lineage = [];
    this.lineageIds = new Set();
    let t = this.best ? this.best.trial : null;
    while (t && !this.lineageIds.has(t.id)) {
      this.lineage.unshift(t);
      this.lineageIds.add(t.id);
      t = t.parentId != null ? this.trials.get(t.parentId) : null;
    }
  }

  counts() {
    const c = { QUEUED: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, STOPPED: 0 };
    for (const t of this.order) c[t.state] = (c[t.state] || 0) + 1;
    return c;
  }

  // The best member's schedule: each step of its lineage with the
  // hyperparameters PBT applied and the iterations they were used for.
  schedule() {
    const steps = this.lineage.map((t) => {
      const parameters = {};
      for (const name of this.paramNames) parameters[name] = t.params[name];
      return {
        generation: t.generation,
        trial_id: t.id,
        load_from: t.params.load_from ?? '',
        start_iteration: t.iters.length ? Math.min(...t.iters) : null,
        end_iteration: t.iters.length ? Math.max(...t.iters) : null,
        objective: t.last,
        parameters,
        changed: t.changed ? Object.keys(t.changed) : [],
      };
    });
    return {
      format: 'sherpa-pbt-schedule/1',
      study: this.study.output_dir || '',
      lower_is_better: this.lowerIsBetter,
      best_trial_id: this.best ? this.best.trial.id : null,
      best_objective: this.best ? this.best.objective : null,
      best_iteration: this.best ? this.best.iteration : null,
      steps,
    };
  }
}

// Kind and extent of one hyperparameter over the trials: numbers get a
// linear or log axis, anything else a categorical one.
export function axisFor(model, name) {
  const spec = model.paramSpec.get(name) || {};
  let numeric = true;
  let min = Infinity;
  let max = -Infinity;
  const cats = new Set();
  for (const t of model.order) {
    const v = t.params[name];
    if (v === undefined || v === null) continue;
    if (typeof v === 'number') {
      if (v < min) min = v;
      if (v > max) max = v;
    } else {
      numeric = false;
    }
    cats.add(v);
  }
  // Ordinal values sit at equal steps in their listed order, like choices.
  if (!numeric || spec.type === 'choice' || spec.type === 'ordinal') {
    const categories = Array.isArray(spec.range) ? [...spec.range] : [];
    const rest = [...cats].filter((c) => !categories.includes(c));
    rest.sort((x, y) => (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))));
    categories.push(...rest);
    return { name, kind: 'cat', categories };
  }
  if (Array.isArray(spec.range) && spec.type !== 'ordinal' && spec.range.length === 2) {
    min = Math.min(min, spec.range[0]);
    max = Math.max(max, spec.range[1]);
  }
  if (!isFinite(min)) {
    min = 0;
    max = 1;
  }
  const log = spec.scale === 'log' && min > 0;
  return { name, kind: log ? 'log' : 'lin', min, max };
}

// A value's place on an axis, 0 (bottom) to 1 (top); NaN if missing.
export function position(axis, v) {
  if (v === undefined || v === null) return NaN;
  if (axis.kind === 'cat') {
    const i = axis.categories.indexOf(v);
    return axis.categories.length <= 1 ? 0.5 : i / (axis.categories.length - 1);
  }
  if (typeof v !== 'number') return NaN;
  if (axis.max === axis.min) return 0.5;
  if (axis.kind === 'log') return (Math.log(v) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min));
  return (v - axis.min) / (axis.max - axis.min);
}

export function formatValue(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }
  return String(v);
}
