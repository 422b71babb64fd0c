// Tests of RandomSearch (sherpa/algorithms.h), driven through sherpa::Study.

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

#include "sherpa/algorithm.h"
#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"
#include "sherpa/study.h"
#include "sherpa/trial.h"
#include "sherpa/value.h"

namespace sherpa {
namespace {

using ::testing::HasSubstr;

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const Status& status = StatusOf(arg);
  if (status.code() != code) {
    *result_listener << "status is " << status;
    return false;
  }
  *result_listener << "status is " << status << ", message ";
  return ::testing::ExplainMatchResult(message_matcher, status.message(), result_listener);
}

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

// Asks `study` for `n` trials without finalizing any (random search never
// waits) and returns them.
void Draw(Study& study, int n, std::vector<Trial>* out) {
  for (int i = 0; i < n; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial()) << "suggestion " << i;
    out->push_back(suggestion->trial());
  }
}

TEST(RandomSearchTest, AnswersDoneAfterMaxNumTrialsAndStaysDone) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch(7));
  EXPECT_EQ(algorithm->name(), "RandomSearch");
  Study study(space, std::move(algorithm), true, nullptr, 1);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 7, &trials));
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    EXPECT_TRUE(suggestion->is_done()) << "call " << i << " after 7 trials";
  }
  // Finishing the trials does not revive it.
  for (const Trial& trial : trials) ASSERT_THAT(study.finalize(trial), IsOk());
  StatusOr<Suggestion> suggestion = study.get_suggestion();
  ASSERT_THAT(suggestion, IsOk());
  EXPECT_TRUE(suggestion->is_done());
  EXPECT_EQ(study.results().num_trials(), 7u);
}

TEST(RandomSearchTest, ZeroMaxNumTrialsMeansNoLimit) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch(0));
  Study study(space, std::move(algorithm), true, nullptr, 1);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 2000, &trials));
}

TEST(RandomSearchTest, RefusesNegativeMaxNumTrials) {
  EXPECT_THAT(RandomSearch(-1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("max_num_trials")));
}

TEST(RandomSearchTest, ValuesLieInRangeAndKeepTheirTypes) {
  const ParameterSpace space = MakeSpace({
      Continuous("lr", {1e-4, 1e-1}, Scale::kLog),
      Continuous("momentum", {0.5, 0.99}),
      Discrete("layers", {1, 8}),
      Discrete("units", {8, 1024}, Scale::kLog),
      Choice("activation", {"relu", "tanh", "sigmoid"}),
      Ordinal("batch_size", {16, 32, 64, 128}),
      Ordinal("dropout", {0.1, 0.25, 0.5}),
  });
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch(500));
  Study study(space, std::move(algorithm), true, nullptr, 4);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 500, &trials));
  for (const Trial& trial : trials) {
    EXPECT_EQ(trial.parameters.size(), space.size()) << "no keys beyond the space's";
    for (const Parameter& parameter : space) {
      auto it = trial.parameters.find(parameter.name());
      ASSERT_NE(it, trial.parameters.end()) << parameter.name();
      EXPECT_TRUE(parameter.Contains(it->second)) << parameter.name() << " = " << it->second;
      EXPECT_EQ(it->second.type(), parameter.value_type()) << parameter.name();
    }
    EXPECT_TRUE(trial.parameters.at("lr").is_double());
    EXPECT_TRUE(trial.parameters.at("layers").is_int());
    EXPECT_TRUE(trial.parameters.at("units").is_int());
    EXPECT_TRUE(trial.parameters.at("activation").is_string());
    EXPECT_TRUE(trial.parameters.at("batch_size").is_int());
    EXPECT_TRUE(trial.parameters.at("dropout").is_double());
  }
}

