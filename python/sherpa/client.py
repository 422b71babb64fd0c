"""The trial side of SHERPA: ``sherpa.Client`` talks to the sherpa-cpp runner.

The runner starts the trial script as a process with the environment
variables ``SHERPA_TRIAL_ID``, ``SHERPA_HOST``, ``SHERPA_PORT``,
``SHERPA_TOKEN`` and ``SHERPA_OUTPUT_DIR``; the client reads them and speaks
the runner's HTTP/JSON trial API (``docs/http_api.md``). A SHERPA trial
script runs unchanged::

    import sherpa
    client = sherpa.Client()
    trial = client.get_trial()
    for epoch in range(trial.parameters['epochs']):
        accuracy = train_one_epoch(trial.parameters['lr'])
        client.send_metrics(trial=trial, iteration=epoch + 1,
                            objective=accuracy, context={'loss': loss})

A process the runner started ahead of its trial (``prestart`` in the spec)
has ``SHERPA_TRIAL_FD`` instead of ``SHERPA_TRIAL_ID``: ``get_trial()`` then
waits until the runner hands it a trial, and sets ``SHERPA_TRIAL_ID``.
"""

import binascii
import json
import math
import operator
import os
import select
import socket
import threading
import time

from .core import SherpaError, Trial, TrialStatus

_TRIALS = '/api/v1/trials/'
# How long a process started ahead of its trial tries to reach a runner that
# closed its descriptor without handing it a trial.
_RUNNER_GONE_AFTER_SECONDS = 2.0

# How long a request keeps retrying while the runner cannot be reached (it
# may still be starting, or be briefly overloaded). SHERPA's own retry loop
# never retried (it raised StopIteration on the first miss).
_DEFAULT_RETRY_SECONDS = 30.0
# Connecting is quick on a working network; a dead host should be retried,
# not waited on for the whole read timeout.
_CONNECT_TIMEOUT = 10.0
# The runner answers an observation once it is durable on disk, which can
# take a while on a loaded machine or a network file system.
_READ_TIMEOUT = 120.0
_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0

_RUN_ALONE_HINT = ('this script is meant to be run by `sherpa run`; use '
                   'sherpa.Client(test_mode=True) to run it alone')


def _env(name):
    value = os.environ.get(name, '').strip()
    return value or None


