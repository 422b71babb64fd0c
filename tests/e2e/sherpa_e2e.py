"""Shared helpers of the end-to-end tests: real `sherpa` processes, real
trial processes, real HTTP, in a fresh temporary folder per test.

The tests drive the binary named by the SHERPA_BIN environment variable
(CTest sets it; see tests/CMakeLists.txt). Run them by hand with:

    SHERPA_BIN=build/ci/src/cli/sherpa \\
    SHERPA_QUICKSTART_TRIAL=build/ci/examples/quickstart/quickstart_trial \\
    PYTHONPATH=python python3 -m unittest discover -s tests/e2e -v

Waiting is done by polling for a condition with a deadline, never by a
fixed sleep: a loaded machine only makes the tests slower, not flaky.
"""

import csv
import http.client
import io
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRIALS = os.path.join(HERE, 'trials')
QUICKSTART = os.path.join(REPO, 'examples', 'quickstart')
PYTHON_DIR = os.path.join(REPO, 'python')

# Generous: these bound a broken test, they do not pace a passing one.
RUN_TIMEOUT = 60
WAIT_TIMEOUT = 30
POLL = 0.02

FINAL_STATES = ('COMPLETED', 'FAILED', 'STOPPED')


def sherpa_bin():
    path = os.environ.get('SHERPA_BIN', '')
    if not path:
        raise RuntimeError('SHERPA_BIN is not set: point it at the sherpa '
                           'binary (CTest sets it)')
    return os.path.abspath(path)


def python_command(script, *args):
    """A trial command running `script` with this interpreter."""
    return ' '.join(shlex.quote(a) for a in (sys.executable, script) + args)


def trial_script(name):
    return os.path.join(TRIALS, name)


def http_request(host, port, method, path, body=None, headers=None):
    """One HTTP request on a fresh connection; returns (status, decoded
    JSON answer or None when the answer is not JSON)."""
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, None


def pid_alive(pid):
    """True if `pid` runs (a zombie counts as gone: it no longer runs, and
    a container's init may never reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/{}/stat'.format(pid)) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        return state not in ('Z', 'X')
    except (OSError, IndexError):
        return False


class StudyTestCase(unittest.TestCase):
    """Gives each test a temporary folder to run studies in, and cleans up
    every process a test started, whatever the outcome."""

    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='sherpa-e2e-')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self._runners = []
        self.addCleanup(self._kill_leftovers)

    # ------------------------------------------------------------ running

    def env(self, **extra):
        """The environment for `sherpa`: its folder on PATH (shell trials
        call `sherpa trial ...`) and our Python module on PYTHONPATH."""
        env = dict(os.environ)
        env['PATH'] = os.path.dirname(sherpa_bin()) + os.pathsep + \
            env.get('PATH', '')
        env['PYTHONPATH'] = PYTHON_DIR + (
            os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
        env.update(extra)
        return env

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, text):
        """Writes the file aside and renames it into place: trials poll for
        files such as release_<id> and must never read one half-written (an
        empty release once made hold.py send its default report instead)."""
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + '.partial', 'w') as f:
            f.write(text)
        os.replace(path + '.partial', path)
        return path

    def write_spec(self, spec, name='study.json'):
        """Writes a spec given as a dict (JSON, which `sherpa run` reads
        like YAML) or as text."""
        text = spec if isinstance(spec, str) else json.dumps(spec, indent=1)
        return self.write(name, text)

    def sherpa(self, *args, timeout=RUN_TIMEOUT, cwd=None, env=None):
        """Runs `sherpa args...` to the end; returns CompletedProcess.
        `env`: variables to add to its environment."""
        try:
            return subprocess.run(
                [sherpa_bin()] + [str(a) for a in args], cwd=cwd or self.dir,
                env=self.env(**(env or {})), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            self.fail('sherpa {} did not finish within {} s; stderr:\n{}'
                      .format(' '.join(map(str, args)), timeout,
                              _text(e.stderr)))

    def start_sherpa(self, *args, name='runner'):
        """Starts `sherpa args...` in the background. Its stdout and stderr
        go to files (a pipe nobody reads could block it)."""
        out = open(self.path(name + '.stdout'), 'w')
        err = open(self.path(name + '.stderr'), 'w')
        self.addCleanup(out.close)
        self.addCleanup(err.close)
        process = subprocess.Popen(
            [sherpa_bin()] + [str(a) for a in args], cwd=self.dir,
            env=self.env(), stdout=out, stderr=err)
        process.name = name
        self._runners.append(process)
        return process

    def wait_exit(self, process, timeout=RUN_TIMEOUT):
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail('{} did not exit within {} s; stderr:\n{}'.format(
                process.name, timeout, self.read(process.name + '.stderr')))

    def read(self, name):
        try:
            with open(self.path(name), errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def assert_run_ok(self, result):
        self.assertEqual(result.returncode, 0,
                         'sherpa failed:\nstdout:\n{}\nstderr:\n{}'.format(
                             result.stdout, result.stderr))

    # ------------------------------------------------------------ waiting

    def wait_for(self, condition, what, timeout=WAIT_TIMEOUT):
        """Polls `condition()` until it returns something true; returns it.
        Fails naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail('timed out after {} s waiting for {}'.format(
                    timeout, what))
            for process in self._runners:
                if process.poll() is not None and \
                        getattr(process, 'must_run', False):
                    self.fail('{} exited ({}) while waiting for {}; '
                              'stderr:\n{}'.format(
                                  process.name, process.returncode, what,
                                  self.read(process.name + '.stderr')))
            time.sleep(POLL)

    def wait_json(self, name, timeout=WAIT_TIMEOUT):
        """Waits for the JSON file `name` (written aside and renamed by its
        writer) and returns its content."""
        path = self.path(name)
        self.wait_for(lambda: os.path.exists(path), name, timeout)
        with open(path) as f:
            return json.load(f)

    # ------------------------------------------------------------ results

    def results(self, output_dir):
        """`sherpa results --csv` as a list of dicts."""
        result = self.sherpa('results', output_dir, '--csv')
        self.assert_run_ok(result)
        return list(csv.DictReader(io.StringIO(result.stdout)))

    def final_rows(self, rows):
        """Trial id -> the row that finalized it."""
        final = {}
        for row in rows:
            if row['Status'] in FINAL_STATES:
                self.assertNotIn(int(row['Trial-ID']), final,
                                 'trial finalized twice')
                final[int(row['Trial-ID'])] = row
        return final

    def observations(self, rows):
        """Trial id -> [(iteration, objective)] of the INTERMEDIATE rows."""
        out = {}
        for row in rows:
            if row['Status'] == 'INTERMEDIATE':
                out.setdefault(int(row['Trial-ID']), []).append(
                    (int(row['Iteration']), float(row['Objective'])))
        return out

    def db(self, output_dir):
        """study.db, read-only (the runner may still be writing it)."""
        path = os.path.join(self.path(output_dir), 'study.db')
        conn = sqlite3.connect('file:{}?mode=ro'.format(path), uri=True,
                               timeout=10)
        self.addCleanup(conn.close)
        return conn

    def db_states(self, output_dir):
        """Trial id -> state in study.db; {} while there is no study.db."""
        if not os.path.exists(os.path.join(self.path(output_dir),
                                           'study.db')):
            return {}
        try:
            conn = sqlite3.connect('file:{}?mode=ro'.format(os.path.join(
                self.path(output_dir), 'study.db')), uri=True, timeout=10)
            try:
                return dict(conn.execute('SELECT id, state FROM trials'))
            finally:
                conn.close()
        except sqlite3.Error:
            return {}  # the runner is still creating it

    # ------------------------------------------------------------ cleanup

    def _kill_leftovers(self):
        for process in self._runners:
            if process.poll() is None:
                process.kill()
                process.wait()
        kill_trial_groups(self.dir)

    def trial_pids(self):
        """Pids of the helper trials that recorded themselves (files
        pgid_<trial>_<pid>), as {pid: (trial id, process group)}."""
        pids = {}
        for name in os.listdir(self.dir):
            if name.startswith('pgid_'):
                _, trial_id, pid = name.split('_')
                pids[int(pid)] = (int(trial_id), int(self.read(name) or 0))
        return pids


