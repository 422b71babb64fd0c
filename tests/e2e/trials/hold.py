"""A trial that waits for its test.

It writes its connection details (trial id, host, port, token, pid, process
group) to ``env_<id>.json`` in its working directory, which is the test's
folder (the runner starts trials in the folder `sherpa run` runs in), then
holds until the test writes ``release_<id>``. The release file may hold
JSON: ``{"reports": [[iteration, objective], ...], "exit": code}``; the
default is one report, iteration 1, objective 0.5, and exit code 0.

Holding ends with exit code 4 after HOLD_SECONDS, so a broken test never
leaves it running for long.
"""

import json
import os
import sys
import time

import sherpa

HOLD_SECONDS = 60


def main():
    trial_id = os.environ['SHERPA_TRIAL_ID']
    details = {name: os.environ.get('SHERPA_' + name.upper(), '')
               for name in ('trial_id', 'host', 'port', 'token', 'output_dir')}
    details.update(pid=os.getpid(), pgid=os.getpgrp())
    # For the test's clean-up: trials outlive a runner killed with SIGKILL.
    with open('pgid_{}_{}'.format(trial_id, os.getpid()), 'w') as f:
        f.write(str(os.getpgrp()))
    # Written aside and renamed: the test polls for this file and must never
    # read it half-written.
    path = 'env_{}.json'.format(trial_id)
    with open(path + '.tmp', 'w') as f:
        json.dump(details, f)
    os.replace(path + '.tmp', path)

    release = 'release_{}'.format(trial_id)
    deadline = time.monotonic() + HOLD_SECONDS
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            print('hold.py: never released', flush=True)
            sys.exit(4)
        time.sleep(0.02)
    with open(release) as f:
        text = f.read().strip()
    instructions = json.loads(text) if text else {}

    client = sherpa.Client()
    trial = client.get_trial()
    for iteration, objective in instructions.get('reports', [[1, 0.5]]):
        stop = client.send_metrics(trial=trial, iteration=iteration,
                                   objective=objective)
        print('reported', iteration, objective, 'stop' if stop else '',
              flush=True)
    sys.exit(instructions.get('exit', 0))


if __name__ == '__main__':
    main()
