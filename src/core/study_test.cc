#include "sherpa/study.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

using ::testing::HasSubstr;

ParameterSpace Space() {
  return *ParameterSpace::Create(
      {Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 4})});
}

Study RandomStudy(int64_t max_trials, bool lower_is_better = true, uint64_t seed = 0) {
  return Study(Space(), *RandomSearch(max_trials), lower_is_better, nullptr, seed);
}

TEST(StudyTest, HandsOutNumberedTrialsThenDone) {
  Study study = RandomStudy(3);
  for (TrialId expected = 1; expected <= 3; ++expected) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->is_trial());
    EXPECT_EQ(s->trial().id, expected);
    EXPECT_TRUE(study.parameters().Find("lr")->Contains(s->trial().parameters.at("lr")));
    EXPECT_TRUE(s->trial().parameters.at("layers").is_int());
  }
  EXPECT_TRUE(study.get_suggestion()->is_done());
  EXPECT_TRUE(study.get_suggestion()->is_done());  // DONE is final
  EXPECT_EQ(study.results().num_trials(), 3u);
}

TEST(StudyTest, RangeForRunsEveryTrial) {
  Study study = RandomStudy(5);
  int count = 0;
  for (const Trial& trial : study) {
    ASSERT_TRUE(study.add_observation(trial, 1, trial.parameters.at("lr").as_number()).ok());
    ASSERT_TRUE(study.finalize(trial).ok());
    ++count;
  }
  EXPECT_EQ(count, 5);
  EXPECT_TRUE(study.iteration_status().ok());
  EXPECT_EQ(study.results().num_finalized(), 5u);
}

TEST(StudyTest, ObservationErrorsAreStatusesNotCrashes) {
  Study study = RandomStudy(2);
  Trial trial = study.get_suggestion()->trial();
  ASSERT_TRUE(study.add_observation(trial, 1, 0.5).ok());
  EXPECT_EQ(study.add_observation(trial, 1, 0.4).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(study.add_observation(trial, 2, std::nan("")).code(), StatusCode::kInvalidArgument);
  Trial stranger{99, {}};
  EXPECT_EQ(study.add_observation(stranger, 1, 0.5).code(), StatusCode::kNotFound);
  EXPECT_EQ(study.finalize(stranger).code(), StatusCode::kNotFound);
  EXPECT_EQ(study.should_trial_stop(stranger).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(study.finalize(trial).ok());
  EXPECT_EQ(study.add_observation(trial, 2, 0.1).code(), StatusCode::kFailedPrecondition);
}

TEST(StudyTest, BestResultHonoursDirection) {
  for (bool lower : {true, false}) {
    Study study = RandomStudy(4, lower);
    EXPECT_FALSE(study.get_best_result().has_value());
    const double objectives[] = {3, 1, 4, 2};
    for (double objective : objectives) {
      Trial t = study.get_suggestion()->trial();
      ASSERT_TRUE(study.add_observation(t, 1, objective, {{"acc", Value(objective / 10)}}).ok());
      ASSERT_TRUE(study.finalize(t).ok());
    }
    std::optional<BestResult> best = study.get_best_result();
    ASSERT_TRUE(best.has_value());
    EXPECT_EQ(best->objective, lower ? 1.0 : 4.0);
    EXPECT_EQ(best->trial_id, lower ? 2 : 3);
    EXPECT_EQ(best->context.at("acc"), Value(best->objective / 10));
    EXPECT_EQ(best->parameters, study.results().Find(best->trial_id)->trial().parameters);
  }
}

TEST(StudyTest, AddTrialGoesAheadOfTheAlgorithm) {
  Study study = RandomStudy(1);
  ASSERT_TRUE(study.add_trial(Trial{0, {{"lr", Value(0.01)}, {"layers", Value(2)}}}).ok());
  Suggestion first = *study.get_suggestion();
  ASSERT_TRUE(first.is_trial());
  EXPECT_EQ(first.trial().id, 1);
  EXPECT_EQ(first.trial().parameters.at("lr"), Value(0.01));
  Suggestion second = *study.get_suggestion();
  ASSERT_TRUE(second.is_trial());
  EXPECT_EQ(second.trial().id, 2);  // the algorithm's trial gets the next id
  EXPECT_TRUE(study.get_suggestion()->is_done());
}

TEST(StudyTest, ACrashedTrialWithoutResultsCanBeResubmittedUnderItsId) {
  Study study = RandomStudy(5);
  Trial crashed = study.get_suggestion()->trial();
  ASSERT_TRUE(study.finalize(crashed, TrialStatus::kFailed).ok());
  ASSERT_TRUE(study.add_trial(crashed).ok());
  EXPECT_EQ(study.add_trial(crashed).code(), StatusCode::kAlreadyExists);  // queued already
  Suggestion again = *study.get_suggestion();
  ASSERT_TRUE(again.is_trial());
  EXPECT_EQ(again.trial().id, crashed.id);
  EXPECT_EQ(again.trial().parameters, crashed.parameters);
  ASSERT_TRUE(study.add_observation(again.trial(), 1, 0.2).ok());
  ASSERT_TRUE(study.finalize(again.trial()).ok());
  EXPECT_EQ(study.results().Find(crashed.id)->status(), TrialStatus::kCompleted);

  // A trial that reported results is not silently re-run under its old id.
  Status refused = study.add_trial(again.trial());
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("new trial"));
  // Nor is one still running.
  Trial running = study.get_suggestion()->trial();
  EXPECT_EQ(study.add_trial(running).code(), StatusCode::kFailedPrecondition);
}

TEST(StudyTest, RequestedStopIsHonouredUntilFinalize) {
  Study study = RandomStudy(2);
  Trial t = study.get_suggestion()->trial();
  EXPECT_FALSE(*study.should_trial_stop(t));
  study.request_stop(t.id);
  EXPECT_TRUE(*study.should_trial_stop(t));
  ASSERT_TRUE(study.finalize(t, TrialStatus::kStopped).ok());
  EXPECT_FALSE(*study.should_trial_stop(t));
  EXPECT_EQ(study.results().Find(t.id)->status(), TrialStatus::kStopped);
}

TEST(StudyTest, StoppingRuleIsConsulted) {
  Study study(Space(), *RandomSearch(0), /*lower_is_better=*/true, *MedianStoppingRule(1, 2));
  std::vector<Trial> trials;
  for (int i = 0; i < 3; ++i) trials.push_back(study.get_suggestion()->trial());
  ASSERT_TRUE(study.add_observation(trials[0], 1, 1.0).ok());
  ASSERT_TRUE(study.add_observation(trials[1], 1, 2.0).ok());
  ASSERT_TRUE(study.add_observation(trials[2], 1, 9.0).ok());
  EXPECT_TRUE(*study.should_trial_stop(trials[2]));   // 9 is worse than the median 1.5
  EXPECT_FALSE(*study.should_trial_stop(trials[0]));  // 1 beats the median 5.5
}

TEST(StudyTest, SameSeedSameTrials) {
  Study a = RandomStudy(20, true, 7), b = RandomStudy(20, true, 7), c = RandomStudy(20, true, 8);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    Trial ta = a.get_suggestion()->trial();
    EXPECT_EQ(ta.parameters, b.get_suggestion()->trial().parameters);
    differs |= ta.parameters != c.get_suggestion()->trial().parameters;
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace sherpa