class Client(object):
    """Connects a trial script to the sherpa runner, like SHERPA's Client.

    Args:
        host (str): where the runner's API listens. Default: the
            ``SHERPA_HOST`` environment variable, which the runner sets.
        port (int): the API's port. Default: ``SHERPA_PORT``.
        test_mode (bool): run the script without a runner, for debugging.
            ``get_trial`` returns ``Trial(1, test_parameters)``,
            ``send_metrics`` only validates its arguments and appends them to
            ``client.observations``, and ``should_stop`` answers False.
        test_parameters (dict): the parameters of the test-mode trial
            (default ``{}``, as in SHERPA).
        retry_seconds (float): how long a request keeps retrying while the
            runner cannot be reached (default 30).
        **mongo_client_args: accepted and ignored, so that scripts written
            for SHERPA's MongoDB-based client keep working.

    The token (``SHERPA_TOKEN``) and the trial id (``SHERPA_TRIAL_ID``) come
    from the environment. One keep-alive HTTP connection is kept per client
    and re-opened when it breaks; a client may be shared between threads.
    """

    def __init__(self, host=None, port=None, test_mode=False,
                 test_parameters=None, retry_seconds=_DEFAULT_RETRY_SECONDS,
                 **mongo_client_args):
        self.host = host or _env('SHERPA_HOST')
        self.port = port or _env('SHERPA_PORT')
        self.test_mode = bool(test_mode)
        self.test_parameters = dict(test_parameters or {})
        self.retry_seconds = float(retry_seconds)
        # Test mode keeps what would have been sent, so a user can inspect it.
        self.observations = []
        self._token = _env('SHERPA_TOKEN')
        # Learned by get_trial in a process started ahead of its trial.
        self._trial_id = None
        self._checkpoint_dir = None  # the runner's answer, if it gave one
        self._lock = threading.Lock()
        self._conn = None
        self._conn_pid = None
        self._headers = {'Accept': 'application/json'}
        if self._token:
            self._headers['Authorization'] = 'Bearer ' + self._token

    # ---------------------------------------------------------------- API

    def get_trial(self):
        """Returns the Trial this process was started for.

        In a process started ahead of its trial, waits until the runner
        hands it one.

        Raises:
            SherpaError: ``SHERPA_TRIAL_ID`` (or the runner's address) is not
                set, the runner rejected the request (the message includes
                its explanation), or it could not be reached for
                ``retry_seconds``.
        """
        if self.test_mode:
            return Trial(1, dict(self.test_parameters))
        if self._trial_id is None and _env('SHERPA_TRIAL_ID') is None \
                and _env('SHERPA_TRIAL_FD') is not None:
            answer = self._await_trial()
            trial_id = answer.get('id')
        else:
            trial_id = self._own_trial_id()
            answer = self._call('GET', _TRIALS + str(trial_id), None, trial_id)
        parameters = answer.get('parameters')
        if not isinstance(parameters, dict):
            raise SherpaError('the runner answered GET {}{} without a '
                              'parameters object: {!r}'.format(
                                  _TRIALS, trial_id, answer))
        if isinstance(answer.get('checkpoint_dir'), str):
            self._checkpoint_dir = answer['checkpoint_dir']
        return Trial(answer.get('id', trial_id), parameters)

    # The mutable defaults are SHERPA's signatures; they are never mutated.
    def send_metrics(self, trial, iteration, objective, context={}):
        """Reports the objective (and other metrics) of one iteration.

        Args:
            trial (sherpa.Trial): the trial from ``get_trial()``.
            iteration (int): e.g. the epoch; each iteration is reported once.
            objective (float): the value the study optimizes. numpy and
                torch scalars, 0-d arrays and anything with ``.item()`` are
                converted; NaN and infinity are refused with ValueError.
            context (dict): other metrics, name -> number or string. A NaN
                or infinite context value is sent as the string ``'nan'``,
                ``'inf'`` or ``'-inf'``.

        Returns:
            bool: True when the study wants the trial to stop (a stopping
            rule fired or a user asked). The script should then save its
            checkpoint and exit with status 0. SHERPA returned None; scripts
            that ignore the result are simply killed after a grace period.

        Raises:
            ValueError, TypeError: the arguments cannot be reported.
            SherpaError: the runner rejected the observation, e.g. 409 when
                the iteration was already reported or the trial has ended.
        """
        trial_id = _trial_id_of(trial)
        body = {'iteration': _iteration(iteration),
                'objective': _objective(objective)}
        converted = _context(context)
        if converted:
            body['context'] = converted
        if self.test_mode:
            self.observations.append(dict(body, trial_id=trial_id))
            return False
        path = _TRIALS + str(trial_id) + '/observations'
        # Random, so that keys differ between processes of one trial.
        key = binascii.hexlify(os.urandom(12)).decode('ascii')
        try:
            answer = self._call('POST', path, body, trial_id,
                                idempotency_key=key)
        except _AlreadyReportedOnRetry:
            # The first attempt reached the runner but its answer was lost;
            # the observation is stored, only the stop flag is missing.
            return self.should_stop(trial_id)
        return bool(answer.get('stop', False))

    def should_stop(self, trial):
        """Returns True when the study wants ``trial`` to stop.

        ``send_metrics`` already returns this; call it to check between
        reports, e.g. inside a long epoch.
        """
        trial_id = _trial_id_of(trial)
        if self.test_mode:
            return False
        answer = self._call('GET', _TRIALS + str(trial_id) + '/stop', None,
                            trial_id)
        return bool(answer.get('stop', False))

    def end_trial(self, trial, status=TrialStatus.COMPLETED):
        """Ends the trial now with ``status`` 'COMPLETED' or 'FAILED'.

        Optional: the runner also ends the trial when the process exits.
        On a cluster it may see the exit only at its next poll, so calling
        this just before exiting frees the slot sooner. Report nothing after.
        """
        if status not in (TrialStatus.COMPLETED, TrialStatus.FAILED):
            raise ValueError("end_trial: status must be 'COMPLETED' or "
                             "'FAILED', got {!r}".format(status))
        trial_id = _trial_id_of(trial)
        if self.test_mode:
            self.observations.append({'trial_id': trial_id, 'end': status})
            return
        self._call('POST', _TRIALS + str(trial_id) + '/end',
                   {'status': status}, trial_id)

    def keras_send_metrics(self, trial, objective_name, context_names=[]):
        """Returns a Keras callback that reports each epoch, as in SHERPA.

        At the end of every epoch it calls ``send_metrics`` with
        ``iteration=epoch`` (Keras counts epochs from 0, as SHERPA did),
        ``objective=logs[objective_name]`` and the ``context_names`` metrics
        from ``logs``. When the study asks the trial to stop, it sets
        ``model.stop_training`` so that ``fit`` returns and the script can
        save its checkpoint.

        Uses whichever of ``keras`` and ``tensorflow.keras`` the script has
        already imported, else the first that imports.
        """
        callbacks = _import_keras_callbacks()
        context_names = list(context_names)

        def on_epoch_end(epoch, logs=None):
            logs = logs or {}
            missing = [n for n in [objective_name] + context_names
                       if n not in logs]
            if missing:
                raise KeyError('keras_send_metrics: Keras logged no {} '
                               '(it logged: {})'.format(
                                   ', '.join(repr(n) for n in missing),
                                   ', '.join(sorted(logs)) or 'nothing'))
            stop = self.send_metrics(
                trial=trial, iteration=epoch, objective=logs[objective_name],
                context={n: logs[n] for n in context_names})
            model = getattr(callback, 'model', None)
            if stop and model is not None:
                model.stop_training = True

        callback = callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
        return callback

    def checkpoint_path(self, name):
        """Returns ``$SHERPA_OUTPUT_DIR/checkpoints/<name>``.

        The ``checkpoints`` folder is created; the file or folder ``name``
        is the script's to write. Typical PBT use::

            load_from = trial.parameters['load_from']
            if load_from != '':
                model.load(client.checkpoint_path(load_from))
            ...
            model.save(client.checkpoint_path(trial.parameters['save_to']))

        In test mode without ``SHERPA_OUTPUT_DIR`` the folder is
        ``./checkpoints``.
        """
        name = str(name)
        if not name:
            raise ValueError("checkpoint_path: the name is empty (PBT's "
                             "load_from is '' when there is nothing to load; "
                             "check for that first)")
        if name in ('.', '..') or '/' in name or '\0' in name:
            # One file name, or os.path.join would leave the folder (an
            # absolute name replaces it, '..' climbs out of it).
            raise ValueError('checkpoint_path: {!r} is not a checkpoint '
                             "name: one file name, without '/', and not "
                             "'.' or '..'".format(name))
        output_dir = _env('SHERPA_OUTPUT_DIR')
        if output_dir:
            folder = os.path.join(output_dir, 'checkpoints')
        elif self._checkpoint_dir:
            folder = self._checkpoint_dir
        elif self.test_mode:
            folder = os.path.join(os.getcwd(), 'checkpoints')
        else:
            raise SherpaError('SHERPA_OUTPUT_DIR is not set: '
                              + _RUN_ALONE_HINT)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, name)

    def close(self):
        """Closes the connection to the runner (a later call re-opens it)."""
        with self._lock:
            self._drop_connection()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    # ------------------------------------------------------------ helpers

    def _await_trial(self):
        # A process the runner started ahead of its trial (``prestart``):
        # the runner writes the trial to this descriptor and closes it, or
        # closes it empty when another process of the trial (or an earlier
        # client) read it first; then the server tells, by the token.
        raw = _env('SHERPA_TRIAL_FD')
        try:
            fd = int(raw)
        except ValueError:
            raise SherpaError('SHERPA_TRIAL_FD must be a descriptor number, '
                              'got {!r}'.format(raw)) from None
        try:
            # While waiting anyway: the first report then needs no connect.
            with self._lock:
                conn = self._connection()
                if conn.sock is None:
                    conn.connect()
        except (OSError, SherpaError):
            pass  # the first request connects (or reports why it cannot)
        chunks = []
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(fd)
        except OSError:
            chunks = []  # closed already (an earlier client): ask the server
        answer = None
        if chunks:
            try:
                answer = json.loads(b''.join(chunks).decode('utf-8'))
            except ValueError as e:
                raise SherpaError('the runner wrote no trial to '
                                  'SHERPA_TRIAL_FD: {}'.format(e)) from None
        else:
            # The runner is up (it just closed the descriptor) unless it
            # died: then this process has nothing to do, and should not
            # wait long to say so.
            answer = self._call('GET', '/api/v1/trial', None, None,
                                retry_seconds=min(self.retry_seconds,
                                                  _RUNNER_GONE_AFTER_SECONDS))
        if not isinstance(answer, dict) or \
                not isinstance(answer.get('id'), int):
            raise SherpaError('the runner handed this process no trial: '
                              '{!r}'.format(answer))
        with self._lock:
            self._trial_id = answer['id']
        # From now on this process (and what it starts) is an ordinary
        # trial process: a later Client reads the id and never touches the
        # descriptor number, which a file opened since may have taken.
        os.environ['SHERPA_TRIAL_ID'] = str(answer['id'])
        os.environ.pop('SHERPA_TRIAL_FD', None)
        return answer

    def _own_trial_id(self):
        if self._trial_id is not None:
            return self._trial_id
        raw = _env('SHERPA_TRIAL_ID')
        if raw is None:
            raise SherpaError('SHERPA_TRIAL_ID is not set: ' + _RUN_ALONE_HINT)
        try:
            return int(raw)
        except ValueError:
            raise SherpaError('SHERPA_TRIAL_ID must be an integer, got '
                              '{!r}'.format(raw)) from None

    def _address(self):
        if not self.host:
            raise SherpaError('SHERPA_HOST is not set: ' + _RUN_ALONE_HINT)
        if not self.port:
            raise SherpaError('SHERPA_PORT is not set: ' + _RUN_ALONE_HINT)
        try:
            return self.host, int(self.port)
        except ValueError:
            raise SherpaError('SHERPA_PORT must be an integer, got '
                              '{!r}'.format(self.port)) from None

    def _drop_connection(self):
        conn, self._conn = self._conn, None
        if conn is not None and self._conn_pid == os.getpid():
            conn.close()

    def _connection(self):
        # A forked child (e.g. a data-loader worker) must not share the
        # parent's socket: both would read each other's answers.
        if self._conn is not None and self._conn_pid != os.getpid():
            self._conn = None
        # The runner closes connections that stay idle for a few seconds
        # (an epoch is often longer). Noticing that before sending avoids a
        # failed request whose retry would be ambiguous for a POST.
        if self._conn is not None and self._conn.sock is not None \
                and _closed_by_peer(self._conn.sock):
            self._drop_connection()
        if self._conn is None:
            host, port = self._address()
            self._conn = _new_connection(host, port)
            self._conn_pid = os.getpid()
        return self._conn

    def _call(self, method, path, body, trial_id, idempotency_key=None,
              retry_seconds=None):
        """Sends one request; returns the decoded JSON answer of a 2xx.

        Retries with exponential backoff for ``retry_seconds`` (default:
        the client's) while the runner cannot be reached or answers 503;
        raises SherpaError for any other error answer. Every attempt
        carries the same ``idempotency_key`` (if given), so the runner
        records a report whose answer was lost only once, and answers the
        resend like the first copy.
        """
        import http.client  # deferred: `import sherpa` must stay instant

        payload = None
        headers = self._headers
        if body is not None:
            payload = json.dumps(body, allow_nan=False,
                                 separators=(',', ':')).encode('utf-8')
            headers = dict(headers)
            headers['Content-Type'] = 'application/json'
        if idempotency_key is not None:
            headers = dict(headers)
            headers['Idempotency-Key'] = idempotency_key
        if retry_seconds is None:
            retry_seconds = self.retry_seconds
        deadline = None
        backoff = _FIRST_BACKOFF
        # True once a failed attempt may have reached the runner; a POST
        # that is then answered "already exists" was stored the first time.
        maybe_delivered = False
        with self._lock:
            while True:
                conn = self._connection()
                reused = conn.sock is not None
                failure = None
                try:
                    if conn.sock is None:
                        conn.connect()
                except OSError as exc:  # refused, unreachable, timed out
                    self._drop_connection()
                    failure = exc
                if failure is None:
                    try:
                        conn.request(method, path, payload, headers)
                        response = conn.getresponse()
                        data = response.read()
                        status = response.status
                    except socket.timeout:
                        self._drop_connection()
                        raise SherpaError(
                            '{} {}: the runner at {}:{} did not answer '
                            'within {:.0f} s'.format(
                                method, path, conn.host, conn.port,
                                _READ_TIMEOUT)) from None
                    except (OSError, http.client.HTTPException) as exc:
                        # Typically a kept-alive connection the runner closed.
                        self._drop_connection()
                        failure = exc
                        maybe_delivered = True
                    except BaseException:
                        # E.g. KeyboardInterrupt mid-request: the connection
                        # is in an unknown state, so never reuse it.
                        self._drop_connection()
                        raise
                if failure is None and status == 503:  # shutting down
                    failure = 'HTTP 503 ' + _error_text(data)
                if failure is None:
                    break
                now = time.monotonic()
                if deadline is None:
                    deadline = now + retry_seconds
                if now >= deadline:
                    raise SherpaError(
                        '{} {}: could not reach the sherpa runner at {}:{} '
                        'for {:.1f} s ({}); is the study still running, and '
                        'are SHERPA_HOST/SHERPA_PORT right?'.format(
                            method, path, conn.host, conn.port,
                            retry_seconds, _describe(failure)))
                # A kept-alive connection that broke is replaced by a fresh
                # one at once; anything else (refused, 503) backs off.
                if not (reused and isinstance(failure, BaseException)):
                    time.sleep(min(backoff, max(0.0, deadline - now)))
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        if 200 <= status < 300:
            return _decode(data, method, path)
        raise self._error(method, path, status, data, trial_id,
                          maybe_delivered)

    def _error(self, method, path, status, data, trial_id,
               maybe_delivered):
        code, message = _server_error(data)
        if status == 409 and code == 'ALREADY_EXISTS' and maybe_delivered:
            return _AlreadyReportedOnRetry()
        hint = ''
        if status == 401:
            if not self._token:
                hint = 'SHERPA_TOKEN is not set: ' + _RUN_ALONE_HINT
            else:
                hint = ('SHERPA_TOKEN is not a token of this study; are '
                        'SHERPA_HOST/SHERPA_PORT those of the runner that '
                        'started this trial?')
        elif status == 403:
            hint = ("a trial's token (SHERPA_TOKEN) only gives access to "
                    'that trial; this request was for trial {} (the trial '
                    'of this process is SHERPA_TRIAL_ID={})'.format(
                        trial_id, _env('SHERPA_TRIAL_ID')))
        elif status == 404:
            hint = ('the runner has no trial {}; check SHERPA_TRIAL_ID and '
                    'SHERPA_HOST/SHERPA_PORT'.format(trial_id))
        elif status == 409 and code == 'ALREADY_EXISTS':
            hint = 'each send_metrics call needs a new iteration'
        elif status == 409 and path == '/api/v1/trial':
            hint = ('this process was started ahead of its trial and the '
                    'runner handed it none')
        elif status == 409:
            hint = 'the trial has ended; report nothing after end_trial'
        elif status == 413:
            hint = 'the request is over 1 MiB; send a smaller context'
        text = '{} {}: the runner answered HTTP {}{}: {}'.format(
            method, path, status, ' ' + code if code else '', message)
        if hint:
            text += ' (' + hint + ')'
        return SherpaError(text, status=status, code=code,
                           server_message=message)


