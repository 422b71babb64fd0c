// Tests of MedianStoppingRule (sherpa/stopping_rule.h), on a Results table
// built by hand and through sherpa::Study, plus the StoppingRule contract:
// should_stop is pure, and a trial without observations is never stopped.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/stopping_rule.h"
#include "sherpa/study.h"
#include "sherpa/trial.h"

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

// (iteration, objective) reports of one trial, in report order.
using Reports = std::vector<std::pair<int64_t, double>>;

// Adds trial `id` with `reports` to `results`.
void Report(Results& results, TrialId id, const Reports& reports) {
  if (results.Find(id) == nullptr) {
    ASSERT_THAT(results.AddTrial(Trial{id, {}}), IsOk());
  }
  for (const auto& [iteration, objective] : reports) {
    ASSERT_THAT(results.AddObservation(id, Observation{iteration, objective, {}}), IsOk());
  }
}

// The rule's answer for trial `id`, asked twice: should_stop is pure.
bool ShouldStop(const StoppingRule& rule, const Results& results, TrialId id) {
  const TrialRecord* record = results.Find(id);
  if (record == nullptr) {
    ADD_FAILURE() << "no trial " << id;
    return false;
  }
  const bool first = rule.should_stop(*record, results);
  const bool second = rule.should_stop(*record, results);
  EXPECT_EQ(first, second) << "should_stop must give the same answer for the same state";
  return first;
}

constexpr TrialId kTarget = 100;

TEST(MedianStoppingRuleTest, ComparesWithOthersAtTheSameIterationNotTheirLaterValues) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
  EXPECT_EQ(rule->name(), "MedianStoppingRule");
  {
    // The others were poor at iteration 2 (10) and excellent later (1).
    // At iteration 2 the target (5) beats them; against their later values
    // (SHERPA's comparison) it would be stopped.
    Results results(/*lower_is_better=*/true);
    for (TrialId other : {1, 2, 3}) {
      ASSERT_NO_FATAL_FAILURE(
          Report(results, other, {{1, 10.0}, {2, 10.0}, {3, 1.0}, {4, 1.0}, {5, 1.0}}));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 6.0}, {2, 5.0}}));
    EXPECT_FALSE(ShouldStop(*rule, results, kTarget));
  }
  {
    // The others were excellent at iteration 2 (1) and ended poorly (50).
    // At iteration 2 the target (5) is worse; against their last values it
    // would be spared.
    Results results(/*lower_is_better=*/true);
    for (TrialId other : {1, 2, 3}) {
      ASSERT_NO_FATAL_FAILURE(Report(results, other, {{1, 1.0}, {2, 1.0}, {3, 50.0}}));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 6.0}, {2, 5.0}}));
    EXPECT_TRUE(ShouldStop(*rule, results, kTarget));
  }
}

TEST(MedianStoppingRuleTest, UsesTheBestObjectiveUpToTheIteration) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
  {
    // The others' value at iteration 2 is 9, but their best up to it is 1.
    Results results(true);
    for (TrialId other : {1, 2, 3}) {
      ASSERT_NO_FATAL_FAILURE(Report(results, other, {{1, 1.0}, {2, 9.0}}));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 6.0}, {2, 5.0}}));
    EXPECT_TRUE(ShouldStop(*rule, results, kTarget));
  }
  {
    // The target's own best up to iteration 2 (0.5) counts, not its latest
    // value (50).
    Results results(true);
    for (TrialId other : {1, 2, 3}) {
      ASSERT_NO_FATAL_FAILURE(Report(results, other, {{1, 1.0}, {2, 1.0}}));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 0.5}, {2, 50.0}}));
    EXPECT_FALSE(ShouldStop(*rule, results, kTarget));
  }
}

// One iteration; others report `others`, the target `target`.
bool StopsAgainst(const std::vector<double>& others, double target, bool lower_is_better) {
  Results results(lower_is_better);
  TrialId id = 1;
  for (double objective : others) Report(results, id++, {{1, objective}});
  Report(results, kTarget, {{1, target}});
  StatusOr<std::unique_ptr<StoppingRule>> rule = MedianStoppingRule(0, 1);
  if (!rule.ok()) {
    ADD_FAILURE() << rule.status();
    return false;
  }
  return ShouldStop(**rule, results, kTarget);
}

TEST(MedianStoppingRuleTest, StopsOnlyTrialsStrictlyWorseThanTheMedian) {
  // Median of 1, 2, 3 (and of 1, 2, 3, 100) is 2.
  EXPECT_TRUE(StopsAgainst({1, 2, 3}, 2.5, true));
  EXPECT_FALSE(StopsAgainst({1, 2, 3}, 2.0, true)) << "equal to the median is not worse";
  EXPECT_FALSE(StopsAgainst({1, 2, 3}, 1.5, true));
  EXPECT_TRUE(StopsAgainst({3, 1, 2}, 2.5, true)) << "report order does not matter";
  EXPECT_FALSE(StopsAgainst({1, 2, 3, 100}, 2.4, true)) << "median of 1,2,3,100 is 2.5";
  EXPECT_TRUE(StopsAgainst({1, 2, 3, 100}, 2.6, true)) << "median of 1,2,3,100 is 2.5";
}

