"""PBT end to end with the quickstart's trial scripts in C++, Python and
shell: every trial of generation g > 1 must start from exactly the state its
parent saved, and the lineage the runner hands out must be consistent.

The quickstart checkpoints (examples/quickstart/README.md) record the state
a trial started from (loaded_from, loaded_iteration, loaded_weights) next to
the state it saved (iteration, weights), so the check needs no cooperation
beyond what the example does anyway.
"""

import os
import shlex
import unittest

import sherpa_e2e
from sherpa_e2e import load_checkpoint

POPULATION = 4
GENERATIONS = 3
EPOCHS = 3  # per generation, as in the quickstart scripts


def pbt_spec(command):
    return {
        'parameters': [
            {'name': 'lr', 'type': 'continuous', 'range': [1e-3, 1.0],
             'scale': 'log'},
            {'name': 'batch_size', 'type': 'ordinal',
             'range': [16, 32, 64, 128]},
        ],
        'algorithm': {
            'name': 'PopulationBasedTraining',
            'population_size': POPULATION,
            'num_generations': GENERATIONS,
            'parameter_range': {'lr': [1e-7, 1.0],
                                'batch_size': [16, 32, 64, 128]},
        },
        'lower_is_better': False,
        'command': command,
        'max_concurrent': 2,
        'output_dir': 'out',
        'seed': 7,
    }


