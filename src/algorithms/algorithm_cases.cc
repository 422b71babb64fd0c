#include "algorithms/algorithm_cases.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <utility>

#include "sherpa/algorithms.h"
#include "sherpa/value.h"

namespace sherpa::conformance {
namespace {

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    // A broken fixture: every test using it would be meaningless.
    std::cerr << "algorithm_cases: " << space.status() << "\n";
    std::abort();
  }
  return std::move(space).value();
}

const std::set<std::string> kPbtKeys = {"load_from", "save_to", "lineage", "generation"};
const std::set<std::string> kAsyncPbtKeys = {"load_from", "save_to", "lineage", "generation",
                                             "member"};

const std::set<std::string> kAshaKeys = {"resource", "rung", "load_from", "save_to"};

SuccessiveHalvingOptions AshaOptions() {
  SuccessiveHalvingOptions options;
  options.max_finished_configs = 3;
  // Ends the study whose trials all fail (ASHA alone would sample forever).
  options.max_num_trials = 300;
  return options;
}

// A seed inside every range, away from the bounds, so that LocalSearch has
// neighbours on both sides.
ParameterValues SeedConfiguration(const ParameterSpace& space) {
  ParameterValues seed;
  for (const Parameter& p : space) {
    switch (p.type()) {
      case ParameterType::kContinuous:
        seed[p.name()] = p.scale() == Scale::kLog
                             ? p.lower() * std::pow(p.upper() / p.lower(), 0.25)
                             : p.lower() + (p.upper() - p.lower()) / 4;
        break;
      case ParameterType::kDiscrete:
        seed[p.name()] = static_cast<int64_t>(p.lower() + (p.upper() - p.lower()) / 4);
        break;
      case ParameterType::kChoice:
      case ParameterType::kOrdinal:
        seed[p.name()] = p.range()[p.range().size() / 2];
        break;
    }
  }
  return seed;
}

PopulationBasedTrainingOptions PbtOptions(int64_t population, int64_t generations,
                                          PbtExploit exploit) {
  PopulationBasedTrainingOptions options;
  options.population_size = population;
  options.num_generations = generations;
  options.exploit = exploit;
  return options;
}

// `n` configurations inside `space`, for Iterate. Drawn from a generator of
// the test's own: the configurations are Iterate's input, not its
// randomness.
std::vector<ParameterValues> Configurations(const ParameterSpace& space, int n) {
  Rng rng(2024);
  std::vector<ParameterValues> configurations;
  for (int i = 0; i < n; ++i) configurations.push_back(space.Sample(rng));
  return configurations;
}

PopulationBasedTrainingOptions AsyncPbtOptions(int64_t population, int64_t intervals,
                                               PbtSelection selection) {
  PopulationBasedTrainingOptions options;
  options.mode = PbtMode::kAsynchronous;
  options.population_size = population;
  options.num_generations = intervals;
  options.selection = selection;
  return options;
}

}  // namespace

const ParameterSpace& ConformanceSpace() {
  static const ParameterSpace* space = new ParameterSpace(MakeSpace({
      Continuous("lr", {1e-4, 1e-1}, Scale::kLog),
      Continuous("momentum", {0.0, 0.99}),
      Discrete("layers", {1, 6}),
      Discrete("units", {4, 256}, Scale::kLog),
      Choice("activation", {"relu", "tanh", "sigmoid"}),
      Ordinal("batch_size", {16, 32, 64, 128}),
      Ordinal("dropout", {0.1, 0.3, 0.5}),
  }));
  return *space;
}

