"""What `prestart` saves a Python trial script that imports torch.

Runs the same study twice with `sherpa run`, without and with prestart: 12
trials, 2 at a time, each importing torch, then "training" for 0.5 s (a
sleep, so the cores stay free for the import of the next trial) and
reporting once. Prints the wall time of each study against the ideal
(6 waves x 0.5 s) and, per trial, the time from the runner's start of the
trial to its report.

    python3 bench/runner/prestart_torch.py [--sherpa PATH] [--trials N]

Needs Debian's python3-torch (the trial runs under /usr/bin/python3) and a
built `sherpa` (default: build/rbench/src/cli/sherpa, then build/ci/...).
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

TRIAL = '''
import time
import torch  # what prestart overlaps with the running trials
import sherpa
client = sherpa.Client()
trial = client.get_trial()
weight = torch.tensor(trial.parameters['x'])
time.sleep(0.5)  # the training
client.send_metrics(trial, 1, float(weight))
'''


def find_sherpa(given):
    for path in ([given] if given else [
            os.path.join(REPO, 'build', 'rbench', 'src', 'cli', 'sherpa'),
            os.path.join(REPO, 'build', 'ci', 'src', 'cli', 'sherpa')]):
        if path and os.access(path, os.X_OK):
            return os.path.abspath(path)
    sys.exit('prestart_torch: no sherpa binary; build one or pass --sherpa')


def run(sherpa, folder, trials, prestart):
    spec = {
        'parameters': [{'name': 'x', 'type': 'continuous',
                        'range': [0.0, 1.0]}],
        'algorithm': {'name': 'RandomSearch', 'max_num_trials': trials},
        'lower_is_better': False,
        'command': '/usr/bin/python3 trial.py',
        'max_concurrent': 2,
        'prestart': prestart,
        'output_dir': 'out_prestart_{}'.format(prestart),
        'seed': 1,
    }
    with open(os.path.join(folder, 'study.json'), 'w') as f:
        json.dump(spec, f)
    began = time.monotonic()
    subprocess.run([sherpa, 'run', 'study.json', '--quiet'], cwd=folder,
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - began
    db = sqlite3.connect(os.path.join(folder, spec['output_dir'],
                                      'study.db'))
    started = dict(db.execute(
        "SELECT trial_id, at FROM events WHERE kind = 'trial_started'"))
    reported = dict(db.execute(
        "SELECT trial_id, at FROM events WHERE kind = 'observation'"))
    db.close()
    latency = [reported[t] - started[t] - 0.5 for t in started]
    return wall, latency


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--sherpa', default='')
    parser.add_argument('--trials', type=int, default=12)
    args = parser.parse_args()
    sherpa = find_sherpa(args.sherpa)
    folder = tempfile.mkdtemp(prefix='sherpa_prestart_torch.')
    try:
        with open(os.path.join(folder, 'trial.py'), 'w') as f:
            f.write(TRIAL)
        ideal = -(-args.trials // 2) * 0.5
        print('prestart_torch: {} trials, 2 at a time, each imports torch '
              'and trains 0.5 s; ideal {:.1f} s'.format(args.trials, ideal))
        for prestart in (0, 2):
            wall, latency = run(sherpa, folder, args.trials, prestart)
            print('  prestart {}: {:.2f} s ({:.1f}x the ideal); start -> '
                  'report minus the training: median {:.2f} s, max {:.2f} s'
                  .format(prestart, wall, wall / ideal,
                          statistics.median(latency), max(latency)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == '__main__':
    main()
