// What the cluster schedulers parse from other programs' output (sbatch,
// squeue, sacct, qsub, qstat, qacct): a site's odd version or locale must
// give an error or nothing, never a crash.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_check.h"
#include "scheduler/sge_parse.h"
#include "scheduler/slurm_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace si = sherpa::scheduler_internal;
  const std::string_view out = sherpa::fuzz::AsText(data, size);
  (void)si::ParseSbatchOutput(out);
  if (auto jobs = si::ParseSqueue(out); jobs.ok()) {
    for (const auto& [id, job] : *jobs) {
      (void)si::SlurmJobStatus(job, false);
      (void)si::SlurmJobStatus(job, true);
    }
  }
  for (const auto& [id, job] : si::ParseSacct(out)) (void)si::SlurmJobStatus(job, false);
  (void)si::ParseQsubOutput(out);
  for (const auto& [id, state] : si::ParseQstat(out)) {
    (void)si::SgeQueueStatus(id, state);
    if (auto acct = si::ParseQacct(out, id)) (void)si::SgeAccountingStatus(*acct, false);
  }
  if (auto acct = si::ParseQacct(out, "1")) (void)si::SgeAccountingStatus(*acct, true);
  return 0;
}
