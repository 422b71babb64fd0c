"""sherpa: the trial-side Python module of sherpa-cpp.

SHERPA trial scripts run unchanged against the sherpa-cpp runner::

    import sherpa
    client = sherpa.Client()
    trial = client.get_trial()          # trial.id, trial.parameters
    ...
    client.send_metrics(trial=trial, iteration=epoch, objective=accuracy)

The study itself (parameters, algorithm, scheduler: SHERPA's ``Study``,
``optimize``, ``sherpa.algorithms``) is run by the C++ runner, so this module
holds only what a trial script needs. It uses nothing but the standard
library, and importing it is instant.
"""

from .client import Client
from .core import AlgorithmState, SherpaError, Trial, TrialStatus

__version__ = '0.1.0'

__all__ = ['AlgorithmState', 'Client', 'SherpaError', 'Trial', 'TrialStatus',
           '__version__']

# SHERPA's runner-side API. A trial script never needs it; a runner script
# that uses it gets a clear explanation instead of a bare AttributeError.
_RUNNER_SIDE = frozenset([
    'Study', 'optimize', 'run_dashboard', 'Parameter', 'Continuous',
    'Discrete', 'Choice', 'Ordinal', 'rng', 'algorithms', 'schedulers',
])


def __getattr__(name):
    if name in _RUNNER_SIDE:
        raise AttributeError(
            'sherpa.{0} belongs to the runner side of SHERPA, which '
            'sherpa-cpp implements in C++: describe the study (parameters, '
            'algorithm, scheduler) for `sherpa run` instead. This Python '
            'module holds only the trial side: Client, Trial, TrialStatus, '
            'AlgorithmState, SherpaError.'.format(name))
    raise AttributeError("module 'sherpa' has no attribute {!r}".format(name))
