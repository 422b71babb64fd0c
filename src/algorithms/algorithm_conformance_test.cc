// The Algorithm contract (sherpa/algorithm.h), checked for every built-in
// algorithm through sherpa::Study:
//   * suggestions lie inside the space and carry only the space's names plus
//     the algorithm's documented bookkeeping keys;
//   * one seed reproduces the sequence of suggestions, another seed changes it;
//   * DONE arrives under a finite budget and is final;
//   * WAIT only while a trial is running;
//   * failing and stopped trials never crash an algorithm.

#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sherpa/algorithm.h"
#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"
#include "sherpa/study.h"
#include "sherpa/trial.h"
#include "sherpa/value.h"

namespace sherpa {
namespace {

const Status& StatusOf(const Status& status) { return status; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const Status& status = StatusOf(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

#define SHERPA_TEST_CONCAT_INNER(a, b) a##b
#define SHERPA_TEST_CONCAT(a, b) SHERPA_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SHERPA_TEST_CONCAT(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(tmp).value()

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

// Every parameter kind and scale, numbers and strings.
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

struct AlgorithmCase {
  std::string name;         // test-name suffix
  std::string sherpa_name;  // Algorithm::name()
  std::function<StatusOr<std::unique_ptr<Algorithm>>(const ParameterSpace&)> make;
  std::set<std::string> bookkeeping_keys;  // keys documented beyond the space's
  bool randomized = true;                  // false: the seed must not matter
  // May answer FAILED_PRECONDITION when every trial fails (PBT).
  bool may_refuse_when_all_fail = false;
  // The bookkeeping keys are on some trials only (a Chain of PBT and an
  // algorithm without keys).
  bool keys_on_some_trials_only = false;
};

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

// A deterministic objective of the hyperparameters (so one seed gives one
// study), with a small id term against ties.
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

// How the driver ends each trial.
using EndPolicy = std::function<TrialStatus(const Trial&, Study&)>;

TrialStatus CompleteAll(const Trial& trial, Study& study) {
  EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
  EXPECT_THAT(study.add_observation(trial, 2, Objective(trial) / 2), IsOk());
  return TrialStatus::kCompleted;
}

// Every third trial crashes before reporting, every fifth is stopped after
// reporting, the rest complete.
TrialStatus SomeFail(const Trial& trial, Study& study) {
  if (trial.id % 3 == 0) return TrialStatus::kFailed;
  EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
  return trial.id % 5 == 0 ? TrialStatus::kStopped : TrialStatus::kCompleted;
}

TrialStatus AllFail(const Trial& trial, Study& study) {
  if (trial.id % 2 == 0) {
    EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
    return TrialStatus::kStopped;
  }
  return TrialStatus::kFailed;
}

struct RunResult {
  std::vector<Trial> trials;  // in hand-out order
  bool done = false;
  Status error;  // the non-OK status that ended the run, if any
};

// Drives a study until DONE, an error, or `budget` suggestions. With
// `batch`, every suggestion the algorithm gives is taken before any trial
// ends (as a parallel runner with unlimited workers would); the running
// trials then end in reverse order. Otherwise each trial ends before the
// next request, and WAIT would be a deadlock.
void Drive(const AlgorithmCase& c, uint64_t seed, const EndPolicy& end, bool batch,
           RunResult* result, int budget = 2000) {
  const ParameterSpace& space = ConformanceSpace();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, c.make(space));
  EXPECT_EQ(algorithm->name(), c.sherpa_name);
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, seed);
  std::vector<Trial> running;
  for (int step = 0; step < budget; ++step) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    if (!suggestion.ok()) {
      result->error = suggestion.status();
      return;
    }
    if (suggestion->is_done()) {
      result->done = true;
      // DONE is final, also once the running trials end.
      for (const Trial& trial : running) {
        const TrialStatus status = end(trial, study);
        ASSERT_THAT(study.finalize(trial, status), IsOk());
      }
      for (int k = 0; k < 3; ++k) {
        StatusOr<Suggestion> again = study.get_suggestion();
        ASSERT_THAT(again, IsOk());
        EXPECT_TRUE(again->is_done()) << "DONE must be final";
      }
      return;
    }
    if (suggestion->is_wait()) {
      ASSERT_FALSE(running.empty()) << "WAIT with no trial running would never end";
      while (!running.empty()) {
        const Trial trial = running.back();
        running.pop_back();
        const TrialStatus status = end(trial, study);
        ASSERT_THAT(study.finalize(trial, status), IsOk());
      }
      continue;
    }
    const Trial& trial = suggestion->trial();
    result->trials.push_back(trial);
    if (batch) {
      running.push_back(trial);
    } else {
      const TrialStatus status = end(trial, study);
      ASSERT_THAT(study.finalize(trial, status), IsOk());
    }
  }
}

std::vector<ParameterValues> ParametersOf(const RunResult& run) {
  std::vector<ParameterValues> out;
  for (const Trial& trial : run.trials) out.push_back(trial.parameters);
  return out;
}

void PrintTo(const AlgorithmCase& c, std::ostream* os) { *os << c.name; }

class AlgorithmConformanceTest : public ::testing::TestWithParam<AlgorithmCase> {};

TEST_P(AlgorithmConformanceTest, SuggestionsLieInsideTheSpaceWithOnlyDocumentedKeys) {
  const AlgorithmCase& c = GetParam();
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(c, 1, CompleteAll, batch, &run));
    ASSERT_THAT(run.error, IsOk());
    ASSERT_FALSE(run.trials.empty());
    for (const Trial& trial : run.trials) {
      for (const Parameter& parameter : ConformanceSpace()) {
        auto it = trial.parameters.find(parameter.name());
        ASSERT_NE(it, trial.parameters.end())
            << "trial " << trial.id << " lacks '" << parameter.name() << "'";
        EXPECT_TRUE(parameter.Contains(it->second))
            << "trial " << trial.id << ": " << parameter.name() << " = " << it->second;
      }
      for (const auto& [name, value] : trial.parameters) {
        EXPECT_TRUE(ConformanceSpace().Find(name) != nullptr || c.bookkeeping_keys.count(name))
            << "trial " << trial.id << " carries an undocumented key '" << name << "'";
      }
      for (const std::string& key : c.bookkeeping_keys) {
        if (c.keys_on_some_trials_only) break;
        EXPECT_EQ(trial.parameters.count(key), 1u) << "trial " << trial.id << " lacks " << key;
      }
    }
  }
}

