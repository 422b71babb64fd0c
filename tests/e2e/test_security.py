"""The security points of docs/reliability.md ("Security") that need a real
runner: tokens that are almost right, the warning for a non-loopback
address, and checkpoint names that would leave output_dir. (Trials reaching
for other trials and oversized requests are in test_http_api.)"""

import os
import unittest

import sherpa_e2e


def one_trial_spec(command, **extra):
    spec = {
        'parameters': [{'name': 'x', 'type': 'continuous',
                        'range': [0.0, 1.0]}],
        'algorithm': {'name': 'RandomSearch', 'max_num_trials': 2},
        'lower_is_better': False,
        'command': command,
        'max_concurrent': 2,
        'output_dir': 'out',
    }
    spec.update(extra)
    return spec


class SecurityTest(sherpa_e2e.StudyTestCase):

    def test_almost_right_tokens_open_nothing(self):
        hold = sherpa_e2e.python_command(sherpa_e2e.trial_script('hold.py'))
        self.write_spec(one_trial_spec(hold))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        one = self.wait_json('env_1.json')
        two = self.wait_json('env_2.json')
        prefix, secret = one['token'].split('.', 1)
        self.assertEqual(prefix, '1')

        def status(token, trial_id):
            return sherpa_e2e.http_request(
                one['host'], one['port'], 'GET',
                '/api/v1/trials/{}'.format(trial_id),
                headers={'Authorization': 'Bearer ' + token})[0]

        self.assertEqual(status(one['token'], 1), 200)
        flipped = secret[:-1] + ('0' if secret[-1] != '0' else '1')
        for token in ('2.' + secret,            # its secret, another id
                      '1.' + flipped,           # one character off
                      '1.' + two['token'].split('.', 1)[1],  # a mix
                      '1.', '.', '1', secret, '01.' + secret,
                      '1.' + secret + 'x', '1.' + secret[:-1]):
                # (A NUL after the right token is not here: cpp-httplib
                # 0.11 ends the header value at the NUL, so the server sees
                # the right token. Knowing the token is the point anyway.)
            with self.subTest(token=token):
                self.assertIn(status(token, 1), (400, 401))
                self.assertIn(status(token, 2), (400, 401))
        for trial_id in (1, 2):
            self.write('release_{}'.format(trial_id), '')
        self.assertEqual(self.wait_exit(runner), 0,
                         self.read('runner.stderr'))

    def test_non_loopback_address_is_warned_about_loudly(self):
        command = 'sherpa trial report -i 1 -o 0.5'
        self.write_spec(one_trial_spec(command), 'local.json')
        result = self.sherpa('run', 'local.json')
        self.assert_run_ok(result)
        self.assertIn('127.0.0.1', result.stderr)
        self.assertNotIn('WARNING', result.stderr)

        self.write_spec(one_trial_spec(command, output_dir='wide',
                                       server={'host': '0.0.0.0'}),
                        'wide.json')
        result = self.sherpa('run', 'wide.json')
        self.assert_run_ok(result)
        self.assertIn('WARNING: the trial API and dashboard listen on '
                      '0.0.0.0', result.stderr)

    def test_checkpoint_names_cannot_leave_the_checkpoints_folder(self):
        # `sherpa trial checkpoint` as a trial would run it.
        trial_env = {'SHERPA_OUTPUT_DIR': self.path('out'),
                     'SHERPA_TRIAL_ID': '17', 'SHERPA_HOST': '127.0.0.1',
                     'SHERPA_PORT': '1', 'SHERPA_TOKEN': '17.x'}
        for name, value in trial_env.items():
            self.addCleanup(os.environ.pop, name, None)
        os.environ.update(trial_env)
        for name in ('..', '.', '../study.db', '/etc/passwd', 'a/b',
                     '../../../tmp/x'):
            with self.subTest(name=name):
                result = self.sherpa('trial', 'checkpoint', name)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(result.stdout, '')
                self.assertIn('not a checkpoint name', result.stderr)
        # What PBT hands out (a trial id) is a path in the folder.
        result = self.sherpa('trial', 'checkpoint', '17')
        self.assert_run_ok(result)
        self.assertEqual(result.stdout.strip(), os.path.join(
            self.path('out'), 'checkpoints', '17'))


if __name__ == '__main__':
    unittest.main()
