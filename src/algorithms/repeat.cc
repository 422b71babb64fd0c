// SHERPA's Repeat: runs each configuration of an inner algorithm several
// times, for noisy objectives (different seeds, data orders).
//
// Each configuration is a "group": its repeats are handed out back to back,
// and the group is the unit that wait_for_completion waits for and that agg
// turns into one trial of the inner algorithm's own results table.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

class RepeatAlgorithm final : public Algorithm {
 public:
  RepeatAlgorithm(std::unique_ptr<Algorithm> inner, RepeatOptions options)
      : inner_(std::move(inner)), options_(options) {}

  std::string_view name() const override { return "Repeat"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    const auto num_times = static_cast<size_t>(options_.num_times);
    if (groups_.empty() || groups_.back().repeats.size() == num_times) {
      if (options_.wait_for_completion && !groups_.empty() && groups_.back().unfinished > 0) {
        return Suggestion::Wait();
      }
      if (options_.agg && !aggregated_) aggregated_.emplace(context.results.lower_is_better());
      const SuggestContext inner_context{context.space,
                                         options_.agg ? *aggregated_ : context.results,
                                         context.next_trial_id, context.rng};
      SHERPA_ASSIGN_OR_RETURN(Suggestion inner, inner_->suggest(inner_context));
      // Nothing is recorded before the inner algorithm has given a trial, so
      // a WAIT leaves Repeat as it was (resume replays no WAITs).
      if (!inner.is_trial()) return inner;
      Group group;
      group.parameters = std::move(inner).trial().parameters;
      if (options_.agg) {
        SHERPA_RETURN_IF_ERROR(
            aggregated_->AddTrial(Trial{context.next_trial_id, group.parameters}));
      }
      groups_.push_back(std::move(group));
    }
    Group& group = groups_.back();
    repeat_of_[context.next_trial_id] = {groups_.size() - 1, group.repeats.size()};
    group.repeats.push_back(context.next_trial_id);
    group.ended.emplace_back();
    ++group.unfinished;
    return Suggestion::Of(Trial{0, group.parameters});
  }

  void on_trial_end(const TrialRecord& trial) override {
    auto it = repeat_of_.find(trial.id());
    if (it == repeat_of_.end()) {
      // Not one of ours: the inner algorithm sees it in the study's results
      // unless it sees only the aggregated table.
      if (!options_.agg) inner_->on_trial_end(trial);
      return;
    }
    Group& group = groups_[it->second.group];
    Ended& ended = group.ended[it->second.repeat];
    ended.status = trial.status();
    if (trial.last() != nullptr) {
      ended.objective = trial.last()->objective;
      ended.iteration = trial.last()->iteration;
    }
    --group.unfinished;
    if (!options_.agg) {
      inner_->on_trial_end(trial);
    } else if (group.unfinished == 0 && !group.aggregated) {
      group.aggregated = true;
      Aggregate(group);
    }
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    auto it = repeat_of_.find(trial.id());
    if (it == repeat_of_.end()) {
      if (!options_.agg) inner_->on_trial_reopened(trial);
      return;
    }
    Group& group = groups_[it->second.group];
    group.ended[it->second.repeat] = Ended{};
    ++group.unfinished;
    if (!options_.agg) inner_->on_trial_reopened(trial);
  }

 private:
  // How one repeat ended; status kIntermediate while it runs.
  struct Ended {
    TrialStatus status = TrialStatus::kIntermediate;
    std::optional<double> objective;  // its last observation's
    int64_t iteration = 0;
  };
  struct Group {
    ParameterValues parameters;
    std::vector<TrialId> repeats;  // the first is the id the inner algorithm knows
    std::vector<Ended> ended;      // parallel to repeats
    int64_t unfinished = 0;
    bool aggregated = false;
  };
  struct RepeatRef {
    size_t group;
    size_t repeat;
  };

  // Finalizes the group's trial in the inner algorithm's table and tells it.
  void Aggregate(const Group& group) {
    std::vector<double> objectives;
    int64_t iteration = 0;
    bool any_stopped = false;
    for (const Ended& e : group.ended) {
      if (e.status == TrialStatus::kCompleted && e.objective) {
        objectives.push_back(*e.objective);
        iteration = std::max(iteration, e.iteration);
      }
      any_stopped = any_stopped || e.status == TrialStatus::kStopped;
    }
    const TrialId id = group.repeats.front();
    TrialStatus status = TrialStatus::kFailed;
    if (!objectives.empty()) {
      const auto n = static_cast<double>(objectives.size());
      const double mean = std::accumulate(objectives.begin(), objectives.end(), 0.0) / n;
      Context context{{"repeat_count", static_cast<int64_t>(objectives.size())}};
      if (objectives.size() >= 2) {
        double squares = 0;
        for (double o : objectives) squares += (o - mean) * (o - mean);
        context["objective_stderr"] = std::sqrt(squares / (n - 1) / n);
      }
      // The mean of finite objectives is finite, so this cannot be refused.
      (void)aggregated_->AddObservation(id, Observation{iteration, mean, std::move(context)});
      status = TrialStatus::kCompleted;
    } else if (any_stopped) {
      status = TrialStatus::kStopped;
    }
    (void)aggregated_->Finalize(id, status);
    inner_->on_trial_end(*aggregated_->Find(id));
  }

  std::unique_ptr<Algorithm> inner_;
  RepeatOptions options_;
  std::vector<Group> groups_;  // in hand-out order
  std::unordered_map<TrialId, RepeatRef> repeat_of_;
  // agg: what the inner algorithm sees. Built at the first suggestion, where
  // the study's direction is known; no repeat can end before that.
  std::optional<Results> aggregated_;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> Repeat(std::unique_ptr<Algorithm> algorithm,
                                            RepeatOptions options) {
  if (algorithm == nullptr) {
    return InvalidArgumentError("Repeat: algorithm is missing; give the algorithm to repeat");
  }
  if (options.num_times < 1) {
    return InvalidArgumentError("Repeat: num_times must be at least 1, got " +
                                std::to_string(options.num_times));
  }
  return std::unique_ptr<Algorithm>(
      std::make_unique<RepeatAlgorithm>(std::move(algorithm), options));
}

}  // namespace sherpa
