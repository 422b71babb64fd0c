// The sherpa dashboard (docs/dashboard.md). Served by the runner while a
// study runs and by `sherpa dashboard` afterwards, or inlined by
// `sherpa report` with the data in <script id="sherpa-data">.
import './style.css';
import { Curves } from './curves.js';
import { Model, formatValue } from './model.js';
import { ParCoords } from './parcoords.js';
import { Progress } from './progress.js';
import { Schedule } from './schedule.js';
import { Table, compileFilter } from './table.js';
import { Tree, escapeHtml } from './tree.js';

const T0 = performance.now();
const TAB_VIEWS = { trials: ['parcoords', 'table', 'curves'], tree: ['tree', 'schedule'], progress: ['progress'] };
const HEAVY = new Set(['parcoords', 'curves', 'tree', 'progress']);

class App {
  constructor(root, study, mode, token) {
    this.model = new Model(study);
    this.mode = mode; // 'server' or 'report'
    this.token = token;
    this.canStop = mode === 'server' && !!study.can_stop;
    this.selected = null;
    this.filter = () => true;
    this.dirty = new Set();
    this.lastHeavy = 0;
    this.frameQueued = false;
    this.tab = 'trials';
    this.timings = { start: T0 };
    root.innerHTML = LAYOUT;
    this.$ = (sel) => root.querySelector(sel);
    this.parcoords = new ParCoords(this.$('#parcoords'), this);
    this.table = new Table(this.$('#table'), this);
    this.curves = new Curves(this.$('#curves'), this);
    this.tree = new Tree(this.$('#tree'), this);
    this.schedule = new Schedule(this.$('#schedule'), this);
    this.progress = new Progress(this.$('#best-chart'), this.$('#count-chart'), this);
    this.views = { parcoords: this.parcoords, table: this.table, curves: this.curves, tree: this.tree, schedule: this.schedule, progress: this.progress };

    const title = study.name || study.output_dir || 'study';
    this.$('#study-name').textContent = title;
    document.title = `sherpa: ${title}`;
    this.$('#study-meta').textContent = [
      study.algorithm || 'unknown algorithm',
      this.model.lowerIsBetter ? 'lower is better' : 'higher is better',
      study.output_dir,
    ].filter(Boolean).join(' \u00b7 ');
    if (mode === 'report') this.setLive('report', 'report (static)');
    else if (!study.can_stop && study.live) this.$('#token-note').textContent = 'read-only: open the URL the runner printed (with ?token=) to stop trials';

    root.querySelectorAll('nav button[data-tab]').forEach((b) => b.addEventListener('click', () => this.show(b.dataset.tab)));
    this.$('#filter').addEventListener('input', (e) => {
      this.filter = compileFilter(e.target.value, this.model);
      this.filterChanged();
    });
    this.$('#clear-brushes').addEventListener('click', () => this.parcoords.clear());
    this.$('#fit-tree').addEventListener('click', () => this.tree.fit());
    this.$('#show-best').addEventListener('click', () => {
      if (this.model.best) this.select(this.model.best.trial.id, true);
    });
  }

  visible(t) {
    return this.filter(t) && this.parcoords.passes(t);
  }

  show(tab) {
    this.tab = tab;
    for (const [name] of Object.entries(TAB_VIEWS)) {
      this.$(`#tab-${name}`).hidden = name !== tab;
      this.$(`nav button[data-tab="${name}"]`).classList.toggle('active', name === tab);
    }
    document.body.dataset.tab = tab;
    for (const v of TAB_VIEWS[tab]) this.dirty.add(v);
    this.lastHeavy = 0;
    this.queue();
  }

  invalidate(name) {
    this.dirty.add(name);
    this.queue();
  }

  filterChanged() {
    for (const v of ['parcoords', 'table', 'curves']) this.dirty.add(v);
    this.lastHeavy = 0; // the user is waiting: draw now
    this.queue();
  }

  select(id, reveal) {
    this.selected = this.selected === id && !reveal ? null : id;
    for (const v of Object.keys(this.views)) this.dirty.add(v);
    this.lastHeavy = 0;
    if (reveal) this.table.reveal(id);
    this.queue();
  }

