// -----------------------------------------------------------------------------
// File: runner.h
// -----------------------------------------------------------------------------
//
// `optimize` is SHERPA's runner mode: it runs the user's trial script as a
// separate process per trial, up to `max_concurrent` at a time, serves them
// the trial API (docs/http_api.md) and records everything durably in
// `output_dir/study.db`.
//
//   sherpa::OptimizeOptions o;
//   o.parameters = *space;
//   o.algorithm = std::move(*sherpa::PopulationBasedTraining(*space, pbt));
//   o.lower_is_better = false;
//   o.command = "python3 trial.py";
//   o.max_concurrent = 4;
//   sherpa::StatusOr<sherpa::OptimizeResult> result = sherpa::optimize(std::move(o));
//
// Unlike SHERPA's runner, which polled MongoDB every 5 seconds, this one is
// event-driven: a trial's exit or report wakes it at once, so the next trial
// starts within milliseconds. A study whose runner died (even with kill -9)
// is continued with `resume = true` (or `sherpa resume <output_dir>`):
// finished trials stay finished, the algorithm is rebuilt by replaying the
// recorded events, and trials that were running are run again from their
// load_from.

#ifndef SHERPA_RUNNER_H_
#define SHERPA_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/stopping_rule.h"

namespace sherpa {

// Which scheduler runs the trials, and how (docs/clusters.md for clusters).
struct SchedulerOptions {
  std::string name = "local";  // "local", "slurm" or "sge"
  // local: resources handed out one per running trial as SHERPA_RESOURCE
  // (e.g. GPU ids); at most resources.size() trials run at once.
  std::vector<std::string> resources;
  bool set_cuda_visible_devices = false;
  // SIGTERM, then SIGKILL after this long, when a trial is stopped. Also how
  // long a trial that ended through the API may take to exit before it is
  // stopped.
  std::chrono::milliseconds kill_grace{5000};
  // slurm, sge: extra sbatch/qsub arguments, split as a shell would (e.g.
  // "--gres=gpu:1 --time=1:00:00" or "-l gpu=1,h_rt=1:00:00").
  std::string submit_options;
  // slurm, sge: a file each job sources before the trial command (modules,
  // a virtualenv); it must be readable on the compute nodes.
  std::string environment;
  // slurm, sge: how often the cluster is asked about the running trials
  // (one squeue or qstat for all of them).
  std::chrono::milliseconds poll_interval{1000};
};

enum class ProgressMode {
  kAuto,   // a live status line on a terminal, log lines otherwise
  kLines,  // log lines only
  kQuiet,  // errors only
};

struct OptimizeOptions {
  // --- SHERPA's optimize() arguments ---
  ParameterSpace parameters;
  std::unique_ptr<Algorithm> algorithm;
  bool lower_is_better = true;
  SchedulerOptions scheduler;
  // The trial command, run with /bin/sh in `working_dir`.
  std::string command;
  size_t max_concurrent = 1;
  // "" = a fresh "output_<yyyymmdd-hhmmss>" folder in the working directory.
  std::string output_dir;
  std::unique_ptr<StoppingRule> stopping_rule;
  // Run a trial again (same id) when it failed before reporting anything;
  // at most `max_resubmits` times per trial.
  bool resubmit_failed_trials = false;
  int max_resubmits = 3;
  uint64_t seed = 0;

  // --- beyond SHERPA ---
  // Where trial commands run; "" = the current directory (as in SHERPA, so
  // relative paths such as "./output" in a trial script work).
  std::string working_dir;
  // The trial API's address; clusters need one the compute nodes reach.
  // "" = 127.0.0.1 with the local scheduler, this host's name (gethostname)
  // with a cluster scheduler.
  std::string host;
  int port = 0;  // 0: any free port
  // Continue the study in `output_dir` instead of starting a new one.
  bool resume = false;
  // Kept in study.db so `sherpa resume` can rebuild the algorithm; the CLI
  // sets it. A study without it can be resumed only from C++ code.
  std::string spec_json;
  // A trial running longer than this is killed and FAILED; 0 = no limit.
  std::chrono::seconds trial_timeout{0};
  // Delete PBT checkpoints no present or future trial can load (keeping the
  // ancestors of every live member); bounds disk use to about two
  // generations.
  bool checkpoint_gc = false;
  // Keep this many trial processes started ahead of their trials (local
  // scheduler, no resources): each runs its program up to get_trial(),
  // which waits until a slot frees and the runner hands it a trial. The
  // program's start-up (exec, imports, connecting) then overlaps the
  // trials that run, instead of delaying the next one. Such a process has
  // SHERPA_TRIAL_FD in place of SHERPA_TRIAL_ID until get_trial returns, so
  // a script that reads SHERPA_TRIAL_ID before that needs 0 (off).
  size_t prestart = 0;
  ProgressMode progress = ProgressMode::kAuto;
  // Ctrl-C (SIGINT) and SIGTERM stop the study gracefully: running trials
  // are stopped, everything is saved, and the study can be resumed. Turn off
  // when embedding the runner in a program with its own signal handling.
  bool handle_signals = true;
  // Where the `sherpa` Python module lives (put on each trial's PYTHONPATH);
  // "" = found next to the running program.
  std::string python_path;
};

struct OptimizeResult {
  std::string output_dir;  // absolute
  std::optional<BestResult> best;
  size_t completed = 0, failed = 0, stopped = 0;
  // True if the study was interrupted (Ctrl-C) before the algorithm was done.
  bool interrupted = false;
};

// Runs a study to the end (the algorithm answers DONE and every trial has
// ended) or until interrupted. Errors: INVALID_ARGUMENT for options that
// cannot work (no command, max_concurrent 0, ...), FAILED_PRECONDITION if
// `output_dir` holds a study and resume is false (or holds none and resume
// is true), UNAVAILABLE if the server cannot listen, and the algorithm's
// error if it cannot go on (e.g. every member of a PBT generation failed).
StatusOr<OptimizeResult> optimize(OptimizeOptions options);

}  // namespace sherpa

#endif  // SHERPA_RUNNER_H_
