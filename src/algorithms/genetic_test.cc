// Tests of Genetic (sherpa/algorithms.h), driven through sherpa::Study.
//
// The statistical claims use fixed seeds and thousands of draws; each
// tolerance is at least four standard deviations of the estimate.

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

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

std::unique_ptr<Algorithm> MakeGenetic(double mutation_rate, int64_t max_num_trials = 0) {
  StatusOr<std::unique_ptr<Algorithm>> genetic = Genetic(mutation_rate, max_num_trials);
  EXPECT_THAT(genetic, IsOk());
  return genetic.ok() ? std::move(genetic).value() : nullptr;
}

// Two continuous parameters: values drawn at random are distinct with
// probability one, so a child's value tells which trial it came from.
ParameterSpace TwoContinuous() {
  return MakeSpace({Continuous("a", {0.0, 1.0}), Continuous("b", {0.0, 1.0})});
}

Trial Next(Study& study) {
  StatusOr<Suggestion> suggestion = study.get_suggestion();
  EXPECT_THAT(suggestion, IsOk());
  if (!suggestion.ok() || !suggestion->is_trial()) {
    ADD_FAILURE() << "expected a trial";
    return Trial{};
  }
  return suggestion->trial();
}

// Runs `n` trials to completion; trial i (from 0) reports `objective(i)`.
template <typename ObjectiveFn>
std::vector<Trial> CompleteTrials(Study& study, int n, ObjectiveFn objective) {
  std::vector<Trial> trials;
  for (int i = 0; i < n; ++i) {
    Trial trial = Next(study);
    EXPECT_THAT(study.add_observation(trial, 1, objective(i)), IsOk());
    EXPECT_THAT(study.finalize(trial), IsOk());
    trials.push_back(trial);
  }
  return trials;
}

// Runs a trial with the given values (queued ahead of the algorithm, so
// every value is known to be unique), reporting `objectives` at iterations
// 1, 2, ..., and ends it with `status`.
Trial RunGiven(Study& study, double a, double b, const std::vector<double>& objectives,
               TrialStatus status = TrialStatus::kCompleted) {
  EXPECT_THAT(study.add_trial(Trial{0, {{"a", a}, {"b", b}}}), IsOk());
  Trial trial = Next(study);
  for (size_t i = 0; i < objectives.size(); ++i) {
    EXPECT_THAT(study.add_observation(trial, static_cast<int64_t>(i + 1), objectives[i]), IsOk());
  }
  EXPECT_THAT(study.finalize(trial, status), IsOk());
  return trial;
}

// `n` completed trials with distinct values; trial i reports i.
std::vector<Trial> Pool(Study& study, int n) {
  std::vector<Trial> trials;
  for (int i = 0; i < n; ++i) {
    const double v = (i + 0.5) / n;
    trials.push_back(RunGiven(study, v, 1 - v, {static_cast<double>(i)}));
  }
  return trials;
}

// Which completed trial each value of `a` (resp. `b`) came from.
std::map<double, TrialId> Origins(const std::vector<Trial>& trials, const std::string& key) {
  std::map<double, TrialId> origin;
  for (const Trial& t : trials) origin[t.parameters.at(key).as_number()] = t.id;
  return origin;
}

TEST(GeneticTest, SamplesAtRandomUntilTenTrialsCompleted) {
  Study study(TwoContinuous(), MakeGenetic(0.0), /*lower_is_better=*/true, nullptr, 1);
  // Failed and stopped trials do not count towards the ten.
  for (int i = 0; i < 5; ++i) {
    Trial failed = Next(study);
    ASSERT_THAT(study.finalize(failed, TrialStatus::kFailed), IsOk());
    Trial stopped = Next(study);
    ASSERT_THAT(study.add_observation(stopped, 1, 0.0), IsOk());
    ASSERT_THAT(study.finalize(stopped, TrialStatus::kStopped), IsOk());
  }
  std::vector<Trial> completed = CompleteTrials(study, 9, [](int i) { return i; });
  std::set<double> seen;
  for (const TrialRecord& r : study.results().trials()) {
    seen.insert(r.trial().parameters.at("a").as_number());
  }
  // With nine completed trials, mutation_rate 0 would copy values if it
  // were breeding already; fresh samples are new values.
  for (int i = 0; i < 20; ++i) {
    Trial t = Next(study);
    EXPECT_EQ(seen.count(t.parameters.at("a").as_number()), 0u) << "suggestion " << i;
  }
  // The tenth completion starts breeding: every value is inherited.
  Trial tenth = Next(study);
  ASSERT_THAT(study.add_observation(tenth, 1, 100.0), IsOk());
  ASSERT_THAT(study.finalize(tenth), IsOk());
  completed.push_back(tenth);
  const std::map<double, TrialId> origin = Origins(completed, "a");
  for (int i = 0; i < 20; ++i) {
    Trial t = Next(study);
    EXPECT_EQ(origin.count(t.parameters.at("a").as_number()), 1u) << "suggestion " << i;
  }
}

