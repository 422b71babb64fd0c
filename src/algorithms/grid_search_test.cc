// Tests of GridSearch (sherpa/algorithms.h), driven through sherpa::Study.

#include <cmath>
#include <cstdint>
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

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

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

// Runs a grid search to DONE (finalizing every trial) and returns the trials
// in hand-out order. Fails if DONE does not come within `limit` suggestions.
void RunGrid(const ParameterSpace& space, int64_t num_grid_points, std::vector<Trial>* out,
             int limit = 10000) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, GridSearch(num_grid_points));
  EXPECT_EQ(algorithm->name(), "GridSearch");
  Study study(space, std::move(algorithm), true, nullptr, 1);
  for (int i = 0; i <= limit; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    if (suggestion->is_done()) {
      // DONE is final.
      for (int k = 0; k < 3; ++k) {
        StatusOr<Suggestion> again = study.get_suggestion();
        ASSERT_THAT(again, IsOk());
        EXPECT_TRUE(again->is_done());
      }
      return;
    }
    ASSERT_TRUE(suggestion->is_trial()) << "grid search never needs to wait";
    const Trial& trial = suggestion->trial();
    out->push_back(trial);
    ASSERT_THAT(study.add_observation(trial, 1, 0.0), IsOk());
    ASSERT_THAT(study.finalize(trial), IsOk());
  }
  FAIL() << "no DONE after " << limit << " trials";
}

std::vector<Value> ValuesOf(const std::vector<Trial>& trials, const std::string& name) {
  std::vector<Value> out;
  for (const Trial& trial : trials) out.push_back(trial.parameters.at(name));
  return out;
}

std::vector<double> NumbersOf(const std::vector<Trial>& trials, const std::string& name) {
  std::vector<double> out;
  for (const Trial& trial : trials) out.push_back(trial.parameters.at(name).as_number());
  return out;
}

::testing::Matcher<double> RelNear(double expected) {
  return DoubleNear(expected, 1e-12 * std::abs(expected));
}

TEST(GridSearchTest, LinearGridIncludesBothEndpoints) {
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(MakeSpace({Continuous("x", {-1.0, 1.0})}), 5, &trials));
  for (const Trial& trial : trials) EXPECT_TRUE(trial.parameters.at("x").is_double());
  EXPECT_THAT(NumbersOf(trials, "x"),
              ElementsAre(-1.0, DoubleNear(-0.5, 1e-15), DoubleNear(0.0, 1e-15),
                          DoubleNear(0.5, 1e-15), 1.0));
}

TEST(GridSearchTest, LogGridIsEvenlySpacedInTheExponent) {
  const ParameterSpace space = MakeSpace({Continuous("lr", {1e-4, 1e-1}, Scale::kLog)});
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(space, 4, &trials));
  EXPECT_THAT(NumbersOf(trials, "lr"),
              ElementsAre(RelNear(1e-4), RelNear(1e-3), RelNear(1e-2), RelNear(1e-1)));
  // SHERPA's log grid started at 9.999999999999999e-05, outside the range.
  for (const Trial& trial : trials) {
    EXPECT_TRUE(space[0].Contains(trial.parameters.at("lr"))) << trial.parameters.at("lr");
  }
}

TEST(GridSearchTest, DiscreteGridIsIntegerAndDeduplicated) {
  // linspace(0, 2, 5) = 0, 0.5, 1, 1.5, 2: rounded, however halves round,
  // that is 0, 1, 2 each exactly once.
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(MakeSpace({Discrete("n", {0, 2})}), 5, &trials));
  for (const Trial& trial : trials) EXPECT_TRUE(trial.parameters.at("n").is_int());
  EXPECT_THAT(ValuesOf(trials, "n"), UnorderedElementsAre(Value(0), Value(1), Value(2)));
}

TEST(GridSearchTest, DiscreteGridIncludesBothEndpoints) {
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(MakeSpace({Discrete("n", {3, 17})}), 3, &trials));
  EXPECT_THAT(ValuesOf(trials, "n"), ElementsAre(Value(3), Value(10), Value(17)));
}

