"""`sherpa replay`: a finished PBT study's best schedule becomes a spec that
trains one model from scratch along it, and `sherpa run` of that spec does.

The trial (trials/pbt_counter.py) is deterministic: its model moves toward 1
by a fraction lr per iteration, starting from the checkpoint it loads. So a
replay that follows the schedule exactly ends with exactly the objective the
best trial reached, and any other schedule (or a wrong load_from) would not.
"""

import os
import unittest

import sherpa_e2e

POPULATION = 4
INTERVALS = 3


def pbt_spec(mode):
    return {
        'parameters': [
            {'name': 'lr', 'type': 'continuous', 'range': [0.05, 0.9],
             'scale': 'log'},
        ],
        'algorithm': {
            'name': 'PopulationBasedTraining',
            'mode': mode,
            'population_size': POPULATION,
            'num_generations': INTERVALS,
            'parameter_range': {'lr': [0.01, 0.99]},
        },
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('pbt_counter.py')),
        'max_concurrent': 2,
        'output_dir': 'out',
        'seed': 3,
    }


class ReplayTest(sherpa_e2e.StudyTestCase):

    def best_chain(self, final):
        """The best COMPLETED trial's ancestors, oldest first (the
        objective is the last report, which here is also the best)."""
        best = max((row for row in final.values()
                    if row['Status'] == 'COMPLETED'),
                   key=lambda row: (float(row['Objective']),
                                    -int(row['Trial-ID'])))
        chain = [best]
        while chain[0]['load_from']:
            chain.insert(0, final[int(chain[0]['load_from'])])
        return chain

    def replay_study(self, mode, output=None):
        self.write_spec(pbt_spec(mode))
        self.assert_run_ok(self.sherpa('run', 'study.json'))
        final = self.final_rows(self.results('out'))
        self.assertEqual(len(final), POPULATION * INTERVALS)
        chain = self.best_chain(final)

        args = ['replay', 'out'] + (['-o', output] if output else [])
        result = self.sherpa(*args)
        self.assert_run_ok(result)
        spec = output or os.path.join('out', 'replay.yaml')
        self.assertTrue(os.path.isfile(self.path(spec)), result.stdout)
        self.assertIn('trial {}'.format(chain[-1]['Trial-ID']), result.stdout)

        run = self.sherpa('run', spec, '--output-dir', 'replayed')
        self.assert_run_ok(run)
        replayed = self.final_rows(self.results('replayed'))
        self.assertEqual(len(replayed), len(chain))
        previous = ''
        for generation, (trial_id, row) in enumerate(sorted(replayed.items()),
                                                     start=1):
            original = chain[generation - 1]
            self.assertEqual(row['Status'], 'COMPLETED')
            self.assertEqual(int(row['generation']), generation)
            self.assertEqual(float(row['lr']), float(original['lr']),
                             'generation {}'.format(generation))
            self.assertEqual(row['load_from'], previous)
            previous = row['save_to']
        # One model trained along the schedule reaches the same state.
        last = replayed[max(replayed)]
        self.assertAlmostEqual(float(last['Objective']),
                               float(chain[-1]['Objective']), places=12)
        return chain

    def test_generational_study_replays_its_best_schedule(self):
        chain = self.replay_study('generational')
        self.assertEqual(len(chain), INTERVALS)

    def test_asynchronous_study_replays_its_best_schedule_as_json(self):
        self.replay_study('asynchronous', output='replay.json')
        with open(self.path('replay.json')) as f:
            self.assertTrue(f.read().lstrip().startswith('{'))

    def test_refuses_a_study_that_is_not_pbt(self):
        spec = pbt_spec('generational')
        spec['algorithm'] = {'name': 'RandomSearch', 'max_num_trials': 1}
        self.write_spec(spec)
        self.assert_run_ok(self.sherpa('run', 'study.json'))
        result = self.sherpa('replay', 'out')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn('only a PopulationBasedTraining study', result.stderr)
        self.assertFalse(os.path.exists(self.path('out', 'replay.yaml')))


if __name__ == '__main__':
    unittest.main()