class _AlreadyReportedOnRetry(SherpaError):
    def __init__(self):
        super().__init__('observation already stored')


def _new_connection(host, port):
    import http.client

    class _Connection(http.client.HTTPConnection):
        """HTTPConnection with a short connect timeout and TCP_NODELAY."""

        def connect(self):
            self.sock = socket.create_connection((self.host, self.port),
                                                 _CONNECT_TIMEOUT)
            # Every report is a small request waiting for a small answer;
            # Nagle's algorithm would hold it back for tens of milliseconds.
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                     1)
            except OSError:
                pass
            self.sock.settimeout(self.timeout)

    return _Connection(host, port, timeout=_READ_TIMEOUT)


def _closed_by_peer(sock):
    """True if an idle kept-alive socket has been closed (or reset)."""
    # Between requests nothing may arrive, so readable means EOF or an error.
    try:
        if hasattr(select, 'poll'):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # e.g. the socket was closed locally
        return True


def _describe(failure):
    if not isinstance(failure, BaseException):
        return str(failure)
    if str(failure):
        return '{}: {}'.format(type(failure).__name__, failure)
    return type(failure).__name__


def _decode(data, method, path):
    if not data:
        return {}
    try:
        answer = json.loads(data.decode('utf-8'))
    except ValueError:
        raise SherpaError('{} {}: the runner answered with invalid JSON: '
                          '{!r}'.format(method, path, data[:200])) from None
    return answer if isinstance(answer, dict) else {}