def kill_trial_groups(folder):
    """Kills the process groups of the trials that recorded themselves in
    `folder` and still run: the helpers in trials/ and the scripts a test
    writes into `folder`. Trial processes run in process groups of their
    own, so they outlive a runner killed with SIGKILL."""
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if not name.startswith('pgid_'):
            continue
        try:
            pid = int(name.split('_')[2])
            with open(os.path.join(folder, name)) as f:
                pgid = int(f.read())
            # Only a process that still is our trial: pids get reused.
            with open('/proc/{}/cmdline'.format(pid), 'rb') as f:
                cmdline = f.read()
            if TRIALS.encode() not in cmdline and \
                    folder.encode() not in cmdline:
                continue
            os.killpg(pgid, signal.SIGKILL)
        except (ValueError, IndexError, OSError):
            pass


def random_spec(command, trials, **extra):
    """A RandomSearch study of `trials` trials over one parameter x in
    [0, 1], maximized, 2 at a time, in folder `out`; `extra` adds or
    replaces fields."""
    spec = {
        'parameters': [{'name': 'x', 'type': 'continuous',
                        'range': [0.0, 1.0]}],
        'algorithm': {'name': 'RandomSearch', 'max_num_trials': trials},
        'lower_is_better': False,
        'command': command,
        'max_concurrent': 2,
        'output_dir': 'out',
        'seed': 3,
    }
    spec.update(extra)
    return spec


def check_lineage(test, final, population, generations):
    """Checks PBT's bookkeeping in the final results rows (trial id ->
    row): generations 1..N of `population` trials each, every member of
    generation g > 1 loading a COMPLETED member of generation g-1, and
    lineage = parent's lineage + parent's id + ','."""
    sizes = {}
    for trial_id, row in final.items():
        generation = int(row['generation'])
        sizes[generation] = sizes.get(generation, 0) + 1
        test.assertEqual(row['save_to'], str(trial_id))
        if generation == 1:
            test.assertEqual((row['load_from'], row['lineage']), ('', ''),
                             row)
            continue
        parent_id = int(row['load_from'])
        test.assertIn(parent_id, final, 'trial {} loads from unknown trial '
                      '{}'.format(trial_id, parent_id))
        parent = final[parent_id]
        test.assertEqual(int(parent['generation']), generation - 1,
                         'trial {}: parent from the wrong generation'.format(
                             trial_id))
        test.assertEqual(parent['Status'], 'COMPLETED')
        test.assertEqual(row['lineage'],
                         parent['lineage'] + parent['save_to'] + ',',
                         'trial {}: lineage'.format(trial_id))
    test.assertEqual(sizes, {g: population for g in range(1, generations + 1)})


def _text(data):
    if data is None:
        return ''
    return data.decode(errors='replace') if isinstance(data, bytes) else data


def load_checkpoint(path):
    """Reads a quickstart checkpoint ("key value..." lines) into a dict of
    strings."""
    fields = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            key, _, value = line.partition(' ')
            fields[key] = value
    return fields
