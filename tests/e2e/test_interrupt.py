"""A PBT study interrupted mid-way, by Ctrl-C (SIGINT) or by kill -9 of the
runner, and continued with `sherpa resume`: nothing acknowledged is lost,
running trials run again from their load_from, and the finished study has
every generation, with a consistent lineage.

The trials are tests/e2e/trials/pbt_counter.py: deterministic, a little
slow, and logging each acknowledged report to acks.log.
"""

import json
import os
import signal
import unittest

import sherpa_e2e

POPULATION = 4
GENERATIONS = 3
ITERATIONS = 3  # per trial, as in pbt_counter.py


def counter_spec():
    return {
        'parameters': [{'name': 'lr', 'type': 'continuous',
                        'range': [0.05, 0.5]}],
        'algorithm': {'name': 'PopulationBasedTraining',
                      'population_size': POPULATION,
                      'num_generations': GENERATIONS,
                      'parameter_range': {'lr': [0.01, 0.9]}},
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('pbt_counter.py')),
        'max_concurrent': 2,
        'output_dir': 'out',
        'seed': 11,
    }


class InterruptTest(sherpa_e2e.StudyTestCase):

    def acks(self):
        return [json.loads(line) for line in
                self.read('acks.log').splitlines() if line.strip()]

    def start_and_wait_mid_study(self):
        """Starts the study and returns once a generation-2 trial has had a
        report acknowledged: generation 1 is done, more is to come."""
        self.write_spec(counter_spec())
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        self.wait_for(lambda: any(a['generation'] == 2 for a in self.acks()),
                      'a report of generation 2')
        runner.must_run = False
        return runner

    def resume_and_check(self):
        result = self.sherpa('resume', 'out')
        self.assert_run_ok(result)
        self.assertIn('resumed', result.stderr)

        rows = self.results('out')
        final = self.final_rows(rows)
        self.assertEqual(len(final), POPULATION * GENERATIONS)
        self.assertEqual({r['Status'] for r in final.values()},
                         {'COMPLETED'})
        sherpa_e2e.check_lineage(self, final, POPULATION, GENERATIONS)
        self.assertIn('trials: {} completed, 0 failed, 0 stopped'.format(
            POPULATION * GENERATIONS), result.stdout)

        # Each trial went on from exactly its parent's saved state, and
        # its iterations continue its parent's.
        checkpoints = {}
        for trial_id in final:
            with open(self.path('out', 'checkpoints', str(trial_id))) as f:
                checkpoints[trial_id] = json.load(f)
        observations = self.observations(rows)
        for trial_id, row in final.items():
            saved = checkpoints[trial_id]
            generation = int(row['generation'])
            self.assertEqual(saved['iteration'], ITERATIONS * generation)
            first = ITERATIONS * (generation - 1) + 1
            self.assertEqual([i for i, _ in observations[trial_id]],
                             list(range(first, first + ITERATIONS)))
            if generation > 1:
                parent = checkpoints[int(row['load_from'])]
                self.assertEqual(saved['loaded_from'], row['load_from'])
                self.assertEqual(saved['loaded_value'], parent['value'])
                self.assertEqual(saved['loaded_iteration'],
                                 parent['iteration'])
        return rows

    def test_ctrl_c_stops_running_trials_and_resume_completes(self):
        runner = self.start_and_wait_mid_study()
        runner.send_signal(signal.SIGINT)
        self.assertEqual(self.wait_exit(runner, timeout=30), 130,
                         self.read('runner.stderr'))
        self.assertIn('sherpa resume', self.read('runner.stdout'))
        self.assertIn('interrupted', self.read('runner.stderr'))

        # The running trials were stopped, not left behind.
        for pid, (trial_id, _) in self.trial_pids().items():
            self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                          'trial {} (pid {}) to end'.format(trial_id, pid),
                          timeout=10)
        # Interrupted trials are not the trials' fault: none is recorded as
        # FAILED or STOPPED; they stay open, to run again on resume.
        states = self.db_states('out')
        self.assertNotIn('FAILED', states.values())
        self.assertNotIn('STOPPED', states.values())
        unfinished = sorted(i for i, s in states.items() if s != 'COMPLETED')
        self.assertTrue(unfinished, 'nothing was left to resume')
        acked_before = self.acks()

        self.resume_and_check()
        attempts = dict(self.db('out').execute(
            'SELECT id, attempt FROM trials'))
        for trial_id in unfinished:
            self.assertGreaterEqual(attempts[trial_id], 2, trial_id)
        self.assert_acks_kept(acked_before)

    def test_kill_9_loses_no_acknowledged_report(self):
        runner = self.start_and_wait_mid_study()
        runner.kill()  # SIGKILL: no chance to clean up or flush anything
        runner.wait()
        # Its trials live on in their own process groups; end them before
        # reading acks.log, so the log holds the final truth.
        sherpa_e2e.kill_trial_groups(self.dir)
        for pid, (trial_id, _) in self.trial_pids().items():
            self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                          'trial {} (pid {}) to end'.format(trial_id, pid),
                          timeout=10)
        acked = self.acks()
        completed = [i for i, s in self.db_states('out').items()
                     if s == 'COMPLETED']
        self.assertLess(len(completed), POPULATION * GENERATIONS,
                        'the kill came too late to test anything')

        self.resume_and_check()
        self.assert_acks_kept(acked)

    def assert_acks_kept(self, acked):
        """Every acknowledged report is in study.db, and in `sherpa results`
        (for a trial that ran again, as the same value: the trials are
        deterministic)."""
        self.assertTrue(acked)
        stored = set(self.db('out').execute(
            'SELECT trial_id, iteration, objective FROM observations'))
        table = {}
        for trial_id, reports in self.observations(
                self.results('out')).items():
            for iteration, objective in reports:
                table[trial_id, iteration] = objective
        for ack in acked:
            key = (ack['trial'], ack['iteration'], ack['objective'])
            self.assertIn(key, stored, 'acknowledged, then lost from '
                          'study.db')
            self.assertEqual(table.get(key[:2]), ack['objective'],
                             'acknowledged, then lost from the results')


if __name__ == '__main__':
    unittest.main()
