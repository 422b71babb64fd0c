// Checkpoint garbage collection for PBT (`checkpoint_gc: true`).
//
// Kept on disk: every checkpoint a trial can still load, and the best
// trial's own checkpoint (the model the user wants at the end). Nothing
// else, not even the best trial's ancestors: no trial loads them again,
// and `sherpa replay` retrains the best schedule from the recorded
// parameters, not from checkpoints. Keeping ancestors "in case a live member
// becomes the best" would tie disk use to how often lineages happen to
// merge: a member that is never exploited keeps one checkpoint per
// interval, so disk grows with the study's length (Ray Tune's most common
// PBT complaint) and varies from run to run.
//
// Generational PBT: a member of generation g loads a checkpoint of
// generation g-1 only, so once generation G has begun, checkpoints of
// generation G-2 and older go, except the best trial's. At most two
// generations plus one checkpoint.
//
// Asynchronous PBT (trials carry `member`): a member's next interval loads
// the checkpoint of its own last COMPLETED interval that reported, or copies
// another member's such checkpoint. Kept: that checkpoint per member, what
// intervals that have not ended load and save, and what each member's
// latest interval loaded (if it failed, it may be resubmitted and load it
// again). At most 2 x population + 2 x running + 1, whatever the study's
// length.
//
// Once the study is done, only the final models and the best trial's stay.
//
// It manages `<checkpoint_dir>/<save_to>` (a file or a folder) and files
// named `<save_to>.<extension>` there.
#ifndef SHERPA_RUNNER_CHECKPOINT_GC_H_
#define SHERPA_RUNNER_CHECKPOINT_GC_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sherpa/results.h"

namespace sherpa::runner {

class CheckpointCollector {
 public:
  explicit CheckpointCollector(std::string checkpoint_dir);

  // Every trial the study hands out (and every trial replayed on resume).
  void OnTrialCreated(const Trial& trial);

  // Deletes what no trial can load and is not the best; call when trials
  // end. Returns the save_to names whose checkpoints were deleted by this
  // call.
  std::vector<std::string> Collect(const Results& results);

  // The algorithm is done and every trial ended: nothing is loaded any more.
  // Keeps the final models (generational: the last generation; asynchronous:
  // each member's last good checkpoint) and the best trial's; deletes the
  // rest and returns its names. Not for a study that was stopped, which a
  // resume continues.
  std::vector<std::string> Finish(const Results& results);

 private:
  struct Interval {  // one trial of an asynchronous PBT member
    TrialId id = 0;
    std::string save_to;
    std::string load_from;
  };

  std::vector<std::string> CollectMembers(const Results& results);
  static void KeepBest(const std::optional<BestResult>& best, std::set<std::string>& keep);

  std::string dir_;
  // Asynchronous PBT: each member's intervals in the order handed out, the
  // intervals not seen ended, and those ended whose checkpoint is still on
  // disk (in keep at the last sweep).
  std::map<int64_t, std::vector<Interval>> members_;
  std::map<TrialId, Interval> open_;
  std::map<TrialId, Interval> kept_;
  // Generational PBT: each generation's save_to names.
  std::map<int64_t, std::vector<std::string>> generations_;
  int64_t collected_through_ = 0;  // generations <= this were swept
  std::set<std::string> pending_;  // swept but kept as the best trial's
  int64_t swept_newest_ = 0;
  TrialId swept_best_ = 0;
  bool finished_ = false;
};

}  // namespace sherpa::runner

#endif  // SHERPA_RUNNER_CHECKPOINT_GC_H_
