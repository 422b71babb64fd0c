"""PBT against random search on Fashion-MNIST, and the toy problem, with the
real runner (`sherpa run`).

Runs SHERPA's benchmark of PBT against random search at equal epoch budget
over several seeds, with the trial programs of examples/fashion_mnist, and
the PBT paper's toy problem through the runner next to its in-process run
(examples/toy_pbt). Writes into --out:

    quality.png (or .svg)  best test accuracy against epochs spent (mean and
                           min-max over seeds), and the toy problem's best Q
                           per generation, in-process against the runner
    quality.md             the tables: final best accuracy per seed and mean,
                           best so far per generation, the toy comparison
    curves.csv             every curve point, one row per method/seed/epoch
    <study>/               each study's output folder (results.csv, study.db)

Scales (README.md, "Quality benchmark"):

    /usr/bin/python3 bench/quality/quality.py            # ~30 min, 2 cores
    /usr/bin/python3 bench/quality/quality.py --full     # SHERPA's scale
    /usr/bin/python3 bench/quality/quality.py --smoke    # CI, ~1 min

Equal budget: PBT trains P members for G generations of E epochs; random
search trains P models for G*E epochs each. Both report after every epoch
with iteration = epochs the model has been trained (PBT's continue across
generations), so after t epochs per model both have spent P*t epochs and
"best so far at t" is the best objective of any row with iteration <= t.

Run with Debian's /usr/bin/python3: the Python trial needs its PyTorch, the
specs are read with its yaml module, and the picture uses its matplotlib
(an SVG is written by hand without it).
"""

import argparse
import csv
import glob
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FMNIST = os.path.join(ROOT, 'examples', 'fashion_mnist')

SCALES = {
    # A few hundred images and two generations: does everything work?
    'smoke': dict(population=4, generations=2, epochs=2, train_subset=300,
                  test_subset=1000, seeds=[1], programs=['cpp', 'python'],
                  toy_population=10, toy_generations=10, toy_seeds=[1]),
    # About 30 minutes on 2 cores (README.md).
    'default': dict(population=10, generations=10, epochs=2,
                    train_subset=10000, test_subset=0, seeds=[1, 2, 3],
                    programs=['cpp'], toy_population=10, toy_generations=40,
                    toy_seeds=[1, 2, 3]),
    # SHERPA's benchmark: 100 models x 26 epochs on all the data, 5 runs.
    'full': dict(population=100, generations=26, epochs=1, train_subset=0,
                 test_subset=0, seeds=[1, 2, 3, 4, 5], programs=['cpp'],
                 toy_population=10, toy_generations=40,
                 toy_seeds=[1, 2, 3, 4, 5]),
}

