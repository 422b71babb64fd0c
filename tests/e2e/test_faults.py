"""Faults injected into a running study, each survived: the runner killed
with SIGKILL at random moments of a PBT study and resumed every time; a
trial killed with SIGKILL or frozen with SIGSTOP; the output folder filling
up or turning read-only.

The figures of docs/reliability.md ("Faults") come from these tests. More
kill rounds for a bench run: SHERPA_FAULT_ROUNDS=100 (and SHERPA_FAULT_SEED
for another sequence of kill moments). Each test prints one line starting
with "fault:" that says what it injected and what survived.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest

import sherpa_e2e

POPULATION = 4
ITERATIONS = 3  # per trial, as in pbt_counter.py


def counter_spec(generations, **extra):
    spec = {
        'parameters': [{'name': 'lr', 'type': 'continuous',
                        'range': [0.05, 0.5]}],
        'algorithm': {'name': 'PopulationBasedTraining',
                      'population_size': POPULATION,
                      'num_generations': generations,
                      'parameter_range': {'lr': [0.01, 0.9]}},
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('pbt_counter.py')),
        'max_concurrent': POPULATION,
        'output_dir': 'out',
        'seed': 5,
    }
    spec.update(extra)
    return spec


def say(line):
    """The figures for docs/reliability.md, on stderr beside unittest's."""
    print('fault: ' + line, file=sys.stderr, flush=True)


class FaultTestCase(sherpa_e2e.StudyTestCase):

    def env(self, **extra):
        env = super().env(**extra)
        env.setdefault('PBT_COUNTER_PAUSE', '0.08')
        return env

    def acks(self):
        return [json.loads(line) for line in
                self.read('acks.log').splitlines() if line.strip()]

    def check_study(self, output_dir, generations, acks):
        """The invariants every fault must leave intact, checked on the
        finished study:

        * "Stored once": every report a trial saw acknowledged is in
          study.db under the attempt that sent it (attempts are told apart
          by the `writer` key each attempt puts in its reports), with its
          value, and no (trial, attempt, iteration) is stored twice. A trial
          that ran again re-reports its iterations as a new attempt: those
          are new rows, not duplicates. The results (`sherpa results`) show
          each trial's final attempt only.
        * No trial id was reused: each id has one set of parameters.
        * PBT's bookkeeping: every generation has POPULATION COMPLETED
          members, and every child loads from a COMPLETED member of the
          previous generation (sherpa_e2e.check_lineage).
        * Every checkpoint was written by its trial's final attempt, with
          the values that attempt reported.
        Returns the number of acknowledged reports checked."""
        db = self.db(output_dir)
        self.assertEqual(db.execute('PRAGMA integrity_check').fetchone(),
                         ('ok',))
        rows = db.execute('SELECT trial_id, attempt, iteration, objective, '
                          'context FROM observations').fetchall()
        stored = {}
        for trial_id, attempt, iteration, objective, context in rows:
            key = (trial_id, attempt, iteration)
            self.assertNotIn(key, stored, 'stored twice: {}'.format(key))
            stored[key] = (objective, json.loads(context).get('writer'))
        writers = {}  # (trial, writer key) -> attempt
        for (trial_id, attempt, _), (_, writer) in stored.items():
            self.assertEqual(writers.setdefault((trial_id, writer), attempt),
                             attempt, 'one attempt key in two attempts')
        for ack in acks:
            attempt = writers.get((ack['trial'], ack['writer']))
            self.assertIsNotNone(attempt, 'acknowledged, then lost: '
                                 '{}'.format(ack))
            self.assertEqual(
                stored.get((ack['trial'], attempt, ack['iteration'])),
                (ack['objective'], ack['writer']),
                'acknowledged, then lost: {}'.format(ack))

        # One id, one trial: the log's created events never disagree.
        created = {}
        for trial_id, payload in db.execute(
                "SELECT trial_id, payload FROM events "
                "WHERE kind = 'trial_created'"):
            parameters = json.loads(payload) if payload else None
            self.assertEqual(created.setdefault(trial_id, parameters),
                             parameters, 'trial id {} reused'.format(trial_id))

        results = self.results(output_dir)
        final = self.final_rows(results)
        self.assertEqual(len(final), POPULATION * generations)
        self.assertEqual({r['Status'] for r in final.values()},
                         {'COMPLETED'})
        sherpa_e2e.check_lineage(self, final, POPULATION, generations)

        last_attempt = dict(db.execute('SELECT id, attempt FROM trials'))
        observations = self.observations(results)
        for trial_id in final:
            mine = {i: value for (t, a, i), value in stored.items()
                    if t == trial_id and a == last_attempt[trial_id]}
            self.assertEqual(
                sorted((i, o) for i, (o, _) in mine.items()),
                observations[trial_id],
                'trial {}: the results are not its final attempt'.format(
                    trial_id))
            with open(self.path(output_dir, 'checkpoints',
                                str(trial_id))) as f:
                checkpoint = json.load(f)
            writer = {w for _, w in mine.values()}
            self.assertEqual({checkpoint['writer']}, writer,
                             'trial {}: checkpoint written by another '
                             'attempt'.format(trial_id))
            self.assertEqual(checkpoint['value'], max(
                o for o, _ in mine.values()))
        return len(acks)


