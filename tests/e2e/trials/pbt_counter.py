"""A PBT trial for the interruption tests.

Slow enough to be interrupted mid-study (PAUSE seconds per iteration),
deterministic (a rerun from the same checkpoint reports the same values), and
it appends every report the runner acknowledged to ``acks.log`` in its
working directory (the test's folder), so the test knows what must survive.

Each attempt (process) of a trial has a key of its own, derived from its
per-attempt token: it goes into the ack lines, into each report's context
(so study.db says which attempt stored which row) and into the checkpoint
(so the test can tell which attempt wrote it). PBT_COUNTER_PAUSE overrides
the pause per iteration.

The model is one number moving toward 1 by a fraction ``lr`` per iteration;
the checkpoint (JSON) holds it, the iteration count and, for generation 2
on, the state the trial started from.
"""

import hashlib
import json
import os
import time

import sherpa

ITERATIONS = 3
PAUSE = float(os.environ.get('PBT_COUNTER_PAUSE', '0.15'))


def main():
    client = sherpa.Client()
    trial = client.get_trial()
    params = trial.parameters
    # Not the token itself: acks.log need not hold a secret.
    key = hashlib.sha256(os.environ.get('SHERPA_TOKEN', '').encode()) \
        .hexdigest()[:16]
    # For the test's clean-up: trials outlive a runner killed with SIGKILL.
    with open('pgid_{}_{}'.format(trial.id, os.getpid()), 'w') as f:
        f.write(str(os.getpgrp()))

    value, iteration, origin = 0.0, 0, {}
    if params['load_from']:
        with open(client.checkpoint_path(params['load_from'])) as f:
            parent = json.load(f)
        value, iteration = parent['value'], parent['iteration']
        origin = {'loaded_from': params['load_from'], 'loaded_value': value,
                  'loaded_iteration': iteration}

    for _ in range(ITERATIONS):
        time.sleep(PAUSE)
        iteration += 1
        value += params['lr'] * (1.0 - value)
        client.send_metrics(trial=trial, iteration=iteration, objective=value,
                            context={'writer': key})
        # Only now is the report acknowledged (durable in study.db).
        with open('acks.log', 'a') as f:
            f.write(json.dumps({'trial': trial.id, 'iteration': iteration,
                                'objective': value,
                                'generation': params['generation'],
                                'writer': key, 'pid': os.getpid()}) + '\n')
            f.flush()
            os.fsync(f.fileno())

    checkpoint = dict(origin, trial=trial.id, iteration=iteration,
                      value=value, lr=params['lr'], writer=key)
    path = client.checkpoint_path(params['save_to'])
    with open(path + '.tmp', 'w') as f:
        json.dump(checkpoint, f)
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
