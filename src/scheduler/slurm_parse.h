// Internal to the scheduler module: reading the output of Slurm's commands
// and mapping Slurm's job states to ours. Pure functions, tested on output
// recorded from Slurm 22.05 (slurm_parse_test.cc).

#ifndef SHERPA_SCHEDULER_SLURM_PARSE_H_
#define SHERPA_SCHEDULER_SLURM_PARSE_H_

#include <map>
#include <string>
#include <string_view>

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {

// What the Slurm scheduler asks squeue for (-O): id, state, reason and the
// raw wait status ("exit_code" is 768 for `exit 3`, 15 for SIGTERM). ":|"
// ends each field with '|' and neither pads nor truncates it.
inline constexpr std::string_view kSqueueFields = "JobID:|,State:|,Reason:|,exit_code:|";

struct SlurmJob {
  std::string state;   // COMPLETED, FAILED, CANCELLED, TIMEOUT, ... ("CANCELLED by 0" cut)
  std::string reason;  // squeue's Reason (None, NonZeroExitCode, TimeLimit, ...); "" from sacct
  int exit_code = 0;
  int signal = 0;  // the signal that ended the job, 0 if it exited
};

// `sbatch --parsable` prints "<id>" or "<id>;<cluster>".
StatusOr<JobId> ParseSbatchOutput(std::string_view out);

// `squeue -h -O <kSqueueFields>`: one job per line.
StatusOr<std::map<JobId, SlurmJob>> ParseSqueue(std::string_view out);

// `sacct -n -P -o JobID,State,ExitCode` (with -X from slurmdbd or -c from
// the job completion log): "id|state|exit:signal" lines. Step lines
// ("12.batch") are skipped; of several lines for one id the last wins (the
// completion log keeps the jobs of an earlier cluster with the same ids).
std::map<JobId, SlurmJob> ParseSacct(std::string_view out);

// Our state for a Slurm job. CANCELLED is kKilled only if we cancelled the
// job (someone else's scancel is a failure of the trial); TIMEOUT,
// NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE and PREEMPTED are kFailed
// with a reason that starts with the state's name. States this code does
// not know are kRunning: ending a live job by mistake would be worse.
JobStatus SlurmJobStatus(const SlurmJob& job, bool cancelled_by_us);

}  // namespace sherpa::scheduler_internal

#endif  // SHERPA_SCHEDULER_SLURM_PARSE_H_
