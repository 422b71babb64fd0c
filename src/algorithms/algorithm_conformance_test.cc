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
};

const std::set<std::string> kPbtKeys = {"load_from", "save_to", "lineage", "generation"};

PopulationBasedTrainingOptions PbtOptions(int64_t population, int64_t generations,
                                          PbtExploit exploit) {
  PopulationBasedTrainingOptions options;
  options.population_size = population;
  options.num_generations = generations;
  options.exploit = exploit;
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
// next request, and WAIT would be a deadlock. After each WAIT the driver asks
// `extra_waits` more times before ending anything (a runner polling while
// its workers are busy).
void Drive(const AlgorithmCase& c, uint64_t seed, const EndPolicy& end, bool batch,
           RunResult* result, int budget = 2000, int extra_waits = 0) {
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
      for (int k = 0; k < extra_waits; ++k) {
        StatusOr<Suggestion> again = study.get_suggestion();
        ASSERT_THAT(again, IsOk());
        ASSERT_TRUE(again->is_wait()) << "nothing ended, yet the answer changed from WAIT";
      }
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

// `sherpa resume` replays the event log through a fresh study, and WAIT
// answers are not logged: a suggest() that answers WAIT must change nothing
// and draw nothing from the generator.
TEST_P(AlgorithmConformanceTest, ExtraWaitAnswersChangeNothing) {
  for (const EndPolicy& end : {EndPolicy(CompleteAll), EndPolicy(SomeFail)}) {
    RunResult plain, polled;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 11, end, true, &plain));
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 11, end, true, &polled, 2000, 3));
    ASSERT_FALSE(plain.trials.empty());
    EXPECT_EQ(ParametersOf(plain), ParametersOf(polled));
    EXPECT_EQ(plain.done, polled.done);
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

INSTANTIATE_TEST_SUITE_P(BuiltIns, AlgorithmConformanceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<AlgorithmCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sherpa
