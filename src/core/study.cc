#include "sherpa/study.h"

#include <algorithm>
#include <string>

namespace sherpa {

Study::Study(ParameterSpace parameters, std::unique_ptr<Algorithm> algorithm, bool lower_is_better,
             std::unique_ptr<StoppingRule> stopping_rule, uint64_t seed)
    : parameters_(std::move(parameters)),
      algorithm_(std::move(algorithm)),
      stopping_rule_(std::move(stopping_rule)),
      results_(lower_is_better),
      rng_(seed) {}

StatusOr<Suggestion> Study::get_suggestion() {
  if (!queue_.empty()) {
    Trial trial = std::move(queue_.front());
    queue_.pop_front();
    if (trial.id == 0) trial.id = next_id_;
    next_id_ = std::max(next_id_, trial.id + 1);
    if (const TrialRecord* known = results_.Find(trial.id)) {
      // A resubmission (add_trial checked it may run again).
      SHERPA_RETURN_IF_ERROR(results_.Reopen(trial.id));
      algorithm_->on_trial_reopened(*known);
      return Suggestion::Of(known->trial());
    }
    SHERPA_RETURN_IF_ERROR(results_.AddTrial(trial));
    return Suggestion::Of(std::move(trial));
  }
  if (done_) return Suggestion::Done();

  SuggestContext context{parameters_, results_, next_id_, rng_};
  SHERPA_ASSIGN_OR_RETURN(Suggestion suggestion, algorithm_->suggest(context));
  if (suggestion.is_done()) done_ = true;
  if (!suggestion.is_trial()) return suggestion;

  Trial trial = std::move(suggestion).trial();
  trial.id = next_id_++;
  SHERPA_RETURN_IF_ERROR(results_.AddTrial(trial));
  return Suggestion::Of(std::move(trial));
}

Status Study::add_observation(const Trial& trial, int64_t iteration, double objective,
                              Context context) {
  return results_.AddObservation(trial.id, Observation{iteration, objective, std::move(context)});
}

Status Study::finalize(const Trial& trial, TrialStatus status) {
  SHERPA_RETURN_IF_ERROR(results_.Finalize(trial.id, status));
  stop_requested_.erase(trial.id);
  algorithm_->on_trial_end(*results_.Find(trial.id));
  return OkStatus();
}

StatusOr<bool> Study::should_trial_stop(const Trial& trial) const {
  const TrialRecord* record = results_.Find(trial.id);
  if (!record)
    return NotFoundError("trial " + std::to_string(trial.id) + " is not part of this study");
  if (record->finalized()) return false;
  if (stop_requested_.count(trial.id)) return true;
  return stopping_rule_ != nullptr && stopping_rule_->should_stop(*record, results_);
}

Status Study::add_trial(Trial trial) {
  if (trial.id < 0) {
    return InvalidArgumentError("trial ids are positive; got " + std::to_string(trial.id));
  }
  if (trial.id != 0) {
    const bool queued =
        std::any_of(queue_.begin(), queue_.end(), [&](const Trial& t) { return t.id == trial.id; });
    if (queued) {
      return AlreadyExistsError("trial " + std::to_string(trial.id) + " is queued already");
    }
    if (const TrialRecord* known = results_.Find(trial.id)) {
      if (!known->finalized()) {
        return FailedPreconditionError("trial " + std::to_string(trial.id) +
                                       " is still running; finalize it before resubmitting it");
      }
      if (!known->observations().empty()) {
        return FailedPreconditionError("trial " + std::to_string(trial.id) +
                                       " has reported results; add it as a new trial (id 0)");
      }
    }
  }
  queue_.push_back(std::move(trial));
  return OkStatus();
}

Study::iterator& Study::iterator::operator++() {
  current_.reset();
  StatusOr<Suggestion> next = study_->get_suggestion();
  if (!next.ok()) {
    study_->iteration_status_ = next.status();
    return *this;
  }
  study_->iteration_status_ = OkStatus();
  if (next->is_trial()) current_ = std::move(*next).trial();
  return *this;
}

}  // namespace sherpa
