// Internal to the scheduler module: what the Slurm and Grid Engine schedulers
// share. A ClusterScheduler owns the table of jobs, the polling thread, the
// record of our own cancellations and the error handling; a ClusterBackend
// only runs one cluster's commands and reads their output (the parsing
// itself lives in slurm_parse.h and sge_parse.h, pure and unit-tested).
//
// Polling: one backend Poll per poll_interval for all the jobs that have
// not ended, and none while there are no such jobs. A job ends in our table
// once; later answers about it are ignored, so a state the runner has seen
// never changes again. A job the cluster no longer knows (no queue entry, no
// accounting record) is:
//   * kKilled at once if we cancelled it (Grid Engine keeps no record of a
//     job deleted while pending);
//   * kFailed after `missing_grace` otherwise (accounting records can lag
//     behind the queue: SGE flushes them every few seconds).
//
// Failures: a poll that fails leaves the table as it was and is tried again
// at the next interval; status() reports the failure once (so the runner can
// log it) and otherwise answers from the table. A cancel that fails is tried
// again at every poll until it works or the job has ended.

#ifndef SHERPA_SCHEDULER_CLUSTER_SCHEDULER_H_
#define SHERPA_SCHEDULER_CLUSTER_SCHEDULER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {

struct PollJob {
  JobId id;
  bool cancelled = false;  // we asked the cluster to cancel it
};

class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;

  virtual std::string_view name() const = 0;

  // Checks that the commands exist (FAILED_PRECONDITION, saying how to fix
  // it) and that the controller answers (UNAVAILABLE).
  virtual Status Check() = 0;

  // Submits `script` (a bash script, given on the command's stdin) for `job`
  // under the job name `name` (already safe for the cluster). UNAVAILABLE
  // for errors worth retrying (controller unreachable, submit limit),
  // INVALID_ARGUMENT when the cluster rejected the job itself.
  virtual StatusOr<JobId> Submit(const JobSpec& job, const std::string& name,
                                 const std::string& script) = 0;

  // The states of `jobs`, none of which has ended as far as we know; jobs
  // the cluster has no answer for are left out. Errors: the command failed
  // (UNAVAILABLE).
  virtual StatusOr<std::map<JobId, JobStatus>> Poll(const std::vector<PollJob>& jobs) = 0;

  // Asks the cluster to end `jobs`. A job that has ended already is not an
  // error.
  virtual Status Cancel(const std::vector<JobId>& jobs) = 0;

  // How long a job may be unknown to the cluster before it counts as
  // failed.
  virtual std::chrono::milliseconds missing_grace() const = 0;
};

// Checks the backend (see ClusterBackend::Check) and starts the polling
// thread.
StatusOr<std::unique_ptr<Scheduler>> NewClusterScheduler(std::unique_ptr<ClusterBackend> backend,
                                                         ClusterSchedulerOptions options);

// --- Pure helpers shared by the backends (cluster_scheduler_test.cc) ---

// Splits `text` into words as a POSIX shell would, without expansions:
// blanks separate words, '...' and "..." quote (\" \\ \$ \` escape inside
// double quotes), a backslash escapes the next character. INVALID_ARGUMENT
// for an unterminated quote or a trailing backslash.
StatusOr<std::vector<std::string>> SplitShellWords(std::string_view text);

// `text` in single quotes, safe to paste into a shell script.
std::string ShellQuote(std::string_view text);

// A job name every cluster accepts: letters, digits, '_', '.' and '-' only
// (Grid Engine rejects blanks and ':'), starting with a letter (it rejects
// a leading digit), at most 64 characters. "" becomes "sherpa_job".
std::string SafeJobName(std::string_view name);

// The bash script a job runs: sources `environment_file` (if not ""),
// exports `job.env` and runs `job.command` with /bin/sh. INVALID_ARGUMENT
// for an env name that is not a shell identifier or a value with NUL.
StatusOr<std::string> JobScript(const JobSpec& job, const std::string& environment_file);

// The path of `program` in `bin_dir` (if not "") or PATH; "" if there is no
// executable file of that name.
std::string FindProgram(const std::string& program, const std::string& bin_dir);

// Whether the output of a failed cluster command says the controller was
// out of reach or busy (worth trying again) rather than that the request
// was wrong.
bool LooksTransient(std::string_view message);

// `text` without trailing newlines and spaces (command output in messages).
std::string Trimmed(std::string text);

// Runs a submit command (`tool` is "sbatch" or "qsub", argv[0] its path)
// with the job script on stdin and returns its stdout. UNAVAILABLE when the
// cluster was out of reach or busy (the runner tries again later),
// INVALID_ARGUMENT when the cluster refused the request itself (usually the
// submit_options).
StatusOr<std::string> RunSubmit(std::string_view tool, const std::vector<std::string>& argv,
                                std::string_view script, std::chrono::milliseconds timeout);

}  // namespace sherpa::scheduler_internal

#endif  // SHERPA_SCHEDULER_CLUSTER_SCHEDULER_H_
