"""Fashion-MNIST trial script in Python: the MLP of SHERPA's PBT benchmark.

The same model, data, hyperparameters, checkpoint contents and reports as
trial.cc, written the way SHERPA's documentation writes a PBT trial script.
Run it with Debian's PyTorch, which only /usr/bin/python3 can import:

    sherpa run pbt.yaml --command \
        '/usr/bin/python3 trial.py --epochs 2 --train-subset 10000'

Learning-rate decay is Keras' SGD ``decay``, as in the benchmark: before
every update lr_t = learning_rate / (1 + decay * t), t counting the model's
updates since it was created (kept in the checkpoint across generations).
"""

import argparse
import gzip
import os
import sys
import time
import zlib

# OpenBLAS sizes its thread pool when torch loads it: two trials sharing two
# cores must each keep to one thread unless the user chose otherwise.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import sherpa  # noqa: E402

CHECKPOINT_FORMAT = 'sherpa-fashion-mnist-py/1'
EXIT_USAGE = 2
EXIT_BAD_CHECKPOINT = 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=1,
                        help='epochs to train in this trial (one generation)')
    parser.add_argument('--train-subset', type=int, default=0,
                        help='train on the first N images (0: all 60000)')
    parser.add_argument('--test-subset', type=int, default=0,
                        help='evaluate on the first N images (0: all 10000)')
    parser.add_argument('--data-dir', default=os.environ.get(
        'FASHION_MNIST_DIR', '/usr/share/datasets/fashion-mnist'),
        help="folder of the gzip'd IDX files (Debian's dataset-fashion-mnist)")
    parser.add_argument('--hidden', type=int, default=512,
                        help='units in each of the two hidden layers')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0,
                        help='added to the trial id to seed torch')
    parser.add_argument('--param', action='append', default=[],
                        metavar='NAME=VALUE',
                        help='run alone (no runner) with this parameter; '
                        'checkpoints go to ./checkpoints')
    return parser.parse_args()


def standalone_parameters(items):
    """--param name=value pairs; numbers become floats, as trial.cc does."""
    parameters = {}
    for item in items:
        name, sep, text = item.partition('=')
        if not sep or not name:
            fail(EXIT_USAGE, '--param takes name=value, got {!r}'.format(item))
        try:
            parameters[name] = float(text)
        except ValueError:
            parameters[name] = text
    return parameters


def read_idx_gz(path, rank, limit):
    """The first ``limit`` items (0: all) of a gzip'd IDX file."""
    if not os.path.exists(path):
        fail(1, 'cannot open {} (install dataset-fashion-mnist or pass '
             '--data-dir)'.format(path))
    with gzip.open(path, 'rb') as f:
        magic = int.from_bytes(f.read(4), 'big')
        if magic != 0x800 + rank:
            raise ValueError('{}: not an IDX file of rank {}'.format(
                path, rank))
        dims = [int.from_bytes(f.read(4), 'big') for _ in range(rank)]
        if limit:
            dims[0] = min(dims[0], limit)
        size = int(np.prod(dims))
        data = np.frombuffer(f.read(size), dtype=np.uint8)
    if data.size != size:
        raise ValueError('{}: truncated'.format(path))
    return data.reshape(dims)


def load_split(data_dir, prefix, limit):
    images = read_idx_gz(os.path.join(
        data_dir, prefix + '-images-idx3-ubyte.gz'), 3, limit)
    labels = read_idx_gz(os.path.join(
        data_dir, prefix + '-labels-idx1-ubyte.gz'), 1, limit)
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))
    return x.div_(255.0), torch.from_numpy(labels.astype(np.int64))


class Mlp(torch.nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, hidden)
        self.fc2 = torch.nn.Linear(hidden, hidden)
        self.fc3 = torch.nn.Linear(hidden, 10)
        self.dropout = dropout
        # Keras' defaults, which the benchmark ran with.
        for layer in (self.fc1, self.fc2, self.fc3):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.dropout(F.relu(self.fc1(x)), self.dropout, self.training)
        x = F.dropout(F.relu(self.fc2(x)), self.dropout, self.training)
        return self.fc3(x)

    def architecture(self):
        return [784, self.fc1.out_features, self.fc2.out_features, 10]


def weights_crc(model):
    """CRC-32 of the parameters' float32 bytes, as trial.cc computes it."""
    crc = 0
    for p in model.parameters():
        crc = zlib.crc32(p.detach().contiguous().numpy().tobytes(), crc)
    return 'crc32:{:08x}'.format(crc)


def fail(code, message):
    print('trial.py: ' + message, file=sys.stderr)
    sys.exit(code)


