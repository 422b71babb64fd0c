"""prestart: trial processes started ahead of their trials, handed a trial
through descriptor 3 when a slot frees. Each trial must still get exactly
its own trial, report to it, keep its output under jobs/trial_<id>.out, and
nothing may be left running; a script that cannot start ahead turns
prestart off without failing the study."""

import json
import os
import signal
import time
import unittest

import sherpa_e2e

# Records what a Python trial process saw, before and after get_trial.
PYTHON_TRIAL = r'''
import json, os, sys, time
started = time.time()
with open('pgid_0_{}'.format(os.getpid()), 'w') as f:
    f.write(str(os.getpgid(0)))
ahead = bool(os.environ.get('SHERPA_TRIAL_FD'))  # set and not empty
print('marker: pid {} started {}'.format(
    os.getpid(), 'ahead' if ahead else 'plain'), flush=True)
if ahead:
    open('ahead_{}'.format(os.getpid()), 'w').close()
import sherpa
client = sherpa.Client()
trial = client.get_trial()
got = time.time()
if os.path.exists('hold') and trial.id == 1:
    while not os.path.exists('release'):
        time.sleep(0.01)
client.send_metrics(trial, 1, trial.parameters['x'])
record = {'pid': os.getpid(), 'started': started, 'got': got,
          'ahead': ahead, 'x': trial.parameters['x'],
          'env_id': os.environ.get('SHERPA_TRIAL_ID'),
          'env_fd': os.environ.get('SHERPA_TRIAL_FD')}
with open('seen_{}.json.tmp'.format(trial.id), 'w') as f:
    json.dump(record, f)
os.rename('seen_{}.json.tmp'.format(trial.id), 'seen_{}.json'.format(trial.id))
'''


def spec(command, trials, **extra):
    """The shared RandomSearch study, 2 processes started ahead."""
    return sherpa_e2e.random_spec(command, trials,
                                  **{'prestart': 2, 'seed': 5, **extra})


