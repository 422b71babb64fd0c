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

// SHERPA's Genetic: a steady-state genetic algorithm without generations.
// While fewer than 10 trials have COMPLETED with a result, it samples every
// parameter at random. After that, each suggestion draws two parents,
// independently and uniformly (with replacement), from the top third
// (max(1, n/3) of the n COMPLETED trials, ranked by the objective of each
// one's last observation, as PBT ranks; ties: lower id first), and builds the
// child parameter by parameter: resampled from the parameter's own range
// with probability `mutation_rate`, otherwise taken from the first or the
// second parent with probability (1 - mutation_rate) / 2 each. FAILED and
// STOPPED trials are never parents (SHERPA took any finalized row, whose
// objective is the trial's best, not its last). Trials it did not suggest
// (queued with Study::add_trial, or run by an earlier algorithm of a Chain)
// are parents too; a parent's value that is missing or outside the space is
// resampled instead of inherited. DONE after
// `max_num_trials` suggestions (0: never). It never answers WAIT.
StatusOr<std::unique_ptr<Algorithm>> Genetic(double mutation_rate = 0.1,
                                             int64_t max_num_trials = 0);

// SHERPA's Iterate: hands out `hp_iter` in order, one trial per
// configuration, then DONE. Every configuration must give every parameter of
// `space` a value inside its range and name nothing else (integers are
// accepted for continuous parameters); INVALID_ARGUMENT names the index and
// the parameter otherwise. An empty list is refused.
StatusOr<std::unique_ptr<Algorithm>> Iterate(const ParameterSpace& space,
                                             std::vector<ParameterValues> hp_iter);

struct RepeatOptions {
  // How many trials each configuration of the inner algorithm runs as (at
  // least 1).
  int64_t num_times = 5;
  // Ask the inner algorithm for the next configuration only once every
  // repeat of the previous one has ended (any final status); WAIT until then.
  bool wait_for_completion = false;
  // The inner algorithm sees one trial per configuration, with the mean
  // objective of its repeats, instead of every repeat (see below).
  bool agg = false;
};

// SHERPA's Repeat: every configuration the inner `algorithm` suggests is
// handed out `num_times` times in a row, as trials with their own ids and the
// very parameters the inner algorithm gave (bookkeeping keys included: the
// repeats of a PBT member share its save_to, so wrap PBT only with agg, or
// make the trial script save per trial id). DONE when the inner algorithm
// answers DONE (asked once the last repeat is out); its WAIT passes through.
//
// What the inner algorithm sees:
//   * agg = false: the study's own results, with every repeat as a trial of
//     its own, and on_trial_end for every repeat (the first repeat carries
//     the id the inner algorithm was given; the others are like trials
//     queued with Study::add_trial). on_trial_reopened is forwarded too.
//   * agg = true: a results table Repeat keeps for it (SHERPA grouped the
//     study's rows by parameters; here the group is known when it is handed
//     out). It holds one trial per configuration, under the id of its first
//     repeat (so a PBT save_to names a checkpoint that exists), pending until
//     every repeat has ended. Then it is finalized with one observation: the
//     mean over the COMPLETED repeats of their last objectives, at the
//     highest iteration they reported, with context keys `repeat_count`
//     (repeats averaged) and `objective_stderr` (standard error of the mean,
//     with 2 or more). Its status is COMPLETED if any repeat completed with a
//     result, else STOPPED if any was stopped, else FAILED. The inner
//     algorithm hears on_trial_end once per configuration, with that record.
//     Trials Repeat did not hand out (queued with Study::add_trial, or run
//     by an earlier algorithm of a Chain) are not in that table. A repeat
//     resubmitted after its configuration was aggregated does not change
//     the aggregate.
StatusOr<std::unique_ptr<Algorithm>> Repeat(std::unique_ptr<Algorithm> algorithm,
                                            RepeatOptions options = {});

// SHERPA's Chain: asks `algorithms[0]` until it answers DONE, then
// `algorithms[1]`, and so on; DONE after the last. All of them work on the
// study's results, so a later algorithm learns from the trials of the earlier
// ones (e.g. Iterate a few known-good configurations, then Genetic). For the
// same reason every algorithm of the chain hears on_trial_end and
// on_trial_reopened for every trial, whichever algorithm suggested it: an
// algorithm that keeps an index of results must see the trials it finds in
// the results, and one that tracks its own trials (PBT) ignores ids it did
// not hand out, as it must for trials queued with Study::add_trial. A WAIT
// from the current algorithm passes through.
StatusOr<std::unique_ptr<Algorithm>> Chain(std::vector<std::unique_ptr<Algorithm>> algorithms);

}  // namespace sherpa

#endif  // SHERPA_ALGORITHMS_H_
