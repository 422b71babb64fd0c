#include "sherpa/results.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace sherpa {

std::string_view TrialStatusName(TrialStatus status) {
  switch (status) {
    case TrialStatus::kIntermediate:
      return "INTERMEDIATE";
    case TrialStatus::kCompleted:
      return "COMPLETED";
    case TrialStatus::kFailed:
      return "FAILED";
    case TrialStatus::kStopped:
      return "STOPPED";
  }
  return "?";
}

std::optional<TrialStatus> ParseTrialStatus(std::string_view name) {
  for (TrialStatus s : {TrialStatus::kIntermediate, TrialStatus::kCompleted, TrialStatus::kFailed,
                        TrialStatus::kStopped}) {
    if (TrialStatusName(s) == name) return s;
  }
  return std::nullopt;
}

const Observation* TrialRecord::best() const {
  return best_index_ < 0 ? nullptr : &observations_[static_cast<size_t>(best_index_)];
}

const Observation* TrialRecord::last() const {
  return last_index_ < 0 ? nullptr : &observations_[static_cast<size_t>(last_index_)];
}

std::optional<double> TrialRecord::BestUpTo(int64_t iteration) const {
  if (in_order_) {
    // Observations are sorted by iteration: binary search the last one <= iteration.
    size_t lo = 0, hi = observations_.size();
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (observations_[mid].iteration <= iteration) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return std::nullopt;
    return best_so_far_[lo - 1];
  }
  std::optional<double> best;
  for (const Observation& o : observations_) {
    if (o.iteration > iteration) continue;
    if (!best || (lower_is_better_ ? o.objective < *best : o.objective > *best)) {
      best = o.objective;
    }
  }
  return best;
}

int64_t Results::IndexOf(TrialId id) const {
  if (id >= 0 && static_cast<uint64_t>(id) < dense_index_.size() &&
      dense_index_[static_cast<size_t>(id)] != 0) {
    return static_cast<int64_t>(dense_index_[static_cast<size_t>(id)]) - 1;
  }
  // An id may have gone to the map before the dense index grew past it.
  if (sparse_index_.empty()) return -1;
  auto it = sparse_index_.find(id);
  return it == sparse_index_.end() ? -1 : static_cast<int64_t>(it->second);
}

void Results::SetIndex(TrialId id, uint32_t record) {
  // Grow the dense index only for ids close to the ones seen so far, so a
  // single id of 10^12 cannot allocate terabytes.
  const auto limit = 2 * records_.size() + 1024;
  if (id >= 0 && static_cast<uint64_t>(id) < limit) {
    if (static_cast<size_t>(id) >= dense_index_.size()) {
      dense_index_.resize(std::max(static_cast<size_t>(id) + 1, 2 * dense_index_.size()), 0);
    }
    dense_index_[static_cast<size_t>(id)] = record + 1;
  } else {
    sparse_index_.emplace(id, record);
  }
}

TrialRecord* Results::FindMutable(TrialId id) {
  const int64_t i = IndexOf(id);
  return i < 0 ? nullptr : &records_[static_cast<size_t>(i)];
}

const TrialRecord* Results::Find(TrialId id) const {
  const int64_t i = IndexOf(id);
  return i < 0 ? nullptr : &records_[static_cast<size_t>(i)];
}

Status Results::AddTrial(Trial trial) {
  if (IndexOf(trial.id) >= 0) {
    return AlreadyExistsError("trial " + std::to_string(trial.id) + " exists already");
  }
  SetIndex(trial.id, static_cast<uint32_t>(records_.size()));
  TrialRecord& record = records_.emplace_back();
  record.trial_ = std::move(trial);
  record.lower_is_better_ = lower_is_better_;
  return OkStatus();
}

