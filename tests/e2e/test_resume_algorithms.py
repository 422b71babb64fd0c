"""kill -9 of the runner mid-study, then `sherpa resume`, for the algorithms
that came after PBT: SuccessiveHalving, BayesianOptimization, PB2 and
asynchronous PBT.

Each study is killed while trials run; the resumed study must rebuild the
algorithm's state from study.db (`sherpa resume` refuses a log the algorithm
would not produce again), leave every trial that had ended before the kill
exactly as it was, run the interrupted trials again as a new attempt, and
finish the study with the algorithm's bookkeeping intact: every load_from
names a COMPLETED trial whose checkpoint the child really started from.

The trials are tests/e2e/trials/resume_trial.py: deterministic, checkpointed,
a little slow.
"""

import json
import os
import sqlite3
import unittest

import sherpa_e2e

ITERATIONS = 2  # per trial without a resource, as in resume_trial.py


def spec(algorithm, seed):
    return {
        'parameters': [{'name': 'lr', 'type': 'continuous',
                        'range': [0.05, 0.9], 'scale': 'log'}],
        'algorithm': algorithm,
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('resume_trial.py')),
        'max_concurrent': 2,
        'output_dir': 'out',
        'seed': seed,
    }


class ResumeAlgorithmsTest(sherpa_e2e.StudyTestCase):

    # ------------------------------------------------------------ helpers

    def db_rows(self):
        """Trial id -> (parameters, state, attempt), and trial id -> the
        trial's stored reports, from study.db ({} while there is none)."""
        path = self.path('out', 'study.db')
        if not os.path.exists(path):
            return {}, {}
        try:
            conn = sqlite3.connect('file:{}?mode=ro'.format(path), uri=True,
                                   timeout=10)
            try:
                trials = {i: (json.loads(p), s, a) for i, p, s, a in
                          conn.execute('SELECT id, parameters, state, '
                                       'attempt FROM trials')}
                reports = {}
                for trial_id, attempt, iteration, objective in conn.execute(
                        'SELECT trial_id, attempt, iteration, objective '
                        'FROM observations ORDER BY seq'):
                    reports.setdefault(trial_id, []).append(
                        (attempt, iteration, objective))
            finally:
                conn.close()
        except sqlite3.Error:
            return {}, {}  # the runner is still creating it
        return trials, reports

    def run_kill_and_resume(self, study, ready):
        """Runs `study`, kills the runner with SIGKILL once `ready(trials)`
        holds for the trials in study.db
        (trial id -> (parameters, state, attempt)), resumes it, and checks what
        every algorithm must keep. Returns the final results rows (trial id
        -> row) and the checkpoints (trial id -> dict)."""
        self.write_spec(study)
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True

        def mid_way():
            trials, reports = self.db_rows()
            # A trial that has not reported yet has most of its run ahead:
            # it still runs when the kill follows.
            fresh = any(state == 'RUNNING' and not reports.get(trial_id)
                        for trial_id, (_, state, _) in trials.items())
            return fresh and ready(trials)
        self.wait_for(mid_way, 'the study to get mid-way')
        runner.must_run = False
        runner.kill()  # SIGKILL: no chance to clean up or flush anything
        runner.wait()
        sherpa_e2e.kill_trial_groups(self.dir)
        for pid, (trial_id, _) in self.trial_pids().items():
            self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                          'trial {} (pid {}) to end'.format(trial_id, pid),
                          timeout=10)

        before, reports_before = self.db_rows()
        ended = {i for i, (_, state, _) in before.items()
                 if state in sherpa_e2e.FINAL_STATES}
        interrupted = {i for i, (_, state, _) in before.items()
                       if state == 'RUNNING'}
        self.assertTrue(ended, 'the kill came too early to test anything')
        self.assertTrue(interrupted, 'no trial was running at the kill')

        result = self.sherpa('resume', 'out')
        self.assert_run_ok(result)
        self.assertIn('resumed', result.stderr)

        after, reports_after = self.db_rows()
        for trial_id in sorted(ended):
            self.assertEqual(after[trial_id], before[trial_id],
                             'trial {} changed'.format(trial_id))
            self.assertEqual(reports_after.get(trial_id),
                             reports_before.get(trial_id),
                             'the reports of trial {} changed'.format(
                                 trial_id))
        for trial_id in interrupted:
            parameters, state, attempt = after[trial_id]
            self.assertEqual(parameters, before[trial_id][0])
            self.assertIn(state, sherpa_e2e.FINAL_STATES)
            self.assertGreater(attempt, before[trial_id][2],
                               'trial {} was not run again'.format(trial_id))
        self.assertTrue(all(state in sherpa_e2e.FINAL_STATES
                            for _, state, _ in after.values()), after)
        # More trials than at the kill: the resumed algorithm went on.
        self.assertGreater(len(after), len(ended) + len(interrupted))

        final = self.final_rows(self.results('out'))
        self.assertEqual(set(final), set(after))
        checkpoints = {}
        for trial_id, row in final.items():
            if row.get('save_to'):
                with open(self.path('out', 'checkpoints',
                                    row['save_to'])) as f:
                    checkpoints[trial_id] = json.load(f)
        return final, checkpoints

    def check_loaded_from_completed_parents(self, final, checkpoints):
        """Every child started from the checkpoint of a COMPLETED trial,
        with that trial's state; returns {child: parent}."""
        parents = {}
        for trial_id, row in final.items():
            if not row['load_from']:
                self.assertNotIn('loaded_from', checkpoints[trial_id])
                continue
            parent_id = int(row['load_from'])
            self.assertIn(parent_id, final)
            parent = final[parent_id]
            self.assertEqual(parent['Status'], 'COMPLETED',
                             'trial {} loads from a {} trial'.format(
                                 trial_id, parent['Status']))
            self.assertEqual(parent['save_to'], row['load_from'])
            saved, loaded = checkpoints[parent_id], checkpoints[trial_id]
            self.assertEqual(loaded['loaded_from'], row['load_from'])
            self.assertEqual(loaded['loaded_value'], saved['value'])
            self.assertEqual(loaded['loaded_iteration'], saved['iteration'])
            parents[trial_id] = parent_id
        return parents

    def check_pbt_bookkeeping(self, final, checkpoints):
        parents = self.check_loaded_from_completed_parents(final, checkpoints)
        for trial_id, row in final.items():
            self.assertEqual(row['save_to'], str(trial_id))
            if trial_id not in parents:
                self.assertEqual(row['lineage'], '')
                continue
            parent = final[parents[trial_id]]
            self.assertEqual(row['lineage'],
                             parent['lineage'] + parent['save_to'] + ',')
            self.assertEqual(checkpoints[trial_id]['iteration'],
                             checkpoints[parents[trial_id]]['iteration'] +
                             ITERATIONS)

    # ------------------------------------------------------------ tests

    def test_successive_halving(self):
        r, R, eta = 1, 9, 3
        study = spec({'name': 'SuccessiveHalving', 'r': r, 'R': R,
                      'eta': eta, 'max_finished_configs': 1}, seed=5)

        def promoted(trials):
            return any(p['rung'] >= 1 for p, _, _ in trials.values())
        final, checkpoints = self.run_kill_and_resume(study, promoted)

        parents = self.check_loaded_from_completed_parents(final,
                                                           checkpoints)
        self.assertEqual(len(set(parents.values())), len(parents),
                         'a trial was promoted twice')
        for trial_id, row in final.items():
            rung = int(row['rung'])
            self.assertEqual(int(row['resource']), r * eta ** rung)
            self.assertEqual(row['save_to'], str(trial_id))
            if rung == 0:
                self.assertNotIn(trial_id, parents)
            else:
                parent = final[parents[trial_id]]
                self.assertEqual(int(parent['rung']), rung - 1)
                self.assertEqual(float(parent['lr']), float(row['lr']))
            if row['Status'] == 'COMPLETED':
                self.assertEqual(checkpoints[trial_id]['iteration'],
                                 int(row['resource']))
        top = [row for row in final.values()
               if int(row['rung']) == 2 and row['Status'] == 'COMPLETED']
        self.assertGreaterEqual(len(top), 1, 'the study ended too early')

    def test_bayesian_optimization(self):
        trials = 10
        study = spec({'name': 'BayesianOptimization',
                      'max_num_trials': trials}, seed=7)
        final, _ = self.run_kill_and_resume(
            study, lambda trials: sum(
                s in sherpa_e2e.FINAL_STATES
                for _, s, _ in trials.values()) >= 4)
        self.assertEqual(len(final), trials)
        self.assertEqual({row['Status'] for row in final.values()},
                         {'COMPLETED'})
        for row in final.values():
            self.assertTrue(0.05 <= float(row['lr']) <= 0.9, row)

    def test_pb2(self):
        population, generations = 4, 3
        study = spec({'name': 'PB2', 'population_size': population,
                      'num_generations': generations,
                      'hyperparam_bounds': {'lr': [0.05, 0.9]}}, seed=9)

        def mid_generation_2(trials):
            return any(p['generation'] == 2 and s == 'RUNNING'
                       for p, s, _ in trials.values()) and not any(
                p['generation'] == 3 for p, _, _ in trials.values())
        final, checkpoints = self.run_kill_and_resume(study, mid_generation_2)
        sherpa_e2e.check_lineage(self, final, population, generations)
        self.check_pbt_bookkeeping(final, checkpoints)

    def test_asynchronous_pbt(self):
        population, intervals = 4, 3
        study = spec({'name': 'PopulationBasedTraining',
                      'mode': 'asynchronous',
                      'population_size': population,
                      'num_generations': intervals,
                      'parameter_range': {'lr': [0.05, 0.9]}}, seed=13)

        def second_intervals_running(trials):
            return sum(p['generation'] >= 2 and s == 'RUNNING'
                       for p, s, _ in trials.values()) >= 1 and sum(
                s == 'COMPLETED' for _, s, _ in trials.values()) >= 5
        final, checkpoints = self.run_kill_and_resume(
            study, second_intervals_running)
        self.assertEqual(len(final), population * intervals)
        intervals_of = {}
        for row in final.values():
            intervals_of.setdefault(int(row['member']), []).append(
                int(row['generation']))
        self.assertEqual(
            {m: sorted(g) for m, g in intervals_of.items()},
            {m: list(range(1, intervals + 1)) for m in range(population)})
        self.check_pbt_bookkeeping(final, checkpoints)


if __name__ == '__main__':
    unittest.main()