TEST_P(AlgorithmConformanceTest, TrialIdsCountFromOneInHandOutOrder) {
  RunResult run;
  ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 1, CompleteAll, false, &run));
  for (size_t i = 0; i < run.trials.size(); ++i) {
    EXPECT_EQ(run.trials[i].id, static_cast<TrialId>(i + 1));
  }
}

TEST_P(AlgorithmConformanceTest, SameSeedGivesTheSameSuggestions) {
  for (bool batch : {false, true}) {
    RunResult first, second;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 77, SomeFail, batch, &first));
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 77, SomeFail, batch, &second));
    ASSERT_FALSE(first.trials.empty());
    EXPECT_EQ(ParametersOf(first), ParametersOf(second)) << (batch ? "batch" : "sequential");
  }
}

TEST_P(AlgorithmConformanceTest, DifferentSeedsGiveDifferentSuggestions) {
  const AlgorithmCase& c = GetParam();
  RunResult first, second;
  ASSERT_NO_FATAL_FAILURE(Drive(c, 77, CompleteAll, false, &first));
  ASSERT_NO_FATAL_FAILURE(Drive(c, 78, CompleteAll, false, &second));
  if (c.randomized) {
    EXPECT_NE(ParametersOf(first), ParametersOf(second));
  } else {
    EXPECT_EQ(ParametersOf(first), ParametersOf(second)) << "a deterministic algorithm";
  }
}

TEST_P(AlgorithmConformanceTest, AnswersDoneUnderAFiniteBudgetAndStaysDone) {
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 3, CompleteAll, batch, &run));
    ASSERT_THAT(run.error, IsOk());
    EXPECT_TRUE(run.done) << (batch ? "batch" : "sequential") << ": no DONE after "
                          << run.trials.size() << " trials";
  }
}

TEST_P(AlgorithmConformanceTest, SurvivesFailedAndStoppedTrials) {
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 5, SomeFail, batch, &run));
    EXPECT_THAT(run.error, IsOk()) << (batch ? "batch" : "sequential");
    EXPECT_TRUE(run.done) << (batch ? "batch" : "sequential");
  }
}

TEST_P(AlgorithmConformanceTest, SurvivesEveryTrialFailing) {
  const AlgorithmCase& c = GetParam();
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(c, 5, AllFail, batch, &run));
    if (run.error.ok()) {
      EXPECT_TRUE(run.done);
    } else {
      EXPECT_TRUE(c.may_refuse_when_all_fail) << run.error;
      EXPECT_EQ(run.error.code(), StatusCode::kFailedPrecondition) << run.error;
      EXPECT_FALSE(run.error.message().empty());
    }
  }
}