class RunnerKillTest(FaultTestCase):

    def test_kill_9_at_random_moments_then_resume(self):
        rounds = int(os.environ.get('SHERPA_FAULT_ROUNDS', '12'))
        seed = int(os.environ.get('SHERPA_FAULT_SEED', '1'))
        generations = rounds + 4
        rng = random.Random(seed)
        self.write_spec(counter_spec(generations))

        kills = 0
        orphans_seen = 0
        orphans = set()
        command = ('run', 'study.json')
        for round_number in range(rounds):
            name = 'runner{}'.format(round_number)
            runner = self.start_sherpa(*command, name=name)
            if round_number == 0:
                # Into the study, so that resume has something to resume.
                self.wait_for(self.acks, 'a first acknowledged report')
            else:
                # Orphans of the last kill are ended by the resume, before
                # it starts anything (they would otherwise write the
                # checkpoints of the trials it runs again).
                self.wait_for(lambda: 'resumed' in self.read(name + '.stderr')
                              or runner.poll() is not None,
                              'round {} to resume'.format(round_number))
                for pid in orphans:
                    self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                                  'orphan trial {} to be ended by the '
                                  'resume'.format(pid), timeout=10)
            command = ('resume', 'out')
            # Anywhere: while replaying, starting trials, between reports.
            time.sleep(rng.uniform(0.0, 1.2))
            if runner.poll() is not None:
                self.assertEqual(runner.returncode, 0,
                                 self.read(name + '.stderr'))
                break  # the study is done: nothing left to kill
            runner.kill()
            runner.wait()
            kills += 1
            orphans = {pid for pid in self.trial_pids()
                       if sherpa_e2e.pid_alive(pid)}
            orphans_seen += len(orphans)

        result = self.sherpa('resume', 'out', timeout=120)
        self.assert_run_ok(result)
        for pid in orphans:
            self.assertFalse(sherpa_e2e.pid_alive(pid), pid)
        acks = self.check_study('out', generations, self.acks())
        self.assertGreaterEqual(kills, min(rounds, 5),
                                'the study ended before the kills')
        attempts = sum(a for a, in self.db('out').execute(
            'SELECT attempt FROM trials'))
        say('runner SIGKILL: {} kills (seed {}), {} orphaned trial '
            'processes ended by resume, {} trials in {} attempts, '
            '{} acknowledged reports checked, reports lost: 0'.format(
                kills, seed, orphans_seen, POPULATION * generations,
                attempts, acks))


def hold_spec(trials, **extra):
    spec = {
        'parameters': [{'name': 'x', 'type': 'continuous',
                        'range': [0.0, 1.0]}],
        'algorithm': {'name': 'RandomSearch', 'max_num_trials': trials},
        'lower_is_better': False,
        'command': sherpa_e2e.python_command(
            sherpa_e2e.trial_script('hold.py')),
        'max_concurrent': trials,
        'output_dir': 'out',
    }
    spec.update(extra)
    return spec