TEST(RandomSearchTest, DiscreteUpperBoundIsReachable) {
  // SHERPA's sampler excluded the upper bound; here both bounds are values.
  const ParameterSpace space = MakeSpace({Discrete("n", {0, 3})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  Study study(space, std::move(algorithm), true, nullptr, 5);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 400, &trials));
  std::map<int64_t, int> counts;
  for (const Trial& trial : trials) ++counts[trial.parameters.at("n").as_int()];
  ASSERT_EQ(counts.size(), 4u) << "values 0, 1, 2, 3";
  for (const auto& [value, count] : counts) {
    EXPECT_GE(value, 0);
    EXPECT_LE(value, 3);
    EXPECT_GE(count, 50) << "value " << value << ": uniform would give ~100 of 400";
  }
}

TEST(RandomSearchTest, EveryChoiceAndOrdinalValueOccurs) {
  const ParameterSpace space =
      MakeSpace({Choice("activation", {"relu", "tanh", "sigmoid"}), Ordinal("k", {1, 2, 3, 4})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  Study study(space, std::move(algorithm), true, nullptr, 6);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 300, &trials));
  std::map<Value, int> activations;
  std::map<Value, int> ks;
  for (const Trial& trial : trials) {
    ++activations[trial.parameters.at("activation")];
    ++ks[trial.parameters.at("k")];
  }
  EXPECT_EQ(activations.size(), 3u);
  EXPECT_EQ(ks.size(), 4u);
  for (const auto& [value, count] : activations) EXPECT_GE(count, 50) << value;
  for (const auto& [value, count] : ks) EXPECT_GE(count, 35) << value;
}

TEST(RandomSearchTest, LinearContinuousIsUniform) {
  const ParameterSpace space = MakeSpace({Continuous("x", {-2.0, 2.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  Study study(space, std::move(algorithm), true, nullptr, 7);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 1000, &trials));
  int negative = 0;
  double sum = 0;
  for (const Trial& trial : trials) {
    const double x = trial.parameters.at("x").as_number();
    sum += x;
    if (x < 0) ++negative;
  }
  // Mean 0 with sd 2.31/sqrt(1000) ~ 0.073; half below 0 (sd ~16).
  EXPECT_NEAR(sum / 1000, 0.0, 0.3);
  EXPECT_GT(negative, 420);
  EXPECT_LT(negative, 580);
}

TEST(RandomSearchTest, LogScaleIsUniformInTheExponent) {
  const ParameterSpace space = MakeSpace(
      {Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("units", {1, 1000}, Scale::kLog)});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  Study study(space, std::move(algorithm), true, nullptr, 8);
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(Draw(study, 1000, &trials));
  int lr_below_1e2 = 0;
  int units_below_32 = 0;
  for (const Trial& trial : trials) {
    if (trial.parameters.at("lr").as_number() < 1e-2) ++lr_below_1e2;
    if (trial.parameters.at("units").as_int() < 32) ++units_below_32;
  }
  // Log-uniform: 2/3 of lr below 1e-2 (a linear draw would give ~9%), and
  // about half of units below 32 (linear: ~3%).
  EXPECT_GT(lr_below_1e2, 560);
  EXPECT_LT(lr_below_1e2, 770);
  EXPECT_GT(units_below_32, 380);
  EXPECT_LT(units_below_32, 620);
}

TEST(RandomSearchTest, SameSeedSameTrialsOtherSeedOtherTrials) {
  const ParameterSpace space =
      MakeSpace({Continuous("x", {0.0, 1.0}), Discrete("n", {1, 100}), Choice("c", {"a", "b"})});
  auto run = [&](uint64_t seed, std::vector<Trial>* out) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch(20));
    Study study(space, std::move(algorithm), true, nullptr, seed);
    ASSERT_NO_FATAL_FAILURE(Draw(study, 20, out));
  };
  std::vector<Trial> a, b, c;
  ASSERT_NO_FATAL_FAILURE(run(42, &a));
  ASSERT_NO_FATAL_FAILURE(run(42, &b));
  ASSERT_NO_FATAL_FAILURE(run(43, &c));
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].parameters, b[i].parameters) << "trial " << i + 1;
    if (a[i].parameters != c[i].parameters) ++differing;
  }
  EXPECT_GT(differing, 15);
}

}  // namespace
}  // namespace sherpa