PROGRAM_NAMES = {'cpp': 'C++ (libtorch)', 'python': 'Python (PyTorch)'}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument('--smoke', action='store_const', dest='scale',
                       const='smoke', help='the CI version (checks itself)')
    scale.add_argument('--full', action='store_const', dest='scale',
                       const='full', help="SHERPA's scale (days on 2 cores)")
    parser.set_defaults(scale='default')
    parser.add_argument('--out', help='output folder (default: '
                        'build/quality-<scale> in the source tree)')
    parser.add_argument('--build-dir', help='the CMake build folder to take '
                        'the programs from (default: the newest under build/)')
    parser.add_argument('--sherpa', help='the sherpa command-line program')
    parser.add_argument('--fmnist-trial', help='the built fmnist_trial')
    parser.add_argument('--toy-trial', help='the built toy_trial')
    parser.add_argument('--toy-pbt', help='the built toy_pbt example')
    parser.add_argument('--python', default='/usr/bin/python3',
                        help="interpreter for trial.py (Debian's, for torch)")
    parser.add_argument('--programs', help="trial programs, e.g. cpp,python")
    parser.add_argument('--seeds', help='study seeds, e.g. 1,2,3')
    parser.add_argument('--population', type=int)
    parser.add_argument('--generations', type=int)
    parser.add_argument('--epochs', type=int,
                        help='epochs per PBT generation')
    parser.add_argument('--train-subset', type=int,
                        help='first N training images (0: all 60000)')
    parser.add_argument('--test-subset', type=int,
                        help='first N test images (0: all 10000)')
    parser.add_argument('--exploit', choices=['top_third', 'truncation'],
                        help="PBT's exploit rule (default: pbt.yaml's, "
                        "SHERPA's top third)")
    parser.add_argument('--jobs', type=int, default=2,
                        help='studies run at once (default 2)')
    parser.add_argument('--max-concurrent', type=int, default=1,
                        help='trials at once per study (default 1: with '
                        '--jobs 2, two trials at once in all)')
    parser.add_argument('--no-toy', action='store_true',
                        help='skip the toy problem')
    parser.add_argument('--no-fmnist', action='store_true',
                        help='run the toy problem only')
    parser.add_argument('--reuse', action='store_true',
                        help='keep studies --out already holds complete '
                        '(e.g. to redraw, or to go on after an interruption)')
    parser.add_argument('--svg', action='store_true',
                        help='draw an SVG by hand even if matplotlib is there')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 unless PBT ends above random search '
                        '(mean over seeds)')
    args = parser.parse_args()
    config = dict(SCALES[args.scale])
    for key in ('population', 'generations', 'epochs', 'train_subset',
                'test_subset'):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.seeds:
        config['seeds'] = [int(s) for s in args.seeds.split(',')]
        config['toy_seeds'] = config['seeds']
    if args.programs:
        config['programs'] = args.programs.split(',')
    if not args.out:
        args.out = os.path.join(ROOT, 'build', 'quality-' + args.scale)
    args.out = os.path.abspath(args.out)
    return args, config


# ------------------------------------------------------------ programs

def find_build_dir():
    """The most recently built folder under build/ with the sherpa CLI."""
    candidates = glob.glob(os.path.join(ROOT, 'build', '*', 'src', 'cli',
                                        'sherpa'))
    if not candidates:
        return None
    newest = max(candidates, key=os.path.getmtime)
    return os.path.dirname(os.path.dirname(os.path.dirname(newest)))


def resolve_programs(args, config):
    build = args.build_dir or find_build_dir()

    def pick(given, *relative):
        if given:
            return os.path.abspath(given)
        return os.path.join(build, *relative) if build else None

    programs = {
        'sherpa': pick(args.sherpa, 'src', 'cli', 'sherpa'),
        'fmnist_trial': pick(args.fmnist_trial, 'examples', 'fashion_mnist',
                             'fmnist_trial'),
        'toy_trial': pick(args.toy_trial, 'bench', 'quality', 'toy_trial'),
        'toy_pbt': pick(args.toy_pbt, 'examples', 'toy_pbt'),
    }
    needed = ['sherpa']
    if not args.no_fmnist and 'cpp' in config['programs']:
        needed.append('fmnist_trial')
    if not args.no_toy:
        needed += ['toy_trial', 'toy_pbt']
    for name in needed:
        path = programs[name]
        if not path or not os.access(path, os.X_OK):
            sys.exit('quality.py: {} not found ({}); build the project '
                     '(cmake --build <build>) and pass --build-dir or '
                     '--{}'.format(name, path, name.replace('_', '-')))
    return programs


# ------------------------------------------------------------ studies

def load_spec(path):
    import yaml  # Debian's python3-yaml; only needed here
    with open(path) as f:
        return yaml.safe_load(f)


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def trial_command(program, args, programs, config, epochs, seed):
    flags = '--epochs {} --train-subset {} --test-subset {} --seed {}'.format(
        epochs, config['train_subset'], config['test_subset'], 1000 * seed)
    if program == 'cpp':
        exe = shell_quote(programs['fmnist_trial'])
    else:
        exe = '{} {}'.format(shell_quote(args.python),
                             shell_quote(os.path.join(FMNIST, 'trial.py')))
    # One OpenBLAS thread per trial: two trials share two cores.
    return 'OPENBLAS_NUM_THREADS=1 {} {}'.format(exe, flags)


