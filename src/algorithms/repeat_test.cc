// Tests of Repeat (sherpa/algorithms.h), driven through sherpa::Study.

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

ParameterSpace Space() { return MakeSpace({Continuous("x", {0.0, 1.0})}); }

// What an inner algorithm was shown, for the tests to inspect.
struct SpyLog {
  // For every suggest call: the trials of the results it was given, as
  // (id, status, objective of the last observation).
  struct SeenTrial {
    TrialId id;
    TrialStatus status;
    std::optional<double> objective;
    Context context;
  };
  std::vector<std::vector<SeenTrial>> seen;
  std::vector<TrialId> next_ids;  // context.next_trial_id per call
  std::vector<TrialId> ended;     // on_trial_end, in order
  std::vector<TrialId> reopened;
};

// Suggests x = 0.1, 0.2, ... (`count` of them), then DONE. While `wait` is
// set it answers WAIT (and changes nothing).
class SpyAlgorithm final : public Algorithm {
 public:
  SpyAlgorithm(SpyLog* log, int count, const bool* wait = nullptr)
      : log_(log), count_(count), wait_(wait) {}
  std::string_view name() const override { return "Spy"; }
  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (wait_ != nullptr && *wait_) return Suggestion::Wait();
    if (given_ == count_) return Suggestion::Done();
    std::vector<SpyLog::SeenTrial> seen;
    for (const TrialRecord& r : context.results.trials()) {
      seen.push_back({r.id(), r.status(),
                      r.last() ? std::optional<double>(r.last()->objective) : std::nullopt,
                      r.last() ? r.last()->context : Context{}});
    }
    log_->seen.push_back(std::move(seen));
    log_->next_ids.push_back(context.next_trial_id);
    ++given_;
    return Suggestion::Of(Trial{0, {{"x", 0.1 * given_}}});
  }
  void on_trial_end(const TrialRecord& trial) override { log_->ended.push_back(trial.id()); }
  void on_trial_reopened(const TrialRecord& trial) override {
    log_->reopened.push_back(trial.id());
  }

 private:
  SpyLog* log_;
  int count_;
  const bool* wait_;
  int given_ = 0;
};

std::unique_ptr<Algorithm> MakeRepeat(std::unique_ptr<Algorithm> inner, int64_t num_times,
                                      bool wait_for_completion, bool agg) {
  RepeatOptions options;
  options.num_times = num_times;
  options.wait_for_completion = wait_for_completion;
  options.agg = agg;
  StatusOr<std::unique_ptr<Algorithm>> repeat = Repeat(std::move(inner), options);
  EXPECT_TRUE(repeat.ok()) << repeat.status();
  return repeat.ok() ? std::move(repeat).value() : nullptr;
}

Suggestion Ask(Study& study) {
  StatusOr<Suggestion> s = study.get_suggestion();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(s).value() : Suggestion::Done();
}

TEST(RepeatTest, HandsOutEachConfigurationNumTimesUnderDistinctIdsThenDone) {
  StatusOr<std::unique_ptr<Algorithm>> random = RandomSearch(3);
  ASSERT_TRUE(random.ok());
  std::unique_ptr<Algorithm> repeat = MakeRepeat(std::move(random).value(), 4, false, false);
  EXPECT_EQ(repeat->name(), "Repeat");
  Study study(Space(), std::move(repeat), true, nullptr, 9);
  std::vector<Trial> trials;
  // All handed out without any ending: without wait_for_completion, Repeat
  // never waits.
  for (int i = 0; i < 12; ++i) {
    Suggestion s = Ask(study);
    ASSERT_TRUE(s.is_trial()) << "suggestion " << i;
    trials.push_back(s.trial());
  }
  EXPECT_TRUE(Ask(study).is_done());
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].id, static_cast<TrialId>(i + 1));
    EXPECT_EQ(trials[i].parameters, trials[i - i % 4].parameters) << "trial " << i + 1;
  }
  EXPECT_NE(trials[0].parameters, trials[4].parameters);
  EXPECT_NE(trials[4].parameters, trials[8].parameters);
}

