// -----------------------------------------------------------------------------
// File: algorithms.h
// -----------------------------------------------------------------------------
//
// The built-in algorithms, created by factories that
// validate their options and refuse bad ones with a message naming the
// option. Their names are SHERPA's class names.
//
//   auto space = sherpa::ParameterSpace::Create({
//       sherpa::Continuous("lr", {1e-4, 1e-1}, sherpa::Scale::kLog),
//       sherpa::Ordinal("batch_size", {16, 32, 64, 128})});
//   sherpa::PopulationBasedTrainingOptions pbt;
//   pbt.population_size = 20;
//   pbt.num_generations = 10;
//   pbt.parameter_range = {{"lr", {1e-7, 1.0}}};
//   auto algorithm = sherpa::PopulationBasedTraining(*space, pbt);
//   if (!algorithm.ok()) { ... algorithm.status() names what is wrong ... }

#ifndef SHERPA_ALGORITHMS_H_
#define SHERPA_ALGORITHMS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"

namespace sherpa {

// Samples every parameter independently from its range; DONE after
// `max_num_trials` suggestions (0: never).
StatusOr<std::unique_ptr<Algorithm>> RandomSearch(int64_t max_num_trials = 0);

// Every combination of: `num_grid_points` evenly spaced values for each
// Continuous and Discrete parameter (endpoints included; spaced evenly in
// log space on a log scale; Discrete values rounded and deduplicated), and
// every value of each Choice and Ordinal. Parameters vary in name order, the
// last fastest. DONE after the last combination.
StatusOr<std::unique_ptr<Algorithm>> GridSearch(int64_t num_grid_points = 2);

// How PBT picks the parents of generation g from generation g-1.
enum class PbtExploit {
  // The rule SHERPA documents (the seed): every member of g is a perturbed
  // copy of a member drawn with replacement from the top third of g-1.
  kTopThird,
  // SHERPA's later rule and the paper's truncation selection: the top 80% of
  // g-1 continue unchanged, the rest are perturbed copies of members drawn
  // from the top 20%.
  kTruncation,
};

struct PopulationBasedTrainingOptions {
  // Members per generation. At least 3 for kTopThird, 5 for kTruncation.
  int64_t population_size = 20;
  // After this many generations the algorithm answers DONE. 0: never.
  int64_t num_generations = 0;
  // Where perturbation may take each parameter (SHERPA's parameter_range):
  // [lo, hi] for Continuous and Discrete, a list for Ordinal (may extend the
  // parameter's own list) and Choice (the values to resample from).
  // Parameters not listed stay inside their own range.
  std::map<std::string, std::vector<Value>, std::less<>> parameter_range;
  // Continuous and Discrete values are multiplied by one of these, drawn
  // uniformly. 1.0 keeps the value.
  std::vector<double> perturbation_factors = {0.8, 1.0, 1.2};
  PbtExploit exploit = PbtExploit::kTopThird;
  // The paper's "resample" explore: with this probability a parameter is
  // drawn afresh from its range instead of perturbed.
  double resample_probability = 0.0;
};

// Population Based Training, generation by generation:
//   * generation 1 samples `population_size` members from the parameters'
//     ranges, with load_from = "", save_to = "<trial id>", lineage = "" and
//     generation = 1;
//   * generation g > 1 is built from the COMPLETED members of g-1 only,
//     ranked by the objective of each one's last observation (the state its
//     checkpoint holds), with the rule `exploit` names. A child gets
//     load_from = parent's save_to, save_to = "<its trial id>",
//     lineage = parent's lineage + parent's save_to + ",", generation = g;
//   * perturbation: Continuous and Discrete values are multiplied by a
//     factor and clipped to parameter_range (or the own range); Discrete
//     values stay integers and move by at least one when the factor is not
//     1, so small integers can grow; Ordinal values move one step down, stay
//     or move one step up the list; Choice values are resampled;
//   * a generation barrier: no member of g is handed out before every member
//     of g-1 has ended. Until then the answer is WAIT;
//   * FAILED and STOPPED members are never parents. If no member of a
//     generation completed, suggest returns FAILED_PRECONDITION.
// Everything is derived from the study's generator: same seed, same study.
StatusOr<std::unique_ptr<Algorithm>> PopulationBasedTraining(
    const ParameterSpace& space, PopulationBasedTrainingOptions options);

struct BayesianOptimizationOptions {
  // DONE after this many suggestions. 0: never.
  int64_t max_num_trials = 0;
  // How many suggestions come before the model is used: the
  // `initial_data_points` first, then random samples. nullopt: the number of
  // parameters + 1 (SHERPA's 'infer'). All initial_data_points are tried even
  // when there are more of them.
  std::optional<int64_t> num_initial_data_points;
  // Configurations to try first, in order; each gives a value inside its
  // range to every parameter of the space and names nothing else.
  std::vector<ParameterValues> initial_data_points;
  // The GP is fitted on at most this many COMPLETED trials (the fit costs
  // O(n^3)): the better half by objective and the most recent others.
  int64_t max_training_points = 200;
};

// Bayesian optimization with a Gaussian process (SHERPA's GPyOpt algorithm,
// without GPyOpt):
//   * parameters are mapped to [0, 1]: Continuous and Discrete linearly, or
//     linearly in log space on a log scale (Discrete values rounded back);
//     Ordinal by index; Choice one-hot;
//   * the model is a GP with an ARD Matern 5/2 kernel on the COMPLETED
//     trials' objectives (each trial's last observation; FAILED and STOPPED
//     trials are ignored), outputs standardized, kernel hyperparameters
//     fitted by maximizing the log marginal likelihood;
//   * the next trial maximizes expected improvement over random candidates
//     plus a local refinement of the best of them;
//   * trials still running are "constant liars" (Ginsbourger et al. 2010):
//     the model is conditioned on each at the worse of its predicted mean and
//     the worst objective seen, so a batch of parallel suggestions spreads out
//     instead of piling onto one point;
//   * until `num_initial_data_points` suggestions were made and two trials
//     completed, suggestions are the initial points, then random samples.
// Never answers WAIT. All randomness comes from the study's generator.
StatusOr<std::unique_ptr<Algorithm>> BayesianOptimization(const ParameterSpace& space,
                                                          BayesianOptimizationOptions options);

}  // namespace sherpa

#endif  // SHERPA_ALGORITHMS_H_