class Study(object):
    """One `sherpa run` in a folder of its own under --out."""

    def __init__(self, name, spec, seed, out, sherpa, max_concurrent,
                 expected_trials):
        self.name, self.seed = name, seed
        self.expected_trials = expected_trials
        self.dir = os.path.join(out, name)
        self.spec_path = self.dir + '.json'
        self.log_path = self.dir + '.log'
        self.args = [sherpa, 'run', self.spec_path, '--output-dir', self.dir,
                     '--seed', str(seed), '--max-concurrent',
                     str(max_concurrent), '--quiet']
        self.spec = spec
        self.process = None
        self.seconds = None

    def complete(self):
        """True if the folder holds this study, run to its end."""
        try:
            with open(self.spec_path) as f:
                same = json.load(f) == self.spec
            with open(os.path.join(self.dir, 'results.csv'), newline='') as f:
                done = sum(1 for r in csv.DictReader(f)
                           if r['Status'] == 'COMPLETED')
        except (OSError, ValueError):
            return False
        return same and done >= self.expected_trials

    def start(self):
        # Only ever a folder this script made (it holds our study.db).
        if os.path.exists(os.path.join(self.dir, 'study.db')):
            shutil.rmtree(self.dir)
        with open(self.spec_path, 'w') as f:
            json.dump(self.spec, f, indent=1)
        self.log = open(self.log_path, 'w')
        self.started = time.monotonic()
        self.process = subprocess.Popen(self.args, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def poll(self):
        if self.process.poll() is None:
            return False
        self.seconds = time.monotonic() - self.started
        self.log.close()
        if self.process.returncode != 0:
            with open(self.log_path) as f:
                tail = f.read()[-3000:]
            sys.exit('quality.py: study {} failed (exit {}); log {}:\n{}'
                     .format(self.name, self.process.returncode,
                             self.log_path, tail))
        return True

    def rows(self):
        """The INTERMEDIATE rows of results.csv: one per report."""
        with open(os.path.join(self.dir, 'results.csv'), newline='') as f:
            rows = [r for r in csv.DictReader(f)
                    if r['Status'] == 'INTERMEDIATE']
        for r in rows:
            r['Trial-ID'] = int(r['Trial-ID'])
            r['Iteration'] = int(r['Iteration'])
            r['Objective'] = float(r['Objective'])
        return rows


def run_all(studies, jobs, reuse):
    """Runs the studies, `jobs` at a time, printing each as it ends."""
    pending, running = list(studies), []
    if reuse:
        for study in [s for s in pending if s.complete()]:
            pending.remove(study)
            study.seconds = float('nan')
            print('  {:<28} kept from an earlier run'.format(study.name))
    t0 = time.monotonic()
    while pending or running:
        while pending and len(running) < jobs:
            study = pending.pop(0)
            study.start()
            running.append(study)
        time.sleep(0.2)
        for study in [s for s in running if s.poll()]:
            running.remove(study)
            print('  {:<28} {:7.1f} s   (elapsed {:.0f} s)'.format(
                study.name, study.seconds, time.monotonic() - t0), flush=True)


def best_so_far(rows, horizon):
    """best[t-1] = the best objective of any row with iteration <= t."""
    best = [-math.inf] * horizon
    for r in rows:
        t = r['Iteration']
        if 1 <= t <= horizon:
            best[t - 1] = max(best[t - 1], r['Objective'])
    for t in range(1, horizon):
        best[t] = max(best[t], best[t - 1])
    if best[0] == -math.inf:
        raise SystemExit('quality.py: no report at iteration 1')
    return best


# ------------------------------------------------------------ checks

class Checks(object):
    def __init__(self):
        self.failures = []

    def expect(self, ok, message):
        print('  [{}] {}'.format('ok' if ok else 'FAILED', message))
        if not ok:
            self.failures.append(message)


def check_chain(rows, checks, label):
    """Every PBT child's first report names the weights it loaded: they
    must be exactly the weights its parent reported after its last epoch,
    and its iterations must continue the parent's."""
    by_trial = {}
    for r in rows:
        by_trial.setdefault(r['Trial-ID'], []).append(r)
    saved = {}  # save_to -> (last iteration, weights_crc)
    for trial_rows in by_trial.values():
        last = max(trial_rows, key=lambda r: r['Iteration'])
        if last.get('save_to'):
            saved[last['save_to']] = (last['Iteration'], last['weights_crc'])
    children = bad = 0
    for trial_id, trial_rows in sorted(by_trial.items()):
        first = min(trial_rows, key=lambda r: r['Iteration'])
        if not first.get('load_from'):
            continue
        children += 1
        parent = saved.get(first['load_from'])
        if (parent is None or first.get('loaded_crc') != parent[1]
                or first['Iteration'] != parent[0] + 1):
            bad += 1
            print('    trial {} loaded {} at iteration {}; parent {}: {}'
                  .format(trial_id, first.get('loaded_crc'),
                          first['Iteration'], first['load_from'], parent))
    checks.expect(children > 0 and bad == 0,
                  '{}: {} PBT children, each started from exactly its '
                  "parent's saved weights and epoch ({} mismatches)".format(
                      label, children, bad))


def check_rises(rows, generations, checks, label):
    per_generation = {}
    for r in rows:
        g = int(r['generation'])
        per_generation[g] = max(per_generation.get(g, -math.inf),
                                r['Objective'])
    series = [per_generation.get(g, -math.inf)
              for g in range(1, generations + 1)]
    checks.expect(all(b > a for a, b in zip(series, series[1:])),
                  '{}: best test accuracy per generation rises: {}'.format(
                      label, ' -> '.join('{:.4f}'.format(v) for v in series)))


# ------------------------------------------------------------ toy problem

TOY_ROW = re.compile(r'^\s*(\d+)\s+(\d+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$')


def toy_in_process(toy_pbt, seed, population, generations, csv_path):
    """Best Q per generation of examples/toy_pbt, PBT and random search."""
    out = subprocess.run(
        [toy_pbt, '--seed', str(seed), '--population', str(population),
         '--generations', str(generations), '--csv', csv_path],
        check=True, capture_output=True, text=True).stdout
    pbt, random = [], []
    for line in out.splitlines():
        m = TOY_ROW.match(line)
        if m:
            pbt.append(float(m.group(3)))
            random.append(float(m.group(4)))
    if len(pbt) != generations:
        raise SystemExit('quality.py: cannot read toy_pbt output:\n' + out)
    return pbt, random


def toy_pbt_trials(path):
    """trial id -> (h0, h1, Q) of a PBT results table, INTERMEDIATE rows."""
    with open(path, newline='') as f:
        return {int(r['Trial-ID']): (float(r['h0']), float(r['h1']),
                                     float(r['Objective']))
                for r in csv.DictReader(f) if r['Status'] == 'INTERMEDIATE'}


# ------------------------------------------------------------ picture

COLORS = {'PBT': '#1f77b4', 'random search': '#d62728'}
# The second program and the runner are drawn as markers over the first's
# lines: where they agree exactly (they should), both stay visible.
MARKERS = {'cpp': False, 'python': True, 'in-process': False, 'runner': True}


def draw_png(path, panels):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8))
    if len(panels) == 1:
        axes = [axes]
    for ax, panel in zip(axes, panels):
        for s in panel['series']:
            kwargs = dict(color=s['color'], label=s['label'], linewidth=1.8)
            if s.get('marker'):
                kwargs.update(linestyle='none', marker='o', markersize=4,
                              markerfacecolor='none',
                              markevery=max(1, len(s['x']) // 25))
            ax.plot(s['x'], s['mean'], **kwargs)
            if s['lo'] != s['hi'] and not s.get('marker'):
                ax.fill_between(s['x'], s['lo'], s['hi'], color=s['color'],
                                alpha=0.15, linewidth=0)
        ax.set_title(panel['title'], fontsize=10)
        ax.set_xlabel(panel['xlabel'])
        ax.set_ylabel(panel['ylabel'])
        if panel.get('ylim'):
            ax.set_ylim(*panel['ylim'])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc='lower right')  # the curves rise
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_svg(path, panels):
    """The same picture without matplotlib: polylines and bands by hand."""
    w, h, m = 560, 400, 60
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}"'
             ' font-family="sans-serif" font-size="11">'.format(
                 w * len(panels), h),
             '<rect width="100%" height="100%" fill="white"/>']
    for i, panel in enumerate(panels):
        ox = i * w
        xs = [x for s in panel['series'] for x in s['x']]
        ys = [y for s in panel['series'] for y in (s.get('lo') or s['mean'])]
        ys += [y for s in panel['series'] for y in (s.get('hi') or s['mean'])]
        x0, x1 = min(xs), max(xs)
        y0, y1 = panel.get('ylim') or (min(ys), max(ys))
        x1 = x1 if x1 > x0 else x0 + 1
        y1 = y1 if y1 > y0 else y0 + 1e-3

        def px(x):
            return ox + m + (x - x0) / (x1 - x0) * (w - 1.5 * m)

        def py(y):
            y = min(max(y, y0), y1)
            return h - m - (y - y0) / (y1 - y0) * (h - 1.7 * m)

        parts.append('<text x="{}" y="20" text-anchor="middle">{}</text>'
                     .format(ox + w / 2, panel['title']))
        parts.append('<rect x="{}" y="{}" width="{}" height="{}" fill="none" '
                     'stroke="#888"/>'.format(px(x0), py(y1),
                                              px(x1) - px(x0),
                                              py(y0) - py(y1)))
        for k in range(5):
            yv = y0 + (y1 - y0) * k / 4
            parts.append('<text x="{}" y="{}" text-anchor="end">{:.3f}</text>'
                         .format(px(x0) - 4, py(yv) + 4, yv))
            xv = x0 + (x1 - x0) * k / 4
            parts.append('<text x="{}" y="{}" text-anchor="middle">{:g}</text>'
                         .format(px(xv), py(y0) + 16, round(xv, 1)))
        parts.append('<text x="{}" y="{}" text-anchor="middle">{}</text>'
                     .format(ox + w / 2, h - 12, panel['xlabel']))
        parts.append('<text x="{0}" y="{1}" transform="rotate(-90 {0} {1})" '
                     'text-anchor="middle">{2}</text>'.format(
                         ox + 14, h / 2, panel['ylabel']))
        for j, s in enumerate(panel['series']):
            if s['lo'] != s['hi'] and not s.get('marker'):
                band = ['{:.1f},{:.1f}'.format(px(x), py(y))
                        for x, y in zip(s['x'], s['hi'])]
                band += ['{:.1f},{:.1f}'.format(px(x), py(y))
                         for x, y in reversed(list(zip(s['x'], s['lo'])))]
                parts.append('<polygon points="{}" fill="{}" opacity="0.15"/>'
                             .format(' '.join(band), s['color']))
            points = [(px(x), py(y)) for x, y in zip(s['x'], s['mean'])]
            if s.get('marker'):
                every = max(1, len(points) // 25)
                parts += ['<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="none" '
                          'stroke="{}"/>'.format(cx, cy, s['color'])
                          for cx, cy in points[::every]]
                dash = ' stroke-dasharray="2,3"'
            else:
                parts.append('<polyline points="{}" fill="none" stroke="{}" '
                             'stroke-width="1.8"/>'.format(
                                 ' '.join('{:.1f},{:.1f}'.format(*p)
                                          for p in points), s['color']))
                dash = ''
            # Top left: the curves rise, so that corner stays empty.
            ly = py(y1) + 14 + 14 * j
            parts.append('<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" '
                         'stroke="{3}" stroke-width="2"{4}/>'.format(
                             px(x0) + 8, ly, px(x0) + 28, s['color'], dash))
            parts.append('<text x="{}" y="{}">{}</text>'.format(
                px(x0) + 33, ly + 4, s['label']))
    parts.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(parts) + '\n')