TEST(GridSearchTest, DiscreteLogGridIsEvenlySpacedInTheExponent) {
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(
      RunGrid(MakeSpace({Discrete("units", {1, 1000}, Scale::kLog)}), 4, &trials));
  EXPECT_THAT(ValuesOf(trials, "units"), ElementsAre(Value(1), Value(10), Value(100), Value(1000)));
}

TEST(GridSearchTest, ChoiceAndOrdinalContributeEveryValue) {
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(
      RunGrid(MakeSpace({Choice("activation", {"relu", "tanh", "sigmoid"})}), 2, &trials));
  EXPECT_THAT(ValuesOf(trials, "activation"),
              UnorderedElementsAre(Value("relu"), Value("tanh"), Value("sigmoid")));

  trials.clear();
  ASSERT_NO_FATAL_FAILURE(
      RunGrid(MakeSpace({Ordinal("batch_size", {16, 32, 64, 128, 256})}), 2, &trials));
  EXPECT_THAT(ValuesOf(trials, "batch_size"),
              UnorderedElementsAre(Value(16), Value(32), Value(64), Value(128), Value(256)));
}

TEST(GridSearchTest, VisitsEveryCombinationOnceThenAnswersDone) {
  const ParameterSpace space = MakeSpace({
      Continuous("lr", {1e-4, 1e-1}, Scale::kLog),
      Discrete("layers", {1, 4}),
      Choice("activation", {"relu", "tanh"}),
      Ordinal("batch_size", {16, 32, 64}),
  });
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(space, 3, &trials));
  // 3 lr x 3 layers (1, 2 or 3, 4) x 2 activations x 3 batch sizes.
  EXPECT_EQ(trials.size(), 3u * 3u * 2u * 3u);
  std::set<ParameterValues> distinct;
  for (const Trial& trial : trials) {
    EXPECT_EQ(trial.parameters.size(), space.size());
    for (const Parameter& parameter : space) {
      EXPECT_TRUE(parameter.Contains(trial.parameters.at(parameter.name())))
          << parameter.name() << " = " << trial.parameters.at(parameter.name());
    }
    distinct.insert(trial.parameters);
  }
  EXPECT_EQ(distinct.size(), trials.size()) << "no combination twice";
}

TEST(GridSearchTest, ParametersVaryInNameOrderTheLastFastest) {
  // Declared out of name order on purpose: "a" comes before "b" by name.
  const ParameterSpace space =
      MakeSpace({Choice("b", {"x", "y", "z"}), Continuous("a", {0.0, 1.0})});
  std::vector<Trial> trials;
  ASSERT_NO_FATAL_FAILURE(RunGrid(space, 2, &trials));
  std::vector<std::pair<double, std::string>> order;
  for (const Trial& trial : trials) {
    order.emplace_back(trial.parameters.at("a").as_number(), trial.parameters.at("b").as_string());
  }
  using P = std::pair<double, std::string>;
  EXPECT_THAT(order, ElementsAre(P{0.0, "x"}, P{0.0, "y"}, P{0.0, "z"}, P{1.0, "x"}, P{1.0, "y"},
                                 P{1.0, "z"}));
}

TEST(GridSearchTest, HandsOutTrialsWithoutWaitingForResults) {
  const ParameterSpace space = MakeSpace({Discrete("n", {1, 3}), Choice("c", {"a", "b"})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, GridSearch(3));
  Study study(space, std::move(algorithm), true, nullptr, 1);
  for (int i = 0; i < 6; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    EXPECT_TRUE(suggestion->is_trial()) << "suggestion " << i;
  }
  StatusOr<Suggestion> done = study.get_suggestion();
  ASSERT_THAT(done, IsOk());
  EXPECT_TRUE(done->is_done());
}

TEST(GridSearchTest, RefusesFewerThanOneGridPoint) {
  EXPECT_THAT(GridSearch(0), StatusIs(StatusCode::kInvalidArgument, HasSubstr("num_grid_points")));
  EXPECT_THAT(GridSearch(-3), StatusIs(StatusCode::kInvalidArgument, HasSubstr("num_grid_points")));
}

}  // namespace
}  // namespace sherpa
