// -----------------------------------------------------------------------------
// File: study.h
// -----------------------------------------------------------------------------
//
// A `Study` is SHERPA's "API mode": the caller runs trials itself, in its own
// process, and tells the study what happened.
//
//   sherpa::Study study(*space, std::move(*algorithm), /*lower_is_better=*/false);
//   for (const sherpa::Trial& trial : study) {          // until WAIT or DONE
//     for (int64_t i = 1; i <= 10; ++i) {
//       double accuracy = Train(trial.parameters);
//       study.add_observation(trial, i, accuracy);
//       if (study.should_trial_stop(trial)) break;
//     }
//     study.finalize(trial);
//   }
//   std::optional<sherpa::BestResult> best = study.get_best_result();
//
// Method names are SHERPA's, so its users find their way. The runner
// (sherpa::optimize) drives a Study the same way from many processes.
//
// Errors are Statuses, never crashes: an unknown trial is NOT_FOUND, a
// repeated (trial, iteration) is ALREADY_EXISTS, a NaN objective is
// INVALID_ARGUMENT, a report after finalize is FAILED_PRECONDITION.
//
// Thread safety: none. One thread drives a study.

#ifndef SHERPA_STUDY_H_
#define SHERPA_STUDY_H_

#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_set>

#include "sherpa/algorithm.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/stopping_rule.h"
#include "sherpa/trial.h"

namespace sherpa {

class Study {
 public:
  // `stopping_rule` may be null. `seed` seeds the study's one generator.
  Study(ParameterSpace parameters, std::unique_ptr<Algorithm> algorithm, bool lower_is_better,
        std::unique_ptr<StoppingRule> stopping_rule = nullptr, uint64_t seed = 0);
  Study(Study&&) = default;
  Study& operator=(Study&&) = default;

  // The next trial to run: a trial queued with add_trial if there is one,
  // else the algorithm's answer (a trial, WAIT or DONE). Trials get ids 1, 2,
  // 3, ... in the order they are handed out. Errors come from the algorithm.
  StatusOr<Suggestion> get_suggestion();

  // Records the objective of `trial` after `iteration`, with extra metrics.
  Status add_observation(const Trial& trial, int64_t iteration, double objective,
                         Context context = {});

  // Ends `trial` with `status` (kCompleted, kFailed or kStopped). The
  // algorithm hears of it at once (PBT may then release the next
  // generation).
  Status finalize(const Trial& trial, TrialStatus status = TrialStatus::kCompleted);

  // True if the trial was asked to stop (request_stop) or the stopping rule
  // says so. NOT_FOUND for an unknown trial; false once it is finalized.
  StatusOr<bool> should_trial_stop(const Trial& trial) const;

  // Asks for `id` to be stopped at its next should_trial_stop (SHERPA's
  // dashboard "stop trial" button).
  void request_stop(TrialId id) { stop_requested_.insert(id); }

  // Queues `trial` to be returned by get_suggestion ahead of the algorithm
  // (FIFO). A trial with id 0 gets the next free id when handed out. A known
  // id may be queued again only if it was finalized without reporting
  // anything (SHERPA's resubmission of a crashed trial); otherwise
  // FAILED_PRECONDITION.
  Status add_trial(Trial trial);

  // The best observation so far over every row, or nullopt before any.
  std::optional<BestResult> get_best_result() const { return results_.Best(); }

  const Results& results() const { return results_; }
  const ParameterSpace& parameters() const { return parameters_; }
  const Algorithm& algorithm() const { return *algorithm_; }
  const StoppingRule* stopping_rule() const { return stopping_rule_.get(); }
  bool lower_is_better() const { return results_.lower_is_better(); }

  // Range-for support: yields trials until the study answers WAIT or DONE or
  // fails; `iteration_status()` then tells which error, if any, ended it.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Trial;
    using difference_type = std::ptrdiff_t;
    using pointer = const Trial*;
    using reference = const Trial&;

    iterator() = default;
    const Trial& operator*() const { return *current_; }
    const Trial* operator->() const { return &*current_; }
    iterator& operator++();
    bool operator==(const iterator& other) const {
      return current_.has_value() == other.current_.has_value() &&
             (!current_ || current_->id == other.current_->id);
    }

   private:
    friend class Study;
    explicit iterator(Study* study) : study_(study) { ++*this; }
    Study* study_ = nullptr;
    std::optional<Trial> current_;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }
  const Status& iteration_status() const { return iteration_status_; }

 private:
  ParameterSpace parameters_;
  std::unique_ptr<Algorithm> algorithm_;
  std::unique_ptr<StoppingRule> stopping_rule_;
  Results results_;
  Rng rng_;
  std::deque<Trial> queue_;
  std::unordered_set<TrialId> stop_requested_;
  TrialId next_id_ = 1;
  bool done_ = false;
  Status iteration_status_;
};

}  // namespace sherpa

#endif  // SHERPA_STUDY_H_
