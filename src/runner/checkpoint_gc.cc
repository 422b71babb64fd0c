#include "runner/checkpoint_gc.h"

#include <filesystem>
#include <iterator>

namespace sherpa::runner {
namespace {

namespace fs = std::filesystem;

const std::string* StringParam(const ParameterValues& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->second.is_string() ? &it->second.as_string() : nullptr;
}

// Removes `<dir>/<name>` and `<dir>/<name>.*`. Returns true if anything went.
bool RemoveCheckpoint(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  bool removed = fs::remove_all(dir / name, ec) > 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > name.size() + 1 && file.compare(0, name.size(), name) == 0 &&
        file[name.size()] == '.') {
      removed |= fs::remove_all(it->path(), ec) > 0;
    }
  }
  return removed;
}

}  // namespace

CheckpointCollector::CheckpointCollector(std::string checkpoint_dir)
    : dir_(std::move(checkpoint_dir)) {}

void CheckpointCollector::OnTrialCreated(const Trial& trial) {
  auto generation = trial.parameters.find(kGenerationKey);
  auto member = trial.parameters.find(kMemberKey);
  const std::string* save_to = StringParam(trial.parameters, kSaveToKey);
  if (member != trial.parameters.end() && member->second.is_int() && save_to) {
    const std::string* load_from = StringParam(trial.parameters, kLoadFromKey);
    Interval interval{trial.id, *save_to, load_from ? *load_from : ""};
    members_[member->second.as_int()].push_back(interval);
    open_[trial.id] = std::move(interval);
    return;
  }
  if (generation == trial.parameters.end() || !generation->second.is_int() || !save_to) return;
  generations_[generation->second.as_int()].push_back(*save_to);
}

void CheckpointCollector::KeepBest(const std::optional<BestResult>& best,
                                   std::set<std::string>& keep) {
  if (!best) return;
  if (const std::string* s = StringParam(best->parameters, kSaveToKey)) keep.insert(*s);
}

std::vector<std::string> CheckpointCollector::CollectMembers(const Results& results) {
  // Intervals that ended since the last sweep become candidates; a
  // resubmitted one (reopened: not ended any more) is open again.
  for (auto it = open_.begin(); it != open_.end();) {
    const TrialRecord* record = results.Find(it->first);
    if (record == nullptr || !record->finalized()) {
      ++it;
      continue;
    }
    kept_.insert(*it);
    it = open_.erase(it);
  }
  for (auto it = kept_.begin(); it != kept_.end();) {
    const TrialRecord* record = results.Find(it->first);
    if (record != nullptr && !record->finalized()) {
      open_.insert(*it);
      it = kept_.erase(it);
    } else {
      ++it;
    }
  }

  std::set<std::string> keep;
  auto keep_loads_and_saves = [&keep](const Interval& interval) {
    keep.insert(interval.save_to);
    if (!interval.load_from.empty()) keep.insert(interval.load_from);
  };
  if (!finished_) {
    for (const auto& [id, interval] : open_) keep_loads_and_saves(interval);
  }
  for (auto& [member, intervals] : members_) {
    // The member's checkpoint: its last COMPLETED interval that reported.
    // Older intervals of the member can never be loaded again, so they are
    // dropped here (open_ and kept_ hold their own copies).
    bool latest_is_good = false;
    for (auto it = intervals.rbegin(); it != intervals.rend(); ++it) {
      const TrialRecord* record = results.Find(it->id);
      if (record != nullptr && record->status() == TrialStatus::kCompleted &&
          record->last() != nullptr) {
        keep.insert(it->save_to);
        latest_is_good = it == intervals.rbegin();
        intervals.erase(intervals.begin(), std::prev(it.base()));
        break;
      }
    }
    // Its latest interval, unless that is the good one: if it failed it may
    // be resubmitted and load the same checkpoint again.
    if (!intervals.empty() && !latest_is_good && !finished_) {
      keep_loads_and_saves(intervals.back());
    }
  }
  KeepBest(results.Best(), keep);

  std::vector<std::string> deleted;
  for (auto it = kept_.begin(); it != kept_.end();) {
    if (keep.count(it->second.save_to)) {
      ++it;
      continue;
    }
    if (RemoveCheckpoint(dir_, it->second.save_to)) deleted.push_back(it->second.save_to);
    it = kept_.erase(it);
  }
  return deleted;
}

std::vector<std::string> CheckpointCollector::Collect(const Results& results) {
  if (!members_.empty()) return CollectMembers(results);
  std::vector<std::string> deleted;
  if (generations_.empty()) return deleted;
  const int64_t newest = generations_.rbegin()->first;
  const std::optional<BestResult> best = results.Best();
  const TrialId best_trial = best ? best->trial_id : 0;
  // Nothing becomes collectable unless a generation began or the best moved.
  if (newest == swept_newest_ && best_trial == swept_best_ && !finished_) return deleted;
  swept_newest_ = newest;
  swept_best_ = best_trial;
  // Generation newest-1 is what generation newest loads, until the study is
  // done. Of the older ones only the best trial's checkpoint stays.
  const int64_t sweep_through = finished_ ? newest - 1 : newest - 2;
  std::set<std::string> keep;
  KeepBest(best, keep);

  for (auto it = generations_.begin(); it != generations_.end() && it->first <= sweep_through;
       ++it) {
    if (it->first > collected_through_) {
      pending_.insert(it->second.begin(), it->second.end());
    }
  }
  collected_through_ = std::max(collected_through_, sweep_through);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (keep.count(*it)) {
      ++it;
      continue;
    }
    if (RemoveCheckpoint(dir_, *it)) deleted.push_back(*it);
    it = pending_.erase(it);
  }
  return deleted;
}

std::vector<std::string> CheckpointCollector::Finish(const Results& results) {
  finished_ = true;
  return Collect(results);
}

}  // namespace sherpa::runner
