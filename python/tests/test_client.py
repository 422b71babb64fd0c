"""Unit tests of the trial-side ``sherpa`` module against a stand-in runner.

The stand-in (``FakeRunner``) implements the trial endpoints of
docs/http_api.md in a few lines of http.server; the real C++ server is
tested end to end elsewhere. Run from the repository root:

    python3 -m unittest discover -s python/tests -v
"""

import importlib.util
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _PYTHON_DIR)

import sherpa  # noqa: E402  (after the path set-up)

STUDY_TOKEN = 'study-secret'
_PATH = re.compile(r'^/api/v1/trials/(\d+)(/observations|/stop|/end)?$')


class FakeRunner(object):
    """A stand-in for the runner's trial API, recording what it receives."""

    def __init__(self, port=0):
        self.trials = {}  # id -> {'parameters', 'token'}
        self.observations = {}  # id -> {iteration: body}
        self.ended = {}  # id -> status
        self.stop_ids = set()
        self.requests = []  # (method, path, headers)
        self.connections = 0
        self.drop_next_answer = False  # close without answering, once
        self.close_after_answer = False  # like an idle timeout, each time
        self.unavailable = 0  # answer this many requests with 503
        # Like the runner: a report resent with a key already seen is not
        # stored again and gets the first copy's answer. False plays a
        # runner that no longer holds the key.
        self.honor_keys = True
        self.keys = {}  # (trial id, Idempotency-Key) -> the stop answered
        self.lock = threading.Lock()
        runner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'  # keep-alive
            # http.server writes the headers and the body separately; with
            # Nagle's algorithm on, each answer would wait ~40 ms for the
            # client's delayed ACK.
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with runner.lock:
                    runner.connections += 1

            def log_message(self, *args):
                pass

            def do_GET(self):
                runner.handle(self, 'GET')

            def do_POST(self):
                runner.handle(self, 'POST')

        self.server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       args=(0.02,),  # fast shutdown()
                                       daemon=True)
        self.thread.start()

    def add_trial(self, trial_id, parameters, token):
        self.trials[trial_id] = {'parameters': parameters, 'token': token}

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def reply(handler, status, body):
        data = json.dumps(body).encode('utf-8')
        handler.send_response(status)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def error(self, handler, status, code, message):
        self.reply(handler, status, {'error': {'code': code,
                                               'message': message}})

    def handle(self, handler, method):
        length = int(handler.headers.get('Content-Length') or 0)
        raw = handler.rfile.read(length) if length else b''
        with self.lock:
            self.requests.append((method, handler.path,
                                  dict(handler.headers)))
        if self.unavailable > 0:
            self.unavailable -= 1
            return self.error(handler, 503, 'UNAVAILABLE', 'shutting down')
        if (method, handler.path) == ('GET', '/api/v1/trial'):
            # The trial of the token (a process started ahead whose
            # descriptor came empty).
            auth = handler.headers.get('Authorization', '')
            owners = [i for i, t in self.trials.items()
                      if 'Bearer ' + t['token'] == auth]
            if not owners:
                return self.error(handler, 409, 'FAILED_PRECONDITION',
                                  'no trial yet')
            return self.reply(handler, 200, {
                'id': owners[0],
                'parameters': self.trials[owners[0]]['parameters']})
        match = _PATH.match(handler.path)
        if not match:
            return self.error(handler, 404, 'NOT_FOUND', 'unknown path')
        trial_id, action = int(match.group(1)), match.group(2) or ''
        auth = handler.headers.get('Authorization', '')
        token = auth[len('Bearer '):] if auth.startswith('Bearer ') else ''
        owners = [i for i, t in self.trials.items() if t['token'] == token]
        if token != STUDY_TOKEN and not owners:
            return self.error(handler, 401, 'UNAUTHENTICATED',
                              'missing or unknown token')
        if trial_id not in self.trials:
            return self.error(handler, 404, 'NOT_FOUND',
                              'no trial {}'.format(trial_id))
        if token != STUDY_TOKEN and trial_id not in owners:
            return self.error(handler, 403, 'PERMISSION_DENIED',
                              'token is not for trial {}'.format(trial_id))
        if (method, action) == ('GET', ''):
            return self.reply(handler, 200, {
                'id': trial_id,
                'parameters': self.trials[trial_id]['parameters'],
                'checkpoint_dir': '/abs/output_dir/checkpoints'})
        if (method, action) == ('GET', '/stop'):
            return self.reply(handler, 200,
                              {'stop': trial_id in self.stop_ids})
        try:
            body = json.loads(raw.decode('utf-8'))
        except ValueError:
            return self.error(handler, 400, 'INVALID_ARGUMENT', 'not JSON')
        if trial_id in self.ended:
            return self.error(handler, 409, 'FAILED_PRECONDITION',
                              'trial {} has ended'.format(trial_id))
        if (method, action) == ('POST', '/observations'):
            key = handler.headers.get('Idempotency-Key')
            if self.honor_keys and (trial_id, key) in self.keys:
                return self.reply(handler, 200,
                                  {'stop': self.keys[(trial_id, key)]})
            seen = self.observations.setdefault(trial_id, {})
            if body['iteration'] in seen:
                return self.error(
                    handler, 409, 'ALREADY_EXISTS',
                    'trial {} already reported iteration {}'.format(
                        trial_id, body['iteration']))
            seen[body['iteration']] = body
            if key is not None:
                self.keys[(trial_id, key)] = trial_id in self.stop_ids
            if self.drop_next_answer:
                # Stored, but the answer is lost: the client must not
                # report a spurious "already exists" when it retries.
                self.drop_next_answer = False
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return None
            self.reply(handler, 200, {'stop': trial_id in self.stop_ids})
            if self.close_after_answer:
                handler.close_connection = True
            return None
        if (method, action) == ('POST', '/end'):
            self.ended[trial_id] = body['status']
            return self.reply(handler, 200, {})
        return self.error(handler, 405, '', 'wrong method')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Item(object):
    """Stands for numpy/torch scalars: a number behind ``.item()``."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


class ClientTestBase(unittest.TestCase):

    def setUp(self):
        # Each test sees only the variables it sets, never the caller's.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('SHERPA_')}
        patcher = mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.runner = FakeRunner()
        self.addCleanup(self.runner.close)
        self.runner.add_trial(7, {'lr': 0.01, 'batch_size': 32,
                                  'optimizer': 'adam', 'momentum': 1.0,
                                  'load_from': '3', 'save_to': '7',
                                  'lineage': '1,3,', 'generation': 2},
                              token='token-7')
        self.runner.add_trial(8, {'lr': 0.1}, token='token-8')
        self.runner.add_trial(9, {'lr': 0.1, 'resource': 27, 'rung': 3,
                                  'load_from': '4', 'save_to': '9'},
                              token='token-9')
        self.set_env(7, 'token-7')

    def set_env(self, trial_id, token, port=None):
        os.environ.update({
            'SHERPA_TRIAL_ID': str(trial_id),
            'SHERPA_HOST': '127.0.0.1',
            'SHERPA_PORT': str(port or self.runner.port),
            'SHERPA_TOKEN': token,
        })

    def client(self, **kwargs):
        client = sherpa.Client(**kwargs)
        self.addCleanup(client.close)
        return client


class GetTrialTest(ClientTestBase):

    def test_reads_env_and_sends_token(self):
        trial = self.client().get_trial()
        self.assertEqual(trial.id, 7)
        self.assertEqual(trial.parameters['save_to'], '7')
        method, path, headers = self.runner.requests[-1]
        self.assertEqual((method, path), ('GET', '/api/v1/trials/7'))
        self.assertEqual(headers['Authorization'], 'Bearer token-7')

    def test_parameter_types_survive(self):
        params = self.client().get_trial().parameters
        self.assertIs(type(params['batch_size']), int)
        self.assertIs(type(params['generation']), int)
        self.assertIs(type(params['lr']), float)
        self.assertIs(type(params['momentum']), float)  # sent as 1.0
        self.assertIs(type(params['optimizer']), str)
        self.assertIs(type(params['load_from']), str)

    def test_successive_halving_keys_arrive_untouched(self):
        self.set_env(9, 'token-9')
        params = self.client().get_trial().parameters
        self.assertEqual(params, {'lr': 0.1, 'resource': 27, 'rung': 3,
                                  'load_from': '4', 'save_to': '9'})
        self.assertIs(type(params['resource']), int)
        self.assertIs(type(params['rung']), int)

    def test_host_and_port_arguments_win_over_env(self):
        port = self.runner.port
        os.environ['SHERPA_HOST'] = 'nowhere.invalid'
        os.environ['SHERPA_PORT'] = '1'
        trial = self.client(host='127.0.0.1', port=port).get_trial()
        self.assertEqual(trial.id, 7)

    def test_mongo_era_arguments_are_ignored(self):
        client = self.client(serverSelectionTimeoutMS=5000, connect=False)
        self.assertEqual(client.get_trial().id, 7)

    def test_repr(self):
        self.assertEqual(repr(sherpa.Trial(1, {'lr': 0.5})),
                         "Trial(id=1, parameters={'lr': 0.5})")

    def test_missing_trial_id_explains_how_to_run_alone(self):
        del os.environ['SHERPA_TRIAL_ID']
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client().get_trial()
        self.assertEqual(
            str(ctx.exception),
            'SHERPA_TRIAL_ID is not set: this script is meant to be run by '
            '`sherpa run`; use sherpa.Client(test_mode=True) to run it alone')
        self.assertIsInstance(ctx.exception, RuntimeError)

    def test_missing_port_is_named(self):
        del os.environ['SHERPA_PORT']
        with self.assertRaisesRegex(sherpa.SherpaError,
                                    '^SHERPA_PORT is not set'):
            self.client().get_trial()

    def test_bad_trial_id_is_named(self):
        os.environ['SHERPA_TRIAL_ID'] = 'seven'
        with self.assertRaisesRegex(sherpa.SherpaError,
                                    "SHERPA_TRIAL_ID must be an integer, "
                                    "got 'seven'"):
            self.client().get_trial()

    def test_401_missing_token(self):
        del os.environ['SHERPA_TOKEN']
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client().get_trial()
        self.assertEqual(ctx.exception.status, 401)
        self.assertEqual(ctx.exception.code, 'UNAUTHENTICATED')
        self.assertIn('missing or unknown token', str(ctx.exception))
        self.assertIn('SHERPA_TOKEN is not set', str(ctx.exception))

    def test_401_unknown_token(self):
        os.environ['SHERPA_TOKEN'] = 'forged'
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client().get_trial()
        self.assertEqual(ctx.exception.status, 401)
        self.assertIn('not a token of this study', str(ctx.exception))

    def test_403_other_trials_token(self):
        os.environ['SHERPA_TOKEN'] = 'token-8'
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client().get_trial()
        self.assertEqual(ctx.exception.status, 403)
        self.assertEqual(ctx.exception.server_message,
                         'token is not for trial 7')
        self.assertIn('HTTP 403 PERMISSION_DENIED: token is not for trial 7',
                      str(ctx.exception))

    def test_404_unknown_trial(self):
        self.set_env(99, STUDY_TOKEN)
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client().get_trial()
        self.assertEqual(ctx.exception.status, 404)
        self.assertIn('no trial 99', str(ctx.exception))
        self.assertIn('SHERPA_TRIAL_ID', str(ctx.exception))

    def test_retries_until_the_runner_appears(self):
        port = _free_port()
        self.set_env(7, 'token-7', port=port)
        late = {}

        def start_late():
            time.sleep(0.5)
            late['runner'] = FakeRunner(port)
            late['runner'].add_trial(7, {'lr': 0.5}, token='token-7')

        starter = threading.Thread(target=start_late)
        starter.start()
        try:
            began = time.monotonic()
            trial = self.client().get_trial()
            waited = time.monotonic() - began
        finally:
            starter.join()
            if 'runner' in late:
                late['runner'].close()
        self.assertEqual(trial.parameters, {'lr': 0.5})
        self.assertGreaterEqual(waited, 0.4)
        self.assertLess(waited, 5.0)

    def test_gives_up_after_retry_seconds(self):
        self.set_env(7, 'token-7', port=_free_port())
        began = time.monotonic()
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.client(retry_seconds=0.5).get_trial()
        self.assertLess(time.monotonic() - began, 3.0)
        self.assertIn('could not reach the sherpa runner', str(ctx.exception))
        self.assertIn('ConnectionRefusedError', str(ctx.exception))


class StartedAheadTest(ClientTestBase):
    """A process the runner started ahead of its trial (prestart): its
    trial arrives on the descriptor SHERPA_TRIAL_FD names."""

    def start_ahead(self, token):
        ours, runners = socket.socketpair()
        self.addCleanup(runners.close)
        del os.environ['SHERPA_TRIAL_ID']
        os.environ['SHERPA_TRIAL_FD'] = str(ours.detach())  # the client closes it
        os.environ['SHERPA_TOKEN'] = token
        return runners

    def hand_off_later(self, runners, message):
        def run():
            time.sleep(0.05)
            if message:
                runners.sendall(message)
            runners.close()
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join)

    def test_waits_for_its_trial_and_becomes_that_trials_process(self):
        runners = self.start_ahead('token-8')
        self.hand_off_later(runners, json.dumps(
            {'id': 8, 'parameters': {'lr': 0.1}}).encode())
        client = self.client()
        trial = client.get_trial()
        self.assertEqual(trial.id, 8)
        self.assertEqual(trial.parameters, {'lr': 0.1})
        # No request was needed, but the connection was opened while waiting.
        self.assertEqual(self.runner.requests, [])
        self.assertEqual(self.runner.connections, 1)
        self.assertEqual(os.environ.get('SHERPA_TRIAL_ID'), '8')
        self.assertNotIn('SHERPA_TRIAL_FD', os.environ)
        client.send_metrics(trial, 1, 0.5)
        self.assertEqual(self.runner.requests[-1][:2],
                         ('POST', '/api/v1/trials/8/observations'))
        self.assertEqual(self.runner.connections, 1)
        # A second get_trial asks the runner by id, like any trial.
        self.assertEqual(client.get_trial().id, 8)
        self.assertEqual(self.runner.requests[-1][:2],
                         ('GET', '/api/v1/trials/8'))

    def test_an_empty_descriptor_means_ask_by_token(self):
        self.hand_off_later(self.start_ahead('token-9'), b'')
        trial = self.client().get_trial()
        self.assertEqual(trial.id, 9)
        self.assertEqual(trial.parameters['save_to'], '9')
        self.assertEqual(self.runner.requests[-1][:2],
                         ('GET', '/api/v1/trial'))

    def test_a_descriptor_that_is_no_number_is_named(self):
        del os.environ['SHERPA_TRIAL_ID']
        os.environ['SHERPA_TRIAL_FD'] = 'three'
        with self.assertRaises(sherpa.SherpaError) as raised:
            self.client().get_trial()
        self.assertIn("SHERPA_TRIAL_FD must be a descriptor number, got "
                      "'three'", str(raised.exception))

    def test_a_message_that_is_no_trial_is_an_error(self):
        self.hand_off_later(self.start_ahead('token-8'), b'{"id": 8')
        with self.assertRaises(sherpa.SherpaError) as raised:
            self.client().get_trial()
        self.assertIn('the runner wrote no trial to SHERPA_TRIAL_FD',
                      str(raised.exception))

    def test_no_trial_for_the_token_is_an_error(self):
        self.hand_off_later(self.start_ahead('s1.nobody'), b'')
        with self.assertRaises(sherpa.SherpaError) as raised:
            self.client().get_trial()
        self.assertIn('no trial yet', str(raised.exception))


class SendMetricsTest(ClientTestBase):

    def setUp(self):
        super().setUp()
        self.sherpa_client = self.client()
        self.trial = self.sherpa_client.get_trial()

    def test_body(self):
        stop = self.sherpa_client.send_metrics(
            trial=self.trial, iteration=3, objective=0.913,
            context={'loss': 0.25, 'epoch_time': 4.1, 'phase': 'warmup'})
        self.assertIs(stop, False)
        method, path, headers = self.runner.requests[-1]
        self.assertEqual((method, path),
                         ('POST', '/api/v1/trials/7/observations'))
        self.assertEqual(headers['Content-Type'], 'application/json')
        self.assertEqual(headers['Authorization'], 'Bearer token-7')
        self.assertEqual(self.runner.observations[7][3], {
            'iteration': 3, 'objective': 0.913,
            'context': {'loss': 0.25, 'epoch_time': 4.1, 'phase': 'warmup'}})

    def test_positional_arguments_and_no_context(self):
        self.sherpa_client.send_metrics(self.trial, 1, 5)
        self.assertEqual(self.runner.observations[7][1],
                         {'iteration': 1, 'objective': 5})

    def test_numpy_like_scalars_become_python_numbers(self):
        self.sherpa_client.send_metrics(
            self.trial, Item(2), Item(0.5),
            context={'acc': Item(0.75), 'steps': Item(100),
                     'nested': Item(Item(1.5)), 'flag': True})
        sent = self.runner.observations[7][2]
        self.assertEqual(sent, {'iteration': 2, 'objective': 0.5,
                                'context': {'acc': 0.75, 'steps': 100,
                                            'nested': 1.5, 'flag': 1}})
        self.assertIs(type(sent['context']['steps']), int)

    def test_other_number_types(self):
        import decimal
        import fractions
        self.sherpa_client.send_metrics(
            self.trial, 4.0, decimal.Decimal('0.25'),
            context={'f': fractions.Fraction(1, 4)})
        self.assertEqual(self.runner.observations[7][4],
                         {'iteration': 4, 'objective': 0.25,
                          'context': {'f': 0.25}})

    @unittest.skipUnless(importlib.util.find_spec('numpy'), 'numpy is absent')
    def test_real_numpy_scalars(self):
        import numpy
        self.sherpa_client.send_metrics(
            self.trial, numpy.int64(5), numpy.float32(0.5),
            context={'a': numpy.array(2.5), 'b': numpy.float64(1.25),
                     'c': numpy.int32(3)})
        self.assertEqual(self.runner.observations[7][5],
                         {'iteration': 5, 'objective': 0.5,
                          'context': {'a': 2.5, 'b': 1.25, 'c': 3}})

    def test_nan_objective_refused_before_sending(self):
        before = len(self.runner.requests)
        for bad in (float('nan'), Item(float('nan'))):
            with self.assertRaisesRegex(ValueError, 'objective is NaN'):
                self.sherpa_client.send_metrics(self.trial, 1, bad)
        with self.assertRaisesRegex(ValueError, 'objective is inf'):
            self.sherpa_client.send_metrics(self.trial, 1, math.inf)
        self.assertEqual(len(self.runner.requests), before)

    def test_non_finite_context_is_sent_as_text(self):
        self.sherpa_client.send_metrics(
            self.trial, 1, 0.5,
            context={'loss': float('nan'), 'grad': -math.inf})
        self.assertEqual(self.runner.observations[7][1]['context'],
                         {'loss': 'nan', 'grad': '-inf'})

    def test_bad_values_are_named(self):
        with self.assertRaisesRegex(TypeError, "context\\['x'\\]"):
            self.sherpa_client.send_metrics(self.trial, 1, 0.5,
                                            context={'x': None})
        with self.assertRaisesRegex(TypeError, 'objective must be a number'):
            self.sherpa_client.send_metrics(self.trial, 1, '0.5')
        with self.assertRaisesRegex(TypeError, 'iteration must be an integer'):
            self.sherpa_client.send_metrics(self.trial, 1.5, 0.5)

    def test_409_repeated_iteration(self):
        self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.sherpa_client.send_metrics(self.trial, 1, 0.6)
        self.assertEqual(ctx.exception.status, 409)
        self.assertEqual(ctx.exception.code, 'ALREADY_EXISTS')
        self.assertIn('trial 7 already reported iteration 1',
                      str(ctx.exception))

    def test_409_after_end(self):
        self.sherpa_client.end_trial(self.trial)
        self.assertEqual(self.runner.ended[7], 'COMPLETED')
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        self.assertEqual(ctx.exception.code, 'FAILED_PRECONDITION')
        self.assertIn('trial 7 has ended', str(ctx.exception))

    def test_403_reporting_for_another_trial(self):
        with self.assertRaises(sherpa.SherpaError) as ctx:
            self.sherpa_client.send_metrics(sherpa.Trial(8, {}), 1, 0.5)
        self.assertEqual(ctx.exception.status, 403)

    def test_stop_flag(self):
        self.assertIs(self.sherpa_client.should_stop(self.trial), False)
        self.runner.stop_ids.add(7)
        self.assertIs(self.sherpa_client.should_stop(self.trial), True)
        self.assertIs(self.sherpa_client.send_metrics(self.trial, 1, 0.5),
                      True)

    def test_end_trial_status_is_checked(self):
        with self.assertRaisesRegex(ValueError, "'COMPLETED' or 'FAILED'"):
            self.sherpa_client.end_trial(self.trial, 'DONE')
        self.sherpa_client.end_trial(self.trial, sherpa.TrialStatus.FAILED)
        self.assertEqual(self.runner.ended[7], 'FAILED')

    def test_one_connection_for_many_reports(self):
        for i in range(1, 201):
            self.sherpa_client.send_metrics(self.trial, i, 0.5)
        self.assertEqual(len(self.runner.observations[7]), 200)
        self.assertEqual(self.runner.connections, 1)

    def test_socket_has_nodelay(self):
        sock = self.sherpa_client._conn.sock
        self.assertTrue(sock.getsockopt(socket.IPPROTO_TCP,
                                        socket.TCP_NODELAY))

    def test_reconnects_when_the_connection_breaks(self):
        self.sherpa_client._conn.sock.close()  # e.g. the runner restarted
        self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        self.assertEqual(self.runner.connections, 2)
        self.assertIn(1, self.runner.observations[7])

    def test_reconnects_after_the_runner_closed_an_idle_connection(self):
        self.runner.close_after_answer = True
        for i in range(1, 4):
            self.sherpa_client.send_metrics(self.trial, i, 0.5)
            time.sleep(0.05)  # let the close arrive, as after an epoch
        self.assertEqual(sorted(self.runner.observations[7]), [1, 2, 3])
        self.assertEqual(self.runner.connections, 3)  # one per POST
        posts = [r for r in self.runner.requests if r[0] == 'POST']
        self.assertEqual(len(posts), 3)  # none failed and was re-sent

    def test_503_is_retried_with_backoff(self):
        self.runner.unavailable = 3
        began = time.monotonic()
        self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        self.assertGreaterEqual(time.monotonic() - began, 0.05 + 0.1 + 0.2)
        self.assertIn(1, self.runner.observations[7])
        with self.assertRaisesRegex(sherpa.SherpaError,
                                    'HTTP 503 UNAVAILABLE: shutting down'):
            self.runner.unavailable = 1000
            self.client(retry_seconds=0.3).get_trial()

    def test_lost_answer_is_resent_with_the_same_key(self):
        self.runner.drop_next_answer = True
        self.runner.stop_ids.add(7)
        stop = self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        self.assertIs(stop, True)  # the first copy's answer
        self.assertEqual(list(self.runner.observations[7]), [1])
        posts = [r for r in self.runner.requests if r[0] == 'POST']
        self.assertEqual(len(posts), 2)
        first, resent = [r[2].get('Idempotency-Key') for r in posts]
        self.assertTrue(first)
        self.assertEqual(first, resent)
        self.assertFalse([r for r in self.runner.requests
                          if r[1].endswith('/stop')])  # no second question
        self.sherpa_client.send_metrics(self.trial, 2, 0.5)
        posts = [r for r in self.runner.requests if r[0] == 'POST']
        self.assertNotEqual(posts[2][2].get('Idempotency-Key'), first)
        self.assertEqual(sorted(self.runner.observations[7]), [1, 2])

    def test_lost_answer_is_not_a_repeated_iteration(self):
        # A runner that no longer holds the key refuses the resend as a
        # repeated iteration: the report was stored the first time.
        self.runner.honor_keys = False
        self.runner.drop_next_answer = True
        self.runner.stop_ids.add(7)
        stop = self.sherpa_client.send_metrics(self.trial, 1, 0.5)
        self.assertIs(stop, True)  # fetched with GET .../stop instead
        self.assertEqual(list(self.runner.observations[7]), [1])

    def test_throughput(self):
        n = 2000
        began = time.perf_counter()
        for i in range(1, n + 1):
            self.sherpa_client.send_metrics(self.trial, i, 0.5,
                                            context={'loss': 0.1})
        seconds = time.perf_counter() - began
        sys.stderr.write('\n    {} reports in {:.2f} s: {:.0f} reports/s '
                         '(stand-in server, one connection) ... '.format(
                             n, seconds, n / seconds))
        self.assertEqual(self.runner.connections, 1)


class TrialScriptTest(ClientTestBase):

    def test_unchanged_sherpa_script_in_its_own_process(self):
        # As the runner starts it: environment variables plus PYTHONPATH.
        script = '\n'.join([
            'import sherpa',
            'client = sherpa.Client()',
            'trial = client.get_trial()',
            'for i in range(3):',
            '    client.send_metrics(trial=trial, iteration=i + 1,',
            "                        objective=trial.parameters['lr'] * i,",
            "                        context={'loss': 1.0 / (i + 1)})",
        ])
        env = dict(os.environ, PYTHONPATH=_PYTHON_DIR)
        subprocess.check_call([sys.executable, '-c', script], env=env)
        self.assertEqual(self.runner.observations[7][3],
                         {'iteration': 3, 'objective': 0.02,
                          'context': {'loss': 1.0 / 3}})


class TestModeTest(ClientTestBase):

    def test_default_trial_like_sherpa(self):
        for name in ('SHERPA_TRIAL_ID', 'SHERPA_HOST', 'SHERPA_PORT',
                     'SHERPA_TOKEN'):
            del os.environ[name]
        client = self.client(test_mode=True)
        trial = client.get_trial()
        self.assertEqual((trial.id, trial.parameters), (1, {}))
        self.assertIs(client.send_metrics(trial, 1, 0.5), False)
        self.assertIs(client.should_stop(trial), False)
        self.assertEqual(client.observations,
                         [{'trial_id': 1, 'iteration': 1, 'objective': 0.5}])

    def test_given_parameters_and_checks_still_apply(self):
        client = self.client(test_mode=True,
                             test_parameters={'lr': 0.1, 'load_from': ''})
        trial = client.get_trial()
        self.assertEqual(trial.parameters, {'lr': 0.1, 'load_from': ''})
        client.send_metrics(trial, Item(1), Item(0.25), {'loss': Item(2)})
        self.assertEqual(client.observations[-1],
                         {'trial_id': 1, 'iteration': 1, 'objective': 0.25,
                          'context': {'loss': 2}})
        with self.assertRaises(ValueError):
            client.send_metrics(trial, 2, float('nan'))
        self.assertEqual(self.runner.requests, [])  # nothing was sent


class CheckpointPathTest(ClientTestBase):

    def test_under_output_dir(self):
        with tempfile.TemporaryDirectory() as output_dir:
            os.environ['SHERPA_OUTPUT_DIR'] = output_dir
            path = self.client().checkpoint_path(7)
            self.assertEqual(path,
                             os.path.join(output_dir, 'checkpoints', '7'))
            self.assertTrue(os.path.isdir(os.path.dirname(path)))

    def test_empty_name_refused(self):
        with tempfile.TemporaryDirectory() as output_dir:
            os.environ['SHERPA_OUTPUT_DIR'] = output_dir
            with self.assertRaisesRegex(ValueError, 'load_from'):
                self.client().checkpoint_path('')

    def test_hostile_names_refused(self):
        # Each would make a path outside the checkpoints folder.
        with tempfile.TemporaryDirectory() as output_dir:
            os.environ['SHERPA_OUTPUT_DIR'] = output_dir
            for name in ('.', '..', '../study.db', '/etc/passwd', 'a/b',
                         'x\0y'):
                with self.subTest(name=name):
                    with self.assertRaisesRegex(ValueError,
                                                'not a checkpoint name'):
                        self.client().checkpoint_path(name)

    def test_missing_output_dir(self):
        with self.assertRaisesRegex(sherpa.SherpaError,
                                    '^SHERPA_OUTPUT_DIR is not set'):
            self.client().checkpoint_path('7')

    def test_test_mode_uses_working_directory(self):
        with tempfile.TemporaryDirectory() as cwd:
            old = os.getcwd()
            os.chdir(cwd)
            try:
                path = sherpa.Client(test_mode=True).checkpoint_path('1')
                self.assertEqual(os.path.realpath(path), os.path.join(
                    os.path.realpath(cwd), 'checkpoints', '1'))
            finally:
                os.chdir(old)


class KerasTest(ClientTestBase):

    def test_import_error_without_keras(self):
        # None in sys.modules makes an import fail, whatever is installed.
        blocked = {'keras': None, 'keras.callbacks': None,
                   'tensorflow': None, 'tensorflow.keras': None,
                   'tensorflow.keras.callbacks': None}
        with mock.patch.dict(sys.modules, blocked):
            with self.assertRaises(ImportError) as ctx:
                self.client().keras_send_metrics(sherpa.Trial(7, {}), 'acc')
        self.assertIn('neither keras nor tensorflow.keras',
                      str(ctx.exception))
        self.assertIn('send_metrics', str(ctx.exception))

    def test_callback_reports_each_epoch_like_sherpa(self):
        class LambdaCallback(object):
            def __init__(self, on_epoch_end=None):
                self.on_epoch_end = on_epoch_end
                self.model = None

        keras = types.ModuleType('keras')
        keras.callbacks = types.ModuleType('keras.callbacks')
        keras.callbacks.LambdaCallback = LambdaCallback
        with mock.patch.dict(sys.modules, {'keras': keras,
                                           'keras.callbacks':
                                               keras.callbacks}):
            client = self.client()
            trial = client.get_trial()
            callback = client.keras_send_metrics(
                trial, 'val_acc', context_names=['loss'])
        callback.model = types.SimpleNamespace(stop_training=False)
        callback.on_epoch_end(0, {'val_acc': Item(0.5), 'loss': 1.0})
        self.assertEqual(self.runner.observations[7][0],
                         {'iteration': 0, 'objective': 0.5,
                          'context': {'loss': 1.0}})
        self.assertFalse(callback.model.stop_training)
        self.runner.stop_ids.add(7)
        callback.on_epoch_end(1, {'val_acc': 0.6, 'loss': 0.9})
        self.assertTrue(callback.model.stop_training)
        with self.assertRaisesRegex(KeyError, "'val_acc'.*it logged: loss"):
            callback.on_epoch_end(2, {'loss': 0.8})


class ModuleTest(unittest.TestCase):

    def test_constants(self):
        self.assertEqual(sherpa.TrialStatus.COMPLETED, 'COMPLETED')
        self.assertEqual(sherpa.TrialStatus.INTERMEDIATE, 'INTERMEDIATE')
        self.assertEqual(sherpa.TrialStatus.FAILED, 'FAILED')
        self.assertEqual(sherpa.TrialStatus.STOPPED, 'STOPPED')
        self.assertEqual(sherpa.AlgorithmState.DONE, 'DONE')
        self.assertEqual(sherpa.AlgorithmState.WAIT, 'WAIT')
        self.assertRegex(sherpa.__version__, r'^\d+\.\d+\.\d+')
        from sherpa.database import Client
        self.assertIs(Client, sherpa.Client)

    def test_runner_side_names_explain_themselves(self):
        with self.assertRaisesRegex(AttributeError, 'runner side'):
            sherpa.Continuous('lr', [0.1, 1.0])
        self.assertFalse(hasattr(sherpa, 'Study'))

    def test_import_needs_only_the_standard_library(self):
        code = ('import sys, time; t = time.perf_counter(); import sherpa; '
                't = time.perf_counter() - t; '
                "heavy = [m for m in ('numpy', 'pandas', 'pymongo', 'keras', "
                "'tensorflow', 'torch', 'http.client') if m in sys.modules]; "
                'print(heavy, t)')
        env = dict(os.environ, PYTHONPATH=_PYTHON_DIR)
        out = subprocess.check_output([sys.executable, '-c', code], env=env,
                                      universal_newlines=True)
        heavy, seconds = out.rsplit(' ', 1)
        self.assertEqual(heavy, '[]')
        self.assertLess(float(seconds), 0.5)


if __name__ == '__main__':
    unittest.main()
