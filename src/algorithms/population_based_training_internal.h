// The seam between PopulationBasedTraining's bookkeeping (generations, the
// barrier, ranking, exploit, load_from/save_to/lineage/generation) and its
// explore step, so that PBT variants such as PB2 change only how a child's
// hyperparameters are chosen. Internal to the algorithms module.

#ifndef SHERPA_ALGORITHMS_POPULATION_BASED_TRAINING_INTERNAL_H_
#define SHERPA_ALGORITHMS_POPULATION_BASED_TRAINING_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::pbt_internal {

// A COMPLETED member of a ranked generation and the objective of its last
// observation.
struct RankedMember {
  double objective;
  TrialId id;
};

// Chooses new hyperparameters for the children PBT explores. Called only
// while PBT hands out a trial (never on a WAIT), in hand-out order, so an
// explorer is as deterministic as PBT itself.
class Explorer {
 public:
  virtual ~Explorer() = default;

  // The algorithm's name (Algorithm::name() and error messages).
  virtual std::string_view algorithm_name() const = 0;

  // Generation `generation` (1-based) has ended and was ranked: `ranked`
  // holds its COMPLETED members, best first; `results` holds every trial.
  // Called once per generation, before its first child is made.
  virtual void OnGenerationRanked(int64_t generation, const std::vector<RankedMember>& ranked,
                                  const Results& results) = 0;

  // A child of generation `generation` (>= 2) that PBT explores: `values`
  // holds the parent's values of the study's parameters after PBT's own
  // perturbation; the explorer may overwrite any of them with values inside
  // the parameter's parameter_range (or own range).
  virtual Status Explore(int64_t generation, ParameterValues& values, Rng& rng) = 0;
};

// The checks of PopulationBasedTraining(), with messages that start with
// `algorithm_name`.
Status ValidatePbtOptions(const ParameterSpace& space,
                          const PopulationBasedTrainingOptions& options,
                          std::string_view algorithm_name);

// PopulationBasedTraining with `explorer` (may be null: plain PBT).
// REQUIRES: ValidatePbtOptions(space, options, ...).ok().
std::unique_ptr<Algorithm> MakePopulationBasedTraining(const ParameterSpace& space,
                                                       PopulationBasedTrainingOptions options,
                                                       std::unique_ptr<Explorer> explorer);

}  // namespace sherpa::pbt_internal

#endif  // SHERPA_ALGORITHMS_POPULATION_BASED_TRAINING_INTERNAL_H_