TEST(RepeatTest, WaitForCompletionWaitsUntilEveryRepeatOfTheLastConfigurationEnded) {
  SpyLog log;
  Study study(Space(), MakeRepeat(std::make_unique<SpyAlgorithm>(&log, 2), 3, true, false), true);
  std::vector<Trial> first;
  for (int i = 0; i < 3; ++i) first.push_back(Ask(study).trial());
  EXPECT_TRUE(Ask(study).is_wait());
  ASSERT_TRUE(study.add_observation(first[0], 1, 1.0).ok());
  ASSERT_TRUE(study.finalize(first[0]).ok());
  ASSERT_TRUE(study.finalize(first[2], TrialStatus::kFailed).ok());
  EXPECT_TRUE(Ask(study).is_wait()) << "one repeat still runs";
  EXPECT_EQ(log.next_ids.size(), 1u) << "the inner algorithm is not asked while Repeat waits";
  ASSERT_TRUE(study.add_observation(first[1], 1, 2.0).ok());
  ASSERT_TRUE(study.finalize(first[1], TrialStatus::kStopped).ok());
  Suggestion next = Ask(study);
  ASSERT_TRUE(next.is_trial()) << "every repeat ended, whatever its status";
  EXPECT_EQ(next.trial().id, 4);
  EXPECT_NE(next.trial().parameters, first[0].parameters);
}

TEST(RepeatTest, WithoutAggTheInnerAlgorithmSeesEveryRepeat) {
  SpyLog log;
  Study study(Space(), MakeRepeat(std::make_unique<SpyAlgorithm>(&log, 3), 2, false, false), true);
  std::vector<Trial> trials;
  for (int i = 0; i < 4; ++i) trials.push_back(Ask(study).trial());
  for (const Trial& t : trials) {
    ASSERT_TRUE(study.add_observation(t, 1, static_cast<double>(t.id)).ok());
    ASSERT_TRUE(study.finalize(t).ok());
  }
  ASSERT_TRUE(Ask(study).is_trial());
  EXPECT_THAT(log.next_ids, ElementsAre(1, 3, 5));
  EXPECT_THAT(log.ended, ElementsAre(1, 2, 3, 4));
  ASSERT_EQ(log.seen.size(), 3u);
  EXPECT_EQ(log.seen[2].size(), 4u) << "the study's own results, one trial per repeat";
}

TEST(RepeatTest, WithAggTheInnerAlgorithmSeesOneTrialPerConfigurationWithTheMeanObjective) {
  SpyLog log;
  Study study(Space(), MakeRepeat(std::make_unique<SpyAlgorithm>(&log, 4), 3, false, true), true);
  std::vector<Trial> trials;
  for (int i = 0; i < 9; ++i) trials.push_back(Ask(study).trial());
  // Configuration 1 (trials 1-3): objectives 1, 2, 6 at iterations 1..2;
  // the last observation counts.
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(study.add_observation(trials[k], 1, 100.0).ok());
    ASSERT_TRUE(study.add_observation(trials[k], 2, std::vector<double>{1, 2, 6}[k]).ok());
  }
  ASSERT_TRUE(study.finalize(trials[0]).ok());
  ASSERT_TRUE(study.finalize(trials[1]).ok());
  EXPECT_TRUE(log.ended.empty()) << "told only when the last repeat ended";
  ASSERT_TRUE(study.finalize(trials[2]).ok());
  EXPECT_THAT(log.ended, ElementsAre(1));
  // Configuration 2 (trials 4-6): one completes with 5, one fails, one is
  // stopped; only the completed one counts.
  ASSERT_TRUE(study.add_observation(trials[3], 1, 5.0).ok());
  ASSERT_TRUE(study.finalize(trials[3]).ok());
  ASSERT_TRUE(study.finalize(trials[4], TrialStatus::kFailed).ok());
  ASSERT_TRUE(study.add_observation(trials[5], 1, -50.0).ok());
  ASSERT_TRUE(study.finalize(trials[5], TrialStatus::kStopped).ok());
  // Configuration 3 (trials 7-9): none completes, one was stopped.
  ASSERT_TRUE(study.finalize(trials[6], TrialStatus::kFailed).ok());
  ASSERT_TRUE(study.add_observation(trials[7], 1, 1.0).ok());
  ASSERT_TRUE(study.finalize(trials[7], TrialStatus::kStopped).ok());
  ASSERT_TRUE(study.finalize(trials[8], TrialStatus::kFailed).ok());
  EXPECT_THAT(log.ended, ElementsAre(1, 4, 7));

  ASSERT_TRUE(Ask(study).is_trial());
  EXPECT_THAT(log.next_ids, ElementsAre(1, 4, 7, 10));
  ASSERT_EQ(log.seen.size(), 4u);
  const auto& seen = log.seen[3];
  ASSERT_EQ(seen.size(), 3u) << "one trial per configuration";
  EXPECT_EQ(seen[0].id, 1);
  EXPECT_EQ(seen[0].status, TrialStatus::kCompleted);
  EXPECT_DOUBLE_EQ(seen[0].objective.value_or(-1), 3.0);
  EXPECT_EQ(seen[0].context.at("repeat_count").as_int(), 3);
  // Sample sd of {1, 2, 6} is sqrt(7); its standard error sqrt(7 / 3).
  EXPECT_NEAR(seen[0].context.at("objective_stderr").as_number(), std::sqrt(7.0 / 3.0), 1e-12);
  EXPECT_EQ(seen[1].id, 4);
  EXPECT_EQ(seen[1].status, TrialStatus::kCompleted);
  EXPECT_DOUBLE_EQ(seen[1].objective.value_or(-1), 5.0);
  EXPECT_EQ(seen[1].context.at("repeat_count").as_int(), 1);
  EXPECT_EQ(seen[1].context.count("objective_stderr"), 0u);
  EXPECT_EQ(seen[2].id, 7);
  EXPECT_EQ(seen[2].status, TrialStatus::kStopped);
  EXPECT_FALSE(seen[2].objective.has_value());
  // The study itself still holds every repeat.
  EXPECT_EQ(study.results().num_trials(), 10u);
}

