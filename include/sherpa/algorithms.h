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
#include <string>
#include <string_view>
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

// The keys SuccessiveHalving adds to a trial's parameters besides
// `load_from` and `save_to`: the resource to train for (e.g. epochs) and the
// rung the trial belongs to.
inline constexpr std::string_view kResourceKey = "resource";
inline constexpr std::string_view kRungKey = "rung";

// SHERPA's arguments, with its names and defaults (the notation of Li et
// al., "A System for Massively Parallel Hyperparameter Tuning").
struct SuccessiveHalvingOptions {
  int64_t r = 1;    // minimum resource, >= 1
  int64_t R = 9;    // maximum resource, >= r
  int64_t eta = 3;  // reduction factor, >= 2: the top 1/eta of a rung is promoted
  // Minimum early-stopping rate, 0 <= s <= floor(log_eta(R / r)): rungs start
  // at resource r * eta^s.
  int64_t s = 0;
  // DONE once this many trials have COMPLETED in the top rung. 0: never.
  int64_t max_finished_configs = 50;
  // Not in SHERPA: DONE after this many trials, whatever rung they ran in,
  // so a study whose trials keep failing ends. 0: no limit.
  int64_t max_num_trials = 0;
};

// Asynchronous successive halving (ASHA). Rung k = 0 .. K - s, with
// K = floor(log_eta(R / r)); a trial in rung k trains for
// resource = r * eta^(s + k). On every suggestion:
//   * rungs are checked from the second-highest down to 0 for a trial that
//     COMPLETED in that rung, ranks among the top floor(n / eta) of the n
//     trials that COMPLETED there, and was not promoted before; the best such
//     trial of the highest rung is promoted: the new trial has the same
//     parameters, rung k + 1, load_from = the parent's save_to;
//   * otherwise a new configuration is sampled from the space into rung 0
//     with load_from = "".
//   * Every trial gets save_to = "<its own trial id>".
// Trials are ranked by the objective of their last observation, the state
// their checkpoint holds (ties: lower trial id first). FAILED and STOPPED
// trials, and COMPLETED ones that never reported, are never promoted.
// DONE once `max_finished_configs` trials COMPLETED in the top rung (or after
// `max_num_trials` trials).
//
// Deliberate differences from SHERPA:
//   * K is computed in integers: SHERPA's floating-point
//     log(243) / log(3) is 4.999..., which lost the top rung for R = 243 r,
//     eta = 3. save_to is the trial id (SHERPA's counter drifted from the
//     ids after resubmissions);
//   * ranking uses the last observation, not the best one;
//   * WAIT instead of a new rung-0 trial while the trials COMPLETED or
//     still running in the top rung already reach `max_finished_configs`:
//     the study ends when they finish, so new work would be thrown away. If
//     one of them fails, suggestions resume;
//   * `max_num_trials` (above).
// A WAIT changes nothing and draws nothing from the generator.
StatusOr<std::unique_ptr<Algorithm>> SuccessiveHalving(const ParameterSpace& space,
                                                       SuccessiveHalvingOptions options = {});

struct LocalSearchOptions {
  // Where the search starts: a value inside its range for every parameter of
  // the space, and nothing else. Integers are accepted for Continuous
  // parameters.
  ParameterValues seed_configuration;
  // Continuous and Discrete values are multiplied by each of these.
  std::vector<double> perturbation_factors = {0.8, 1.2};
  // Each configuration is handed out this many times in a row (to see the
  // noise of the objective).
  int64_t repeat_trials = 1;
};

// Local search from `seed_configuration`, one parameter at a time. The first
// configuration is the seed. Each later one is a neighbour of the center, the
// best COMPLETED trial so far (by the objective of its last observation; ties:
// the one that ended first), or the seed while none completed. A neighbour differs
// from the center in one parameter: a Continuous value times a factor, clipped
// to the range; a Discrete value times a factor, rounded, moved by at least
// one when the factor is not 1, clipped; an Ordinal value one step up or down
// the list; a Choice value any other value of the list. The neighbour
// suggested is one never handed out before, picked as SHERPA does: the
// parameter uniformly among those that still have an untried neighbour, then
// one of its untried neighbours uniformly. When the center has no untried
// neighbour the answer is WAIT while a trial is still running (it may move the
// center) and DONE once none is.
//
// Deliberate differences from SHERPA: randomness comes from the study's
// generator (SHERPA used Python's `random`, which its seed did not control);
// Discrete values round and always move (SHERPA truncated, so 2 * 1.2 stayed
// 2); any number of perturbation factors (SHERPA used the first two);
// ranking by the last observation, not the best; WAIT while exhausted but
// trials are running (SHERPA ended the study, even though a running trial
// could still move the center).
// A WAIT changes nothing and draws nothing from the generator.
StatusOr<std::unique_ptr<Algorithm>> LocalSearch(const ParameterSpace& space,
                                                 LocalSearchOptions options);

}  // namespace sherpa

#endif  // SHERPA_ALGORITHMS_H_