class TrialFaultTest(FaultTestCase):

    def test_trial_killed_with_sigkill_fails_and_the_study_goes_on(self):
        self.write_spec(hold_spec(3))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        envs = {i: self.wait_json('env_{}.json'.format(i)) for i in (1, 2, 3)}
        os.kill(envs[2]['pid'], signal.SIGKILL)
        self.wait_for(lambda: self.db_states('out').get(2) == 'FAILED',
                      'trial 2 to be FAILED')
        for trial_id in (1, 3):
            self.write('release_{}'.format(trial_id), '')
        self.assertEqual(self.wait_exit(runner), 0,
                         self.read('runner.stderr'))
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'COMPLETED', 2: 'FAILED', 3: 'COMPLETED'})
        reason, = self.db('out').execute(
            'SELECT reason FROM trials WHERE id = 2').fetchone()
        self.assertEqual(reason, 'killed by signal 9 (SIGKILL)')
        self.assertIn('trial 2 FAILED (killed by signal 9',
                      self.read('runner.stderr'))
        say('trial SIGKILL: 1 of 3 trials killed, FAILED with the signal, '
            '2 others COMPLETED, reports lost: 0')

    def test_trial_frozen_with_sigstop_times_out_and_fails(self):
        # SIGTERM stays pending on a stopped process: only the SIGKILL after
        # kill_grace ends it. The whole process group is frozen, as a
        # debugger or a suspended terminal would.
        self.write_spec(hold_spec(2, trial_timeout=2, scheduler={
            'name': 'local', 'kill_grace': 0.5}))
        runner = self.start_sherpa('run', 'study.json')
        runner.must_run = True
        envs = {i: self.wait_json('env_{}.json'.format(i)) for i in (1, 2)}
        frozen = time.monotonic()
        os.killpg(envs[1]['pgid'], signal.SIGSTOP)
        self.write('release_2', '')
        self.wait_for(lambda: self.db_states('out').get(1) == 'FAILED',
                      'the frozen trial 1 to be FAILED', timeout=20)
        ended = time.monotonic() - frozen
        self.wait_for(lambda: not sherpa_e2e.pid_alive(envs[1]['pid']),
                      'the frozen process to be killed', timeout=10)
        self.assertEqual(self.wait_exit(runner), 0,
                         self.read('runner.stderr'))
        self.assertLess(ended, 15)
        final = self.final_rows(self.results('out'))
        self.assertEqual({i: r['Status'] for i, r in final.items()},
                         {1: 'FAILED', 2: 'COMPLETED'})
        reason, = self.db('out').execute(
            'SELECT reason FROM trials WHERE id = 1').fetchone()
        self.assertIn('timed out', reason)
        say('trial SIGSTOP: frozen trial ended {:.1f} s after the freeze '
            '(trial_timeout 2 s, kill_grace 0.5 s), FAILED, reports lost: '
            '0'.format(ended))


