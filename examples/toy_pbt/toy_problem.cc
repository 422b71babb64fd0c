#include "toy_pbt/toy_problem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "sherpa/parameter.h"
#include "sherpa/trial.h"

namespace toy_pbt {
namespace {

sherpa::Status ValidateOptions(const ToyOptions& options) {
  if (options.population < 1) {
    return sherpa::InvalidArgumentError("population must be at least 1");
  }
  if (options.generations < 1) {
    return sherpa::InvalidArgumentError("generations must be at least 1");
  }
  if (options.steps < 1) return sherpa::InvalidArgumentError("steps must be at least 1");
  if (!std::isfinite(options.lr) || options.lr <= 0) {
    return sherpa::InvalidArgumentError("lr must be a positive number");
  }
  return sherpa::OkStatus();
}

sherpa::StatusOr<sherpa::ParameterSpace> HyperparameterSpace() {
  return sherpa::ParameterSpace::Create(
      {sherpa::Continuous("h0", {0.0, 1.0}), sherpa::Continuous("h1", {0.0, 1.0})});
}

double Number(const sherpa::Trial& trial, std::string_view key) {
  return trial.parameters.find(key)->second.as_number();
}

sherpa::Context ThetaContext(const Theta& theta) {
  // Reported so that --csv holds what Fig. 2 plots: the trajectories of theta.
  return {{"theta0", theta[0]}, {"theta1", theta[1]}};
}

// Turns per-generation maxima into "best so far".
void RunningMax(std::vector<double>& best) {
  for (size_t g = 1; g < best.size(); ++g) best[g] = std::max(best[g], best[g - 1]);
}

sherpa::Status CheckEveryGenerationRan(const std::vector<double>& best, std::string_view who) {
  for (size_t g = 0; g < best.size(); ++g) {
    if (best[g] == -std::numeric_limits<double>::infinity()) {
      return sherpa::InternalError(std::string(who) + " reported nothing for generation " +
                                   std::to_string(g + 1) + " of " + std::to_string(best.size()));
    }
  }
  return sherpa::OkStatus();
}

}  // namespace

double TrueObjective(const Theta& theta) {
  return 1.2 - (theta[0] * theta[0] + theta[1] * theta[1]);
}

Theta Train(Theta theta, double h0, double h1, int64_t steps, double lr) {
  for (int64_t i = 0; i < steps; ++i) {
    // d Qhat / d theta_i = -2 h_i theta_i; ascent adds lr times it.
    theta[0] += lr * (-2.0 * h0 * theta[0]);
    theta[1] += lr * (-2.0 * h1 * theta[1]);
  }
  return theta;
}

double BestPossibleQ(const ToyOptions& options) {
  return TrueObjective(
      Train(kThetaStart, 1.0, 1.0, options.generations * options.steps, options.lr));
}

namespace {

sherpa::PopulationBasedTrainingOptions PbtOptions(const ToyOptions& options) {
  sherpa::PopulationBasedTrainingOptions pbt;
  pbt.population_size = options.population;
  pbt.num_generations = options.generations;
  pbt.parameter_range = {{"h0", {0.0, 1.0}}, {"h1", {0.0, 1.0}}};
  pbt.exploit = options.exploit;
  return pbt;
}

// Runs a PBT-style algorithm (PBT or PB2: same bookkeeping) on the toy.
sherpa::StatusOr<ToyRun> RunPopulation(const ToyOptions& options,
                                       std::unique_ptr<sherpa::Algorithm> algorithm,
                                       const sherpa::ParameterSpace& space) {
  const std::string who(algorithm->name());
  sherpa::Study study(space, std::move(algorithm), /*lower_is_better=*/false,
                      /*stopping_rule=*/nullptr, options.seed);

  std::map<std::string, Theta, std::less<>> checkpoints;
  std::vector<double> best(static_cast<size_t>(options.generations),
                           -std::numeric_limits<double>::infinity());
  for (const sherpa::Trial& trial : study) {
    const std::string& load_from = trial.parameters.find(sherpa::kLoadFromKey)->second.as_string();
    Theta theta = kThetaStart;
    if (!load_from.empty()) {
      auto checkpoint = checkpoints.find(load_from);
      if (checkpoint == checkpoints.end()) {
        return sherpa::InternalError("trial " + std::to_string(trial.id) + " loads '" + load_from +
                                     "', which no trial saved");
      }
      theta = checkpoint->second;
    }
    theta = Train(theta, Number(trial, "h0"), Number(trial, "h1"), options.steps, options.lr);
    checkpoints[trial.parameters.find(sherpa::kSaveToKey)->second.as_string()] = theta;

    const double q = TrueObjective(theta);
    const int64_t generation = trial.parameters.find(sherpa::kGenerationKey)->second.as_int();
    SHERPA_RETURN_IF_ERROR(study.add_observation(trial, generation, q, ThetaContext(theta)));
    SHERPA_RETURN_IF_ERROR(study.finalize(trial));
    if (generation < 1 || generation > options.generations) {
      return sherpa::InternalError(who + " handed out generation " + std::to_string(generation) +
                                   " of " + std::to_string(options.generations));
    }
    double& best_of_generation = best[static_cast<size_t>(generation - 1)];
    best_of_generation = std::max(best_of_generation, q);
  }
  SHERPA_RETURN_IF_ERROR(study.iteration_status());
  SHERPA_RETURN_IF_ERROR(CheckEveryGenerationRan(best, who));
  RunningMax(best);
  return ToyRun{std::move(study), std::move(best)};
}

}  // namespace

sherpa::StatusOr<ToyRun> RunToyPbt(const ToyOptions& options) {
  SHERPA_RETURN_IF_ERROR(ValidateOptions(options));
  SHERPA_ASSIGN_OR_RETURN(sherpa::ParameterSpace space, HyperparameterSpace());
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<sherpa::Algorithm> algorithm,
                          sherpa::PopulationBasedTraining(space, PbtOptions(options)));
  return RunPopulation(options, std::move(algorithm), space);
}

