#include "runner/replay.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sherpa/algorithms.h"

namespace sherpa::runner {
namespace {

using storage::EventKind;
using storage::StoredEvent;
using ::testing::HasSubstr;

ParameterSpace Space() { return *ParameterSpace::Create({Continuous("x", {0.1, 1.0})}); }

Study Pbt(uint64_t seed) {
  PopulationBasedTrainingOptions o;
  o.population_size = 4;
  o.num_generations = 5;
  return Study(Space(), *PopulationBasedTraining(Space(), o), /*lower_is_better=*/false, nullptr,
               seed);
}

Study AsyncPbt(uint64_t seed, PbtSelection selection) {
  PopulationBasedTrainingOptions o;
  o.mode = PbtMode::kAsynchronous;
  o.population_size = 5;
  o.num_generations = 6;
  o.selection = selection;
  o.resample_probability = 0.25;
  return Study(Space(), *PopulationBasedTraining(Space(), o), /*lower_is_better=*/false, nullptr,
               seed);
}

// Runs a study for `steps` loop turns, logging events as the runner would,
// with two trials "running" at a time.
// The event that records `trial` as handed out.
StoredEvent CreatedEvent(const Trial& trial) {
  StoredEvent e;
  e.kind = EventKind::kTrialCreated;
  e.trial_id = trial.id;
  e.trial = trial;
  return e;
}

std::vector<StoredEvent> RunAndLog(Study& study, int steps) {
  std::vector<StoredEvent> log;
  std::vector<Trial> running;
  int64_t seq = 0;
  for (int step = 0; step < steps; ++step) {
    while (running.size() < 2) {
      Suggestion s = *study.get_suggestion();
      if (!s.is_trial()) break;
      StoredEvent e = CreatedEvent(s.trial());
      e.seq = ++seq;
      log.push_back(e);
      running.push_back(s.trial());
    }
    if (running.empty()) break;
    Trial t = running.front();
    running.erase(running.begin());
    const double objective = t.parameters.at("x").as_number() * static_cast<double>(t.id % 5);
    EXPECT_TRUE(study.add_observation(t, 1, objective).ok());
    StoredEvent o;
    o.seq = ++seq;
    o.kind = EventKind::kObservation;
    o.trial_id = t.id;
    o.observation = Observation{1, objective, {}};
    log.push_back(o);
    // Every third trial fails (after reporting), the rest complete.
    const TrialStatus status = t.id % 3 == 0 ? TrialStatus::kFailed : TrialStatus::kCompleted;
    EXPECT_TRUE(study.finalize(t, status).ok());
    StoredEvent end;
    end.seq = ++seq;
    end.kind = EventKind::kTrialEnded;
    end.trial_id = t.id;
    end.status = status;
    log.push_back(end);
  }
  return log;
}

TEST(ReplayTest, RebuildsPbtSoTheStudyContinuesExactlyAsWithoutTheCrash) {
  Study original = Pbt(7);
  std::vector<StoredEvent> log = RunAndLog(original, 9);  // part-way through generation 3

  Study resumed = Pbt(7);
  StatusOr<ReplayOutcome> outcome = Replay(log, resumed);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(resumed.results().num_finalized(), original.results().num_finalized());

  // From here on both studies must hand out the same trials.
  for (int i = 0; i < 6; ++i) {
    StatusOr<Suggestion> a = original.get_suggestion();
    StatusOr<Suggestion> b = resumed.get_suggestion();
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->kind(), b->kind());
    if (!a->is_trial()) break;
    EXPECT_EQ(a->trial().id, b->trial().id);
    EXPECT_EQ(a->trial().parameters, b->trial().parameters);
  }
}

TEST(ReplayTest, RebuildsAsynchronousPbtSoTheStudyContinuesExactly) {
  for (PbtSelection selection : {PbtSelection::kTruncation, PbtSelection::kTournament}) {
    Study original = AsyncPbt(11, selection);
    // Two of five members run at a time, so members take turns and copies
    // and failures (every third trial) happen before the log stops.
    std::vector<StoredEvent> log = RunAndLog(original, 13);

    Study resumed = AsyncPbt(11, selection);
    StatusOr<ReplayOutcome> outcome = Replay(log, resumed);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(resumed.results().num_finalized(), original.results().num_finalized());
    ASSERT_EQ(outcome->unfinished.size(), 1u);  // RunAndLog leaves one running

    // Finish the running trials the same way in both, then both must hand
    // out the same trials to the end of the study.
    int compared = 0;
    std::vector<Trial> running_a = outcome->unfinished, running_b = outcome->unfinished;
    for (int step = 0; step < 100; ++step) {
      if (!running_a.empty()) {
        const Trial t = running_a.front();
        running_a.erase(running_a.begin());
        running_b.erase(running_b.begin());
        const double objective = t.parameters.at("x").as_number() * static_cast<double>(t.id % 5);
        ASSERT_TRUE(original.add_observation(t, 1, objective).ok());
        ASSERT_TRUE(resumed.add_observation(t, 1, objective).ok());
        ASSERT_TRUE(original.finalize(t).ok());
        ASSERT_TRUE(resumed.finalize(t).ok());
      }
      StatusOr<Suggestion> a = original.get_suggestion();
      StatusOr<Suggestion> b = resumed.get_suggestion();
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->kind(), b->kind());
      if (a->is_done()) break;
      if (!a->is_trial()) continue;
      EXPECT_EQ(a->trial().id, b->trial().id);
      EXPECT_EQ(a->trial().parameters, b->trial().parameters);
      running_a.push_back(a->trial());
      running_b.push_back(b->trial());
      ++compared;
    }
    EXPECT_GT(compared, 10);
  }
}