Status Results::AddObservation(TrialId id, Observation observation) {
  TrialRecord* record = FindMutable(id);
  const std::string trial = "trial " + std::to_string(id);
  if (!record) return NotFoundError(trial + " is not part of this study");
  if (record->finalized()) {
    return FailedPreconditionError(trial + " is finalized (" +
                                   std::string(TrialStatusName(record->status_)) +
                                   "); it takes no more observations");
  }
  if (!std::isfinite(observation.objective)) {
    return InvalidArgumentError(trial + ", iteration " + std::to_string(observation.iteration) +
                                ": the objective must be a finite number, got " +
                                std::to_string(observation.objective));
  }
  std::vector<Observation>& obs = record->observations_;
  const bool appends_in_order = obs.empty() || observation.iteration > obs.back().iteration;
  if (!appends_in_order) {
    // Only this trial's own observations are scanned, never the table.
    for (const Observation& o : obs) {
      if (o.iteration == observation.iteration) {
        return AlreadyExistsError(trial + " has already reported iteration " +
                                  std::to_string(observation.iteration));
      }
    }
  }

  const auto obs_index = static_cast<int32_t>(obs.size());
  const double objective = observation.objective;
  const int64_t iteration = observation.iteration;
  obs.push_back(std::move(observation));

  if (appends_in_order && record->in_order_) {
    const double prev = record->best_so_far_.empty() ? objective : record->best_so_far_.back();
    record->best_so_far_.push_back(Better(objective, prev) ? objective : prev);
  } else {
    record->in_order_ = false;
    record->best_so_far_.clear();
  }
  if (record->best_index_ < 0 ||
      Better(objective, obs[static_cast<size_t>(record->best_index_)].objective)) {
    record->best_index_ = obs_index;
  }
  if (record->last_index_ < 0 ||
      iteration > obs[static_cast<size_t>(record->last_index_)].iteration) {
    record->last_index_ = obs_index;
  }

  const auto record_index = static_cast<uint32_t>(IndexOf(id));
  rows_.push_back({record_index, obs_index});
  row_withdrawn_.push_back(false);
  at_iteration_[iteration].push_back(id);

  if (best_record_ < 0 ||
      Better(objective, records_[static_cast<size_t>(best_record_)]
                            .observations_[static_cast<size_t>(best_observation_)]
                            .objective)) {
    best_record_ = record_index;
    best_observation_ = obs_index;
  }
  return OkStatus();
}

Status Results::Finalize(TrialId id, TrialStatus status) {
  TrialRecord* record = FindMutable(id);
  const std::string trial = "trial " + std::to_string(id);
  if (!record) return NotFoundError(trial + " is not part of this study");
  if (status == TrialStatus::kIntermediate) {
    return InvalidArgumentError(trial + ": finalize needs COMPLETED, FAILED or STOPPED");
  }
  if (record->finalized()) {
    return FailedPreconditionError(trial + " is already finalized as " +
                                   std::string(TrialStatusName(record->status_)));
  }
  record->status_ = status;
  record->final_row_ = static_cast<int64_t>(rows_.size());
  rows_.push_back({static_cast<uint32_t>(IndexOf(id)), -1});
  row_withdrawn_.push_back(false);
  ++num_finalized_;
  return OkStatus();
}

Status Results::Reopen(TrialId id) {
  TrialRecord* record = FindMutable(id);
  const std::string trial = "trial " + std::to_string(id);
  if (!record) return NotFoundError(trial + " is not part of this study");
  if (!record->finalized()) {
    return FailedPreconditionError(trial +
                                   " is still running; only a finalized trial can be "
                                   "run again");
  }
  if (!record->observations_.empty()) {
    return FailedPreconditionError(trial + " has reported results; run it again as a new trial");
  }
  row_withdrawn_[static_cast<size_t>(record->final_row_)] = true;
  ++withdrawn_rows_;
  record->final_row_ = -1;
  record->status_ = TrialStatus::kIntermediate;
  --num_finalized_;
  return OkStatus();
}

const std::vector<TrialId>& Results::TrialsAtIteration(int64_t iteration) const {
  static const std::vector<TrialId> kNone;
  auto it = at_iteration_.find(iteration);
  return it == at_iteration_.end() ? kNone : it->second;
}

std::optional<BestResult> Results::Best() const {
  if (best_record_ < 0) return std::nullopt;
  const TrialRecord& record = records_[static_cast<size_t>(best_record_)];
  const Observation& o = record.observations_[static_cast<size_t>(best_observation_)];
  return BestResult{record.id(), o.iteration, o.objective, record.trial().parameters, o.context};
}

ResultRow Results::MakeRow(const RowRef& ref) const {
  const TrialRecord& record = records_[ref.record];
  if (ref.observation >= 0) {
    const Observation& o = record.observations_[static_cast<size_t>(ref.observation)];
    return ResultRow{&record, TrialStatus::kIntermediate, o.iteration, &o};
  }
  const Observation* last = record.last();
  return ResultRow{&record, record.status_,
                   last ? std::optional<int64_t>(last->iteration) : std::nullopt, record.best()};
}

}  // namespace sherpa
