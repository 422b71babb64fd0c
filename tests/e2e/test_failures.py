"""Trials that fail, hang, are stopped, crash and are resubmitted, or are
stopped by the MedianStoppingRule: the study records each correctly and goes
on."""

import os
import time
import unittest

import sherpa_e2e
from sherpa_e2e import random_spec


def request(trial_env, method, path, token=None, body=None):
    """One HTTP request to the runner a trial (its env_<id>.json) talks
    to; returns (status, decoded JSON or None)."""
    headers = {'Authorization': 'Bearer ' + token} if token else {}
    return sherpa_e2e.http_request(trial_env['host'], trial_env['port'],
                                   method, path, body, headers)


class FailureTest(sherpa_e2e.StudyTestCase):

    def test_failing_trials_are_recorded_and_the_study_goes_on(self):
        # Trial 2 dies before reporting, trial 4 after; the rest succeed.
        self.write('trial.sh', '''
case $SHERPA_TRIAL_ID in
  2) echo "marker: trial 2 dies before reporting"; exit 3 ;;
  4) sherpa trial report -i 1 -o 0.25
     echo "marker: trial 4 dies after reporting"; exit 3 ;;
  *) sherpa trial report -i 1 -o 0.75 ;;
esac
''')
        self.write_spec(random_spec('sh trial.sh', 6))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)

        final = self.final_rows(self.results('out'))
        self.assertEqual(sorted(final), [1, 2, 3, 4, 5, 6])
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'FAILED', 3: 'COMPLETED',
                          4: 'FAILED', 5: 'COMPLETED', 6: 'COMPLETED'})
        self.assertIn('trials: 4 completed, 2 failed, 0 stopped',
                      result.stdout)
        # The failure, its reason and the tail of the trial's output are in
        # the runner's stderr.
        for trial_id, when in ((2, 'before'), (4, 'after')):
            message = 'trial {} FAILED (exit code 3)'.format(trial_id)
            self.assertIn(message, result.stderr)
            tail = result.stderr[result.stderr.index(message):]
            self.assertIn('marker: trial {} dies {} reporting'.format(
                trial_id, when), tail)
        # The report trial 4 made before failing is kept.
        db = self.db('out')
        self.assertEqual(db.execute(
            'SELECT iteration, objective FROM observations WHERE trial_id = 4'
        ).fetchall(), [(1, 0.25)])
        self.assertEqual(db.execute(
            'SELECT reason FROM trials WHERE id = 2').fetchone(),
            ('exit code 3',))

    def test_hanging_trial_times_out(self):
        # Trial 1 reports once, then hangs in a child process of its own.
        self.write('trial.sh', '''
sherpa trial report -i 1 -o 0.5
if [ "$SHERPA_TRIAL_ID" = 1 ]; then
  sleep 120 &
  echo $! > sleep.pid
  wait
fi
''')
        self.write_spec(random_spec('sh trial.sh', 2, trial_timeout=1))
        started = time.monotonic()
        result = self.sherpa('run', 'study.json')
        elapsed = time.monotonic() - started
        self.assert_run_ok(result)
        self.assertLess(elapsed, 20, 'the timeout did not end the trial')

        final = self.final_rows(self.results('out'))
        self.assertEqual(final[1]['Status'], 'FAILED')
        self.assertEqual(final[2]['Status'], 'COMPLETED')
        self.assertIn('trial 1 FAILED (timed out', result.stderr)
        db = self.db('out')
        reason, = db.execute('SELECT reason FROM trials WHERE id = 1') \
            .fetchone()
        self.assertIn('timed out', reason)
        self.assertEqual(db.execute(
            'SELECT iteration FROM observations WHERE trial_id = 1')
            .fetchall(), [(1,)])
        # The whole process group went, not only the shell.
        sleeper = int(self.read('sleep.pid'))
        self.wait_for(lambda: not sherpa_e2e.pid_alive(sleeper),
                      'the hanging sleep {} to be killed'.format(sleeper),
                      timeout=10)

    def test_study_token_stops_a_running_trial(self):
        # hold.py ignores the request, so it is killed after kill_grace.
        hold = sherpa_e2e.python_command(sherpa_e2e.trial_script('hold.py'))
        self.write_spec(random_spec(hold, 2, scheduler={
            'name': 'local', 'kill_grace': 0.5}))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        one = self.wait_json('env_1.json')
        two = self.wait_json('env_2.json')
        with open(self.path('out', 'study.token')) as f:
            study_token = f.read().strip()
        self.assertEqual(os.stat(self.path('out', 'study.token')).st_mode
                         & 0o077, 0, 'study.token is readable by others')

        stop = '/api/v1/trials/1/stop'
        # Only the study token may stop a trial.
        self.assertEqual(request(one, 'POST', stop, one['token'])[0], 403)
        self.assertEqual(request(one, 'POST', stop, two['token'])[0], 403)
        self.assertEqual(request(one, 'POST', stop)[0], 401)
        self.assertEqual(request(one, 'POST', stop, 'not-a-token')[0], 401)
        status, summary = request(one, 'GET', '/api/v1/study', study_token)
        self.assertEqual((status, summary['running']), (200, 2))

        self.assertEqual(request(one, 'POST', stop, study_token),
                         (200, {'stop': True}))
        self.wait_for(lambda: self.db_states('out').get(1) == 'STOPPED',
                      'trial 1 to be STOPPED')
        self.wait_for(lambda: not sherpa_e2e.pid_alive(one['pid']),
                      'the process of trial 1 to end', timeout=10)
        # A stopped trial's token no longer opens anything.
        self.assertEqual(request(one, 'GET', '/api/v1/trials/1',
                                 one['token'])[0], 401)

        self.write('release_2', '')
        self.assertEqual(self.wait_exit(runner), 0,
                         self.read('runner.stderr'))
        final = self.final_rows(self.results('out'))
        self.assertEqual(final[1]['Status'], 'STOPPED')
        self.assertEqual(final[2]['Status'], 'COMPLETED')
        self.assertIn('trials: 1 completed, 0 failed, 1 stopped',
                      self.read('runner.stdout'))

    def test_resubmit_failed_trials_runs_a_crashed_trial_again(self):
        # Trial 2 crashes once before reporting: it runs again, same id and
        # parameters. Trial 3 crashes after reporting: not run again.
        # Trial 4 always crashes: run 1 + max_resubmits times, then FAILED.
        self.write('trial.sh', '''
x=$(sherpa trial get -p x)
echo "$SHERPA_TRIAL_ID $x" >> attempts.log
case $SHERPA_TRIAL_ID in
  2) if [ ! -e crashed_2 ]; then touch crashed_2; exit 3; fi ;;
  3) sherpa trial report -i 1 -o 0.1; exit 3 ;;
  4) exit 3 ;;
esac
sherpa trial report -i 1 -o 0.9
''')
        self.write_spec(random_spec('sh trial.sh', 4, max_concurrent=1,
                                    resubmit_failed_trials=True,
                                    max_resubmits=2))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)

        attempts = [line.split() for line in
                    self.read('attempts.log').splitlines()]
        ids = [int(trial_id) for trial_id, _ in attempts]
        self.assertEqual(sorted(ids), [1, 2, 2, 3, 4, 4, 4])
        self.assertEqual(len({x for trial_id, x in attempts
                              if trial_id == '2'}), 1,
                         'the resubmitted trial got other parameters')
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'COMPLETED', 3: 'FAILED',
                          4: 'FAILED'})
        self.assertIn('trial 2 resubmitted (1 of 2)', result.stderr)
        self.assertIn('trials: 2 completed, 2 failed, 0 stopped',
                      result.stdout)
        db = self.db('out')
        self.assertEqual(dict(db.execute('SELECT id, attempt FROM trials')),
                         {1: 1, 2: 2, 3: 1, 4: 3})

    def test_a_trial_resubmitted_after_the_algorithm_is_done_runs_again(self):
        # Two trials on three slots: the algorithm answers DONE as soon as
        # both started. Trial 1 then crashes before reporting; its
        # resubmission must still run (it used to stay QUEUED while the
        # study ended).
        self.write('trial.sh', '''
echo "$SHERPA_TRIAL_ID" >> attempts.log
touch started_$SHERPA_TRIAL_ID
if [ "$SHERPA_TRIAL_ID" = 1 ] && [ ! -e crashed_1 ]; then
  while [ ! -e started_2 ]; do sleep 0.01; done
  touch crashed_1
  exit 3
fi
sherpa trial report -i 1 -o 0.9
''')
        self.write_spec(random_spec('sh trial.sh', 2, max_concurrent=3,
                                    resubmit_failed_trials=True,
                                    max_resubmits=1))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        self.assertIn('trial 1 resubmitted (1 of 1)', result.stderr)
        self.assertEqual(sorted(self.read('attempts.log').split()),
                         ['1', '1', '2'])
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'COMPLETED'})
        self.assertEqual(dict(self.db('out').execute(
            'SELECT id, attempt FROM trials')), {1: 2, 2: 1})

    def test_median_stopping_rule_stops_a_bad_trial(self):
        # Trials 1-3 reach 0.9 for 3 iterations; trial 4 stays at 0.1 and
        # would report 30 iterations if nobody stopped it.
        self.write('trial.py', '''
import sys
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
bad = trial.id == 4
for iteration in range(1, 31 if bad else 4):
    if client.send_metrics(trial=trial, iteration=iteration,
                           objective=0.1 if bad else 0.9):
        sys.exit(0)
    if bad:
        time.sleep(0.1)
''')
        self.write_spec(random_spec(
            sherpa_e2e.python_command('trial.py'), 4, max_concurrent=1,
            stopping_rule={'name': 'MedianStoppingRule',
                           'min_iterations': 2, 'min_trials': 2}))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)

        rows = self.results('out')
        final = self.final_rows(rows)
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'COMPLETED', 3: 'COMPLETED',
                          4: 'STOPPED'})
        iterations = [i for i, _ in self.observations(rows)[4]]
        # Stopped at iteration 2, the first the rule may judge; a report
        # already on its way may still land.
        self.assertGreaterEqual(max(iterations), 2)
        self.assertLessEqual(max(iterations), 4, iterations)
        self.assertIn('trials: 3 completed, 0 failed, 1 stopped',
                      result.stdout)

    def test_a_stopped_trial_may_save_its_state_first(self):
        # docs/http_api.md: on `stop: true` "the trial should save its
        # state and exit 0. If it keeps running, it is killed after a grace
        # period". A runner that killed at once would lose the state.
        self.write('trial.py', '''
import sys
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
bad = trial.id == 4
for iteration in range(1, 31 if bad else 4):
    if client.send_metrics(trial=trial, iteration=iteration,
                           objective=0.1 if bad else 0.9):
        time.sleep(0.3)  # saving a checkpoint takes a moment
        with open('saved_{}'.format(trial.id), 'w') as f:
            f.write(str(iteration))
        sys.exit(0)
    if bad:
        time.sleep(0.1)
''')
        self.write_spec(random_spec(
            sherpa_e2e.python_command('trial.py'), 4, max_concurrent=1,
            stopping_rule={'name': 'MedianStoppingRule',
                           'min_iterations': 2, 'min_trials': 2}))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        final = self.final_rows(self.results('out'))
        self.assertEqual(final[4]['Status'], 'STOPPED')
        self.assertEqual(self.read('saved_4'), '2',
                         'the stopped trial could not save its state')

    def test_a_study_that_cannot_go_on_exits_1(self):
        # The CLI documents exit code 1 for "the study failed" and 2 for
        # "bad usage or spec". A PBT generation in which every member failed
        # ends the study after it ran: that is 1, not 2.
        spec = random_spec('exit 3', 0)
        spec['algorithm'] = {'name': 'PopulationBasedTraining',
                             'population_size': 3, 'num_generations': 2}
        self.write_spec(spec)
        result = self.sherpa('run', 'study.json')
        self.assertIn('no member of generation 1 completed', result.stderr)
        self.assertEqual(self.db_states('out'),
                         {1: 'FAILED', 2: 'FAILED', 3: 'FAILED'})
        self.assertEqual(result.returncode, 1, result.stderr)


if __name__ == '__main__':
    unittest.main()
