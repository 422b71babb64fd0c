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
#include <string_view>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
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

// How PBT paces its members.
enum class PbtMode {
  // Generation by generation, with a barrier between generations (SHERPA's
  // PBT, made safe).
  kGenerational,
  // The paper's asynchronous PBT: no barrier; each member is decided alone
  // when a slot frees.
  kAsynchronous,
};

// How asynchronous PBT decides whether a ready member copies another.
enum class PbtSelection {
  // The paper's truncation selection with Ray Tune's quantiles: a member in
  // the bottom quantile copies one drawn uniformly from the top quantile.
  kTruncation,
  // The paper's binary tournament: the member meets one other drawn
  // uniformly, and copies it if it is strictly better.
  kTournament,
};

struct PopulationBasedTrainingOptions {
  PbtMode mode = PbtMode::kGenerational;
  // Members per generation (asynchronous: members of the population). At
  // least 3 for kTopThird, 5 for kTruncation, 2 in asynchronous mode.
  int64_t population_size = 20;
  // Generational: after this many generations the algorithm answers DONE.
  // Asynchronous: each member runs at most this many intervals; DONE once
  // every member was handed its last one. 0: never.
  int64_t num_generations = 0;
  // Where perturbation may take each parameter (SHERPA's parameter_range):
  // [lo, hi] for Continuous and Discrete, a list for Ordinal (may extend the
  // parameter's own list) and Choice (the values to resample from).
  // Parameters not listed stay inside their own range.
  std::map<std::string, std::vector<Value>, std::less<>> parameter_range;
  // Continuous and Discrete values are multiplied by one of these, drawn
  // uniformly. 1.0 keeps the value.
  std::vector<double> perturbation_factors = {0.8, 1.0, 1.2};
  // Generational mode only.
  PbtExploit exploit = PbtExploit::kTopThird;
  // The paper's "resample" explore: with this probability a parameter is
  // drawn afresh from its range instead of perturbed.
  double resample_probability = 0.0;
  // Asynchronous mode only: the share of the ranked members that forms the
  // top (and the bottom) quantile, in (0, 0.5]. A quantile of n ranked
  // members holds ceil(n * quantile_fraction) of them, at most n / 2
  // (rounded down).
  double quantile_fraction = 0.25;
  // Asynchronous mode only.
  PbtSelection selection = PbtSelection::kTruncation;
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
//
// Asynchronous mode (mode = kAsynchronous) keeps `population_size` members
// (slots 0 .. population_size-1) and trains each one interval (one trial) at
// a time, without a barrier:
//   * which member goes next: whenever suggest is called, the idle member
//     with the fewest intervals handed out goes next (ties: the one idle the
//     longest, then the lower slot). So members start in slot order, a
//     population larger than the runner's max_concurrent takes turns, and
//     with population_size == max_concurrent the member that just finished
//     goes on at once. WAIT while every member with intervals left is
//     running;
//   * the ranking: each member's latest score is the objective of the last
//     observation of its last COMPLETED interval (one that reported at
//     least once); members without one are not ranked. Best first by the
//     study's direction; ties: the earlier trial first;
//   * a member's first interval is sampled from the parameters' ranges
//     (load_from = "", lineage = "");
//   * a member whose last interval COMPLETED is decided by `selection`:
//       kTruncation: with n ranked members and q = the quantile size above,
//       a member ranked in the last q copies one drawn uniformly from the
//       first q; otherwise it continues;
//       kTournament: one other ranked member is drawn uniformly; if its score
//       is strictly better, the member copies it; otherwise it continues;
//     "continues" means load_from = its own last save_to and the same
//     hyperparameters; "copies" means load_from = the other's last save_to
//     and the other's hyperparameters, explored as in generational mode;
//   * a member whose last interval FAILED or was STOPPED (or completed
//     without a report) does not continue from it: it copies a member drawn
//     uniformly from the top quantile (at least the best member; this may be
//     its own last good checkpoint) and explores. While no member has a
//     score, it starts afresh with a new sample. A failed interval counts
//     towards num_generations, so a study always ends;
//   * every trial carries generation = the member's interval number (1, 2,
//     ...; a copy takes over the other's model but keeps its own count),
//     member = its slot, save_to = "<trial id>", and lineage = the loaded
//     trial's lineage + its save_to + "," (so load_from always names the
//     save_to of a COMPLETED interval that reported);
//   * a suggestion costs O(population_size), whatever the number of trials.
//
// Everything is derived from the study's generator: same seed, same study.
// A suggest that answers WAIT or DONE changes nothing and draws nothing, so
// replaying the trials handed out and ended rebuilds the same state.
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
// One generation of a PBT schedule: the hyperparameters one model trained
// with for one interval.
struct PbtScheduleStep {
  int64_t generation = 0;  // 1, 2, ... in order
  ParameterValues parameters;
};

// Trains one model along `schedule` (Ray Tune calls this
// PopulationBasedTrainingReplay): one trial per generation, in order, with
// that generation's parameters and load_from = the previous generation's
// save_to, so the model goes through the schedule PBT found. The trials
// carry PBT's keys (load_from, save_to = "<trial id>", lineage, generation),
// so a PBT trial script runs unchanged. One trial runs at a time (WAIT
// meanwhile); DONE after the last generation completed. A generation that
// FAILED or was STOPPED runs again from the same checkpoint, at most three
// times in all; then suggest returns FAILED_PRECONDITION.
// INVALID_ARGUMENT unless generations count 1, 2, ... and each step holds
// exactly the space's parameters with values of their types (values may lie
// outside the ranges: PBT's parameter_range can take them there).
StatusOr<std::unique_ptr<Algorithm>> PopulationBasedTrainingReplay(
    const ParameterSpace& space, std::vector<PbtScheduleStep> schedule);

// The schedule the model of PBT trial `trial` went through: its ancestors
// found by following load_from back to a trial that loaded nothing, oldest
// first, each with the space's parameters it ran with. NOT_FOUND for an
// unknown trial; FAILED_PRECONDITION if the trial carries no PBT keys, an
// ancestor is missing, or the chain disagrees with the trial's lineage.
// O(number of trials).
StatusOr<std::vector<PbtScheduleStep>> PbtScheduleOf(const ParameterSpace& space,
                                                     const Results& results, TrialId trial);

// The COMPLETED trial with the best objective (its best observation, as
// Results::Best ranks rows; ties: the earlier trial), or nullopt if none
// completed with a report.
std::optional<TrialId> BestCompletedTrial(const Results& results);
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