sherpa::StatusOr<ToyRun> RunToyPb2(const ToyOptions& options) {
  SHERPA_RETURN_IF_ERROR(ValidateOptions(options));
  SHERPA_ASSIGN_OR_RETURN(sherpa::ParameterSpace space, HyperparameterSpace());
  sherpa::PB2Options pb2;
  pb2.pbt = PbtOptions(options);
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<sherpa::Algorithm> algorithm,
                          sherpa::PB2(space, std::move(pb2)));
  return RunPopulation(options, std::move(algorithm), space);
}

sherpa::StatusOr<ToyRun> RunToyRandomSearch(const ToyOptions& options) {
  SHERPA_RETURN_IF_ERROR(ValidateOptions(options));
  SHERPA_ASSIGN_OR_RETURN(sherpa::ParameterSpace space, HyperparameterSpace());
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<sherpa::Algorithm> algorithm,
                          sherpa::RandomSearch(options.population));
  sherpa::Study study(space, std::move(algorithm), /*lower_is_better=*/false,
                      /*stopping_rule=*/nullptr, options.seed);

  std::vector<double> best(static_cast<size_t>(options.generations),
                           -std::numeric_limits<double>::infinity());
  for (const sherpa::Trial& trial : study) {
    const double h0 = Number(trial, "h0");
    const double h1 = Number(trial, "h1");
    Theta theta = kThetaStart;
    for (int64_t g = 1; g <= options.generations; ++g) {
      theta = Train(theta, h0, h1, options.steps, options.lr);
      const double q = TrueObjective(theta);
      SHERPA_RETURN_IF_ERROR(study.add_observation(trial, g, q, ThetaContext(theta)));
      double& best_at_g = best[static_cast<size_t>(g - 1)];
      best_at_g = std::max(best_at_g, q);
    }
    SHERPA_RETURN_IF_ERROR(study.finalize(trial));
  }
  SHERPA_RETURN_IF_ERROR(study.iteration_status());
  SHERPA_RETURN_IF_ERROR(CheckEveryGenerationRan(best, "random search"));
  if (study.results().num_trials() != static_cast<size_t>(options.population)) {
    return sherpa::InternalError("random search ran " +
                                 std::to_string(study.results().num_trials()) + " trials, not " +
                                 std::to_string(options.population));
  }
  RunningMax(best);
  return ToyRun{std::move(study), std::move(best)};
}

}  // namespace toy_pbt
