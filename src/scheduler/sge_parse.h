// Internal to the scheduler module: reading the output of Grid Engine's
// commands and mapping its job states to ours. Pure functions, tested on
// output recorded from Son of Grid Engine 8.1.9 (sge_parse_test.cc).
//
// Grid Engine has no finished state in qstat: a job simply disappears, and
// its end is read from the accounting (qacct -j ID), which has no record
// at all of a job deleted while pending.

#ifndef SHERPA_SCHEDULER_SGE_PARSE_H_
#define SHERPA_SCHEDULER_SGE_PARSE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {

// `qsub -terse` prints "<id>" (array jobs: "<id>.1-4:1"); without -terse,
// "Your job <id> ("name") has been submitted".
StatusOr<JobId> ParseQsubOutput(std::string_view out);

// `qstat`: job id -> its state letters (qw, hqw, t, r, dr, Eqw, ...).
std::map<JobId, std::string> ParseQstat(std::string_view out);

// Our state for a job qstat lists: waiting (q, w, h) is kQueued, running or
// being transferred, suspended or deleted (r, t, s, S, T, d) is kRunning,
// an error state (E) is kFailed: Grid Engine would keep the job forever.
JobStatus SgeQueueStatus(const JobId& id, std::string_view state);

struct SgeAccounting {
  int failed = 0;           // 0: the job ran; else why it failed (37: a limit was enforced)
  std::string failed_text;  // "qmaster enforced h_rt, h_cpu, or h_vmem limit"
  int exit_status = 0;      // 137 = 128 + SIGKILL
};

// `qacct -j <id>`: the last record for `id`; nullopt if there is none.
std::optional<SgeAccounting> ParseQacct(std::string_view out, const JobId& id);

// Our state for a finished job: failed 0 and exit 0 is kCompleted, failed 0
// with another exit status kFailed with it; a job we deleted is kKilled; an
// enforced limit (failed 37) is kFailed with a reason starting "TIMEOUT".
JobStatus SgeAccountingStatus(const SgeAccounting& record, bool cancelled_by_us);

}  // namespace sherpa::scheduler_internal

#endif  // SHERPA_SCHEDULER_SGE_PARSE_H_
