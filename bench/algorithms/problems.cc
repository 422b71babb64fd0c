#include "algorithms/problems.h"

#include <cmath>
#include <numbers>
#include <random>
#include <utility>

#include "toy_pbt/toy_problem.h"

namespace algorithms_bench {
namespace {

double Get(const sherpa::ParameterValues& values, const char* key) {
  return values.find(key)->second.as_number();
}

sherpa::ParameterSpace MustSpace(std::vector<sherpa::Parameter> parameters) {
  // The spaces below are constants; a mistake in them is a programmer error.
  return std::move(sherpa::ParameterSpace::Create(std::move(parameters))).value();
}

}  // namespace

Problem ToyPbtProblem() {
  Problem p;
  p.name = "toy_pbt";
  p.description = "PBT paper toy: maximize Q(theta) = 1.2 - |theta|^2, surrogate h";
  p.space = MustSpace({sherpa::Continuous("h0", {0.0, 1.0}), sherpa::Continuous("h1", {0.0, 1.0})});
  p.lower_is_better = false;
  // Short runs, so that the schedule matters: h = (1, 1) throughout reaches
  // Q = 0.879 after 40 steps, h = (0.8, 0.8) only 0.754.
  p.full_steps = 40;
  p.segment_steps = 4;
  p.report_every = 4;
  p.target = 0.86;
  p.initial.state = {toy_pbt::kThetaStart[0], toy_pbt::kThetaStart[1]};
  p.train = [](Model& model, const sherpa::ParameterValues& h, int64_t steps) {
    const toy_pbt::Theta theta = toy_pbt::Train({model.state[0], model.state[1]}, Get(h, "h0"),
                                                Get(h, "h1"), steps, /*lr=*/0.01);
    model.state = {theta[0], theta[1]};
    model.steps += steps;
  };
  p.true_objective = [](const Model& model, const sherpa::ParameterValues&) {
    return toy_pbt::TrueObjective({model.state[0], model.state[1]});
  };
  p.noisy = [](double objective, sherpa::Rng&) { return objective; };
  return p;
}

Problem NoisyQuadraticProblem() {
  // Curvatures of the two coordinates and the variance of the gradient
  // noise. state[i] is E[x_i^2]; one SGD step with learning rate a maps it
  // to (1 - a h_i)^2 E[x_i^2] + a^2 sigma^2.
  static constexpr double kCurvature[2] = {1.0, 0.05};
  static constexpr double kNoise = 0.002;
  Problem p;
  p.name = "noisy_quadratic";
  p.description = "SGD on an ill-conditioned quadratic with gradient noise: minimize E|x|^2";
  p.space = MustSpace({sherpa::Continuous("lr", {1e-3, 1.9}, sherpa::Scale::kLog),
                       sherpa::Continuous("decay", {0.0, 1.0})});
  p.lower_is_better = true;
  p.full_steps = 200;
  p.segment_steps = 10;
  p.report_every = 10;
  // The best fixed (lr, decay) reaches 0.0046, the best constant lr 0.0084
  // (a grid over both, computed offline).
  p.target = 0.006;
  p.initial.state = {1.0, 1.0};
  p.train = [full = p.full_steps](Model& model, const sherpa::ParameterValues& h, int64_t steps) {
    const double lr = Get(h, "lr");
    const double decay = Get(h, "decay");
    for (int64_t i = 0; i < steps; ++i) {
      // A within-run schedule, so that a fixed configuration can decay its
      // learning rate too: lr * exp(-4 decay t / T).
      const double a = lr * std::exp(-4.0 * decay * static_cast<double>(model.steps) /
                                     static_cast<double>(full));
      for (int c = 0; c < 2; ++c) {
        const double shrink = 1.0 - a * kCurvature[c];
        model.state[c] = shrink * shrink * model.state[c] + a * a * kNoise;
      }
      ++model.steps;
    }
  };
  p.true_objective = [](const Model& model, const sherpa::ParameterValues&) {
    return model.state[0] + model.state[1];
  };
  // A validation estimate: 10% multiplicative noise.
  p.noisy = [](double objective, sherpa::Rng& rng) {
    return objective * std::exp(0.1 * std::normal_distribution<double>(0.0, 1.0)(rng));
  };
  return p;
}

Problem BraninProblem() {
  Problem p;
  p.name = "branin";
  p.description = "Branin(x1, x2) + a gap decaying with steps trained: minimize";
  p.space =
      MustSpace({sherpa::Continuous("x1", {-5.0, 10.0}), sherpa::Continuous("x2", {0.0, 15.0})});
  p.lower_is_better = true;
  p.full_steps = 100;
  p.segment_steps = 5;
  p.report_every = 5;
  // The global minimum is 0.397887 (three minimizers).
  p.target = 0.5;
  p.initial.state = {};
  p.train = [](Model& model, const sherpa::ParameterValues&, int64_t steps) {
    model.steps += steps;
  };
  p.true_objective = [full = p.full_steps](const Model& model, const sherpa::ParameterValues& h) {
    const double x1 = Get(h, "x1"), x2 = Get(h, "x2");
    const double pi = std::numbers::pi;
    const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
    const double branin =
        std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
    return branin +
           5.0 * std::exp(-5.0 * static_cast<double>(model.steps) / static_cast<double>(full));
  };
  p.noisy = [](double objective, sherpa::Rng& rng) {
    return objective + std::normal_distribution<double>(0.0, 0.05)(rng);
  };
  return p;
}

std::vector<Problem> AllProblems() {
  std::vector<Problem> problems;
  problems.push_back(ToyPbtProblem());
  problems.push_back(NoisyQuadraticProblem());
  problems.push_back(BraninProblem());
  return problems;
}

}  // namespace algorithms_bench