TEST_P(AlgorithmConformanceTest, EmptySpaceYieldsOnlyBookkeepingKeys) {
  const AlgorithmCase& c = GetParam();
  const ParameterSpace empty;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, c.make(empty));
  Study study(empty, std::move(algorithm), true, nullptr, 1);
  for (int step = 0; step < 50; ++step) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    if (suggestion->is_done()) break;
    ASSERT_TRUE(suggestion->is_trial());
    const Trial& trial = suggestion->trial();
    for (const auto& [name, value] : trial.parameters) {
      EXPECT_EQ(c.bookkeeping_keys.count(name), 1u) << "unexpected key " << name;
    }
    ASSERT_THAT(study.add_observation(trial, 1, static_cast<double>(step % 7)), IsOk());
    ASSERT_THAT(study.finalize(trial), IsOk());
  }
}

// Runs a study on `workers` parallel slots: the slots are filled while the
// algorithm gives trials, then the oldest running trial ends. With
// `extra_calls`, every WAIT is followed by that many more requests at once,
// as a runner polling more often would make; they must all be WAIT too.
void DriveWithWorkers(std::unique_ptr<Algorithm> algorithm, uint64_t seed, int workers,
                      int extra_calls, std::vector<Trial>* handed_out, int* waits) {
  const ParameterSpace& space = ConformanceSpace();
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, seed);
  std::deque<Trial> running;
  bool done = false;
  for (int step = 0; step < 5000 && !(done && running.empty()); ++step) {
    while (!done && static_cast<int>(running.size()) < workers) {
      StatusOr<Suggestion> s = study.get_suggestion();
      ASSERT_THAT(s, IsOk());
      if (s->is_done()) {
        done = true;
      } else if (s->is_wait()) {
        ++*waits;
        for (int k = 0; k < extra_calls; ++k) {
          StatusOr<Suggestion> again = study.get_suggestion();
          ASSERT_THAT(again, IsOk());
          ASSERT_TRUE(again->is_wait()) << "nothing ended since the WAIT";
        }
        break;
      } else {
        handed_out->push_back(s->trial());
        running.push_back(s->trial());
      }
    }
    if (running.empty()) continue;
    const Trial trial = running.front();
    running.pop_front();
    // Some trials fail, so wrappers see every kind of end.
    const TrialStatus status = SomeFail(trial, study);
    ASSERT_THAT(study.finalize(trial, status), IsOk());
  }
  EXPECT_TRUE(done && running.empty()) << "the study did not finish";
}

// `sherpa resume` replays the logged trials and ends, but no WAIT answers:
// an algorithm must be a function of the calls that returned trials. Extra
// WAIT-answering requests in one run must not change what comes after. The
// algorithm runs bare and inside Repeat(wait_for_completion), which WAITs
// even around algorithms that never do.
TEST_P(AlgorithmConformanceTest, ExtraWaitAnsweringRequestsChangeNothing) {
  const AlgorithmCase& c = GetParam();
  for (bool wrapped : {false, true}) {
    auto make = [&]() -> StatusOr<std::unique_ptr<Algorithm>> {
      SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, c.make(ConformanceSpace()));
      if (!wrapped) return algorithm;
      return Repeat(std::move(algorithm), RepeatOptions{2, true, false});
    };
    std::vector<Trial> plain, polled;
    int plain_waits = 0, polled_waits = 0;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> first, make());
    ASSERT_NO_FATAL_FAILURE(DriveWithWorkers(std::move(first), 13, 4, 0, &plain, &plain_waits));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> second, make());
    ASSERT_NO_FATAL_FAILURE(DriveWithWorkers(std::move(second), 13, 4, 3, &polled, &polled_waits));
    ASSERT_FALSE(plain.empty());
    if (wrapped) {
      EXPECT_GT(plain_waits, 0) << "the test must exercise WAIT";
    }
    EXPECT_EQ(plain_waits, polled_waits) << (wrapped ? "wrapped" : "bare");
    ASSERT_EQ(plain.size(), polled.size()) << (wrapped ? "wrapped" : "bare");
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_EQ(plain[i].id, polled[i].id);
      EXPECT_EQ(plain[i].parameters, polled[i].parameters)
          << (wrapped ? "wrapped" : "bare") << ", trial " << plain[i].id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltIns, AlgorithmConformanceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<AlgorithmCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sherpa
