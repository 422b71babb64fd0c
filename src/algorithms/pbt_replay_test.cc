// Tests of PopulationBasedTrainingReplay, PbtScheduleOf and
// BestCompletedTrial (sherpa/algorithms.h).

#include <cmath>
#include <cstdint>
#include <memory>
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

using ::testing::HasSubstr;

const ParameterSpace& Space() {
  static const ParameterSpace* space = new ParameterSpace(
      *ParameterSpace::Create({Continuous("lr", {1e-3, 1.0}), Ordinal("batch", {16, 32, 64})}));
  return *space;
}

std::vector<PbtScheduleStep> ThreeSteps() {
  return {{1, {{"lr", Value(0.1)}, {"batch", Value(16)}}},
          {2, {{"lr", Value(0.08)}, {"batch", Value(32)}}},
          {3, {{"lr", Value(0.096)}, {"batch", Value(32)}}}};
}

const std::string& Str(const Trial& trial, std::string_view key) {
  return trial.parameters.at(std::string(key)).as_string();
}

ParameterValues Tuned(const Trial& trial) {
  return {{"lr", trial.parameters.at("lr")}, {"batch", trial.parameters.at("batch")}};
}

Study ReplayStudy(std::vector<PbtScheduleStep> schedule) {
  return Study(Space(), *PopulationBasedTrainingReplay(Space(), std::move(schedule)), true);
}

TEST(PbtReplayTest, TrainsOneModelGenerationByGenerationAlongTheSchedule) {
  Study study = ReplayStudy(ThreeSteps());
  const std::vector<PbtScheduleStep> schedule = ThreeSteps();
  std::string previous_save_to, lineage;
  for (int64_t g = 1; g <= 3; ++g) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial()) << "generation " << g;
    const Trial trial = s->trial();
    EXPECT_EQ(Tuned(trial), schedule[static_cast<size_t>(g - 1)].parameters);
    EXPECT_EQ(trial.parameters.at("generation"), Value(g));
    EXPECT_EQ(Str(trial, kLoadFromKey), previous_save_to);
    EXPECT_EQ(Str(trial, kSaveToKey), std::to_string(trial.id));
    EXPECT_EQ(Str(trial, kLineageKey), lineage);
    EXPECT_TRUE(study.get_suggestion()->is_wait()) << "one model: one trial at a time";
    ASSERT_TRUE(study.add_observation(trial, 1, 1.0 / static_cast<double>(g)).ok());
    ASSERT_TRUE(study.finalize(trial).ok());
    previous_save_to = std::to_string(trial.id);
    lineage += previous_save_to + ",";
  }
  EXPECT_TRUE(study.get_suggestion()->is_done());
  EXPECT_TRUE(study.get_suggestion()->is_done());
}

TEST(PbtReplayTest, AFailedGenerationRunsAgainFromTheSameCheckpointThenGivesUp) {
  Study study = ReplayStudy(ThreeSteps());
  const Trial first = study.get_suggestion()->trial();
  ASSERT_TRUE(study.finalize(first).ok());
  std::vector<TrialId> attempts;
  for (TrialStatus status : {TrialStatus::kFailed, TrialStatus::kStopped, TrialStatus::kFailed}) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial());
    EXPECT_EQ(s->trial().parameters.at("generation"), Value(int64_t{2}));
    EXPECT_EQ(Str(s->trial(), kLoadFromKey), std::to_string(first.id));
    EXPECT_EQ(Tuned(s->trial()), ThreeSteps()[1].parameters);
    ASSERT_TRUE(study.finalize(s->trial(), status).ok());
    attempts.push_back(s->trial().id);
  }
  StatusOr<Suggestion> refused = study.get_suggestion();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("generation 2 did not complete in 3 attempts"));
}

TEST(PbtReplayTest, RefusesMalformedSchedules) {
  auto error = [](std::vector<PbtScheduleStep> schedule) {
    auto built = PopulationBasedTrainingReplay(Space(), std::move(schedule));
    EXPECT_FALSE(built.ok());
    return built.ok() ? std::string() : built.status().message();
  };
  EXPECT_THAT(error({}), HasSubstr("the schedule is empty"));
  std::vector<PbtScheduleStep> skipped = ThreeSteps();
  skipped[1].generation = 3;
  EXPECT_THAT(error(skipped), HasSubstr("schedule[1]: expected generation 2, got 3"));
  std::vector<PbtScheduleStep> missing = ThreeSteps();
  missing[2].parameters.erase("batch");
  EXPECT_THAT(error(missing), HasSubstr("schedule[2] lacks parameter 'batch'"));
  std::vector<PbtScheduleStep> wrong_type = ThreeSteps();
  wrong_type[0].parameters["lr"] = Value("fast");
  EXPECT_THAT(error(wrong_type), HasSubstr("'lr' must be a"));
  std::vector<PbtScheduleStep> unknown = ThreeSteps();
  unknown[0].parameters["momentum"] = Value(0.9);
  EXPECT_THAT(error(unknown), HasSubstr("names 'momentum'"));
}