def load_checkpoint(path, hidden):
    """Model, optimizer, epoch and update count saved at ``path``; a
    checkpoint of another program or architecture is refused."""
    try:
        checkpoint = torch.load(path)
    except Exception as e:  # a missing file, or trial.cc's format
        fail(EXIT_BAD_CHECKPOINT, 'cannot load checkpoint {}: {}'.format(
            path, e))
    if not isinstance(checkpoint, dict) or \
            checkpoint.get('format') != CHECKPOINT_FORMAT:
        fail(EXIT_BAD_CHECKPOINT, 'checkpoint {} was not written by '
             'trial.py'.format(path))
    model = Mlp(hidden, 0.0)
    if checkpoint['architecture'] != model.architecture():
        # load_state_dict would refuse too, with a less helpful message.
        fail(EXIT_BAD_CHECKPOINT, 'checkpoint {} holds a {} MLP, but this '
             'trial builds {} (--hidden); refusing to load it'.format(
                 path, '-'.join(map(str, checkpoint['architecture'])),
                 '-'.join(map(str, model.architecture()))))
    model.load_state_dict(checkpoint['model'])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    optimizer.load_state_dict(checkpoint['optimizer'])
    if weights_crc(model) != checkpoint['weights_crc']:
        fail(EXIT_BAD_CHECKPOINT, 'checkpoint {} is corrupt'.format(path))
    return model, optimizer, checkpoint['epoch'], checkpoint['iterations']


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)

    if args.param:
        client = sherpa.Client(test_mode=True, test_parameters=(
            standalone_parameters(args.param)))
    else:
        client = sherpa.Client()
    trial = client.get_trial()
    p = trial.parameters
    lr, momentum, dropout = (p['learning_rate'], p['momentum'], p['dropout'])
    decay = p.get('decay', 0.0)
    batch_size = int(p['batch_size'])
    torch.manual_seed(args.seed + trial.id)

    x_train, y_train = load_split(args.data_dir, 'train', args.train_subset)
    x_test, y_test = load_split(args.data_dir, 't10k', args.test_subset)

    if p.get('load_from', '') == '':
        model = Mlp(args.hidden, dropout)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr,
                                    momentum=momentum)
        epoch, iterations, loaded_crc = 0, 0, None
    else:
        model, optimizer, epoch, iterations = load_checkpoint(
            client.checkpoint_path(p['load_from']), args.hidden)
        loaded_crc = weights_crc(model)
        # load_state_dict restored the parent's lr and momentum with the
        # param groups, and the dropout rate is ours to choose: this trial's
        # (perturbed) hyperparameters replace them.
        for group in optimizer.param_groups:
            group['lr'], group['momentum'] = lr, momentum
        model.dropout = dropout
    print('trial {}: {} MLP, {} train / {} test images, lr {:.4g} decay '
          '{:.3g} momentum {:.3f} dropout {:.3f} batch {}, {}'.format(
              trial.id, '-'.join(map(str, model.architecture())),
              len(x_train), len(x_test), lr, decay, momentum, dropout,
              batch_size, 'fresh' if loaded_crc is None else
              'loaded {} at epoch {} {}'.format(p['load_from'], epoch,
                                                loaded_crc)), flush=True)

    for e in range(args.epochs):
        start = time.monotonic()
        model.train()
        order = torch.randperm(len(x_train))
        loss_sum = 0.0
        for i in range(0, len(x_train), batch_size):
            index = order[i:i + batch_size]
            for group in optimizer.param_groups:
                group['lr'] = lr / (1.0 + decay * iterations)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
            iterations += 1
            loss_sum += loss.item() * len(index)
        train_loss = loss_sum / len(x_train)

        model.eval()
        correct, test_loss = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(x_test), 1000):
                logits = model(x_test[i:i + 1000])
                y = y_test[i:i + 1000]
                test_loss += F.cross_entropy(logits, y, reduction='sum').item()
                correct += (logits.argmax(1) == y).sum().item()
        accuracy, test_loss = correct / len(x_test), test_loss / len(x_test)
        epoch += 1
        seconds = time.monotonic() - start
        current_lr = optimizer.param_groups[0]['lr']
        context = {'loss': test_loss, 'train_loss': train_loss,
                   'lr': current_lr, 'epoch_seconds': seconds,
                   'weights_crc': weights_crc(model)}
        if e == 0 and loaded_crc is not None:
            context['loaded_crc'] = loaded_crc
        print('epoch {}: test accuracy {:.4f}, test loss {:.4f}, train loss '
              '{:.4f}, lr {:.4g}, {:.2f} s'.format(
                  epoch, accuracy, test_loss, train_loss, current_lr, seconds),
              flush=True)
        if client.send_metrics(trial=trial, iteration=epoch,
                               objective=accuracy, context=context):
            print('the study asked this trial to stop')
            break

    if p.get('save_to', '') != '':
        path = client.checkpoint_path(p['save_to'])
        torch.save({'format': CHECKPOINT_FORMAT,
                    'architecture': model.architecture(),
                    'model': model.state_dict(),
                    'optimizer': optimizer.state_dict(),
                    'epoch': epoch, 'iterations': iterations,
                    'weights_crc': weights_crc(model),
                    'hyperparameters': {
                        'learning_rate': lr, 'decay': decay,
                        'momentum': momentum, 'dropout': dropout,
                        'batch_size': batch_size}},
                   path + '.tmp')
        os.replace(path + '.tmp', path)  # a killed trial leaves no half file
        print('saved {} (epoch {}, {})'.format(path, epoch,
                                               weights_crc(model)))


if __name__ == '__main__':
    main()
