#include "runner/checkpoint_gc.h"

#include <filesystem>
#include <iterator>

namespace sherpa::runner {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitLineage(const std::string& lineage) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < lineage.size()) {
    const size_t comma = lineage.find(',', start);
    const size_t end = comma == std::string::npos ? lineage.size() : comma;
    if (end > start) parts.push_back(lineage.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

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
  const std::string* lineage = StringParam(trial.parameters, kLineageKey);
  if (member != trial.parameters.end() && member->second.is_int() && save_to) {
    const std::string* load_from = StringParam(trial.parameters, kLoadFromKey);
    Interval interval{trial.id, *save_to, load_from ? *load_from : "",
                      lineage ? SplitLineage(*lineage) : std::vector<std::string>{}};
    members_[member->second.as_int()].push_back(interval);
    open_[trial.id] = std::move(interval);
    return;
  }
  if (generation == trial.parameters.end() || !generation->second.is_int() || !save_to) return;
  generations_[generation->second.as_int()].push_back(
      Member{*save_to, lineage ? SplitLineage(*lineage) : std::vector<std::string>{}});
}

void CheckpointCollector::KeepBest(const std::optional<BestResult>& best,
                                   std::set<std::string>& keep) {
  if (!best) return;
  if (const std::string* s = StringParam(best->parameters, kSaveToKey)) keep.insert(*s);
  if (const std::string* l = StringParam(best->parameters, kLineageKey)) {
    for (std::string& name : SplitLineage(*l)) keep.insert(std::move(name));
  }
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
  auto keep_chain = [&keep](const Interval& interval) {
    keep.insert(interval.save_to);
    keep.insert(interval.lineage.begin(), interval.lineage.end());
  };
  // (Empty once the study is done: every interval ended.)
  for (const auto& [id, interval] : open_) keep_chain(interval);
  for (auto& [member, intervals] : members_) {
    // The member's checkpoint: its last COMPLETED interval that reported.
    // Older intervals of the member can never be loaded again, so they are
    // dropped here (open_ and kept_ hold their own copies).
    for (auto it = intervals.rbegin(); it != intervals.rend(); ++it) {
      const TrialRecord* record = results.Find(it->id);
      if (record != nullptr && record->status() == TrialStatus::kCompleted &&
          record->last() != nullptr) {
        // Once the study is done its chain matters only if it is the best.
        if (finished_) {
          keep.insert(it->save_to);
        } else {
          keep_chain(*it);
        }
        intervals.erase(intervals.begin(), std::prev(it.base()));
        break;
      }
    }
    // Its latest interval: if it failed it may be resubmitted and load the
    // same checkpoint again.
    if (!intervals.empty() && !finished_) keep_chain(intervals.back());
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
  // Checkpoints the live members and the best trial descend from. Once the
  // study is done, only the last generation's models and the best's chain.
  std::set<std::string> keep;
  for (int64_t g = finished_ ? newest : newest - 1; g <= newest; ++g) {
    auto it = generations_.find(g);
    if (it == generations_.end()) continue;
    for (const Member& m : it->second) {
      keep.insert(m.save_to);
      if (!finished_) keep.insert(m.lineage.begin(), m.lineage.end());
    }
  }
  KeepBest(best, keep);

  const int64_t sweep_through = finished_ ? newest - 1 : newest - 2;
  for (auto it = generations_.begin(); it != generations_.end() && it->first <= sweep_through;
       ++it) {
    if (it->first > collected_through_) {
      for (const Member& m : it->second) pending_.insert(m.save_to);
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
