// -----------------------------------------------------------------------------
// File: scheduler.h
// -----------------------------------------------------------------------------
//
// A `Scheduler` runs trial scripts as jobs: on this machine (LocalScheduler),
// or on a cluster (SlurmScheduler, SGEScheduler; docs/clusters.md). It is SHERPA's scheduler
// interface with three verbs (submit, status, kill) plus one addition that makes the runner
// event-driven instead of polling: a scheduler calls the `on_change` callback it was given whenever
// a job may have changed state, so the runner reacts to a finished trial within milliseconds.
// Cluster schedulers, which can only learn about jobs by asking, call it after each poll.
//
// Contract (scheduler_conformance_test.cc):
//   * submit starts the job (or queues it on a cluster) and returns its id;
//     the job runs `command` through /bin/sh in `working_dir`, with the
//     environment of the runner plus `env` (env wins: a nested study must not
//     hand its own SHERPA_* variables to its trials, which SHERPA did), with
//     stdout and stderr appended to `output_path`.
//   * status answers for all the given jobs in one call.
//   * kill asks a job to end (SIGTERM, then SIGKILL after a grace period);
//     the job then reports kKilled. Killing an ended job is OK.
//   * Methods are thread-safe; `on_change` may be called from any thread and
//     must not call back into the scheduler.

#ifndef SHERPA_SCHEDULER_H_
#define SHERPA_SCHEDULER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sherpa/status.h"

namespace sherpa {

using JobId = std::string;

struct JobSpec {
  std::string command;                     // run with /bin/sh -c
  std::map<std::string, std::string> env;  // added to (and overriding) the runner's environment
  std::string name;                        // e.g. "trial_7"; cluster job name
  std::string output_path;                 // stdout + stderr, appended
  std::string working_dir;                 // "" = the runner's current directory
  // Local scheduler only: a descriptor of the runner that the job gets as
  // its descriptor 3 (the runner hands a started-ahead trial its trial
  // through it; docs/design.md). -1: none. Cluster schedulers refuse it.
  int fd3 = -1;
};

enum class JobState {
  kQueued,  // waiting for resources (clusters)
  kRunning,
  kCompleted,  // exited with status 0
  kFailed,     // exited non-zero, crashed by a signal we did not send, or ended
               // by the cluster (reason "TIMEOUT...", "NODE_FAIL...", ...)
  kKilled,     // ended because kill() was called
};

struct JobStatus {
  JobState state = JobState::kQueued;
  int exit_code = 0;     // kFailed: the exit code, or 128 + signal
  std::string reason;    // human-readable, e.g. "exit code 3", "killed by signal 9", "TIMEOUT"
  std::string resource;  // the resource the job holds or held ("" if none)
  bool ended() const {
    return state == JobState::kCompleted || state == JobState::kFailed ||
           state == JobState::kKilled;
  }
};

const char* JobStateName(JobState state);

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  virtual std::string_view name() const = 0;

  // Starts or queues a job. UNAVAILABLE if no resource is free or the
  // cluster cannot be reached (the caller may retry), INTERNAL if the
  // command cannot be started at all.
  virtual StatusOr<JobId> submit(const JobSpec& job) = 0;

  // The state of each job in `jobs`; unknown ids are absent from the map.
  virtual StatusOr<std::map<JobId, JobStatus>> status(const std::vector<JobId>& jobs) = 0;

  // Asks the job to end; it then ends as kKilled.
  virtual Status kill(const JobId& job) = 0;

  // Ends jobs that an earlier runner of the same study submitted and can no
  // longer follow (it was killed), by the ids it recorded; ids of jobs that
  // have ended are fine. A cluster job outlives its runner and would go on
  // writing the checkpoints of the attempt that replaces it. The default does
  // nothing: the local scheduler's orphans are processes, which the runner
  // finds by their environment (KillOrphanedJobs).
  virtual Status cancel_left_over(const std::vector<JobId>& jobs) {
    (void)jobs;
    return OkStatus();
  }

  // How many jobs can run at once given the scheduler's resources (0: no
  // limit of its own).
  virtual size_t capacity() const { return 0; }
};

struct LocalSchedulerOptions {
  // Handed out one per running job as SHERPA_RESOURCE (e.g. GPU ids). Empty:
  // no resources, SHERPA_RESOURCE is "". When not empty, at most
  // resources.size() jobs run at once.
  std::vector<std::string> resources;
  // Also set CUDA_VISIBLE_DEVICES to the job's resource.
  bool set_cuda_visible_devices = false;
  // Time between SIGTERM and SIGKILL in kill().
  std::chrono::milliseconds kill_grace{5000};
  // Called (from any thread) when a job may have changed state.
  std::function<void()> on_change;
};

// Runs each job as a child process of this one, in its own process group
// (so kill reaches the whole job, not just /bin/sh).
std::unique_ptr<Scheduler> NewLocalScheduler(LocalSchedulerOptions options);

// Ends, with SIGKILL, the processes on this machine that were started with
// every variable of `env` (name=value) in their environment, and the process
// groups they lead; returns how many. For jobs of a local scheduler whose
// program died without ending them (kill -9, a crash, the OOM killer): they
// run on in their own process groups, nobody's children. The caller must
// choose `env` so that it names only jobs nobody owns any more.
size_t KillOrphanedJobs(const std::map<std::string, std::string>& env);

// The cluster schedulers submit each job as a batch job (sbatch, qsub) whose
// script exports the job's `env` and runs its command with /bin/sh; they
// learn about jobs by asking the cluster, one command for all of them every
// `poll_interval` (squeue; qstat, and qacct once per ended job), on a thread
// of their own that calls `on_change` when a job changed state. status()
// answers from what the last poll learned. Each job's output file, working
// directory and `environment` file must be on a filesystem the compute
// nodes share with this host.
struct ClusterSchedulerOptions {
  // Extra arguments for sbatch or qsub, split as a shell would, e.g.
  // "--gres=gpu:1 --time=2:00:00" or "-l gpu=1,h_rt=2:00:00 -q gpu.q".
  // They come after the scheduler's own, so they can override them.
  std::string submit_options;
  // A file each job sources (with bash) before its command: modules, a
  // virtualenv, ... "" = none.
  std::string environment;
  // How often the cluster is asked about the jobs. Smaller reacts faster to
  // a job's end but loads the controller more.
  std::chrono::milliseconds poll_interval{1000};
  // A cluster command still running after this long is killed and counts as
  // failed (submit: UNAVAILABLE; a poll: tried again at the next one).
  std::chrono::milliseconds command_timeout{60000};
  // Give jobs the runner's whole environment (sbatch --export=ALL, qsub -V)
  // under `env`, as the local scheduler does; false leaves it to the
  // cluster's defaults.
  bool export_environment = true;
  // Folder of the cluster's commands; "" = found in PATH.
  std::string bin_dir;
  // Called from the polling thread after a poll saw a job change state.
  std::function<void()> on_change;
};

// Slurm: sbatch, squeue -t all (and sacct for jobs squeue has forgotten),
// scancel. Errors: FAILED_PRECONDITION if the commands are missing,
// UNAVAILABLE if the controller does not answer.
StatusOr<std::unique_ptr<Scheduler>> NewSlurmScheduler(ClusterSchedulerOptions options);

// (Son of) Grid Engine: qsub, qstat, qacct, qdel. Errors as for Slurm.
StatusOr<std::unique_ptr<Scheduler>> NewSgeScheduler(ClusterSchedulerOptions options);

}  // namespace sherpa

#endif  // SHERPA_SCHEDULER_H_
