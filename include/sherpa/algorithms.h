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

struct PB2Options {
  // Everything PBT does, PB2 does the same way: population, generations,
  // exploit rule, barrier, bookkeeping keys, and the perturbation of Choice
  // and Ordinal parameters. `pbt.parameter_range` gives the bandit's bounds
  // [lo, hi] for Continuous and Discrete parameters (Ray Tune's
  // hyperparam_bounds; default: the parameter's own range).
  // `pbt.resample_probability` must be 0: the bandit replaces resampling.
  PopulationBasedTrainingOptions pbt;
  // The GP is fitted on at most this many of the most recent data points
  // (one per COMPLETED member with a COMPLETED parent; O(n^3) per fit).
  int64_t max_data_points = 250;
};

// Population Based Bandits (Parker-Holder, Nguyen and Roberts, NeurIPS 2020):
// PopulationBasedTraining with a model-based explore step. Every member that
// PBT would perturb gets its Continuous and Discrete values from a GP bandit:
//   * data: for each COMPLETED member of generation g >= 2 whose parent
//     COMPLETED, the point (g, its hyperparameters scaled to [0, 1] within
//     the bounds, linearly or in log space on a log scale) and the change of
//     the objective from the parent's last observation to the member's own
//     (sign flipped when lower is better, so larger is better);
//   * model: a GP with the time-varying squared-exponential kernel of
//     TV-GP-UCB, k = k_SE(x, x') (1 - eps)^(|g - g'| / 2), fitted by maximum
//     likelihood, eps included;
//   * choice: the point maximizing UCB = mean + sqrt(beta) sd at the new
//     generation within the bounds, with beta = 0.2 + max(0, log(0.4 n)) for
//     n data points (the schedule of Ray Tune's PB2); members chosen earlier in the
//     same generation are added as pending points (GP-BUCB): they shrink the
//     variance, not the mean, so one generation's choices spread out;
//   * Discrete values are rounded; without data (generation 2) or for Choice
//     and Ordinal parameters, PBT's perturbation is used.
// algorithm name: "PB2".
StatusOr<std::unique_ptr<Algorithm>> PB2(const ParameterSpace& space, PB2Options options);

}  // namespace sherpa

#endif  // SHERPA_ALGORITHMS_H_
