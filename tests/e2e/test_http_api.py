"""The trial API under misuse: a trial reaching for another trial's data,
and malformed requests of every kind. Each must be answered with a 4xx (or
the connection closed), change nothing, and leave the server working; the
study must then complete normally.

The trials are tests/e2e/trials/hold.py: they publish their token and port
and wait until the test releases them, so the requests below are made while
the trials are really running.
"""

import json
import socket
import time
import unittest
from unittest import mock

import sherpa_e2e

OBSERVATIONS = '/api/v1/trials/{}/observations'


def hold_spec(trials):
    return {
        'parameters': [{'name': 'x', 'type': 'continuous',
                        'range': [0.0, 1.0]}],
        'algorithm': {'name': 'RandomSearch', 'max_num_trials': trials},
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('hold.py')),
        'max_concurrent': trials,
        'output_dir': 'out',
    }


class Api(object):
    """Requests to the runner a trial talks to (its env_<id>.json), as the
    holder of `token` (default: that trial's)."""

    def __init__(self, trial_env, token=None):
        self.host = trial_env['host']
        self.port = int(trial_env['port'])
        self.token = trial_env['token'] if token is None else token

    def request(self, method, path, body=None, token=None, headers=None):
        """Returns (status, JSON answer or None)."""
        all_headers = {}
        token = self.token if token is None else token
        if token:
            all_headers['Authorization'] = 'Bearer ' + token
        all_headers.update(headers or {})
        return sherpa_e2e.http_request(self.host, self.port, method, path,
                                       body, all_headers)

    def raw(self, data, timeout=10):
        """Sends raw bytes; returns the status of the answer, or None if
        the server closed the connection without one."""
        with socket.create_connection((self.host, self.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # nothing more is coming
            answer = b''
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            except ConnectionResetError:
                pass
        if not answer:
            return None
        first_line = answer.split(b'\r\n', 1)[0].split()
        return int(first_line[1])

    def works(self, trial_id):
        """A well-formed request still gets its answer, quickly."""
        started = time.monotonic()
        status, body = self.request('GET', '/api/v1/trials/{}'.format(
            trial_id))
        return status == 200 and body['id'] == trial_id and \
            time.monotonic() - started < 5


class HttpApiTest(sherpa_e2e.StudyTestCase):

    def start_held_study(self, trials):
        self.write_spec(hold_spec(trials))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        envs = {i: self.wait_json('env_{}.json'.format(i))
                for i in range(1, trials + 1)}
        return runner, envs

    def release(self, trial_id, reports):
        self.write('release_{}'.format(trial_id),
                   json.dumps({'reports': reports}))

    def finish(self, runner):
        self.assertEqual(self.wait_exit(runner), 0,
                         self.read('runner.stderr'))

    def stored_observations(self, trial_id):
        return self.db('out').execute(
            'SELECT iteration, objective FROM observations '
            'WHERE trial_id = ? ORDER BY iteration', (trial_id,)).fetchall()

    def test_trial_token_cannot_reach_another_trial(self):
        runner, envs = self.start_held_study(3)
        victim, thief = 1, Api(envs[2])

        # Every trial endpoint, aimed at a running trial, a trial that does
        # not exist and one that will exist, with trial 2's token.
        for target in (victim, 3, 999):
            base = '/api/v1/trials/{}'.format(target)
            for method, path, body in (
                    ('GET', base, None),
                    ('POST', base + '/observations',
                     '{"iteration": 7, "objective": 123.0}'),
                    ('GET', base + '/stop', None),
                    ('POST', base + '/stop', None),
                    ('POST', base + '/end', '{"status": "FAILED"}')):
                with self.subTest(method=method, path=path):
                    status, answer = thief.request(method, path, body)
                    self.assertEqual(status, 403, answer)
                    self.assertEqual(answer['error']['code'],
                                     'PERMISSION_DENIED')
        self.assertEqual(thief.request('GET', '/api/v1/study')[0], 403)

        # The Python client says the same, as a SherpaError.
        import sherpa
        with mock.patch.dict('os.environ', {
                'SHERPA_HOST': thief.host, 'SHERPA_PORT': str(thief.port),
                'SHERPA_TOKEN': envs[2]['token'], 'SHERPA_TRIAL_ID': '2'}):
            client = sherpa.Client()
            with self.assertRaises(sherpa.SherpaError) as caught:
                client.send_metrics(trial=victim, iteration=8, objective=1.0)
            self.assertEqual(caught.exception.status, 403)
            client.close()

        # The token does work for its own trial: the 403s were not chance.
        self.assertTrue(thief.works(2))

        # Trial 1 ends; its token then opens nothing at all.
        self.release(1, [[1, 0.25]])
        self.wait_for(lambda: self.db_states('out').get(1) == 'COMPLETED',
                      'trial 1 to complete')
        status, answer = Api(envs[1]).request(
            'POST', OBSERVATIONS.format(1), '{"iteration": 2, '
            '"objective": 9.0}')
        self.assertEqual(status, 401, answer)

        self.release(2, [[1, 0.5]])
        self.release(3, [[1, 0.75]])
        self.finish(runner)
        # Nothing the thief sent was recorded: trial 1 has its own report
        # only, was not ended as FAILED, and trial 3 is untouched.
        self.assertEqual(self.stored_observations(1), [(1, 0.25)])
        self.assertEqual(self.stored_observations(3), [(1, 0.75)])
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'COMPLETED', 3: 'COMPLETED'})

    def test_malformed_requests_are_refused_and_change_nothing(self):
        runner, envs = self.start_held_study(1)
        api = Api(envs[1])
        path = OBSERVATIONS.format(1)

        # A slow client holding a half-sent request open must not stall the
        # others.
        slow = socket.create_connection((api.host, api.port), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(b'POST ' + path.encode() + b' HTTP/1.1\r\n'
                     b'Host: x\r\nContent-Length: 100\r\n\r\n{"itera')

        bodies = {
            'not JSON': (b'not json', None),
            'empty': (b'', None),
            'truncated': (b'{"iteration": 1, "objective": 0.', None),
            'a list': (b'[1, 2]', None),
            'a number': (b'42', None),
            'iteration a string': (
                b'{"iteration": "one", "objective": 0.5}', 'iteration'),
            'iteration fractional': (
                b'{"iteration": 1.5, "objective": 0.5}', 'iteration'),
            'iteration a boolean': (
                b'{"iteration": true, "objective": 0.5}', 'iteration'),
            'iteration too big': (
                b'{"iteration": 99999999999999999999, "objective": 0.5}',
                'iteration'),
            'iteration missing': (b'{"objective": 0.5}', 'iteration'),
            'objective missing': (b'{"iteration": 1}', 'objective'),
            'objective a string': (
                b'{"iteration": 1, "objective": "high"}', 'objective'),
            'objective null': (
                b'{"iteration": 1, "objective": null}', 'objective'),
            'objective NaN': (b'{"iteration": 1, "objective": NaN}', None),
            'context a string': (
                b'{"iteration": 1, "objective": 0.5, "context": "x"}',
                'context'),
            'context nested': (
                b'{"iteration": 1, "objective": 0.5, '
                b'"context": {"loss": [1]}}', 'context.loss'),
            'unknown field': (
                b'{"iteration": 1, "objective": 0.5, "epoch": 1}', 'epoch'),
            'deeply nested': (b'[' * 200000 + b']' * 200000, None),
        }
        for name, (body, field) in bodies.items():
            with self.subTest(body=name):
                status, answer = api.request('POST', path, body)
                self.assertEqual(status, 400, answer)
                self.assertEqual(answer['error']['code'], 'INVALID_ARGUMENT')
                if field:
                    self.assertIn(field, answer['error']['message'])

        with self.subTest('over 1 MiB'):
            status, _ = api.request('POST', path, b' ' * ((1 << 20) + 1))
            self.assertEqual(status, 413)
        with self.subTest('/end with a bad status'):
            for body in (b'{"status": "BOGUS"}', b'{"status": 3}', b'nope'):
                self.assertEqual(api.request(
                    'POST', '/api/v1/trials/1/end', body)[0], 400)
        with self.subTest('paths'):
            for bad in ('/api/v1/trials/abc', '/api/v1/trials/-1',
                        '/api/v1/trials/99999999999999999999999',
                        '/api/v1/nothing'):
                self.assertIn(api.request('GET', bad)[0], (403, 404), bad)
            self.assertIn(api.request('DELETE', '/api/v1/trials/1')[0],
                          (404, 405))
        with self.subTest('authentication'):
            for header in ({}, {'Authorization': 'Basic dXNlcjpwdw=='},
                           {'Authorization': 'Bearer'},
                           {'Authorization': 'Bearer ' + api.token + 'x'}):
                self.assertEqual(api.request('POST', path,
                                             b'{"iteration": 5, '
                                             b'"objective": 5.0}',
                                             token='', headers=header)[0],
                                 401, header)

        raw_requests = {
            'TLS hello': b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
            'no version': b'HELLO\r\n\r\n',
            'NUL bytes': b'\x00' * 1000 + b'\r\n\r\n',
            'header of 100 kB': b'GET /api/v1/trials/1 HTTP/1.1\r\nX: ' +
            b'a' * 100000 + b'\r\n\r\n',
            'bad chunk size': b'POST ' + path.encode() + b' HTTP/1.1\r\n'
            b'Host: x\r\nAuthorization: Bearer ' + api.token.encode() +
            b'\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
            'short body': b'POST ' + path.encode() + b' HTTP/1.1\r\n'
            b'Host: x\r\nAuthorization: Bearer ' + api.token.encode() +
            b'\r\nContent-Length: 50\r\n\r\n{"iteration": 6, ',
            'binary noise': bytes(range(256)) * 64,
        }
        for name, data in raw_requests.items():
            with self.subTest(raw=name):
                status = api.raw(data)
                if status is not None:
                    self.assertTrue(400 <= status < 500, status)
                self.assertTrue(api.works(1), 'the server stopped answering')

        # The trial's own valid report works, and is not taken twice.
        self.assertEqual(api.request('POST', path, b'{"iteration": 1, '
                                     b'"objective": 0.25}'),
                         (200, {'stop': False}))
        status, answer = api.request('POST', path, b'{"iteration": 1, '
                                     b'"objective": 0.5}')
        self.assertEqual((status, answer['error']['code']),
                         (409, 'ALREADY_EXISTS'))

        slow.close()
        self.release(1, [[2, 0.5]])
        self.finish(runner)
        # Only the two valid reports were recorded.
        self.assertEqual(self.stored_observations(1), [(1, 0.25), (2, 0.5)])
        final = self.final_rows(self.results('out'))
        self.assertEqual(final[1]['Status'], 'COMPLETED')

    def test_out_of_range_numbers_and_bad_utf8_are_client_errors(self):
        # These are the client's mistakes: 4xx, not 500. (Number overflow
        # throws out_of_range in nlohmann-json, and an error message quoting
        # invalid bytes must still serialize.)
        runner, envs = self.start_held_study(1)
        api = Api(envs[1])
        try:
            for body in (b'{"iteration": 1, "objective": 1e400}',
                         b'{"iteration": 1, "objective": -1e400}',
                         b'\xff\xfe',
                         b'{"iteration": 1, "objective": 0.5, '
                         b'"context": {"a": "\xff"}}'):
                with self.subTest(body=body):
                    status, _ = api.request('POST', OBSERVATIONS.format(1),
                                            body)
                    self.assertEqual(status, 400)
        finally:
            self.release(1, [[1, 0.5]])
            self.finish(runner)
        self.assertEqual(self.stored_observations(1), [(1, 0.5)])


if __name__ == '__main__':
    unittest.main()