def _server_error(data):
    """Returns (code, message) of an error answer."""
    try:
        error = json.loads(data.decode('utf-8'))['error']
        return str(error.get('code') or ''), str(error.get('message') or '')
    except (ValueError, KeyError, TypeError, AttributeError):
        text = data.decode('utf-8', 'replace').strip()
        return '', text[:500] or '(no message)'


def _error_text(data):
    code, message = _server_error(data)
    return (code + ': ' + message) if code else message


def _trial_id_of(trial):
    if isinstance(trial, int) and not isinstance(trial, bool):
        return trial
    trial_id = getattr(trial, 'id', None)
    if trial_id is None:
        raise TypeError('expected the sherpa.Trial from client.get_trial() '
                        '(or a trial id), got {!r}'.format(trial))
    return int(trial_id)


def _number(value, what):
    """Returns ``value`` as a plain Python int or float (or str).

    numpy/torch scalars and 0-d arrays are converted through ``.item()``,
    so numpy is never imported here.
    """
    kind = type(value)
    if kind is float or kind is int or kind is str:  # the common case
        return value
    for _ in range(4):  # .item() may return another wrapper; don't loop
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        item = getattr(value, 'item', None)
        if not callable(item):
            break
        try:
            value = item()
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError('{} must be a single number, got {} ({})'.format(
                what, type(value).__name__, exc)) from None
    if hasattr(value, '__index__'):
        return operator.index(value)
    if hasattr(value, '__float__'):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError('{} must be a number, got {}: {!r}'.format(
        what, type(value).__name__, value))


