// Checkpoint garbage collection for generational algorithms (PBT).
//
// A member of generation g loads a checkpoint of generation g-1 only, so
// once generation G has begun, a checkpoint of generation G-2 or older is
// needed only if it is an ancestor of a live member (generations G-1 and G)
// or of the best trial so far. Everything else is deleted. Live lineages
// coalesce after a few generations (every member descends from a few old
// ones), so disk use stays at about two generations plus one thin trunk,
// instead of growing with population x generations (Ray Tune's most common
// PBT complaint).
//
// Asynchronous PBT (trials carry `member`) has no generations: a member's
// next interval loads the checkpoint of its own last COMPLETED interval that
// reported, or copies another member's such checkpoint. So the checkpoints
// that can still be loaded are, per member, that one checkpoint, plus what
// the intervals that have not ended load and save (a failed interval that is
// resubmitted loads its load_from again). Their ancestors are kept too, as
// any of them may become the best trial, whose chain is never deleted: about
// one checkpoint per member and per running interval plus the trunk their
// lineages share. That trunk is as thin as lineages merge: with few
// members, one never exploited keeps its whole line until the end.
//
// Once the study is done no live member can become the best any more, so
// only the final models and the best trial's chain stay.
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

  // Deletes what no live member can need; call when trials end. Returns the
  // save_to names whose checkpoints were deleted by this call.
  std::vector<std::string> Collect(const Results& results);

  // The algorithm is done and every trial ended: nothing is loaded any more
  // and the best trial is final. Keeps the final models (generational: the
  // last generation; asynchronous: each member's last good checkpoint) and
  // the best trial's chain; deletes the rest and returns its names. Not for
  // a study that was stopped, which a resume continues.
  std::vector<std::string> Finish(const Results& results);

 private:
  struct Member {
    std::string save_to;
    std::vector<std::string> lineage;  // load_from chain, oldest first
  };
  struct Interval {  // one trial of an asynchronous PBT member
    TrialId id = 0;
    std::string save_to;
    std::string load_from;
    std::vector<std::string> lineage;  // load_from chain, oldest first
  };

  std::vector<std::string> CollectMembers(const Results& results);
  // Keeps the best trial's checkpoint and its whole chain.
  static void KeepBest(const std::optional<BestResult>& best, std::set<std::string>& keep);

  std::string dir_;
  // Asynchronous PBT: each member's intervals in the order handed out, the
  // intervals not seen ended, and those ended whose checkpoint is still on
  // disk (in keep at the last sweep).
  std::map<int64_t, std::vector<Interval>> members_;
  std::map<TrialId, Interval> open_;
  std::map<TrialId, Interval> kept_;
  std::map<int64_t, std::vector<Member>> generations_;
  int64_t collected_through_ = 0;  // generations <= this were swept
  std::set<std::string> pending_;  // swept but kept for a live lineage or the best trial
  int64_t swept_newest_ = 0;
  TrialId swept_best_ = 0;
  bool finished_ = false;
};

}  // namespace sherpa::runner

#endif  // SHERPA_RUNNER_CHECKPOINT_GC_H_
