// Simulated training problems for algorithms_bench (see README.md).
//
// A problem trains a "model" (a small state vector) for a number of steps
// under a trial's hyperparameters. A trial starts from a fresh model or from
// the checkpoint its `load_from` names, trains, reports the objective every
// `report_every` steps, and saves its model under `save_to`, exactly what a
// PBT trial script does, so the population-based algorithms and the
// from-scratch ones (random search, genetic, ...) run on the same trainer.
#ifndef SHERPA_BENCH_ALGORITHMS_PROBLEMS_H_
#define SHERPA_BENCH_ALGORITHMS_PROBLEMS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sherpa/parameter.h"
#include "sherpa/value.h"

namespace algorithms_bench {

struct Model {
  std::vector<double> state;
  int64_t steps = 0;  // steps trained so far along the model's lineage
};

struct Problem {
  std::string name;
  std::string description;
  sherpa::ParameterSpace space;
  bool lower_is_better = true;
  // The steps a from-scratch trial trains (one "full training run"); the
  // budget is counted in multiples of it.
  int64_t full_steps = 0;
  // The steps of one PBT generation; full_steps / segment_steps generations
  // make one lineage as long as a full run.
  int64_t segment_steps = 0;
  int64_t report_every = 0;
  // The objective a study must reach for "time to target".
  double target = 0;
  Model initial;
  // Trains `model` for `steps` steps under `hyperparameters`.
  std::function<void(Model& model, const sherpa::ParameterValues& hyperparameters, int64_t steps)>
      train;
  // The objective of a model without observation noise: what the bench
  // scores. The study sees TrueObjective plus noise (`noisy`).
  std::function<double(const Model& model, const sherpa::ParameterValues& hyperparameters)>
      true_objective;
  // Adds observation noise (none for deterministic problems).
  std::function<double(double objective, sherpa::Rng& rng)> noisy;

  bool Better(double a, double b) const { return lower_is_better ? a < b : a > b; }
};

// (a) The toy problem of the PBT paper (Jaderberg et al. 2017, Fig. 2),
//     trained with examples/toy_pbt's Train: maximize Q(theta).
Problem ToyPbtProblem();

// (b) A noisy quadratic: SGD on an ill-conditioned quadratic with gradient
//     noise, tracked through the expected squared error of each
//     coordinate. A large learning rate moves the flat direction early but
//     leaves a noise floor; a small one is needed late. The best schedule
//     changes during training. Minimize the loss.
Problem NoisyQuadraticProblem();

// (c) Branin (a static function of two hyperparameters) "trained" for
//     `steps`: objective = branin(x) + a gap that decays with the steps
//     trained. The best configuration never changes. Minimize.
Problem BraninProblem();

std::vector<Problem> AllProblems();

}  // namespace algorithms_bench

#endif  // SHERPA_BENCH_ALGORITHMS_PROBLEMS_H_