def _objective(value):
    objective = _number(value, 'objective')
    if isinstance(objective, str):
        raise TypeError('objective must be a number, got the string '
                        '{!r}'.format(objective))
    if isinstance(objective, float) and not math.isfinite(objective):
        if math.isnan(objective):
            raise ValueError('objective is NaN: the study cannot rank a NaN '
                             'result (did the training diverge?); report a '
                             'finite value, or end the trial as FAILED')
        raise ValueError('objective is {}: report a finite value (JSON has '
                         'no infinity)'.format(objective))
    return objective


def _iteration(value):
    iteration = _number(value, 'iteration')
    if isinstance(iteration, float) and iteration.is_integer():
        return int(iteration)
    if not isinstance(iteration, int):
        raise TypeError('iteration must be an integer, got {!r}'.format(
            value))
    return iteration


def _context(context):
    if not context:
        return {}
    if not hasattr(context, 'items'):
        raise TypeError('context must be a dict of name -> number or string, '
                        'got {}'.format(type(context).__name__))
    converted = {}
    for name, value in context.items():
        key = str(name)
        value = _number(value, 'context[{!r}]'.format(key))
        if isinstance(value, float) and not math.isfinite(value):
            value = repr(value)  # 'nan', 'inf', '-inf': JSON has no NaN
        converted[key] = value
    return converted


def _import_keras_callbacks():
    import importlib
    import sys

    # Use the Keras the model was built with: a callback from another Keras
    # package may not be accepted by model.fit.
    if 'keras' in sys.modules and sys.modules['keras'] is not None:
        order = ['keras.callbacks', 'tensorflow.keras.callbacks']
    elif 'tensorflow' in sys.modules and sys.modules['tensorflow'] is not None:
        order = ['tensorflow.keras.callbacks', 'keras.callbacks']
    else:
        order = ['keras.callbacks', 'tensorflow.keras.callbacks']
    errors = []
    for name in order:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append('{}: {}'.format(name, exc))
    raise ImportError('keras_send_metrics needs Keras, but neither keras nor '
                      'tensorflow.keras can be imported ({}). Install one, '
                      'or call client.send_metrics(...) at the end of each '
                      'epoch yourself.'.format('; '.join(errors)))
