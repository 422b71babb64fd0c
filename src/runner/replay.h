// Rebuilding a study from its event log (resume after a crash).
//
// The algorithm is deterministic given the study's seed and the order of
// events, so replaying the log into a fresh Study with the same seed brings
// the algorithm (PBT's generations, its random generator) to exactly the
// state it had when the runner died: every recorded trial is suggested again
// and compared with what was stored, observations and ends are applied in
// their recorded order.
#ifndef SHERPA_RUNNER_REPLAY_H_
#define SHERPA_RUNNER_REPLAY_H_

#include <map>
#include <vector>

#include "storage/study_store.h"

#include "sherpa/study.h"

namespace sherpa::runner {

struct ReplayOutcome {
  // Trials that had not ended when the log stops (running, or created but
  // not started): they run again from their load_from. Their partial
  // observations are left out of the study, because the new attempt reports
  // those iterations again.
  std::vector<Trial> unfinished;
  // The scheduler job ids of the attempts of `unfinished` trials: jobs an
  // earlier runner started that may still run (on a cluster they outlive it).
  std::vector<std::string> left_over_jobs;
  // The last attempt number of every trial that was started.
  std::map<TrialId, int> attempts;
  // How many times each trial was resubmitted.
  std::map<TrialId, int> resubmits;
  size_t events = 0;
};

// Applies `events` to `study`, which must be fresh and built from the same
// spec and seed. FAILED_PRECONDITION if the algorithm now suggests something
// else than was recorded (the spec or the seed changed).
StatusOr<ReplayOutcome> Replay(const std::vector<storage::StoredEvent>& events, Study& study);

}  // namespace sherpa::runner

#endif  // SHERPA_RUNNER_REPLAY_H_
