"""A SHERPA trial script for Population Based Training, in plain Python.

`sherpa run study.yaml` starts this script once per trial. It trains a tiny
neural network (2 inputs, 8 tanh units, 1 sigmoid output) with minibatch SGD
on a synthetic "two moons" data set, for EPOCHS epochs per PBT generation:

* generation 1 starts from random weights;
* later generations load the weights of the parent trial named by
  ``load_from`` and go on training them with their own (perturbed) ``lr``
  and ``batch_size``, as in SHERPA's PBT documentation;
* every epoch's validation accuracy is reported, counting epochs across
  generations (the checkpoint carries the count), so the results table
  shows one continuous learning curve per lineage;
* the weights are saved under ``save_to`` for the next generation.

It needs only the standard library and the ``sherpa`` module (which the
runner puts on PYTHONPATH). To try it without a runner:

    python3 trial.py --test
"""

import math
import os
import random
import sys

import sherpa

EPOCHS = 3  # per generation
HIDDEN = 8
NUM_WEIGHTS = HIDDEN * 2 + HIDDEN + HIDDEN + 1  # W1, b1, W2, b2


def two_moons(n, seed, noise=0.15):
    """Two interleaving half circles: not linearly separable, so the hidden
    layer has something to learn. The seed is fixed: every trial sees the
    same data."""
    rng = random.Random(seed)
    points = []
    for i in range(n):
        label = i % 2
        t = rng.uniform(0.0, math.pi)
        if label == 0:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        points.append((x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise),
                       label))
    return points


TRAIN = two_moons(200, seed=1)
VALIDATION = two_moons(200, seed=2)


def initial_weights(seed):
    rng = random.Random(seed)
    w1 = [rng.gauss(0.0, 1.0 / math.sqrt(2)) for _ in range(HIDDEN * 2)]
    w2 = [rng.gauss(0.0, 1.0 / math.sqrt(HIDDEN)) for _ in range(HIDDEN)]
    return w1 + [0.0] * HIDDEN + w2 + [0.0]


def forward(w, x, y):
    """Returns the hidden activations and the output probability."""
    hidden = [math.tanh(w[2 * j] * x + w[2 * j + 1] * y + w[2 * HIDDEN + j])
              for j in range(HIDDEN)]
    z = sum(w[3 * HIDDEN + j] * hidden[j] for j in range(HIDDEN)) + w[-1]
    z = max(-30.0, min(30.0, z))  # keeps exp() finite for a diverging lr
    return hidden, 1.0 / (1.0 + math.exp(-z))


def train_epoch(w, lr, batch_size, rng):
    """One epoch of minibatch SGD on the cross-entropy loss."""
    order = list(range(len(TRAIN)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        grad = [0.0] * NUM_WEIGHTS
        for i in batch:
            x, y, label = TRAIN[i]
            hidden, p = forward(w, x, y)
            d_out = p - label  # d(loss)/dz of sigmoid + cross-entropy
            for j in range(HIDDEN):
                grad[3 * HIDDEN + j] += d_out * hidden[j]
                d_hidden = d_out * w[3 * HIDDEN + j] * (1.0 - hidden[j] ** 2)
                grad[2 * j] += d_hidden * x
                grad[2 * j + 1] += d_hidden * y
                grad[2 * HIDDEN + j] += d_hidden
            grad[-1] += d_out
        step = lr / len(batch)
        for k in range(NUM_WEIGHTS):
            w[k] -= step * grad[k]


def evaluate(w):
    """Returns (accuracy, mean cross-entropy) on the validation set."""
    correct, loss = 0, 0.0
    for x, y, label in VALIDATION:
        _, p = forward(w, x, y)
        correct += (p >= 0.5) == (label == 1)
        p = min(max(p, 1e-12), 1.0 - 1e-12)
        loss -= math.log(p) if label == 1 else math.log(1.0 - p)
    return correct / len(VALIDATION), loss / len(VALIDATION)


# The checkpoint is a small text file of "key value..." lines, the same
# format trial.cc and trial.sh write. Besides the weights it keeps the
# hyperparameters they were trained with and the epoch count, and where its
# starting state came from, so any checkpoint can be traced back.
def save_checkpoint(path, fields):
    lines = ['# sherpa quickstart checkpoint']
    for key, value in fields.items():
        if isinstance(value, list):
            value = ' '.join(repr(v) for v in value)
        lines.append('{} {}'.format(key, value))
    # Written aside and renamed: a trial killed while saving never leaves a
    # half-written checkpoint for the next generation to load.
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, path)


def load_checkpoint(path):
    fields = {}
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            key, _, value = line.strip().partition(' ')
            fields[key] = value
    return fields


def main():
    test_mode = '--test' in sys.argv[1:]
    client = sherpa.Client(test_mode=test_mode, test_parameters={
        'lr': 0.1, 'batch_size': 32, 'load_from': '', 'save_to': 'test',
        'lineage': '', 'generation': 1})
    trial = client.get_trial()
    lr = float(trial.parameters['lr'])
    batch_size = int(trial.parameters['batch_size'])
    load_from = trial.parameters.get('load_from', '')
    save_to = trial.parameters.get('save_to', str(trial.id))

    origin = {}  # where the starting state came from
    if load_from == '':
        weights = initial_weights(seed=trial.id)
        iteration = 0
        print('trial {}: new model, lr={:.4g} batch_size={}'.format(
            trial.id, lr, batch_size))
    else:
        parent = load_checkpoint(client.checkpoint_path(load_from))
        weights = [float(v) for v in parent['weights'].split()]
        iteration = int(parent['iteration'])
        # The parent's hyperparameters are history; this trial trains with
        # its own, which PBT perturbed from them.
        print('trial {}: continues trial {} at epoch {} (lr {} -> {:.4g}, '
              'batch_size {} -> {})'.format(
                  trial.id, parent['trial'], iteration, parent['lr'], lr,
                  parent['batch_size'], batch_size))
        origin = {'loaded_from': load_from, 'loaded_iteration': iteration,
                  'loaded_weights': list(weights)}
    sys.stdout.flush()

    rng = random.Random(trial.id)
    for _ in range(EPOCHS):
        train_epoch(weights, lr, batch_size, rng)
        iteration += 1
        accuracy, loss = evaluate(weights)
        print('epoch {}: accuracy {:.3f} loss {:.4f}'.format(
            iteration, accuracy, loss))
        sys.stdout.flush()
        stop = client.send_metrics(trial=trial, iteration=iteration,
                                   objective=accuracy, context={'loss': loss})
        if stop:  # the study wants this trial to end: save and leave
            break

    checkpoint = {'trial': trial.id, 'iteration': iteration, 'lr': lr,
                  'batch_size': batch_size, 'weights': weights}
    checkpoint.update(origin)
    save_checkpoint(client.checkpoint_path(save_to), checkpoint)


if __name__ == '__main__':
    main()
