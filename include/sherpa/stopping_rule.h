// -----------------------------------------------------------------------------
// File: stopping_rule.h
// -----------------------------------------------------------------------------
//
// A `StoppingRule` tells the study to end a running trial early (SHERPA's
// `should_trial_stop`, Optuna's pruners). Built-in: MedianStoppingRule below.
//
// Contract (stopping_rule_conformance in the tests):
//   * `should_stop` is pure: the same trial and results give the same answer.
//   * A trial without observations is never stopped.
//   * Rules see only core types.
//
// Thread safety: const methods; safe to call concurrently on unchanging
// results.

#ifndef SHERPA_STOPPING_RULE_H_
#define SHERPA_STOPPING_RULE_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "sherpa/results.h"
#include "sherpa/status.h"

namespace sherpa {

class StoppingRule {
 public:
  virtual ~StoppingRule() = default;
  StoppingRule() = default;
  StoppingRule(const StoppingRule&) = delete;
  StoppingRule& operator=(const StoppingRule&) = delete;

  virtual std::string_view name() const = 0;

  // True if `trial` should be stopped now.
  // REQUIRES: `trial` belongs to `results`.
  virtual bool should_stop(const TrialRecord& trial, const Results& results) const = 0;
};

// Stops a trial whose best objective up to its latest iteration i is worse
// than the median of the other trials' best objectives up to the same
// iteration i, once the trial has reached `min_iterations` and at least
// `min_trials` other trials have reported iteration i. (SHERPA meant to
// compare at equal iterations but compared against each trial's own last
// iteration.)
StatusOr<std::unique_ptr<StoppingRule>> MedianStoppingRule(int64_t min_iterations = 0,
                                                           int64_t min_trials = 1);

}  // namespace sherpa

#endif  // SHERPA_STOPPING_RULE_H_