  queue() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => this.frame());
  }

  // Draws the dirty views of the tab in view. With a large study, data
  // arriving several times a second redraws the canvases at most once a
  // second, so the page stays responsive; the user's own actions draw at
  // once.
  frame() {
    this.frameQueued = false;
    const now = performance.now();
    const large = this.model.order.length > 2000;
    let heavyDeferred = false;
    for (const name of TAB_VIEWS[this.tab]) {
      if (!this.dirty.has(name)) continue;
      if (large && HEAVY.has(name) && now - this.lastHeavy < 1000) {
        heavyDeferred = true;
        continue;
      }
      this.dirty.delete(name);
      const view = this.views[name];
      if (name === 'table') {
        view.update();
        this.updateTrialCount();
      }
      else view.draw();
    }
    if (!heavyDeferred && TAB_VIEWS[this.tab].some((n) => HEAVY.has(n))) this.lastHeavy = now;
    if (heavyDeferred) setTimeout(() => this.queue(), 1000 - (now - this.lastHeavy));
    if (!this.timings.firstRender && this.model.version > 0) {
      this.timings.firstRender = performance.now();
      document.body.dataset.ready = '1';
    }
  }

  apply(changes) {
    this.model.apply(changes);
    this.updateHeader();
    for (const v of Object.keys(this.views)) this.dirty.add(v);
    this.queue();
  }

  updateHeader() {
    const m = this.model;
    const counts = m.counts();
    const box = this.$('#counts');
    box.replaceChildren(
      ...Object.entries(counts).map(([state, n]) => {
        const s = document.createElement('span');
        s.className = `badge s-${state}`;
        s.dataset.state = state;
        s.dataset.count = n;
        s.textContent = `${state.toLowerCase()} ${n}`;
        return s;
      }),
    );
    const best = m.best;
    this.$('#best').innerHTML = best
      ? `best <b>${escapeHtml(formatValue(best.objective))}</b> (trial ${best.trial.id}, iteration ${escapeHtml(formatValue(best.iteration))})`
      : 'no result yet';
    this.updateTrialCount();
    const oc = this.$('#obs-count');
    oc.dataset.count = m.observationCount;
    oc.textContent = `${m.observationCount} observations`;
  }

  updateTrialCount() {
    const total = this.model.order.length;
    const shown = this.table.cols ? this.table.rows.length : total;
    const tc = this.$('#trial-count');
    tc.dataset.total = total;
    tc.dataset.shown = shown;
    tc.textContent = `${shown} of ${total} trials`;
  }

  setLive(state, text) {
    const el = this.$('#live');
    el.dataset.state = state;
    el.textContent = text;
  }

  toast(text, error) {
    const el = this.$('#toast');
    el.textContent = text;
    el.className = error ? 'show error' : 'show';
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (el.className = ''), 4000);
  }

  async stopTrial(id, button) {
    if (!this.canStop) return;
    if (!window.confirm(`Stop trial ${id}? It is asked to save and exit, and is killed if it does not.`)) return;
    button.disabled = true;
    try {
      const r = await fetch(`api/v1/trials/${id}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${this.token}` } });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        throw new Error(body.error ? body.error.message : `HTTP ${r.status}`);
      }
      const t = this.model.trials.get(id);
      if (t) t.stopping = true;
      this.toast(`trial ${id}: stop requested`);
      this.invalidate('table');
    } catch (e) {
      button.disabled = false;
      this.toast(`trial ${id} could not be stopped: ${e.message}`, true);
    }
  }
}