class PrestartTest(sherpa_e2e.StudyTestCase):

    def started_at(self, output_dir):
        """Trial id -> when the runner handed it to a process (study.db)."""
        return dict(self.db(output_dir).execute(
            "SELECT trial_id, MIN(at) FROM events WHERE kind = 'trial_started' "
            'GROUP BY trial_id'))

    def test_python_trials_started_ahead_get_their_own_trial(self):
        script = self.write('trial.py', PYTHON_TRIAL)
        self.write_spec(spec(sherpa_e2e.python_command(script), 8))
        # As a nested study's runner would be: itself a trial process. Its
        # own variables must not reach its trials.
        result = self.sherpa('run', 'study.json', env={
            'SHERPA_TRIAL_ID': '99', 'SHERPA_TRIAL_FD': '3'})
        self.assert_run_ok(result)
        self.assertNotIn('prestart:', result.stderr)

        final = self.final_rows(self.results('out'))
        self.assertEqual(sorted(final), list(range(1, 9)))
        started_at = self.started_at('out')
        ahead = []
        waited = []  # its script ran before the runner had a trial for it
        for trial_id, row in final.items():
            self.assertEqual(row['Status'], 'COMPLETED')
            seen = json.loads(self.read('seen_{}.json'.format(trial_id)))
            # Its own parameters, reported to its own trial.
            self.assertAlmostEqual(seen['x'], float(row['x']), places=9)
            self.assertAlmostEqual(float(row['Objective']), seen['x'],
                                   places=9)
            # Afterwards an ordinary trial process.
            self.assertEqual(seen['env_id'], str(trial_id))
            self.assertFalse(seen['env_fd'])
            # Its output, from before it had a trial, is the trial's.
            output = self.read(os.path.join('out', 'jobs',
                                            'trial_{}.out'.format(trial_id)))
            self.assertIn('marker: pid {} started {}'.format(
                seen['pid'], 'ahead' if seen['ahead'] else 'plain'), output)
            if seen['ahead']:
                ahead.append(trial_id)
                if seen['started'] < started_at[trial_id]:
                    waited.append(trial_id)
        # The first two start with the study; nearly all others find a
        # process waiting (each trial takes a Python start-up, 10x the
        # runner's 5 ms wait before it starts replacements).
        self.assertGreaterEqual(len(ahead), 4, ahead)
        self.assertNotIn(1, ahead)
        # (A process may also get its trial while Python still starts.)
        self.assertTrue(waited, 'no script ran before its trial was handed')
        # The processes left waiting at the end were ended, and their
        # output files removed.
        pids = self.trial_pids()
        self.wait_for(lambda: not any(sherpa_e2e.pid_alive(p) for p in pids),
                      'every trial process to be gone')
        jobs = os.listdir(self.path('out', 'jobs'))
        self.assertEqual(sorted(jobs), sorted(
            'trial_{}.out'.format(i) for i in range(1, 9)))

    def test_shell_trials_call_sherpa_trial_several_times(self):
        # Only the first `sherpa trial` reads the trial from descriptor 3;
        # the later ones find it by the token.
        self.write('trial.sh', '''
x=$(sherpa trial get --param x) || exit 5
sherpa trial report -i 1 -o "$x" || exit 6
sherpa trial report -i 2 -o "$x" || exit 7
echo "marker: fd=${SHERPA_TRIAL_FD:-none}"
''')
        self.write_spec(spec('sh trial.sh', 6))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        rows = self.results('out')
        final = self.final_rows(rows)
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {i: 'COMPLETED' for i in range(1, 7)})
        observations = self.observations(rows)
        markers = ''
        for trial_id, row in final.items():
            x = float(row['x'])
            self.assertEqual([i for i, _ in observations[trial_id]], [1, 2])
            for _, objective in observations[trial_id]:
                self.assertAlmostEqual(objective, x, places=5)
            markers += self.read(os.path.join(
                'out', 'jobs', 'trial_{}.out'.format(trial_id)))
        self.assertIn('marker: fd=3', markers)  # some did start ahead

    def test_a_resubmitted_trial_keeps_the_output_of_its_first_run(self):
        self.write('trial.sh', '''
id=$(sherpa trial get | sed 's/.*"id":\\([0-9]*\\).*/\\1/')
echo "marker: a run of trial $id, fd=${SHERPA_TRIAL_FD:-none}"
# The first trial that started ahead fails once, before reporting.
if [ -n "$SHERPA_TRIAL_FD" ] && [ ! -e failed_once ]; then
  echo "$id" > failed_once; exit 4
fi
sherpa trial report -i 1 -o 0.5
''')
        self.write_spec(spec('sh trial.sh', 5, resubmit_failed_trials=True))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        self.assertNotIn('prestart:', result.stderr)
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {i: 'COMPLETED' for i in range(1, 6)})
        failed = int(self.read('failed_once'))
        output = self.read(os.path.join('out', 'jobs',
                                        'trial_{}.out'.format(failed)))
        # Both runs, in order: the one started ahead, then the run again,
        # started the plain way (its file is appended to, not replaced).
        self.assertRegex(output, (
            r'marker: a run of trial {0}, fd=3\n'
            r'(.*\n)*marker: a run of trial {0}, fd=none\n').format(failed))

    def test_a_script_that_cannot_start_ahead_turns_prestart_off(self):
        # The first trials hold their slots long enough for the processes
        # started ahead (5 ms after them) to start and end first.
        self.write('trial.sh', '''
if [ -n "$SHERPA_TRIAL_FD" ]; then echo "marker: not without my id"; exit 7; fi
sleep 0.3
sherpa trial report -i 1 -o 0.5
''')
        # Should a trial still be handed to such a process just before it
        # exits, it fails before reporting; resubmitted, it runs the plain
        # way.
        self.write_spec(spec('sh trial.sh', 5, resubmit_failed_trials=True))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        self.assertIn('prestart: a trial process started ahead of its trial '
                      'ended (exit code 7) before it got one; trials start '
                      'when a slot frees from now on', result.stderr)
        self.assertIn('marker: not without my id', result.stderr)
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {i: 'COMPLETED' for i in range(1, 6)})

    def test_processes_waiting_ahead_end_with_a_killed_runner(self):
        script = self.write('trial.py', PYTHON_TRIAL)
        self.write('hold', '')  # trial 1 holds its slot until 'release'
        self.write_spec(spec(sherpa_e2e.python_command(script), 4,
                             max_concurrent=1, prestart=1))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True

        def waiting():
            names = [n for n in os.listdir(self.dir)
                     if n.startswith('ahead_')]
            return names and int(names[0].split('_')[1])
        pid = self.wait_for(waiting, 'a process started ahead')
        runner.must_run = False
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        # It sees its descriptor close, finds no runner, and exits.
        self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                      'the waiting process to exit', timeout=15)

    def test_prestart_needs_the_local_scheduler_without_resources(self):
        for extra, message in (
                ({'scheduler': 'slurm'},
                 'prestart: works with the local scheduler only'),
                ({'scheduler': {'name': 'local', 'resources': ['0', '1']}},
                 'prestart: cannot be combined with scheduler.resources'),
                ({'prestart': -1},
                 'prestart: expected an integer from 0 to 1024')):
            self.write_spec(spec('true', 2, **extra))
            result = self.sherpa('run', 'study.json')
            self.assertNotEqual(result.returncode, 0, extra)
            self.assertIn(message, result.stderr, extra)
            self.assertFalse(os.path.exists(self.path('out', 'study.db')),
                             extra)


if __name__ == '__main__':
    unittest.main()