class PbtCheckpointTest(sherpa_e2e.StudyTestCase):

    def run_study(self, command):
        self.write_spec(pbt_spec(command))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        rows = self.results('out')
        final = self.final_rows(rows)
        self.assertEqual(len(final), POPULATION * GENERATIONS)
        for trial_id, row in final.items():
            self.assertEqual(row['Status'], 'COMPLETED',
                             '{}: {}'.format(trial_id, self.read(
                                 'out/jobs/trial_{}.out'.format(trial_id))))
        sherpa_e2e.check_lineage(self, final, POPULATION, GENERATIONS)
        # The runner's results.csv holds the same rows as `sherpa results`.
        with open(self.path('out', 'results.csv')) as f:
            self.assertEqual(sorted(f.read().splitlines()[1:]),
                             sorted(self.sherpa('results', 'out', '--csv')
                                    .stdout.splitlines()[1:]))
        return final, self.observations(rows)

    def check_checkpoints(self, final, observations, has_batch_size=True):
        checkpoints = {}
        for trial_id in final:
            path = self.path('out', 'checkpoints', str(trial_id))
            self.assertTrue(os.path.isfile(path),
                            'trial {} saved no checkpoint'.format(trial_id))
            checkpoints[trial_id] = load_checkpoint(path)
        self.assertEqual(
            [n for n in os.listdir(self.path('out', 'checkpoints'))
             if n.endswith('.tmp')], [], 'half-written checkpoints left')

        for trial_id, row in final.items():
            saved = checkpoints[trial_id]
            generation = int(row['generation'])
            self.assertEqual(int(saved['trial']), trial_id)
            # Its own hyperparameters, not the parent's.
            self.assertEqual(float(saved['lr']), float(row['lr']))
            if has_batch_size:
                self.assertEqual(int(saved['batch_size']),
                                 int(row['batch_size']))
            # The epoch count goes on across generations, in the checkpoint
            # and in the reported iterations.
            self.assertEqual(int(saved['iteration']), EPOCHS * generation)
            first = EPOCHS * (generation - 1) + 1
            self.assertEqual([i for i, _ in observations[trial_id]],
                             list(range(first, first + EPOCHS)),
                             'trial {}: iterations'.format(trial_id))
            if generation == 1:
                self.assertNotIn('loaded_from', saved)
                continue
            # The child's starting state is exactly its parent's saved one.
            parent = checkpoints[int(row['load_from'])]
            self.assertEqual(saved['loaded_from'], row['load_from'])
            self.assertEqual(int(saved['loaded_iteration']),
                             int(parent['iteration']))
            loaded = [float(v) for v in saved['loaded_weights'].split()]
            parent_weights = [float(v) for v in parent['weights'].split()]
            self.assertTrue(parent_weights)
            self.assertEqual(loaded, parent_weights,
                             'trial {} did not start from what trial {} '
                             'saved'.format(trial_id, row['load_from']))
            # ...and it trained: what it saved differs from what it loaded.
            self.assertNotEqual(saved['weights'], saved['loaded_weights'])

    def test_python_trials_continue_their_parents(self):
        final, observations = self.run_study(sherpa_e2e.python_command(
            os.path.join(sherpa_e2e.QUICKSTART, 'trial.py')))
        self.check_checkpoints(final, observations)

    def test_cpp_trials_continue_their_parents(self):
        program = os.environ.get('SHERPA_QUICKSTART_TRIAL', '')
        if not program:
            self.skipTest('SHERPA_QUICKSTART_TRIAL is not set (examples not '
                          'built)')
        final, observations = self.run_study(
            shlex.quote(os.path.abspath(program)))
        self.check_checkpoints(final, observations)

    def test_shell_trials_continue_their_parents(self):
        final, observations = self.run_study('sh ' + shlex.quote(
            os.path.join(sherpa_e2e.QUICKSTART, 'trial.sh')))
        self.check_checkpoints(final, observations, has_batch_size=False)

    def test_checkpoint_gc_deletes_only_what_no_member_can_load(self):
        # A trial that finds its load_from gone fails, so a study in which
        # every trial COMPLETED never lost a checkpoint it needed.
        trial = self.write('gc_trial.sh', """set -e
load=$(sherpa trial get -p load_from)
save=$(sherpa trial get -p save_to)
x=$(sherpa trial get -p x)
base=0
if [ -n "$load" ]; then
  path="$SHERPA_OUTPUT_DIR/checkpoints/$load"
  [ -f "$path" ] || { echo "checkpoint $load is gone" >&2; exit 3; }
  base=$(cat "$path")
fi
score=$(awk "BEGIN { print $base + $x }")
echo "$score" > "$SHERPA_OUTPUT_DIR/checkpoints/$save"
sherpa trial report -i 1 -o "$score"
""")
        for mode, population, generations in (('generational', 4, 6),
                                              ('asynchronous', 4, 8)):
            with self.subTest(mode):
                out = 'out_' + mode
                self.write_spec({
                    'parameters': [{'name': 'x', 'type': 'continuous',
                                    'range': [0.0, 1.0]}],
                    'algorithm': {'name': 'PopulationBasedTraining',
                                  'mode': mode,
                                  'population_size': population,
                                  'num_generations': generations},
                    'lower_is_better': False,
                    'command': 'sh ' + shlex.quote(trial),
                    'max_concurrent': 2,
                    'output_dir': out,
                    'checkpoint_gc': True,
                    'seed': 5,
                }, name=mode + '.json')
                self.assert_run_ok(self.sherpa('run', mode + '.json'))
                final = self.final_rows(self.results(out))
                self.assertEqual(len(final), population * generations)
                for trial_id, row in final.items():
                    self.assertEqual(row['Status'], 'COMPLETED', self.read(
                        '{}/jobs/trial_{}.out'.format(out, trial_id)))
                # Left once the study is done: the final models (the last
                # generation; each member's last interval) and the best
                # trial's chain, whatever the order trials ended in.
                left = set(os.listdir(self.path(out, 'checkpoints')))
                best = max(final.values(),
                           key=lambda row: float(row['Objective']))
                chain = {n for n in best['lineage'].split(',') if n}
                self.assertLessEqual(chain | {best['save_to']}, left,
                                     'the best trial\'s chain')
                last = {}
                for row in final.values():
                    key = row['member'] if mode == 'asynchronous' else 'all'
                    last.setdefault(key, []).append(row)
                models = set()
                for rows in last.values():
                    newest = max(int(row['generation']) for row in rows)
                    models |= {row['save_to'] for row in rows
                               if int(row['generation']) == newest}
                self.assertEqual(len(models), population)
                self.assertEqual(left, models | chain | {best['save_to']})

    def test_quickstart_specs_run_as_documented(self):
        # As examples/quickstart/README.md says: from that folder, `sherpa
        # run study.yaml`; and the copy of study_cpp.yaml CMake writes next
        # to the C++ program runs from anywhere. Only the output goes here.
        specs = [('study.yaml', os.path.join(sherpa_e2e.QUICKSTART,
                                             'study.yaml'))]
        program = os.environ.get('SHERPA_QUICKSTART_TRIAL', '')
        if program:
            specs.append(('study_cpp.yaml', os.path.join(
                os.path.dirname(os.path.abspath(program)), 'study_cpp.yaml')))
        for name, spec in specs:
            with self.subTest(name):
                out = self.path('out_' + name)
                result = self.sherpa('run', spec, '--output-dir', out,
                                     cwd=sherpa_e2e.QUICKSTART)
                self.assert_run_ok(result)
                self.assertIn('trials: 24 completed, 0 failed, 0 stopped',
                              result.stdout)


if __name__ == '__main__':
    unittest.main()
