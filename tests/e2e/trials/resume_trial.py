"""A trial for test_resume_algorithms.py: any algorithm, checkpointed.

The model is one number moving toward 1 by a fraction ``lr`` per iteration
(deterministic: a rerun from the same checkpoint reports the same values).
With ``load_from`` it starts from that checkpoint, which must exist; it
trains up to ``resource`` iterations in all when the trial has one
(SuccessiveHalving), else ITERATIONS more. With ``save_to`` it writes its
checkpoint (JSON: the value, the iteration count and where it started from)
after its last report. A short pause per iteration keeps the study running
long enough to be killed mid-way.
"""

import json
import os
import time

import sherpa

ITERATIONS = 2
PAUSE = 0.05


def main():
    client = sherpa.Client()
    trial = client.get_trial()
    params = trial.parameters
    # For the test's clean-up: trials outlive a runner killed with SIGKILL.
    with open('pgid_{}_{}'.format(trial.id, os.getpid()), 'w') as f:
        f.write(str(os.getpgrp()))

    value, iteration, origin = 0.0, 0, {}
    load_from = params.get('load_from', '')
    if load_from:
        with open(client.checkpoint_path(load_from)) as f:
            parent = json.load(f)
        value, iteration = parent['value'], parent['iteration']
        origin = {'loaded_from': load_from, 'loaded_value': value,
                  'loaded_iteration': iteration}
    if 'resource' in params:
        end = int(params['resource'])
    else:
        end = iteration + ITERATIONS

    while iteration < end:
        time.sleep(PAUSE)
        iteration += 1
        value += params['lr'] * (1.0 - value)
        client.send_metrics(trial=trial, iteration=iteration, objective=value)

    if params.get('save_to'):
        checkpoint = dict(origin, trial=trial.id, iteration=iteration,
                          value=value, lr=params['lr'])
        path = client.checkpoint_path(params['save_to'])
        with open(path + '.tmp', 'w') as f:
            json.dump(checkpoint, f)
        os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