// Runs PBT to the end with an objective of the hyperparameters (higher is
// better), every fourth trial failing.
Study RunPbt(PopulationBasedTrainingOptions options, uint64_t seed) {
  Study study(Space(), *PopulationBasedTraining(Space(), options), /*lower_is_better=*/false,
              nullptr, seed);
  std::vector<Trial> running;
  for (int step = 0; step < 1000; ++step) {
    while (running.size() < 3) {
      StatusOr<Suggestion> s = study.get_suggestion();
      EXPECT_TRUE(s.ok());
      if (!s.ok() || !s->is_trial()) break;
      running.push_back(s->trial());
    }
    if (running.empty()) break;
    const Trial t = running.front();
    running.erase(running.begin());
    if (t.id % 4 == 0) {
      EXPECT_TRUE(study.finalize(t, TrialStatus::kFailed).ok());
      continue;
    }
    const double lr = t.parameters.at("lr").as_number();
    EXPECT_TRUE(study.add_observation(t, 1, -std::abs(std::log(lr / 0.1))).ok());
    EXPECT_TRUE(study.finalize(t).ok());
  }
  return study;
}

TEST(PbtScheduleOfTest, FollowsLoadFromBackToTheFirstGeneration) {
  for (PbtMode mode : {PbtMode::kGenerational, PbtMode::kAsynchronous}) {
    PopulationBasedTrainingOptions options;
    options.mode = mode;
    options.population_size = 6;
    options.num_generations = 5;
    const Study study = RunPbt(options, 8);
    std::optional<TrialId> best = BestCompletedTrial(study.results());
    ASSERT_TRUE(best.has_value());
    StatusOr<std::vector<PbtScheduleStep>> schedule =
        PbtScheduleOf(Space(), study.results(), *best);
    ASSERT_TRUE(schedule.ok()) << schedule.status();

    // The test's own walk: load_from is the parent's trial id.
    std::vector<Trial> chain;
    for (TrialId id = *best; id != 0;) {
      const Trial& trial = study.results().Find(id)->trial();
      chain.insert(chain.begin(), trial);
      const std::string& load_from = Str(trial, kLoadFromKey);
      id = load_from.empty() ? 0 : std::stoll(load_from);
    }
    ASSERT_EQ(schedule->size(), chain.size());
    if (mode == PbtMode::kGenerational) {
      EXPECT_EQ(static_cast<int64_t>(chain.size()),
                chain.back().parameters.at("generation").as_int());
    }
    for (size_t i = 0; i < chain.size(); ++i) {
      EXPECT_EQ((*schedule)[i].generation, static_cast<int64_t>(i) + 1);
      EXPECT_EQ((*schedule)[i].parameters, Tuned(chain[i]));
    }

    // The replay hands out exactly that schedule.
    Study replay = ReplayStudy(*schedule);
    for (size_t i = 0; i < chain.size(); ++i) {
      const Trial t = replay.get_suggestion()->trial();
      EXPECT_EQ(Tuned(t), Tuned(chain[i]));
      ASSERT_TRUE(replay.finalize(t).ok());
    }
    EXPECT_TRUE(replay.get_suggestion()->is_done());
  }
}

TEST(PbtScheduleOfTest, RefusesTrialsWithoutPbtKeysAndUnknownTrials) {
  Study study(Space(), *RandomSearch(2), true);
  const Trial t = study.get_suggestion()->trial();
  ASSERT_TRUE(study.finalize(t).ok());
  auto no_keys = PbtScheduleOf(Space(), study.results(), t.id);
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_keys.status().message(), HasSubstr("carries no PBT keys"));
  EXPECT_EQ(PbtScheduleOf(Space(), study.results(), 99).status().code(), StatusCode::kNotFound);
}

TEST(PbtScheduleOfTest, RefusesAChainThatDisagreesWithTheLineage) {
  Results results(true);
  ParameterValues first = {{"lr", Value(0.1)},       {"batch", Value(16)},
                           {"load_from", Value("")}, {"save_to", Value("1")},
                           {"lineage", Value("")},   {"generation", Value(int64_t{1})}};
  ParameterValues second = first;
  second["load_from"] = Value("1");
  second["save_to"] = Value("2");
  second["lineage"] = Value("7,");
  ASSERT_TRUE(results.AddTrial(Trial{1, first}).ok());
  ASSERT_TRUE(results.AddTrial(Trial{2, second}).ok());
  auto schedule = PbtScheduleOf(Space(), results, 2);
  ASSERT_FALSE(schedule.ok());
  EXPECT_THAT(schedule.status().message(), HasSubstr("lineage '7,'"));
  second["load_from"] = Value("5");
  ASSERT_TRUE(results.AddTrial(Trial{3, second}).ok());
  EXPECT_THAT(PbtScheduleOf(Space(), results, 3).status().message(),
              HasSubstr("loaded '5', which no trial of the study saved"));
}

TEST(BestCompletedTrialTest, IgnoresTrialsThatDidNotComplete) {
  Results results(/*lower_is_better=*/true);
  for (TrialId id : {1, 2, 3}) ASSERT_TRUE(results.AddTrial(Trial{id, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, Observation{1, 0.5, {}}).ok());
  ASSERT_TRUE(results.AddObservation(2, Observation{1, 0.1, {}}).ok());  // best, but fails
  ASSERT_TRUE(results.AddObservation(3, Observation{1, 0.3, {}}).ok());
  ASSERT_TRUE(results.Finalize(1, TrialStatus::kCompleted).ok());
  ASSERT_TRUE(results.Finalize(2, TrialStatus::kFailed).ok());
  EXPECT_EQ(BestCompletedTrial(results), std::optional<TrialId>(1));
  ASSERT_TRUE(results.Finalize(3, TrialStatus::kCompleted).ok());
  EXPECT_EQ(BestCompletedTrial(results), std::optional<TrialId>(3));
  EXPECT_EQ(BestCompletedTrial(Results(true)), std::nullopt);
}

}  // namespace
}  // namespace sherpa
