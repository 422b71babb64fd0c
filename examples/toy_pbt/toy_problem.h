// -----------------------------------------------------------------------------
// File: toy_problem.h
// -----------------------------------------------------------------------------
//
// The toy problem of the PBT paper (Jaderberg et al. 2017, Fig. 2), run with
// the in-process sherpa::Study:
//
//   * the model is theta in R^2, starting at (0.9, 0.9);
//   * the true objective is Q(theta) = 1.2 - (theta0^2 + theta1^2), at most
//     1.2 at theta = 0;
//   * training only sees the surrogate Qhat(theta|h) = 1.2 - (h0 theta0^2 +
//     h1 theta1^2), so the hyperparameters h0, h1 in [0, 1] decide how fast
//     each coordinate moves; h = (1, 1) is the best schedule in the box.
//
// PBT: one trial is one generation of one member: `steps` gradient-ascent
// steps on Qhat from the parent's theta (loaded from an in-memory checkpoint
// store by `load_from`), then theta is saved under `save_to` and the true Q is
// reported ONCE, with iteration = the trial's generation, so the results
// table reads as "Q of each member after generation g".
//
// Random search, the baseline: `population` trials, each samples h once and
// trains from (0.9, 0.9) for generations * steps steps, reporting Q after
// every `steps` steps with iteration = 1..generations. The trials are thought
// of as running side by side like the population, so after generation g both
// methods have spent population * g * steps gradient steps, and the best
// Q of both at g compares equal budgets (and equal wall-clock on `population`
// workers).
//
//   toy_pbt::ToyOptions options;                   // the paper's setup
//   auto pbt = toy_pbt::RunToyPbt(options);
//   auto random = toy_pbt::RunToyRandomSearch(options);
//   auto pb2 = toy_pbt::RunToyPb2(options);
//   double gain = pbt->best_q.back() - random->best_q.back();

#ifndef SHERPA_EXAMPLES_TOY_PBT_TOY_PROBLEM_H_
#define SHERPA_EXAMPLES_TOY_PBT_TOY_PROBLEM_H_

#include <array>
#include <cstdint>
#include <vector>

#include "sherpa/algorithms.h"
#include "sherpa/status.h"
#include "sherpa/study.h"

namespace toy_pbt {

using Theta = std::array<double, 2>;
inline constexpr Theta kThetaStart = {0.9, 0.9};

struct ToyOptions {
  uint64_t seed = 0;
  // PBT's population size; also the number of random-search trials.
  int64_t population = 10;
  int64_t generations = 40;
  // Gradient steps per PBT trial (one generation of one member).
  int64_t steps = 4;
  double lr = 0.01;
  sherpa::PbtExploit exploit = sherpa::PbtExploit::kTopThird;
};

// Q(theta) = 1.2 - (theta0^2 + theta1^2).
double TrueObjective(const Theta& theta);

// `steps` gradient-ascent steps on Qhat(theta|h) at learning rate `lr`.
Theta Train(Theta theta, double h0, double h1, int64_t steps, double lr);

// Q after generations * steps steps with h = (1, 1) throughout: what the best
// possible schedule in [0, 1]^2 reaches with one lineage's budget.
double BestPossibleQ(const ToyOptions& options);

struct ToyRun {
  sherpa::Study study;
  // best_q[g - 1]: the best true Q of any member (trial) after g generations'
  // worth of steps, i.e. after population * g * steps steps in all.
  // Non-decreasing.
  std::vector<double> best_q;
};

// INVALID_ARGUMENT for bad options (the PBT factory's message for a
// population too small for the exploit rule); INTERNAL if the study ends
// early or hands out a load_from that was never saved.
sherpa::StatusOr<ToyRun> RunToyPbt(const ToyOptions& options);
// PB2 (Population Based Bandits) in PBT's place: the same bookkeeping, the
// same exploit rule, h chosen by PB2's GP bandit within [0, 1]^2.
sherpa::StatusOr<ToyRun> RunToyPb2(const ToyOptions& options);
sherpa::StatusOr<ToyRun> RunToyRandomSearch(const ToyOptions& options);

}  // namespace toy_pbt

#endif  // SHERPA_EXAMPLES_TOY_PBT_TOY_PROBLEM_H_
