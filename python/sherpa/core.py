"""The value types a SHERPA trial script sees: Trial, statuses, errors."""


class SherpaError(RuntimeError):
    """A request to the sherpa runner failed, or the trial's setup is wrong.

    The message says what went wrong and how to fix it. When the runner
    answered with an error, ``status`` is the HTTP status (e.g. 409),
    ``code`` the API's error code (e.g. ``'ALREADY_EXISTS'``) and
    ``server_message`` the runner's own explanation; otherwise they are None.
    """

    def __init__(self, message, status=None, code=None, server_message=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.server_message = server_message


class Trial(object):
    """One parameter configuration of a study, as handed to a trial script.

    Attributes:
        id (int): the trial id (``SHERPA_TRIAL_ID``).
        parameters (dict): parameter name -> value. Integers arrive as
            ``int``, doubles as ``float``, strings as ``str``. Algorithms add
            keys of their own; PBT adds ``load_from`` (``''`` for a fresh
            start, else the ``save_to`` of the trial to continue from),
            ``save_to``, ``lineage`` and ``generation``; SuccessiveHalving
            adds ``load_from``, ``save_to``, ``resource`` (how long to
            train) and ``rung``.
    """

    def __init__(self, id, parameters):  # noqa: A002 -- SHERPA's argument name
        self.id = id
        self.parameters = parameters

    def __repr__(self):
        # SHERPA's Trial had only object's default repr; this one shows
        # what a user debugging a script wants to see.
        return 'Trial(id={!r}, parameters={!r})'.format(self.id,
                                                        self.parameters)


class TrialStatus(object):
    """The values of the results table's ``Status`` column, as in SHERPA."""

    INTERMEDIATE = 'INTERMEDIATE'
    COMPLETED = 'COMPLETED'
    FAILED = 'FAILED'
    STOPPED = 'STOPPED'


class AlgorithmState(object):
    """What an algorithm answers instead of a configuration, as in SHERPA."""

    DONE = 'DONE'
    WAIT = 'WAIT'
