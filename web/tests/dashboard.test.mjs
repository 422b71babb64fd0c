// Browser tests of the dashboard (CTest label `browser`): Debian's Chromium,
// driven by playwright-core, against a real `sherpa run` of a small PBT study
// whose trials are slow enough to watch, then against `sherpa dashboard` and
// `sherpa report` of the finished study, and a 10,000-trial study for the
// load time. Screenshots go to $SHERPA_ARTIFACTS (build/<dir>/screenshots).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ARTIFACTS, FAKE_STUDY, SHERPA, launchBrowser, screenshot, startAndWaitForUrl, tempDir, waitForExit,
} from './lib.mjs';

const FIXTURE = fileURLToPath(new URL('./fixtures/pbt_trial.py', import.meta.url));
const VIEWPORT = { width: 1400, height: 900 };
const timings = {};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 10000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// The study as the API has it, independently of the page's own model.
async function apiStudy(base) {
  const r = await fetch(new URL('api/v1/trials?since=0', base));
  assert.equal(r.status, 200);
  const data = await r.json();
  const trials = new Map(data.trials.map((t) => [t.id, t]));
  const o = data.observations;
  let best = null;
  for (let i = 0; i < o.trial_id.length; i++) {
    const t = trials.get(o.trial_id[i]);
    if (!t || o.attempt[i] !== t.attempt || o.objective[i] == null) continue;
    if (!best || o.objective[i] > best.objective) best = { id: o.trial_id[i], objective: o.objective[i] };
  }
  const lineage = [];
  for (let t = best && trials.get(best.id); t; t = t.parameters.load_from ? trials.get(Number(t.parameters.load_from)) : null) {
    lineage.unshift(t.id);
  }
  return { trials, observations: o.trial_id.length, best, lineage };
}

const trialCount = (page) => page.$eval('#trial-count', (e) => Number(e.dataset.total));
const observationCount = (page) => page.$eval('#obs-count', (e) => Number(e.dataset.count));