// 30 completed trials, objective = i. With mutation_rate 0 every value of a
// child comes from one of the top third, each of them equally often, and
// the two parameters come from two independently drawn parents.
void CheckParentsFromTheTopThird(bool lower_is_better) {
  Study study(TwoContinuous(), MakeGenetic(0.0), lower_is_better, nullptr, 7);
  const std::vector<Trial> completed = Pool(study, 30);
  std::set<TrialId> top_third;
  for (int i = 0; i < 10; ++i) {
    top_third.insert(completed[static_cast<size_t>(lower_is_better ? i : 29 - i)].id);
  }
  const auto origin_a = Origins(completed, "a");
  const auto origin_b = Origins(completed, "b");

  constexpr int kChildren = 4000;
  std::map<TrialId, int> used;
  int mixed = 0;
  for (int i = 0; i < kChildren; ++i) {
    // Not finalized: the pool stays the 30 trials.
    const Trial child = Next(study);
    auto a = origin_a.find(child.parameters.at("a").as_number());
    auto b = origin_b.find(child.parameters.at("b").as_number());
    ASSERT_NE(a, origin_a.end()) << "a was not inherited";
    ASSERT_NE(b, origin_b.end()) << "b was not inherited";
    ASSERT_EQ(top_third.count(a->second), 1u) << "parent " << a->second << " is not in the top";
    ASSERT_EQ(top_third.count(b->second), 1u) << "parent " << b->second << " is not in the top";
    ++used[a->second];
    ++used[b->second];
    if (a->second != b->second) ++mixed;
  }
  // Uniform over the ten: 800 uses each, sd ~27.
  for (TrialId id : top_third) EXPECT_NEAR(used[id], 2 * kChildren / 10, 120) << "trial " << id;
  // P(two parameters from different trials) = P(parents differ) * 1/2
  // = 0.9 * 0.5; sd of the estimate ~0.008.
  EXPECT_NEAR(static_cast<double>(mixed) / kChildren, 0.45, 0.035);
}

TEST(GeneticTest, ParentsComeUniformlyFromTheTopThirdWhenMinimizing) {
  CheckParentsFromTheTopThird(true);
}

TEST(GeneticTest, ParentsComeUniformlyFromTheTopThirdWhenMaximizing) {
  CheckParentsFromTheTopThird(false);
}

TEST(GeneticTest, EachParameterIsResampledWithTheMutationRate) {
  for (double rate : {0.0, 0.3, 1.0}) {
    Study study(TwoContinuous(), MakeGenetic(rate), true, nullptr, 11);
    const std::vector<Trial> completed = Pool(study, 12);
    const auto origin_a = Origins(completed, "a");
    const auto origin_b = Origins(completed, "b");
    constexpr int kChildren = 3000;
    int fresh = 0;
    for (int i = 0; i < kChildren; ++i) {
      const Trial child = Next(study);
      fresh += origin_a.count(child.parameters.at("a").as_number()) == 0;
      fresh += origin_b.count(child.parameters.at("b").as_number()) == 0;
    }
    // 6000 parameter draws: sd of the fraction <= 0.0065.
    EXPECT_NEAR(static_cast<double>(fresh) / (2 * kChildren), rate, 0.03) << "rate " << rate;
  }
}

TEST(GeneticTest, RanksByTheLastObservationAndNeverBreedsFromFailedOrStoppedTrials) {
  Study study(TwoContinuous(), MakeGenetic(0.0), true, nullptr, 3);
  // Twelve completed trials reporting 0..11: the top third are the first four.
  const std::vector<Trial> completed = Pool(study, 12);
  // Excellent objectives, but FAILED or STOPPED.
  RunGiven(study, 0.91, 0.91, {-100.0}, TrialStatus::kFailed);
  RunGiven(study, 0.92, 0.92, {-100.0}, TrialStatus::kStopped);
  // Best ever -100 at iteration 1, but it ended at 1000.
  RunGiven(study, 0.93, 0.93, {-100.0, 1000.0});

  std::set<double> top;
  for (size_t i = 0; i < 4; ++i) top.insert(completed[i].parameters.at("a").as_number());
  for (int i = 0; i < 500; ++i) {
    const double a = Next(study).parameters.at("a").as_number();
    EXPECT_EQ(top.count(a), 1u) << "a = " << a;
  }
}

TEST(GeneticTest, ChildrenOfMixedSpacesStayInsideTheSpace) {
  const ParameterSpace space =
      MakeSpace({Discrete("layers", {1, 8}), Choice("activation", {"relu", "tanh"}),
                 Ordinal("batch", {16, 32, 64})});
  Study study(space, MakeGenetic(0.5, 200), false, nullptr, 5);
  int n = 0;
  for (const Trial& trial : study) {
    for (const Parameter& p : space) EXPECT_TRUE(p.Contains(trial.parameters.at(p.name())));
    ASSERT_THAT(study.add_observation(trial, 1, static_cast<double>(trial.id % 13)), IsOk());
    ASSERT_THAT(study.finalize(trial), IsOk());
    ++n;
  }
  EXPECT_THAT(study.iteration_status(), IsOk());
  EXPECT_EQ(n, 200);
}

TEST(GeneticTest, AnswersDoneAfterMaxNumTrialsAndStaysDone) {
  Study study(TwoContinuous(), MakeGenetic(0.1, 15), true, nullptr, 1);
  CompleteTrials(study, 15, [](int i) { return static_cast<double>(i); });
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_THAT(s, IsOk());
    EXPECT_TRUE(s->is_done());
  }
}

TEST(GeneticTest, RefusesBadOptionsNamingThem) {
  for (double rate : {-0.1, 1.5, std::nan("")}) {
    StatusOr<std::unique_ptr<Algorithm>> g = Genetic(rate);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(g.status().message(), HasSubstr("mutation_rate must be in [0, 1]"));
  }
  StatusOr<std::unique_ptr<Algorithm>> g = Genetic(0.1, -1);
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.status().message(), HasSubstr("max_num_trials must be >= 0"));
  EXPECT_THAT(Genetic(0.0, 0), IsOk());
  EXPECT_THAT(Genetic(1.0, 5), IsOk());
}

}  // namespace
}  // namespace sherpa