// Follows the study: server-sent events when the server allows another
// stream, else polling once a second. Either way only what changed after the
// cursor travels.
function follow(app, token) {
  const auth = token ? `&token=${encodeURIComponent(token)}` : '';
  let polling = null;
  const poll = () => {
    if (polling) return;
    app.setLive('polling', 'live (polling)');
    polling = setInterval(async () => {
      try {
        const r = await fetch(`api/v1/trials?since=${encodeURIComponent(app.model.cursor)}${auth}`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const changes = await r.json();
        if (changes.trials.length || changes.observations.trial_id.length) app.apply(changes);
        app.setLive('polling', 'live (polling)');
      } catch {
        app.setLive('offline', 'disconnected: the study\u2019s server is gone');
      }
    }, 1000);
  };
  if (typeof EventSource === 'undefined') return poll();
  const es = new EventSource(`api/v1/events?since=${encodeURIComponent(app.model.cursor)}${auth}`);
  es.addEventListener('open', () => app.setLive('live', 'live'));
  es.addEventListener('changes', (e) => {
    app.apply(JSON.parse(e.data));
    app.setLive('live', 'live');
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (e.g. too many open pages): poll instead.
      poll();
    } else {
      app.setLive('offline', 'disconnected: retrying (the runner may have finished)');
    }
  });
  app.eventSource = es;
}

async function main() {
  const root = document.getElementById('app');
  const inline = document.getElementById('sherpa-data');
  if (inline) {
    const data = JSON.parse(inline.textContent);
    const app = new App(root, data.study, 'report', '');
    window.__sherpa = { app, model: app.model, timings: app.timings };
    app.timings.dataLoaded = performance.now();
    app.apply(data.changes);
    app.show('trials');
    return;
  }
  // The token comes once in the URL the runner printed; it is kept for this
  // tab only and taken out of the address bar (and so out of the history).
  const url = new URL(window.location.href);
  let token = url.searchParams.get('token');
  if (token) {
    sessionStorage.setItem('sherpa-token', token);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  } else {
    token = sessionStorage.getItem('sherpa-token') || '';
  }
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  try {
    const study = await (await fetch('api/v1/dashboard', { headers })).json();
    if (study.error) throw new Error(study.error.message);
    const app = new App(root, study, 'server', token);
    window.__sherpa = { app, model: app.model, timings: app.timings };
    const r = await fetch('api/v1/trials?since=0', { headers });
    const changes = await r.json();
    if (changes.error) throw new Error(changes.error.message);
    app.timings.dataLoaded = performance.now();
    app.apply(changes);
    app.show('trials');
    follow(app, token);
  } catch (e) {
    root.innerHTML = `<p class="fatal">The dashboard could not load the study: ${escapeHtml(e.message)}</p>`;
  }
}

const LAYOUT = `
<header>
  <div class="title"><h1>sherpa</h1><span id="study-name"></span><span id="study-meta" class="meta"></span></div>
  <div id="counts" class="counts"></div>
  <div id="best" class="best"></div>
  <button id="show-best" title="select the best trial">show best</button>
  <div id="live" data-state="connecting">connecting\u2026</div>
</header>
<nav><button data-tab="trials" class="active">Trials</button><button data-tab="tree">Family tree &amp; schedule</button><button data-tab="progress">Progress</button><span id="token-note" class="note"></span></nav>
<main>
  <section id="tab-trials">
    <div class="panel pc"><div class="bar"><b>Parallel coordinates</b> <span class="hint">drag along an axis to brush; click an axis to clear it</span> <button id="clear-brushes">clear brushes</button></div><div id="parcoords" class="area"></div></div>
    <div class="split">
      <div class="panel"><div class="bar"><input id="filter" type="search" placeholder="filter: lr>0.01 state:running gen:3" spellcheck="false"> <span id="trial-count"></span></div><div id="table"></div></div>
      <div class="panel"><div class="bar"><b>Objective vs iteration</b> <span id="obs-count"></span></div><div id="curves" class="area"></div></div>
    </div>
  </section>
  <section id="tab-tree" hidden>
    <div class="panel tree"><div class="bar"><b>PBT family tree</b> <span class="hint">each member is linked to the parent it loaded from; colour: last objective (yellow = best); red: the best member\u2019s lineage; wheel to zoom, drag to pan</span> <button id="fit-tree">fit</button></div><div id="tree" class="area"></div></div>
    <div class="panel"><div class="bar"><b>Best member\u2019s schedule</b> <span class="hint">the hyperparameters along its lineage, as PBT applied them</span></div><div id="schedule"></div></div>
  </section>
  <section id="tab-progress" hidden>
    <div class="panel"><div id="best-chart" class="area"></div></div>
    <div class="panel"><div id="count-chart" class="area"></div></div>
  </section>
</main>
<div id="toast"></div>`;

main();
