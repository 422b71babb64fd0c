// Replaying a PBT schedule: what `sherpa replay` extracts from a finished
// study (PbtScheduleOf) and the algorithm that trains one model along it
// (PopulationBasedTrainingReplay). The rules are in sherpa/algorithms.h.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// A trial that fails this often at one generation would fail again: the
// schedule cannot be followed, and the user must look at the trials.
constexpr int kMaxAttemptsPerGeneration = 3;

const std::string* StringKey(const Trial& trial, std::string_view key) {
  auto it = trial.parameters.find(key);
  return it != trial.parameters.end() && it->second.is_string() ? &it->second.as_string() : nullptr;
}

class PbtReplayAlgorithm final : public Algorithm {
 public:
  explicit PbtReplayAlgorithm(std::vector<PbtScheduleStep> schedule)
      : schedule_(std::move(schedule)) {}

  std::string_view name() const override { return "PopulationBasedTrainingReplay"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (running_ != 0) return Suggestion::Wait();
    if (step_ == schedule_.size()) return Suggestion::Done();
    if (attempts_.size() >= static_cast<size_t>(kMaxAttemptsPerGeneration)) {
      std::string trials;
      for (TrialId id : attempts_) trials += (trials.empty() ? "" : ", ") + std::to_string(id);
      return FailedPreconditionError(
          "PopulationBasedTrainingReplay: generation " + std::to_string(step_ + 1) +
          " did not complete in " + std::to_string(attempts_.size()) + " attempts (trials " +
          trials + "), so the schedule cannot go on; see the trials' output for the cause");
    }
    Trial trial;
    trial.parameters = schedule_[step_].parameters;
    trial.parameters[std::string(kLoadFromKey)] = load_from_;
    trial.parameters[std::string(kSaveToKey)] = std::to_string(context.next_trial_id);
    trial.parameters[std::string(kLineageKey)] = lineage_;
    trial.parameters[std::string(kGenerationKey)] = static_cast<int64_t>(step_ + 1);
    running_ = context.next_trial_id;
    attempts_.push_back(running_);
    return Suggestion::Of(std::move(trial));
  }

  void on_trial_end(const TrialRecord& trial) override {
    if (trial.id() != running_) return;
    running_ = 0;
    if (trial.status() != TrialStatus::kCompleted) return;  // run the generation again
    const std::string& save_to = *StringKey(trial.trial(), kSaveToKey);
    load_from_ = save_to;
    lineage_ += save_to + ",";
    ++step_;
    attempts_.clear();
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    // The failed attempt runs again under its id instead of a new one.
    if (running_ == 0 && !attempts_.empty() && attempts_.back() == trial.id()) {
      running_ = trial.id();
    }
  }