describe('dashboard of a running PBT study', () => {
  let browser;
  let run;
  let url;
  let base;
  let page;
  const dir = tempDir('run');
  const out = join(dir, 'out');

  before(async () => {
    writeFileSync(join(dir, 'study.yaml'), [
      'name: browser test study',
      'parameters:',
      '  - {name: lr, type: continuous, range: [0.05, 0.5], scale: log}',
      '  - {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}',
      'algorithm: {name: PopulationBasedTraining, population_size: 6, num_generations: 4}',
      'lower_is_better: false',
      `command: python3 ${FIXTURE} 0.3 8`,
      'max_concurrent: 3',
      'seed: 7',
    ].join('\n'));
    run = await startAndWaitForUrl(['run', 'study.yaml', '--output-dir', 'out'], {
      cwd: dir,
      env: process.env.SHERPA_PYTHONPATH ? { SHERPA_PYTHONPATH: process.env.SHERPA_PYTHONPATH } : {},
      pattern: /dashboard: (http:\/\/\S+)/,
    });
    url = run.url;
    base = new URL('/', url);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (e) => console.log('page error:', e.message));
  });

  after(async () => {
    if (browser) await browser.close();
    if (run && run.proc.exitCode === null) {
      run.proc.kill('SIGINT');
      await waitForExit(run.proc, 20000).catch(() => run.proc.kill('SIGKILL'));
    }
  });

  test('shows the trials of the running study', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
    // The token has left the address bar; the page kept it for this tab.
    assert.equal(new URL(page.url()).searchParams.get('token'), null);
    // The page and the API agree on the number of trials (the study grows,
    // so compare until both have seen the same commit).
    await until('the page to show the API\'s trial count', async () => {
      const api = (await apiStudy(base)).trials.size;
      return api > 0 && (await trialCount(page)) === api;
    });
    assert.ok((await page.$$('.trow')).length > 0, 'the table has rows');
    await until('a Stop button for a running trial', async () => (await page.$$('button[data-stop]')).length > 0);
    await screenshot(page, 'live-trials');
  });

  test('a new observation arrives without a reload, within a second', async () => {
    await page.evaluate(() => (window.__noReload = true));
    const before = await observationCount(page);
    // Watch the API and the page side by side: the delay between the store
    // having an observation and the page showing it.
    const api0 = (await apiStudy(base)).observations;
    const stored = await until('a new observation in the store', async () => {
      const n = (await apiStudy(base)).observations;
      return n > api0 ? { n, at: Date.now() } : null;
    }, 20000, 50);
    const shown = await until('the page to show it', async () => ((await observationCount(page)) >= stored.n ? Date.now() : null), 5000, 20);
    timings.push_delay_ms = shown - stored.at;
    console.log(`new observation shown ${timings.push_delay_ms} ms after the API had it`);
    assert.ok(timings.push_delay_ms < 1000, `took ${timings.push_delay_ms} ms`);
    assert.ok((await observationCount(page)) > before);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
    assert.equal(await page.$eval('#live', (e) => e.dataset.state), 'live');
  });

  test('a page without the token can look but not stop', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const anonymous = await context.newPage();
    await anonymous.goto(base.href);
    await anonymous.waitForSelector('body[data-ready="1"]');
    assert.equal((await anonymous.$$('button[data-stop]')).length, 0);
    const running = [...(await apiStudy(base)).trials.values()].find((t) => t.state === 'RUNNING');
    if (running) {
      const r = await fetch(new URL(`api/v1/trials/${running.id}/stop`, base), { method: 'POST' });
      assert.equal(r.status, 401);
    }
    await context.close();
  });

  test('stops a trial from the page and shows it STOPPED', async () => {
    // A trial that has just started, so that it is still running when the
    // stop arrives.
    const id = await until('a freshly started running trial', async () => {
      const { trials } = await apiStudy(base);
      const running = [...trials.values()].filter((t) => t.state === 'RUNNING').sort((a, b) => b.started_at - a.started_at);
      return running.length && Date.now() / 1000 - running[0].started_at < 1.2 ? running[0].id : null;
    }, 30000, 50);
    await page.fill('#filter', `id:${id}`);
    page.once('dialog', (d) => d.accept());
    await page.locator(`.trow[data-trial="${id}"] button[data-stop]`).click();
    await page.waitForSelector(`.trow[data-trial="${id}"][data-state="STOPPED"]`, { timeout: 15000 });
    assert.equal((await apiStudy(base)).trials.get(id).state, 'STOPPED');
    await screenshot(page, 'live-stopped');
    await page.fill('#filter', '');
  });

  test('the family tree highlights the best member\'s whole lineage', async () => {
    // Wait for a third-generation member to report, so the lineage is long.
    await until('generation 3 to report', async () => {
      const { trials, lineage } = await apiStudy(base);
      return lineage.length >= 3 && [...trials.values()].some((t) => t.parameters.generation >= 3);
    }, 90000, 250);
    await page.click('nav button[data-tab="tree"]');
    const pageLineage = async () => page.evaluate(() => ({
      tree: window.__sherpa.app.tree.highlighted || [],
      list: [...document.querySelectorAll('#lineage li')].map((li) => Number(li.dataset.trial)),
    }));
    await until('the page\'s lineage to match the API\'s', async () => {
      const { lineage } = await apiStudy(base);
      const shown = await pageLineage();
      return JSON.stringify(shown.tree) === JSON.stringify(lineage) && JSON.stringify(shown.list) === JSON.stringify(lineage);
    }, 10000, 200);
    const shown = await pageLineage();
    assert.ok(shown.tree.length >= 3, `lineage ${shown.tree}`);
    await screenshot(page, 'live-family-tree');

    // The schedule exports as JSON with one step per lineage member.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-schedule')]);
    const schedule = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(schedule.format, 'sherpa-pbt-schedule/1');
    assert.deepEqual(schedule.steps.map((s) => s.trial_id), shown.tree);
    assert.ok(schedule.steps.every((s) => typeof s.parameters.lr === 'number'));
    await page.click('nav button[data-tab="progress"]');
    await sleep(300);
    await screenshot(page, 'live-progress');
  });

  test('sherpa dashboard and sherpa report show the finished study', async () => {
    const code = await waitForExit(run.proc, 180000);
    assert.equal(code, 0, run.output());
    const served = await startAndWaitForUrl(['dashboard', out], { pattern: /dashboard: (http:\/\/\S+)/ });
    try {
      const viewer = await browser.newPage({ viewport: VIEWPORT });
      await viewer.goto(served.url);
      await viewer.waitForSelector('body[data-ready="1"]');
      const api = await apiStudy(new URL('/', served.url));
      assert.equal(api.trials.size, 24);
      assert.equal(await trialCount(viewer), api.trials.size);
      const states = [...api.trials.values()].map((t) => t.state);
      assert.ok(states.every((s) => ['COMPLETED', 'STOPPED', 'FAILED'].includes(s)), states.join());
      assert.ok(states.includes('STOPPED'));
      assert.equal(await viewer.$eval('.badge[data-state="STOPPED"]', (e) => Number(e.dataset.count)), states.filter((s) => s === 'STOPPED').length);
      assert.equal((await viewer.$$('button[data-stop]')).length, 0, 'nothing can be stopped here');
      await screenshot(viewer, 'finished-trials');
      await viewer.click('nav button[data-tab="tree"]');
      await until('the lineage', async () => JSON.stringify(await viewer.evaluate(() => window.__sherpa.app.tree.highlighted)) === JSON.stringify(api.lineage));
      await screenshot(viewer, 'finished-family-tree');
      await viewer.close();

      // The report: one file, no network, same study.
      const report = join(dir, 'report.html');
      execFileSync(SHERPA, ['report', out, '-o', report]);
      const offline = await browser.newPage({ viewport: VIEWPORT });
      const requests = [];
      offline.on('request', (r) => requests.push(r.url()));
      await offline.goto(`file://${report}`);
      await offline.waitForSelector('body[data-ready="1"]');
      assert.equal(await trialCount(offline), api.trials.size);
      assert.equal(await offline.$eval('#live', (e) => e.dataset.state), 'report');
      assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:')), []);
      await offline.click('nav button[data-tab="tree"]');
      await sleep(300);
      assert.deepEqual(await offline.evaluate(() => window.__sherpa.app.tree.highlighted), api.lineage);
      await screenshot(offline, 'report-family-tree');
      await offline.close();
    } finally {
      served.proc.kill('SIGINT');
      await waitForExit(served.proc, 10000);
    }
  });
});

