// Internal to the algorithms module: what the generational and the
// asynchronous Population Based Training share. Both modes explore through
// one Explorer, so a new explore rule (e.g. PB2's) is added in one place.
#ifndef SHERPA_ALGORITHMS_PBT_INTERNAL_H_
#define SHERPA_ALGORITHMS_PBT_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::pbt_internal {

// PBT's explore step: perturbation or, with resample_probability, fresh
// samples (the rules are documented at PopulationBasedTraining in
// sherpa/algorithms.h).
class Explorer {
 public:
  // REQUIRES: `options` passed PopulationBasedTraining's validation.
  Explorer(const ParameterSpace& space, const PopulationBasedTrainingOptions& options);
  // The rules point into space_.
  Explorer(const Explorer&) = delete;
  Explorer& operator=(const Explorer&) = delete;

  // The tuned parameters of `parent` (its bookkeeping keys left out: a
  // child's are rebuilt, and the lineage grows with every interval).
  ParameterValues TunedValuesOf(const ParameterValues& parent) const;

  // Moves every tuned parameter of `values` to a nearby (or, with
  // resample_probability, a fresh) value, drawing from `rng`.
  void Explore(ParameterValues& values, Rng& rng) const;

 private:
  // How perturbation treats one parameter, resolved once at construction.
  struct PerturbRule {
    const Parameter* parameter;
    double lo = 0, hi = 0;    // Continuous, Discrete: clip bounds
    std::vector<Value> list;  // Ordinal: the steps; Choice: the values to resample from
  };
  double Factor(Rng& rng) const;
  static int64_t PerturbInteger(int64_t v, double factor, const PerturbRule& rule);
  static Value StepOrdinal(const Value& current, const std::vector<Value>& list, Rng& rng);

  ParameterSpace space_;
  std::vector<double> perturbation_factors_;
  double resample_probability_;
  std::vector<PerturbRule> rules_;
};

// A COMPLETED member of a ranked generation and the objective of its last
// observation.
struct RankedMember {
  double objective;
  TrialId id;
};

// A variant's own explore step on top of generational PBT (PB2's bandit):
// everything else, generations, the barrier, ranking, exploit and the
// bookkeeping keys, stays PBT's. Called only while PBT hands out a trial
// (never on a WAIT), in hand-out order, so a hook is as deterministic as PBT.
class ExploreHook {
 public:
  virtual ~ExploreHook() = default;
  // The algorithm's name (Algorithm::name() and error messages).
  virtual std::string_view algorithm_name() const = 0;
  // Generation `generation` (1-based) has ended and was ranked: `ranked`
  // holds its COMPLETED members, best first; `results` holds every trial.
  // Called once per generation, before its first child is made.
  virtual void OnGenerationRanked(int64_t generation, const std::vector<RankedMember>& ranked,
                                  const Results& results) = 0;
  // A child of generation `generation` (>= 2) that PBT explores: `values`
  // holds the parent's values of the study's parameters after the Explorer's
  // perturbation; the hook may overwrite any of them with values inside the
  // parameter's parameter_range (or own range).
  virtual Status Explore(int64_t generation, ParameterValues& values, Rng& rng) = 0;
};

// The checks of PopulationBasedTraining(), with messages that start with
// `algorithm_name`.
Status ValidatePbtOptions(const ParameterSpace& space,
                          const PopulationBasedTrainingOptions& options,
                          std::string_view algorithm_name);

// Generational PopulationBasedTraining with `hook` (may be null: plain PBT).
// REQUIRES: ValidatePbtOptions(space, options, ...).ok().
std::unique_ptr<Algorithm> MakePopulationBasedTraining(const ParameterSpace& space,
                                                       PopulationBasedTrainingOptions options,
                                                       std::unique_ptr<ExploreHook> hook);

// A key PBT itself wrote into a trial it handed out.
const std::string& BookkeepingString(const TrialRecord& trial, std::string_view key);

// The asynchronous mode of PopulationBasedTraining (options.mode ==
// kAsynchronous). REQUIRES: `options` passed PopulationBasedTraining's
// validation.
std::unique_ptr<Algorithm> MakeAsynchronousPbt(const ParameterSpace& space,
                                               PopulationBasedTrainingOptions options);

}  // namespace sherpa::pbt_internal

#endif  // SHERPA_ALGORITHMS_PBT_INTERNAL_H_