TEST(RepeatTest, TheInnerAlgorithmsWaitPassesThroughAndItsDoneEndsRepeat) {
  SpyLog log;
  bool wait = true;
  Study study(Space(), MakeRepeat(std::make_unique<SpyAlgorithm>(&log, 1, &wait), 2, false, false),
              true);
  EXPECT_TRUE(Ask(study).is_wait());
  wait = false;
  Suggestion first = Ask(study);
  ASSERT_TRUE(first.is_trial());
  EXPECT_EQ(first.trial().id, 1);
  wait = true;
  ASSERT_TRUE(Ask(study).is_trial()) << "the second repeat does not ask the inner algorithm";
  EXPECT_TRUE(Ask(study).is_wait());
  wait = false;
  EXPECT_TRUE(Ask(study).is_done());
  EXPECT_TRUE(Ask(study).is_done());
}

TEST(RepeatTest, AResubmittedRepeatIsWaitedForAgainAndForwarded) {
  SpyLog log;
  Study study(Space(), MakeRepeat(std::make_unique<SpyAlgorithm>(&log, 2), 2, true, false), true);
  Trial a = Ask(study).trial();
  Trial b = Ask(study).trial();
  ASSERT_TRUE(study.finalize(a, TrialStatus::kFailed).ok());
  ASSERT_TRUE(study.add_observation(b, 1, 1.0).ok());
  ASSERT_TRUE(study.finalize(b).ok());
  ASSERT_TRUE(study.add_trial(a).ok());
  Suggestion again = Ask(study);  // the resubmission comes first
  ASSERT_TRUE(again.is_trial());
  EXPECT_EQ(again.trial().id, a.id);
  EXPECT_THAT(log.reopened, ElementsAre(a.id));
  EXPECT_TRUE(Ask(study).is_wait()) << "the resubmitted repeat runs again";
  ASSERT_TRUE(study.add_observation(a, 1, 2.0).ok());
  ASSERT_TRUE(study.finalize(a).ok());
  EXPECT_TRUE(Ask(study).is_trial());
}

TEST(RepeatTest, RefusesBadOptionsNamingThem) {
  StatusOr<std::unique_ptr<Algorithm>> none = Repeat(nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("Repeat: algorithm is missing"));
  StatusOr<std::unique_ptr<Algorithm>> random = RandomSearch();
  ASSERT_TRUE(random.ok());
  RepeatOptions options;
  options.num_times = 0;
  StatusOr<std::unique_ptr<Algorithm>> zero = Repeat(std::move(random).value(), options);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.status().message(), HasSubstr("num_times must be at least 1, got 0"));
}

}  // namespace
}  // namespace sherpa