describe('a 10,000-trial study', () => {
  test('loads and stays responsive', async () => {
    const dir = tempDir('big');
    const made = execFileSync(FAKE_STUDY, [dir, '--population', '50', '--generations', '200', '--iterations', '10']).toString();
    console.log(made.trim());
    const served = await startAndWaitForUrl(['dashboard', dir], { pattern: /dashboard: (http:\/\/\S+)/ });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: VIEWPORT });
      const t0 = Date.now();
      await page.goto(served.url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
      timings.load_10k_ms = Date.now() - t0;
      assert.equal(await trialCount(page), 10000);
      assert.equal(await observationCount(page), 100000);
      Object.assign(timings, await page.evaluate(() => {
        const t = window.__sherpa.timings;
        return { page_data_loaded_ms: Math.round(t.dataLoaded), page_first_render_ms: Math.round(t.firstRender) };
      }));
      await screenshot(page, 'big-trials');

      // Filtering the table: one keystroke to an updated table.
      const f0 = Date.now();
      await page.fill('#filter', 'gen:100');
      await page.waitForSelector('#trial-count[data-shown="50"]');
      timings.filter_10k_ms = Date.now() - f0;

      // Brushing an axis of the parallel coordinates.
      await page.fill('#filter', '');
      await page.waitForSelector('#trial-count[data-shown="10000"]');
      const box = await (await page.$('#parcoords canvas')).boundingBox();
      const b0 = Date.now();
      await page.mouse.move(box.x + 40, box.y + 60);
      await page.mouse.down();
      await page.mouse.move(box.x + 40, box.y + 140, { steps: 4 });
      await page.mouse.up();
      await until('the brush to filter the table', async () => Number(await page.$eval('#trial-count', (e) => e.dataset.shown)) < 10000, 10000, 10);
      timings.brush_10k_ms = Date.now() - b0;
      await screenshot(page, 'big-brushed');

      const s0 = Date.now();
      await page.click('nav button[data-tab="tree"]');
      await page.waitForFunction(() => (window.__sherpa.app.tree.highlighted || []).length === 200);
      timings.tree_10k_ms = Date.now() - s0;
      await screenshot(page, 'big-family-tree');
      console.log(`10,000 trials: ${JSON.stringify(timings)}`);
      writeFileSync(join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2));
      // Generous bounds: CI machines are shared; the figures are in the log.
      assert.ok(timings.load_10k_ms < 30000, `page load ${timings.load_10k_ms} ms`);
      assert.ok(timings.filter_10k_ms < 5000, `filter ${timings.filter_10k_ms} ms`);
    } finally {
      await browser.close();
      served.proc.kill('SIGINT');
      await waitForExit(served.proc, 10000);
    }
  });
});