 private:
  std::vector<PbtScheduleStep> schedule_;
  size_t step_ = 0;                // the generation being trained, 0-based
  TrialId running_ = 0;            // its running trial, or 0
  std::vector<TrialId> attempts_;  // trials of this generation so far
  std::string load_from_;          // the last completed generation's save_to
  std::string lineage_;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> PopulationBasedTrainingReplay(
    const ParameterSpace& space, std::vector<PbtScheduleStep> schedule) {
  const std::string name = "PopulationBasedTrainingReplay: ";
  if (schedule.empty()) return InvalidArgumentError(name + "the schedule is empty");
  for (std::string_view key : {kLoadFromKey, kSaveToKey, kLineageKey, kGenerationKey}) {
    if (space.Find(key)) {
      return InvalidArgumentError(name + "a parameter is named '" + std::string(key) +
                                  "', which the replay sets itself; rename the parameter");
    }
  }
  for (size_t i = 0; i < schedule.size(); ++i) {
    const PbtScheduleStep& step = schedule[i];
    const std::string where = name + "schedule[" + std::to_string(i) + "]";
    if (step.generation != static_cast<int64_t>(i) + 1) {
      return InvalidArgumentError(where + ": expected generation " + std::to_string(i + 1) +
                                  ", got " + std::to_string(step.generation) +
                                  " (generations count 1, 2, ... in order)");
    }
    for (const Parameter& p : space) {
      auto value = step.parameters.find(p.name());
      if (value == step.parameters.end()) {
        return InvalidArgumentError(where + " lacks parameter '" + p.name() + "'");
      }
      if (value->second.type() != p.value_type()) {
        return InvalidArgumentError(where + ": '" + p.name() + "' must be a " +
                                    TypeName(p.value_type()) + ", got " + value->second.ToString());
      }
    }
    for (const auto& [key, value] : step.parameters) {
      if (!space.Find(key)) {
        return InvalidArgumentError(where + " names '" + key +
                                    "', which is not a parameter of the study");
      }
    }
  }
  return std::unique_ptr<Algorithm>(std::make_unique<PbtReplayAlgorithm>(std::move(schedule)));
}

StatusOr<std::vector<PbtScheduleStep>> PbtScheduleOf(const ParameterSpace& space,
                                                     const Results& results, TrialId trial) {
  const TrialRecord* record = results.Find(trial);
  if (!record) return NotFoundError("trial " + std::to_string(trial) + " is not in the study");
  const std::string* lineage = StringKey(record->trial(), kLineageKey);
  if (!lineage || !StringKey(record->trial(), kLoadFromKey) ||
      !StringKey(record->trial(), kSaveToKey)) {
    return FailedPreconditionError("trial " + std::to_string(trial) +
                                   " carries no PBT keys (load_from, save_to, lineage); was the "
                                   "study run with PopulationBasedTraining?");
  }
  std::unordered_map<std::string, const TrialRecord*> by_save_to;
  for (const TrialRecord& r : results.trials()) {
    if (const std::string* save_to = StringKey(r.trial(), kSaveToKey)) by_save_to[*save_to] = &r;
  }
  std::vector<const TrialRecord*> chain = {record};  // newest first
  std::string ancestors;                             // what the lineage should say
  while (true) {
    const std::string* load_from = StringKey(chain.back()->trial(), kLoadFromKey);
    if (!load_from || load_from->empty()) break;
    auto parent = by_save_to.find(*load_from);
    if (parent == by_save_to.end()) {
      return FailedPreconditionError("trial " + std::to_string(chain.back()->id()) + " loaded '" +
                                     *load_from + "', which no trial of the study saved");
    }
    if (chain.size() > results.num_trials()) {
      return FailedPreconditionError("the load_from chain of trial " + std::to_string(trial) +
                                     " loops");
    }
    ancestors = *load_from + "," + ancestors;
    chain.push_back(parent->second);
  }
  if (ancestors != *lineage) {
    return FailedPreconditionError("trial " + std::to_string(trial) + " has lineage '" + *lineage +
                                   "', but its load_from chain is '" + ancestors + "'");
  }
  std::vector<PbtScheduleStep> schedule;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    PbtScheduleStep step;
    step.generation = static_cast<int64_t>(schedule.size()) + 1;
    for (const Parameter& p : space) {
      auto value = (*it)->trial().parameters.find(p.name());
      if (value == (*it)->trial().parameters.end()) {
        return FailedPreconditionError("trial " + std::to_string((*it)->id()) +
                                       " lacks parameter '" + p.name() + "'");
      }
      step.parameters.emplace(p.name(), value->second);
    }
    schedule.push_back(std::move(step));
  }
  return schedule;
}

std::optional<TrialId> BestCompletedTrial(const Results& results) {
  const TrialRecord* best = nullptr;
  for (const TrialRecord& r : results.trials()) {
    if (r.status() != TrialStatus::kCompleted || r.best() == nullptr) continue;
    if (!best || results.Better(r.best()->objective, best->best()->objective)) best = &r;
  }
  if (!best) return std::nullopt;
  return best->id();
}

}  // namespace sherpa