def draw(out, panels, svg):
    if svg or importlib.util.find_spec('matplotlib') is None:
        path = os.path.join(out, 'quality.svg')
        draw_svg(path, panels)
        return path
    path = os.path.join(out, 'quality.png')
    draw_png(path, panels)
    return path


# ------------------------------------------------------------ main

def band(curves):
    """Mean, min and max over seeds, point by point."""
    columns = list(zip(*curves))
    return ([statistics.mean(c) for c in columns], [min(c) for c in columns],
            [max(c) for c in columns])


def fmt_mean(values):
    if len(values) < 2:
        return '{:.4f}'.format(values[0])
    return '{:.4f} ± {:.4f}'.format(statistics.mean(values),
                                    statistics.stdev(values))


def main():
    args, config = parse_args()
    programs = resolve_programs(args, config)
    os.makedirs(args.out, exist_ok=True)
    checks = Checks()
    smoke = args.scale == 'smoke'
    P, G, E = config['population'], config['generations'], config['epochs']
    horizon = G * E
    md = ['# Quality benchmark ({} scale)'.format(args.scale), '']
    panels = []
    curve_rows = []
    summary = []

    if not args.no_fmnist:
        print('Fashion-MNIST: PBT with {} members x {} generations x {} '
              'epochs against random search with {} models x {} epochs; '
              'train subset {}, test subset {}; seeds {}; programs {}'.format(
                  P, G, E, P, horizon, config['train_subset'] or 60000,
                  config['test_subset'] or 10000, config['seeds'],
                  ','.join(config['programs'])), flush=True)
        pbt_spec = load_spec(os.path.join(FMNIST, 'pbt.yaml'))
        random_spec = load_spec(os.path.join(FMNIST, 'random.yaml'))
        pbt_spec['algorithm'].update(population_size=P, num_generations=G)
        if args.exploit:
            pbt_spec['algorithm']['exploit'] = args.exploit
        random_spec['algorithm'].update(max_num_trials=P)
        studies = []
        for program in config['programs']:
            for seed in config['seeds']:
                for method, spec, epochs in (('pbt', pbt_spec, E),
                                             ('random', random_spec, horizon)):
                    spec = json.loads(json.dumps(spec))
                    spec['command'] = trial_command(program, args, programs,
                                                    config, epochs, seed)
                    studies.append(Study(
                        '{}_{}_seed{}'.format(method, program, seed), spec,
                        seed, args.out, programs['sherpa'],
                        args.max_concurrent,
                        P * G if method == 'pbt' else P))
        t0 = time.monotonic()
        run_all(studies, args.jobs, args.reuse)
        fmnist_seconds = time.monotonic() - t0

        finals = {}  # (program, method) -> [final best per seed]
        curves = {}
        series = []
        x = [P * t for t in range(1, horizon + 1)]
        for study in studies:
            method, program, _ = study.name.split('_')
            rows = study.rows()
            curve = best_so_far(rows, horizon)
            curves.setdefault((program, method), []).append(curve)
            finals.setdefault((program, method), []).append(curve[-1])
            for t, v in enumerate(curve, 1):
                curve_rows.append([program, method, study.seed, t, P * t, v])
            if method == 'pbt' and smoke:
                check_chain(rows, checks, study.name)
                check_rises(rows, G, checks, study.name)

        md += ['## Fashion-MNIST: PBT against random search', '',
               'PBT: {} members x {} generations x {} epochs, exploit {}. '
               'Random search: {} models x {} epochs. Both {} epochs in all '
               'per seed, on the first {} training images, accuracy on {} '
               'test images. {} studies at once, {} trial(s) at once each; '
               'this run took {:.0f} s.'.format(
                   P, G, E, pbt_spec['algorithm'].get('exploit', 'top_third'),
                   P, horizon, P * horizon, config['train_subset'] or 60000,
                   config['test_subset'] or 10000, args.jobs,
                   args.max_concurrent, fmnist_seconds), '']
        for program in config['programs']:
            pbt = finals[(program, 'pbt')]
            rnd = finals[(program, 'random')]
            md += ['### Final best test accuracy, {}'.format(
                PROGRAM_NAMES[program]), '',
                   '| seed | PBT | random search | PBT - random |',
                   '|---:|---:|---:|---:|']
            for seed, a, b in zip(config['seeds'], pbt, rnd):
                md.append('| {} | {:.4f} | {:.4f} | {:+.4f} |'.format(
                    seed, a, b, a - b))
            md.append('| **mean** | **{:.4f}** | **{:.4f}** | **{:+.4f}** |'
                      .format(statistics.mean(pbt), statistics.mean(rnd),
                              statistics.mean(pbt) - statistics.mean(rnd)))
            md += ['', '### Best so far per generation, {} (mean over seeds, '
                   '[min, max])'.format(PROGRAM_NAMES[program]), '',
                   '| generation | epochs spent | PBT | random search |',
                   '|---:|---:|---:|---:|']
            pbt_mean, pbt_lo, pbt_hi = band(curves[(program, 'pbt')])
            rnd_mean, rnd_lo, rnd_hi = band(curves[(program, 'random')])
            for g in range(1, G + 1):
                i = g * E - 1
                md.append('| {} | {} | {:.4f} [{:.4f}, {:.4f}] | {:.4f} '
                          '[{:.4f}, {:.4f}] |'.format(
                              g, x[i], pbt_mean[i], pbt_lo[i], pbt_hi[i],
                              rnd_mean[i], rnd_lo[i], rnd_hi[i]))
            md.append('')
            for method, label, (mean, lo, hi) in (
                    ('pbt', 'PBT', (pbt_mean, pbt_lo, pbt_hi)),
                    ('random', 'random search', (rnd_mean, rnd_lo, rnd_hi))):
                series.append(dict(
                    x=x, mean=mean, lo=lo, hi=hi, color=COLORS[label],
                    marker=MARKERS[program],
                    label='{}, {} (mean, min-max of {} seeds)'.format(
                        label, PROGRAM_NAMES[program], len(config['seeds']))))
            line = ('{}: PBT final best accuracy {} vs random search {} '
                    '(mean over {} seeds, equal budget of {} epochs)'.format(
                        PROGRAM_NAMES[program], fmt_mean(pbt), fmt_mean(rnd),
                        len(pbt), P * horizon))
            summary.append(line)
            if args.check and not smoke:
                checks.expect(statistics.mean(pbt) > statistics.mean(rnd),
                              line)
        lows = [v for s in series for v in s['lo']]
        panels.append(dict(
            title='Fashion-MNIST MLP, {} models, {} train images'.format(
                P, config['train_subset'] or 60000),
            xlabel='epochs spent (all models)',
            ylabel='best test accuracy so far', series=series,
            ylim=(max(0.0, sorted(lows)[len(lows) // 10] - 0.01),
                  max(v for s in series for v in s['hi']) + 0.005)))

        if smoke and len(config['programs']) > 1:
            # Same seeds, same trials: the two programs must agree.
            a = finals[(config['programs'][0], 'pbt')] + \
                finals[(config['programs'][0], 'random')]
            b = finals[(config['programs'][1], 'pbt')] + \
                finals[(config['programs'][1], 'random')]
            gap = max(abs(u - v) for u, v in zip(a, b))
            checks.expect(gap <= 0.05, 'C++ and Python trials agree: final '
                          'best accuracies differ by at most {:.4f}{}'.format(
                              gap, ' (identical)' if gap == 0 else ''))

    if not args.no_toy:
        toy_p, toy_g = config['toy_population'], config['toy_generations']
        print('Toy problem: population {}, {} generations of 4 steps, seeds '
              '{}; in-process (toy_pbt) and through the runner'.format(
                  toy_p, toy_g, config['toy_seeds']), flush=True)
        toy_spec = load_spec(os.path.join(HERE, 'toy_pbt.yaml'))
        toy_spec['algorithm'].update(population_size=toy_p,
                                     num_generations=toy_g)
        toy_spec['command'] = shell_quote(programs['toy_trial']) + ' --steps 4'
        toy_random_spec = dict(toy_spec, algorithm=dict(
            name='RandomSearch', max_num_trials=toy_p))
        toy_random_spec['command'] += ' --generations {}'.format(toy_g)
        studies = []
        for seed in config['toy_seeds']:
            studies.append(Study('toy_pbt_seed{}'.format(seed), toy_spec,
                                 seed, args.out, programs['sherpa'], 2,
                                 toy_p * toy_g))
            studies.append(Study('toy_random_seed{}'.format(seed),
                                 toy_random_spec, seed, args.out,
                                 programs['sherpa'], 2, toy_p))
        run_all(studies, 1, args.reuse)
        md += ['## Toy problem (Jaderberg et al. 2017, Fig. 2): in-process '
               'against the runner', '',
               'Population {}, {} generations of 4 steps; best true Q so far '
               'after each generation. In-process: `toy_pbt` '
               '(sherpa::Study); runner: `sherpa run` with toy_trial as '
               'processes speaking HTTP.'.format(toy_p, toy_g), '']
        toy_curves = {}
        for seed in config['toy_seeds']:
            csv_path = os.path.join(args.out,
                                    'toy_in_process_seed{}.csv'.format(seed))
            in_pbt, in_random = toy_in_process(programs['toy_pbt'], seed,
                                               toy_p, toy_g, csv_path)
            by_name = {s.name: s for s in studies}
            run_pbt = by_name['toy_pbt_seed{}'.format(seed)]
            run_random = by_name['toy_random_seed{}'.format(seed)]
            r_pbt = best_so_far(run_pbt.rows(), toy_g)
            r_random = best_so_far(run_random.rows(), toy_g)
            for key, curve in (('in-process PBT', in_pbt),
                               ('runner PBT', r_pbt),
                               ('in-process random', in_random),
                               ('runner random', r_random)):
                toy_curves.setdefault(key, []).append(curve)
            # Per trial: the same seed must give the same study.
            mine = toy_pbt_trials(os.path.join(run_pbt.dir, 'results.csv'))
            theirs = toy_pbt_trials(csv_path)
            same = sum(1 for k, v in theirs.items()
                       if k in mine and all(abs(a - b) <= 1e-9 * max(1, abs(b))
                                            for a, b in zip(mine[k], v)))
            gap = max(abs(a - b) for a, b in zip(in_pbt + in_random,
                                                 r_pbt + r_random))
            md += ['### Seed {}'.format(seed), '',
                   'PBT trials identical (h0, h1, Q) in both: {} of {}; '
                   'largest difference in best Q: {:.2e}. Runner: PBT {:.1f} '
                   's, random search {:.1f} s.'.format(
                       same, len(theirs), gap, run_pbt.seconds,
                       run_random.seconds), '',
                   '| generation | PBT in-process | PBT runner | random '
                   'in-process | random runner |',
                   '|---:|---:|---:|---:|---:|']
            step = max(1, toy_g // 10)
            shown = set(range(step, toy_g + 1, step)) | {1, toy_g}
            for g in sorted(shown):
                md.append('| {} | {:.6f} | {:.6f} | {:.6f} | {:.6f} |'.format(
                    g, in_pbt[g - 1], r_pbt[g - 1], in_random[g - 1],
                    r_random[g - 1]))
            md.append('')
            line = ('Toy seed {}: best Q in-process PBT {:.4f} / runner PBT '
                    '{:.4f}, in-process random {:.4f} / runner random {:.4f};'
                    ' {} of {} PBT trials identical'.format(
                        seed, in_pbt[-1], r_pbt[-1], in_random[-1],
                        r_random[-1], same, len(theirs)))
            summary.append(line)
            checks.expect(gap <= 1e-6 and r_pbt[-1] > r_random[-1], line)
        series = []
        for key, curve_list in toy_curves.items():
            where, method = key.split(' ')
            label = 'PBT' if method == 'PBT' else 'random search'
            mean, lo, hi = band(curve_list)
            series.append(dict(x=list(range(1, toy_g + 1)), mean=mean, lo=lo,
                               hi=hi, color=COLORS[label],
                               marker=MARKERS[where],
                               label='{}, {}'.format(label, where)))
        panels.append(dict(
            title='Toy problem: in-process against the runner ({} seeds)'
            .format(len(config['toy_seeds'])),
            xlabel='generation (4 steps each, all members)',
            ylabel='best true Q so far', series=series))

    picture = draw(args.out, panels, args.svg)
    md += ['Picture: `{}`'.format(os.path.basename(picture)), '']
    with open(os.path.join(args.out, 'quality.md'), 'w') as f:
        f.write('\n'.join(md))
    with open(os.path.join(args.out, 'curves.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['program', 'method', 'seed', 'epochs_per_model',
                         'epochs_spent', 'best_accuracy'])
        writer.writerows(curve_rows)
    checks.expect(os.path.getsize(picture) > 1000,
                  'picture written: ' + picture)
    print('\n'.join([''] + summary))
    print('tables: {}'.format(os.path.join(args.out, 'quality.md')))
    if checks.failures:
        print('quality.py: {} check(s) failed'.format(len(checks.failures)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