std::vector<AlgorithmCase> Cases() {
  return {
      {"RandomSearch",
       "RandomSearch",
       [](const ParameterSpace&) { return RandomSearch(60); },
       {},
       true,
       false},
      {"GridSearch",
       "GridSearch",
       [](const ParameterSpace&) { return GridSearch(2); },
       {},
       false,
       false},
      {"PbtTopThird", "PopulationBasedTraining",
       [](const ParameterSpace& space) {
         return PopulationBasedTraining(space, PbtOptions(6, 4, PbtExploit::kTopThird));
       },
       kPbtKeys, true, true},
      {"PbtTruncation", "PopulationBasedTraining",
       [](const ParameterSpace& space) {
         return PopulationBasedTraining(space, PbtOptions(10, 4, PbtExploit::kTruncation));
       },
       kPbtKeys, true, true},
      {"PbtResampleAndParameterRange", "PopulationBasedTraining",
       [](const ParameterSpace& space) {
         PopulationBasedTrainingOptions options = PbtOptions(6, 4, PbtExploit::kTopThird);
         options.resample_probability = 0.5;
         options.perturbation_factors = {0.5, 1.5};
         // parameter_range may take values beyond the space; here it equals
         // the space's own ranges, so every suggestion must stay inside it.
         const std::map<std::string, std::vector<Value>, std::less<>> ranges = {
             {"momentum", {0.0, 0.99}},
             {"layers", {Value(1), Value(6)}},
             {"batch_size", {16, 32, 64, 128}}};
         for (const auto& [name, range] : ranges) {
           if (space.Find(name) != nullptr) options.parameter_range.emplace(name, range);
         }
         return PopulationBasedTraining(space, options);
       },
       kPbtKeys, true, true},
      {"Genetic",
       "Genetic",
       [](const ParameterSpace&) { return Genetic(0.2, 60); },
       {},
       true,
       false},
      {"Iterate",
       "Iterate",
       [](const ParameterSpace& space) { return Iterate(space, Configurations(space, 7)); },
       {},
       false,
       false},
      {"RepeatRandomSearch",
       "Repeat",
       [](const ParameterSpace&) -> StatusOr<std::unique_ptr<Algorithm>> {
         SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> inner, RandomSearch(10));
         return Repeat(std::move(inner), RepeatOptions{3, false, false});
       },
       {},
       true,
       false},
      {"RepeatGeneticWaitingAggregated",
       "Repeat",
       [](const ParameterSpace&) -> StatusOr<std::unique_ptr<Algorithm>> {
         SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> inner, Genetic(0.2, 20));
         return Repeat(std::move(inner), RepeatOptions{2, true, true});
       },
       {},
       true,
       false},
      {"RepeatPbtAggregated", "Repeat",
       [](const ParameterSpace& space) -> StatusOr<std::unique_ptr<Algorithm>> {
         SHERPA_ASSIGN_OR_RETURN(
             std::unique_ptr<Algorithm> inner,
             PopulationBasedTraining(space, PbtOptions(6, 3, PbtExploit::kTopThird)));
         return Repeat(std::move(inner), RepeatOptions{2, false, true});
       },
       kPbtKeys, true, true},
      {"ChainIterateGenetic",
       "Chain",
       [](const ParameterSpace& space) -> StatusOr<std::unique_ptr<Algorithm>> {
         std::vector<std::unique_ptr<Algorithm>> algorithms;
         SHERPA_ASSIGN_OR_RETURN(algorithms.emplace_back(),
                                 Iterate(space, Configurations(space, 12)));
         SHERPA_ASSIGN_OR_RETURN(algorithms.emplace_back(), Genetic(0.2, 40));
         return Chain(std::move(algorithms));
       },
       {},
       true,
       false},
      {"ChainPbtRandomSearch", "Chain",
       [](const ParameterSpace& space) -> StatusOr<std::unique_ptr<Algorithm>> {
         std::vector<std::unique_ptr<Algorithm>> algorithms;
         SHERPA_ASSIGN_OR_RETURN(
             algorithms.emplace_back(),
             PopulationBasedTraining(space, PbtOptions(5, 3, PbtExploit::kTruncation)));
         SHERPA_ASSIGN_OR_RETURN(algorithms.emplace_back(), RandomSearch(10));
         return Chain(std::move(algorithms));
       },
       kPbtKeys, true, true,
       /*keys_on_some_trials_only=*/true},
      {"AsyncPbtTruncation", "PopulationBasedTraining",
       [](const ParameterSpace& space) {
         return PopulationBasedTraining(space, AsyncPbtOptions(6, 4, PbtSelection::kTruncation));
       },
       kAsyncPbtKeys, true, false},
      {"AsyncPbtTournamentResample", "PopulationBasedTraining",
       [](const ParameterSpace& space) {
         PopulationBasedTrainingOptions options = AsyncPbtOptions(5, 4, PbtSelection::kTournament);
         options.resample_probability = 0.5;
         options.quantile_fraction = 0.5;
         return PopulationBasedTraining(space, options);
       },
       kAsyncPbtKeys, true, false},
      {"PbtReplay", "PopulationBasedTrainingReplay",
       [](const ParameterSpace& space) {
         // A schedule drawn from the space with a generator of its own: the
         // replay itself draws nothing, so the study's seed must not matter.
         Rng rng(5);
         std::vector<PbtScheduleStep> schedule;
         for (int64_t g = 1; g <= 6; ++g) schedule.push_back({g, space.Sample(rng)});
         return PopulationBasedTrainingReplay(space, std::move(schedule));
       },
       kPbtKeys, false, true},
      {"SuccessiveHalving", "SuccessiveHalving",
       [](const ParameterSpace& space) { return SuccessiveHalving(space, AshaOptions()); },
       kAshaKeys, true, false},
      {"SuccessiveHalvingWithMinimumEarlyStoppingRate", "SuccessiveHalving",
       [](const ParameterSpace& space) {
         SuccessiveHalvingOptions options = AshaOptions();
         options.r = 2;
         options.R = 100;
         options.eta = 2;
         options.s = 2;
         return SuccessiveHalving(space, options);
       },
       kAshaKeys, true, false},
      {"LocalSearch",
       "LocalSearch",
       [](const ParameterSpace& space) {
         LocalSearchOptions options;
         options.seed_configuration = SeedConfiguration(space);
         return LocalSearch(space, options);
       },
       {},
       true,
       false},
      {"LocalSearchRepeated",
       "LocalSearch",
       [](const ParameterSpace& space) {
         LocalSearchOptions options;
         options.seed_configuration = SeedConfiguration(space);
         options.perturbation_factors = {0.5, 0.9, 1.5};
         options.repeat_trials = 2;
         return LocalSearch(space, options);
       },
       {},
       true,
       false},
      {"BayesianOptimization",
       "BayesianOptimization",
       [](const ParameterSpace& space) {
         BayesianOptimizationOptions options;
         options.max_num_trials = 30;
         return BayesianOptimization(space, options);
       },
       {},
       true,
       false},
      {"PB2", "PB2",
       [](const ParameterSpace& space) {
         PB2Options options;
         options.pbt = PbtOptions(6, 4, PbtExploit::kTopThird);
         return PB2(space, options);
       },
       kPbtKeys, true, true},
  };
}

void PrintTo(const AlgorithmCase& c, std::ostream* os) { *os << c.name; }

double Objective(const Trial& trial) {
  double objective = 1e-6 * static_cast<double>(trial.id);
  for (const auto& [name, value] : trial.parameters) {
    if (value.is_number()) {
      objective += std::log1p(std::abs(value.as_number()));
    } else if (value.is_string()) {
      objective += static_cast<double>(value.as_string().size()) / 10;
    }
  }
  return objective;
}

}  // namespace sherpa::conformance