TEST(MedianStoppingRuleTest, EvenCountsUseTheMeanOfTheMiddleTwo) {
  // Median of 1 and 3 is 2: 2.5 is worse, 1.9 is better.
  EXPECT_TRUE(StopsAgainst({1, 3}, 2.5, true));
  EXPECT_FALSE(StopsAgainst({1, 3}, 1.9, true));
}

TEST(MedianStoppingRuleTest, HonoursHigherIsBetter) {
  EXPECT_TRUE(StopsAgainst({1, 2, 3}, 1.5, false));
  EXPECT_FALSE(StopsAgainst({1, 2, 3}, 2.5, false));
  {
    // Higher is better: the best up to iteration 2 is the maximum.
    Results results(false);
    for (TrialId other : {1, 2, 3}) {
      ASSERT_NO_FATAL_FAILURE(Report(results, other, {{1, 3.0}, {2, 0.5}}));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 2.0}, {2, 2.5}}));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
    EXPECT_TRUE(ShouldStop(*rule, results, kTarget)) << "2.5 is worse than the others' 3.0";
  }
}

TEST(MedianStoppingRuleTest, WaitsForMinIterations) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(3, 1));
  Results results(true);
  for (TrialId other : {1, 2, 3}) {
    ASSERT_NO_FATAL_FAILURE(Report(results, other, {{1, 1.0}, {2, 1.0}, {3, 1.0}, {4, 1.0}}));
  }
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 10.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget)) << "iteration 1 < min_iterations 3";
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{2, 10.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget)) << "iteration 2 < min_iterations 3";
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{3, 10.0}}));
  EXPECT_TRUE(ShouldStop(*rule, results, kTarget)) << "iteration 3 reached min_iterations";
}

TEST(MedianStoppingRuleTest, WaitsForMinTrialsOthersAtTheIteration) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 3));
  Results results(true);
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 10.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget)) << "no other trial";
  ASSERT_NO_FATAL_FAILURE(Report(results, 1, {{1, 1.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, 2, {{1, 1.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget)) << "2 others < min_trials 3";
  ASSERT_NO_FATAL_FAILURE(Report(results, 3, {{1, 1.0}}));
  EXPECT_TRUE(ShouldStop(*rule, results, kTarget)) << "3 others reached min_trials";
}

TEST(MedianStoppingRuleTest, CountsOnlyOthersThatReportedTheSameIteration) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
  Results results(true);
  // Trials 1 and 2 skipped iteration 2; the target's latest iteration is 2.
  ASSERT_NO_FATAL_FAILURE(Report(results, 1, {{1, 1.0}, {3, 1.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, 2, {{1, 1.0}, {3, 1.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 10.0}, {2, 10.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget)) << "nobody else reported iteration 2";
  ASSERT_NO_FATAL_FAILURE(Report(results, 3, {{2, 1.0}}));
  EXPECT_TRUE(ShouldStop(*rule, results, kTarget));
}

TEST(MedianStoppingRuleTest, ConsidersTheTrialsLatestIteration) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
  Results results(true);
  // At iteration 1 the target (2) is worse than the others (1); at its
  // latest iteration 2 it is better (2 against 5).
  ASSERT_NO_FATAL_FAILURE(Report(results, 1, {{1, 1.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, 2, {{1, 1.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, 3, {{2, 5.0}}));
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{1, 2.0}}));
  EXPECT_TRUE(ShouldStop(*rule, results, kTarget));
  ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {{2, 2.0}}));
  EXPECT_FALSE(ShouldStop(*rule, results, kTarget));
}

TEST(MedianStoppingRuleTest, RefusesNegativeArguments) {
  EXPECT_THAT(MedianStoppingRule(-1, 1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("min_iterations")));
  EXPECT_THAT(MedianStoppingRule(0, -1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("min_trials")));
  EXPECT_THAT(MedianStoppingRule(3, 2), IsOk());
  EXPECT_THAT(MedianStoppingRule(), IsOk());
}

// ---------------------------------------------------------------------------
// The StoppingRule contract.

TEST(StoppingRuleConformanceTest, NeverStopsATrialWithoutObservations) {
  for (const auto& [min_iterations, min_trials] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {2, 1}, {0, 3}}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule,
                         MedianStoppingRule(min_iterations, min_trials));
    for (bool lower_is_better : {true, false}) {
      Results results(lower_is_better);
      for (TrialId other : {1, 2, 3, 4}) {
        ASSERT_NO_FATAL_FAILURE(
            Report(results, other, {{1, static_cast<double>(other)}, {2, 1.0}, {3, 1.0}}));
      }
      ASSERT_NO_FATAL_FAILURE(Report(results, kTarget, {}));
      EXPECT_FALSE(ShouldStop(*rule, results, kTarget))
          << "min_iterations " << min_iterations << ", min_trials " << min_trials;
    }
  }
}

TEST(StoppingRuleConformanceTest, AnswersAreRepeatableAndDoNotChangeTheResults) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(1, 2));
  Results results(true);
  for (TrialId id = 1; id <= 9; ++id) {
    Reports reports;
    for (int64_t i = 1; i <= id % 4 + 1; ++i) {
      reports.emplace_back(i, static_cast<double>((id * 7 + i * 3) % 11));
    }
    ASSERT_NO_FATAL_FAILURE(Report(results, id, reports));
  }
  const size_t rows = results.num_rows();
  std::vector<bool> answers;
  for (TrialId id = 1; id <= 9; ++id) answers.push_back(ShouldStop(*rule, results, id));
  for (TrialId id = 1; id <= 9; ++id) {
    EXPECT_EQ(ShouldStop(*rule, results, id), answers[static_cast<size_t>(id - 1)]) << id;
  }
  EXPECT_EQ(results.num_rows(), rows);
  // The scenario exercises both answers.
  EXPECT_THAT(answers, ::testing::Contains(true));
  EXPECT_THAT(answers, ::testing::Contains(false));
}

