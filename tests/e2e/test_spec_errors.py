"""Malformed study specs and command lines: `sherpa` must exit with code 2
and a message naming the field, before anything runs. Every spec's command
would create a marker file, and its output_dir must not appear."""

import hashlib
import os
import unittest

import sherpa_e2e

GOOD = '''\
parameters:
  - {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
  - {name: batch_size, type: ordinal, range: [16, 32, 64]}
algorithm:
  name: PopulationBasedTraining
  population_size: 4
  num_generations: 2
  parameter_range: {lr: [1.0e-7, 1.0], batch_size: [16, 32, 64]}
lower_is_better: false
command: touch ran && sherpa trial report -i 1 -o 0.5
max_concurrent: 2
output_dir: out
'''

# (what is wrong, the spec, what the message must say)
BAD_SPECS = [
    ('population_size a string',
     GOOD.replace('population_size: 4', 'population_size: ten'),
     "algorithm.population_size: expected an integer"),
    ('population too small for PBT',
     GOOD.replace('population_size: 4', 'population_size: 2'),
     'population_size must be at least 3'),
    ('lower_is_better missing',
     GOOD.replace('lower_is_better: false\n', ''),
     'lower_is_better is missing'),
    ('a misspelt key', GOOD.replace('command:', 'comand:'),
     "unknown key 'comand'; did you mean 'command'?"),
    ('log scale from 0', GOOD.replace('[1.0e-4, 0.1]', '[0, 0.1]'),
     "parameter 'lr': log scale needs bounds > 0"),
    ('unknown parameter type',
     GOOD.replace('type: continuous', 'type: contnuous'),
     "parameters[0] ('lr').type: unknown type 'contnuous'"),
    ('max_concurrent 0', GOOD.replace('max_concurrent: 2',
                                      'max_concurrent: 0'),
     'max_concurrent: expected an integer >= 1'),
    ('unknown algorithm',
     GOOD.replace('name: PopulationBasedTraining',
                  'name: PopulationBasedTrainig'),
     "algorithm.name: unknown 'PopulationBasedTrainig'; did you mean "
     "'PopulationBasedTraining'?"),
    ('parameter_range of no parameter',
     GOOD.replace('batch_size: [16, 32, 64]}', 'momentum: [0.1, 0.9]}'),
     "parameter_range names 'momentum'"),
    ('negative min_iterations',
     GOOD + 'stopping_rule: {name: MedianStoppingRule, min_iterations: -1}\n',
     'stopping_rule.min_iterations: expected an integer >= 0'),
    ('trial_timeout with a unit', GOOD + 'trial_timeout: 10s\n',
     'trial_timeout: expected an integer'),
    ('port out of range', GOOD + 'server: {port: 70000}\n',
     'server.port'),
    ('unknown scheduler', GOOD + 'scheduler: {name: slurn}\n',
     "scheduler.name: unknown 'slurn'"),
    ('a boolean as a word', GOOD + 'checkpoint_gc: yes please\n',
     'checkpoint_gc: expected true or false'),
    ('invalid YAML', GOOD + '  broken: [unclosed\n', 'invalid YAML at line'),
    ('invalid JSON', '{"parameters": [}', 'invalid JSON at line 1'),
    ('a list, not a mapping', '- a\n- b\n', 'expected a mapping'),
    ('empty', '', 'expected a mapping'),
]


class SpecErrorTest(sherpa_e2e.StudyTestCase):

    def assert_refused(self, result, *needles, folder=''):
        self.assertEqual(result.returncode, 2, result.stderr)
        for needle in needles:
            self.assertIn(needle, result.stderr)
        self.assertFalse(os.path.exists(self.path(folder, 'out')),
                         'output_dir created for a refused study')
        self.assertFalse(os.path.exists(self.path(folder, 'ran')),
                         'the trial command ran for a refused study')

    def test_the_good_spec_runs(self):
        # The baseline the bad specs are made from must itself work, or the
        # refusals below would prove nothing.
        self.write('study.yaml', GOOD)
        self.assert_run_ok(self.sherpa('run', 'study.yaml'))
        self.assertTrue(os.path.exists(self.path('ran')))

    def test_bad_specs_are_refused_before_anything_runs(self):
        for number, (what, text, message) in enumerate(BAD_SPECS):
            with self.subTest(what):
                # A folder per case: one failure must not spill into the next.
                folder = 'case{}'.format(number)
                self.write(os.path.join(folder, 'study.yaml'), text)
                self.assert_refused(
                    self.sherpa('run', 'study.yaml', cwd=self.path(folder)),
                    'study.yaml', message, folder=folder)

    def test_bad_command_lines_are_refused(self):
        self.write('study.yaml', GOOD)
        cases = [
            (('run', 'missing.yaml'), "cannot read study spec 'missing.yaml'"),
            (('run',), 'spec'),
            (('run', 'study.yaml', '--max-concurrent', '0'),
             '--max-concurrent'),
            (('run', 'study.yaml', '--port', '99999'), '--port'),
            (('run', 'study.yaml', '--no-such-flag'), '--no-such-flag'),
            (('resume', 'out'), "no study in 'out'"),
            (('results', 'out'), "no study in 'out'"),
            (('frobnicate',), 'subcommand'),
        ]
        for args, message in cases:
            with self.subTest(' '.join(args)):
                self.assert_refused(self.sherpa(*args), message)

    def test_trial_commands_outside_a_trial_say_why(self):
        result = self.sherpa('trial', 'get')
        self.assertEqual(result.returncode, 2)
        self.assertIn('SHERPA_TRIAL_ID is not set', result.stderr)

    def test_an_existing_study_is_never_overwritten(self):
        self.write('study.yaml', GOOD)
        self.assert_run_ok(self.sherpa('run', 'study.yaml'))
        os.remove(self.path('ran'))
        db = self.path('out', 'study.db')
        with open(db, 'rb') as f:
            before = hashlib.sha256(f.read()).hexdigest()
        result = self.sherpa('run', 'study.yaml')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertFalse(os.path.exists(self.path('ran')))
        self.assertIn('holds a study already', result.stderr)
        self.assertIn('sherpa resume', result.stderr)
        with open(db, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), before)


if __name__ == '__main__':
    unittest.main()