TEST(ReplayTest, UnfinishedTrialsAreReturnedWithoutTheirPartialObservations) {
  Study original = Pbt(3);
  std::vector<StoredEvent> log = RunAndLog(original, 2);
  // A trial that was running when the runner died, with one report.
  Suggestion s = *original.get_suggestion();
  ASSERT_TRUE(s.is_trial());
  log.push_back(CreatedEvent(s.trial()));
  StoredEvent started;
  started.kind = EventKind::kTrialStarted;
  started.trial_id = s.trial().id;
  started.attempt = 1;
  log.push_back(started);
  StoredEvent partial;
  partial.kind = EventKind::kObservation;
  partial.trial_id = s.trial().id;
  partial.attempt = 1;
  partial.observation = Observation{1, 0.5, {}};
  log.push_back(partial);

  Study resumed = Pbt(3);
  StatusOr<ReplayOutcome> outcome = Replay(log, resumed);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  // Two were running: the one RunAndLog left and the one with a report.
  ASSERT_EQ(outcome->unfinished.size(), 2u);
  EXPECT_TRUE(std::any_of(outcome->unfinished.begin(), outcome->unfinished.end(),
                          [&](const Trial& t) { return t.id == s.trial().id; }));
  EXPECT_EQ(outcome->attempts.at(s.trial().id), 1);
  // The re-run reports iteration 1 again; the study must accept it.
  EXPECT_TRUE(resumed.results().Find(s.trial().id)->observations().empty());
  EXPECT_TRUE(resumed.add_observation(s.trial(), 1, 0.7).ok());
}

TEST(ReplayTest, RefusesALogTheAlgorithmWouldNotProduce) {
  Study original = Pbt(1);
  std::vector<StoredEvent> log = RunAndLog(original, 3);
  Study other_seed = Pbt(2);
  StatusOr<ReplayOutcome> outcome = Replay(log, other_seed);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("spec or its seed changed"));
}

TEST(ReplayTest, ResubmittedTrialsAreQueuedAgain) {
  Study original(Space(), *RandomSearch(3), true, nullptr, 5);
  std::vector<StoredEvent> log;
  Trial t = original.get_suggestion()->trial();
  log.push_back(CreatedEvent(t));
  StoredEvent failed;
  failed.kind = EventKind::kTrialEnded;
  failed.trial_id = t.id;
  failed.status = TrialStatus::kFailed;
  log.push_back(failed);
  StoredEvent reopened;
  reopened.kind = EventKind::kTrialReopened;
  reopened.trial_id = t.id;
  log.push_back(reopened);

  Study resumed(Space(), *RandomSearch(3), true, nullptr, 5);
  StatusOr<ReplayOutcome> outcome = Replay(log, resumed);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->unfinished.size(), 1u);  // it had not run again yet
  EXPECT_EQ(outcome->resubmits.at(t.id), 1);
  EXPECT_FALSE(resumed.results().Find(t.id)->finalized());
}

// The jobs to cancel on resume: every started attempt of a trial that had
// not ended (an earlier resume's attempt too), none of an ended trial.
TEST(ReplayTest, ListsTheJobsOfUnfinishedTrialsAsLeftOver) {
  Study original(Space(), *RandomSearch(3), true, nullptr, 5);
  std::vector<StoredEvent> log;
  auto add = [&log](EventKind kind, TrialId id, int attempt, const std::string& job) {
    StoredEvent e;
    e.kind = kind;
    e.trial_id = id;
    e.attempt = attempt;
    e.job_id = job;
    if (kind == EventKind::kTrialEnded) e.status = TrialStatus::kCompleted;
    log.push_back(e);
  };
  for (int i = 0; i < 3; ++i) log.push_back(CreatedEvent(original.get_suggestion()->trial()));
  add(EventKind::kTrialStarted, 1, 1, "101");
  add(EventKind::kTrialStarted, 2, 1, "102");
  add(EventKind::kTrialStarted, 3, 1, "103");
  add(EventKind::kTrialEnded, 1, 1, "");
  // The runner died; the resumed one restarted trial 2, then died as well.
  add(EventKind::kTrialRestarted, 2, 2, "202");

  Study resumed(Space(), *RandomSearch(3), true, nullptr, 5);
  StatusOr<ReplayOutcome> outcome = Replay(log, resumed);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_THAT(outcome->left_over_jobs, ::testing::UnorderedElementsAre("102", "202", "103"));
}

}  // namespace
}  // namespace sherpa::runner