class DiskFaultTest(FaultTestCase):
    """The output folder on a small tmpfs of its own (root only: the tests
    skip where mounting is not permitted), filled up or remounted
    read-only under a running study."""

    def mount_tmpfs(self, size):
        disk = self.path('disk')
        os.makedirs(disk)
        mounted = subprocess.run(
            ['mount', '-t', 'tmpfs', '-o', 'size=' + size, 'tmpfs', disk],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if mounted.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: ' + mounted.stdout)
        # Runs before the temporary folder is removed (cleanups are LIFO).
        self.addCleanup(subprocess.run, ['umount', '-l', disk])
        self.addCleanup(sherpa_e2e.kill_trial_groups, self.dir)
        return disk

    def fill(self, path):
        """Appends to the file at `path` until its disk is full.

        Unbuffered: a buffered file keeps the bytes its failed flush could
        not write and raises ENOSPC again from close() at the end of the
        `with` (seen in CI, once per few runs under load)."""
        with open(path, 'ab', buffering=0) as f:
            try:
                while True:
                    f.write(b'\0' * 65536)
            except OSError:
                pass

    def processes_writing_under(self, folder):
        """Pids with a descriptor open on a file below `folder`."""
        pids = set()
        prefix = os.path.realpath(folder) + os.sep
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                fds = os.listdir('/proc/{}/fd'.format(pid))
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink('/proc/{}/fd/{}'.format(pid, fd))
                except OSError:
                    continue
                if target.startswith(prefix):
                    pids.add(int(pid))
                    break
        return pids

    def stop_orphans(self):
        sherpa_e2e.kill_trial_groups(self.dir)
        for pid in self.trial_pids():
            self.wait_for(lambda: not sherpa_e2e.pid_alive(pid),
                          'trial process {} to end'.format(pid), timeout=10)

    def test_study_db_left_before_anything_was_recorded_is_reused(self):
        # A runner killed between creating study.db and its one metadata
        # commit leaves a study.db that records nothing (here: empty).
        os.makedirs(self.path('out'))
        open(self.path('out', 'study.db'), 'w').close()
        result = self.sherpa('resume', 'out')
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('never started', result.stderr)
        self.assertIn('sherpa run', result.stderr)
        self.write_spec(counter_spec(2))
        result = self.sherpa('run', 'study.json')
        self.assert_run_ok(result)
        self.assertIn('replaced the empty study.db', result.stdout + result.stderr)
        self.check_study('out', 2, self.acks())
        # Once it holds a study, `run` refuses the folder.
        result = self.sherpa('run', 'study.json')
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('holds a study already', result.stderr)

    def test_full_disk_stops_the_runner_and_resume_completes(self):
        # Room for the study to reach generation 2 with plenty to spare (its
        # WAL alone may grow to 4 MB before a checkpoint).
        disk = self.mount_tmpfs('32m')
        out = os.path.join(disk, 'out')
        filler = os.path.join(disk, 'filler')
        generations = 6
        self.write_spec(counter_spec(generations, output_dir=out))
        runner = self.start_sherpa('run', 'study.json')
        self.wait_for(lambda: any(a['generation'] == 2 for a in self.acks()),
                      'a report of generation 2')
        self.fill(filler)
        code = self.wait_exit(runner, timeout=30)
        stderr = self.read('runner.stderr')
        self.assertNotEqual(code, 0, stderr)
        self.assertIn(os.path.join(out, 'study.db'), stderr)
        self.assertRegex(stderr, 'full|No space left')
        self.stop_orphans()
        acks_before = len(self.acks())
        self.assertEqual(self.db(out).execute(
            'PRAGMA integrity_check').fetchone(), ('ok',))

        os.unlink(filler)
        result = self.sherpa('resume', out, timeout=120)
        self.assert_run_ok(result)
        checked = self.check_study(out, generations, self.acks())
        say('disk full: runner exited {} naming the path, integrity_check '
            'ok, {} reports acknowledged before, {} checked after resume, '
            'reports lost: 0'.format(code, acks_before, checked))

    def test_read_only_output_dir_is_a_clear_error_and_resume_completes(self):
        # Linux will not remount a filesystem read-only under open writers
        # (EBUSY), so the study is interrupted first (kill -9, its trials
        # ended), and resumed on the read-only mount.
        disk = self.mount_tmpfs('16m')
        out = os.path.join(disk, 'out')
        generations = 4
        self.write_spec(counter_spec(generations, output_dir=out))
        runner = self.start_sherpa('run', 'study.json')
        self.wait_for(lambda: any(a['generation'] == 2 for a in self.acks()),
                      'a report of generation 2')
        runner.kill()
        runner.wait()
        self.stop_orphans()
        # A trial the runner spawned just before its end may not have
        # recorded its process group yet, and its output file keeps the
        # mount busy (remount failed once in 20 loaded runs): it goes too.
        for pid in self.processes_writing_under(disk):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.wait_for(lambda: not self.processes_writing_under(disk),
                      'no process writing on the disk', timeout=10)
        with open(os.path.join(out, 'study.db'), 'rb') as f:
            before = f.read()
        remount = ['mount', '-o', 'remount,ro', disk]
        self.assertEqual(subprocess.run(remount).returncode, 0)

        result = self.sherpa('resume', out)
        self.assertNotEqual(result.returncode, 0, result.stderr)
        self.assertIn(out, result.stderr)
        self.assertIn('Read-only file system', result.stderr)
        with open(os.path.join(out, 'study.db'), 'rb') as f:
            self.assertEqual(f.read(), before, 'study.db changed')

        remount[2] = 'remount,rw'
        self.assertEqual(subprocess.run(remount).returncode, 0)
        result = self.sherpa('resume', out, timeout=120)
        self.assert_run_ok(result)
        checked = self.check_study(out, generations, self.acks())
        say('read-only output_dir: resume refused naming the path and '
            'the cause, study.db unchanged, resume completed once writable, '
            '{} acknowledged reports checked, reports lost: 0'.format(
                checked))


if __name__ == '__main__':
    unittest.main()