// ---------------------------------------------------------------------------
// Through a Study.

TEST(MedianStoppingRuleStudyTest, ShouldTrialStopAsksTheRule) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create({Continuous("x", {0.0, 1.0})});
  ASSERT_THAT(space, IsOk());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StoppingRule> rule, MedianStoppingRule(0, 1));
  Study study(*space, std::move(algorithm), /*lower_is_better=*/true, std::move(rule), 1);
  std::vector<Trial> trials;
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    trials.push_back(suggestion->trial());
  }
  ASSERT_OK_AND_ASSIGN(bool stop_before, study.should_trial_stop(trials[2]));
  EXPECT_FALSE(stop_before) << "no observation yet";

  ASSERT_THAT(study.add_observation(trials[0], 1, 1.0), IsOk());
  ASSERT_THAT(study.add_observation(trials[1], 1, 2.0), IsOk());
  ASSERT_THAT(study.add_observation(trials[2], 1, 9.0), IsOk());
  ASSERT_OK_AND_ASSIGN(bool stop_worst, study.should_trial_stop(trials[2]));
  EXPECT_TRUE(stop_worst) << "9 is worse than the median 1.5 of the others";
  ASSERT_OK_AND_ASSIGN(bool stop_best, study.should_trial_stop(trials[0]));
  EXPECT_FALSE(stop_best);
  ASSERT_OK_AND_ASSIGN(bool stop_middle, study.should_trial_stop(trials[1]));
  EXPECT_FALSE(stop_middle) << "2 is better than the median 5 of the others";

  // Equal-iteration semantics through the study: trial 3 reports iteration
  // 2, where only trial 2 (now 0.5) is there to compare with.
  ASSERT_THAT(study.add_observation(trials[1], 2, 0.5), IsOk());
  ASSERT_THAT(study.add_observation(trials[2], 2, 9.0), IsOk());
  ASSERT_OK_AND_ASSIGN(bool stop_at_2, study.should_trial_stop(trials[2]));
  EXPECT_TRUE(stop_at_2);

  ASSERT_THAT(study.finalize(trials[2], TrialStatus::kStopped), IsOk());
  ASSERT_OK_AND_ASSIGN(bool stop_finalized, study.should_trial_stop(trials[2]));
  EXPECT_FALSE(stop_finalized) << "a finalized trial is not asked to stop";

  EXPECT_THAT(study.should_trial_stop(Trial{999, {}}),
              StatusIs(StatusCode::kNotFound, HasSubstr("999")));
}

TEST(MedianStoppingRuleStudyTest, NoRuleNeverStopsButRequestStopDoes) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create({Continuous("x", {0.0, 1.0})});
  ASSERT_THAT(space, IsOk());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, RandomSearch());
  Study study(*space, std::move(algorithm), true, nullptr, 1);
  std::vector<Trial> trials;
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    trials.push_back(suggestion->trial());
    ASSERT_THAT(study.add_observation(trials.back(), 1, 1.0 + 10.0 * i), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(bool stop, study.should_trial_stop(trials[2]));
  EXPECT_FALSE(stop);
  study.request_stop(trials[0].id);
  ASSERT_OK_AND_ASSIGN(bool requested, study.should_trial_stop(trials[0]));
  EXPECT_TRUE(requested);
}

}  // namespace
}  // namespace sherpa
