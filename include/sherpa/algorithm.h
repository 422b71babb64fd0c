// -----------------------------------------------------------------------------
// File: algorithm.h
// -----------------------------------------------------------------------------
//
// An `Algorithm` decides what to run next: SHERPA's `get_suggestion`. The
// built-in algorithms (random search, grid search, Population Based Training,
// PB2, Bayesian optimization) are created with the factories in
// "sherpa/algorithms.h"; implement this interface to add one.
//
// Contract (checked for every built-in by algorithm_conformance_test.cc):
//   * `suggest` answers a trial (parameters inside the space, plus any
//     bookkeeping keys), WAIT (nothing can be suggested until a running trial
//     ends), or DONE (nothing more will ever be suggested; DONE is final).
//   * All randomness comes from `context.rng`; an algorithm never seeds or
//     creates a generator and never reads the clock, so one seed reproduces a
//     study.
//   * An error (a non-OK Status) means the algorithm cannot go on, e.g. every
//     member of a PBT generation failed. It names the cause.
//   * `on_trial_end` is called exactly once per finalization, after the
//     results hold the trial's final row. Algorithms keep whatever index they
//     need there instead of rescanning the results on every suggestion.
//   * Algorithms see only core types: no storage, processes or HTTP.
//
// Thread safety: none; the study calls an algorithm from one thread.

#ifndef SHERPA_ALGORITHM_H_
#define SHERPA_ALGORITHM_H_

#include <string_view>

#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa {

// What `suggest` answers: SHERPA's trial dict, AlgorithmState.WAIT or
// AlgorithmState.DONE.
class Suggestion {
 public:
  enum class Kind { kTrial, kWait, kDone };

  static Suggestion Wait() { return Suggestion(Kind::kWait, {}); }
  static Suggestion Done() { return Suggestion(Kind::kDone, {}); }
  static Suggestion Of(Trial trial) { return Suggestion(Kind::kTrial, std::move(trial)); }

  Kind kind() const { return kind_; }
  bool is_trial() const { return kind_ == Kind::kTrial; }
  bool is_wait() const { return kind_ == Kind::kWait; }
  bool is_done() const { return kind_ == Kind::kDone; }

  // REQUIRES: is_trial().
  const Trial& trial() const& { return trial_; }
  Trial&& trial() && { return std::move(trial_); }

 private:
  Suggestion(Kind kind, Trial trial) : kind_(kind), trial_(std::move(trial)) {}
  Kind kind_;
  Trial trial_;
};

// Everything an algorithm may look at when it suggests.
struct SuggestContext {
  const ParameterSpace& space;
  const Results& results;
  // The id the suggested trial will get. PBT writes it into `save_to`, so
  // checkpoint names always match trial ids (SHERPA kept its own counter,
  // which drifted from the ids after resubmissions).
  TrialId next_trial_id;
  Rng& rng;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  Algorithm() = default;
  Algorithm(const Algorithm&) = delete;
  Algorithm& operator=(const Algorithm&) = delete;

  // SHERPA's class name, e.g. "PopulationBasedTraining".
  virtual std::string_view name() const = 0;

  // The trial returned carries parameters only; the study sets its id to
  // `context.next_trial_id`.
  virtual StatusOr<Suggestion> suggest(const SuggestContext& context) = 0;

  virtual void on_trial_end(const TrialRecord& /*trial*/) {}

  // Called when a finalized trial is queued to run again under its id (see
  // Study::add_trial); it is running again, not ended.
  virtual void on_trial_reopened(const TrialRecord& /*trial*/) {}
};

}  // namespace sherpa

#endif  // SHERPA_ALGORITHM_H_
