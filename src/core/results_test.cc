#include "sherpa/results.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Trial MakeTrial(TrialId id) { return Trial{id, {{"x", Value(0.5)}}}; }

TEST(ResultsTest, KeepsObservationsAndIndexesBestAndLast) {
  Results results(/*lower_is_better=*/true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 3.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 1.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {3, 2.0, {}}).ok());
  const TrialRecord* record = results.Find(1);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->best()->objective, 1.0);
  EXPECT_EQ(record->last()->objective, 2.0);
  EXPECT_EQ(record->BestUpTo(1), 3.0);
  EXPECT_EQ(record->BestUpTo(5), 1.0);
  EXPECT_EQ(record->BestUpTo(0), std::nullopt);
  EXPECT_FALSE(record->finalized());
}

TEST(ResultsTest, HigherIsBetterFlipsTheRanking) {
  Results results(/*lower_is_better=*/false);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 3.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 5.0, {}}).ok());
  EXPECT_EQ(results.Find(1)->best()->objective, 5.0);
  EXPECT_EQ(results.Best()->objective, 5.0);
}

TEST(ResultsTest, OutOfOrderIterationsStillAnswerBestUpTo) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddObservation(1, {5, 4.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 6.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {3, 1.0, {}}).ok());
  const TrialRecord& r = *results.Find(1);
  EXPECT_EQ(r.BestUpTo(2), 6.0);
  EXPECT_EQ(r.BestUpTo(4), 1.0);
  EXPECT_EQ(r.last()->iteration, 5);
  EXPECT_EQ(r.last()->objective, 4.0);
}

TEST(ResultsTest, RefusesRepeatedIterationUnknownTrialAndNonFiniteObjective) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 1.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 1.0, {}}).ok());

  Status repeated = results.AddObservation(1, {1, 0.5, {}});
  EXPECT_EQ(repeated.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(repeated.message(), HasSubstr("already reported iteration 1"));

  Status unknown = results.AddObservation(9, {1, 1.0, {}});
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("trial 9"));

  EXPECT_EQ(results.AddObservation(1, {3, NAN, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(results.AddObservation(1, {3, INFINITY, {}}).code(), StatusCode::kInvalidArgument);
  // Nothing of the refused calls was recorded.
  EXPECT_EQ(results.Find(1)->observations().size(), 2u);
  EXPECT_EQ(results.num_rows(), 2u);
  EXPECT_EQ(results.AddTrial(MakeTrial(1)).code(), StatusCode::kAlreadyExists);
}

TEST(ResultsTest, FinalizeAddsOneFinalRowAndFreezesTheTrial) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 2.0, {{"acc", Value(0.1)}}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 1.0, {{"acc", Value(0.7)}}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {3, 1.5, {{"acc", Value(0.6)}}}).ok());
  EXPECT_EQ(results.Finalize(1, TrialStatus::kIntermediate).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(results.Finalize(1, TrialStatus::kCompleted).ok());
  EXPECT_EQ(results.Finalize(1, TrialStatus::kFailed).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(results.AddObservation(1, {4, 0.1, {}}).code(), StatusCode::kFailedPrecondition);

  std::vector<std::string> statuses;
  std::vector<std::optional<int64_t>> iterations;
  std::vector<double> objectives;
  results.ForEachRow([&](const ResultRow& row) {
    statuses.emplace_back(TrialStatusName(row.status));
    iterations.push_back(row.iteration);
    objectives.push_back(row.observation->objective);
  });
  EXPECT_THAT(statuses, ElementsAre("INTERMEDIATE", "INTERMEDIATE", "INTERMEDIATE", "COMPLETED"));
  // SHERPA's final row: the best objective (and its context), the highest iteration.
  EXPECT_THAT(iterations, ElementsAre(1, 2, 3, 3));
  EXPECT_THAT(objectives, ElementsAre(2.0, 1.0, 1.5, 1.0));
  EXPECT_EQ(results.num_finalized(), 1u);
}

TEST(ResultsTest, TrialWithoutObservationsCanFailAndBeReopened) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.Finalize(1, TrialStatus::kFailed).ok());
  EXPECT_EQ(results.num_rows(), 1u);
  ASSERT_TRUE(results.Reopen(1).ok());
  EXPECT_EQ(results.num_rows(), 0u);
  EXPECT_FALSE(results.Find(1)->finalized());
  ASSERT_TRUE(results.AddObservation(1, {1, 0.3, {}}).ok());
  ASSERT_TRUE(results.Finalize(1, TrialStatus::kCompleted).ok());
  EXPECT_EQ(results.num_rows(), 2u);
  EXPECT_EQ(results.Reopen(1).code(), StatusCode::kFailedPrecondition);  // it has results now
}

TEST(ResultsTest, IndexesTrialsByIteration) {
  Results results(true);
  for (TrialId id : {1, 2, 3}) ASSERT_TRUE(results.AddTrial(MakeTrial(id)).ok());
  ASSERT_TRUE(results.AddObservation(2, {1, 1.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 1.0, {}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 1.0, {}}).ok());
  EXPECT_THAT(results.TrialsAtIteration(1), ElementsAre(2, 1));
  EXPECT_THAT(results.TrialsAtIteration(2), ElementsAre(1));
  EXPECT_TRUE(results.TrialsAtIteration(7).empty());
}

TEST(ResultsTest, BestIsOverAllRowsWithItsTrialAndContext) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(MakeTrial(1)).ok());
  ASSERT_TRUE(results.AddTrial(Trial{2, {{"x", Value(0.9)}}}).ok());
  EXPECT_FALSE(results.Best().has_value());
  ASSERT_TRUE(results.AddObservation(1, {1, 0.4, {}}).ok());
  ASSERT_TRUE(results.AddObservation(2, {3, 0.2, {{"loss", Value(1.5)}}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 0.3, {}}).ok());
  std::optional<BestResult> best = results.Best();
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->trial_id, 2);
  EXPECT_EQ(best->iteration, 3);
  EXPECT_EQ(best->objective, 0.2);
  EXPECT_EQ(best->parameters.at("x"), Value(0.9));
  EXPECT_EQ(best->context.at("loss"), Value(1.5));
}

}  // namespace
}  // namespace sherpa

namespace sherpa {
namespace {

TEST(ResultsTest, FindsDenseSparseAndHugeIds) {
  Results results(true);
  // A far id first (goes to the sparse map), then dense ids that grow the
  // dense index past it.
  ASSERT_TRUE(results.AddTrial(Trial{3000, {}}).ok());
  ASSERT_TRUE(results.AddTrial(Trial{int64_t{1} << 50, {}}).ok());
  for (TrialId id = 1; id <= 5000; ++id) {
    if (id == 3000) continue;
    ASSERT_TRUE(results.AddTrial(Trial{id, {}}).ok());
  }
  EXPECT_EQ(results.AddTrial(Trial{3000, {}}).code(), StatusCode::kAlreadyExists);
  for (TrialId id : {TrialId{1}, TrialId{2999}, TrialId{3000}, TrialId{5000}, int64_t{1} << 50}) {
    ASSERT_NE(results.Find(id), nullptr) << id;
    EXPECT_EQ(results.Find(id)->id(), id);
  }
  EXPECT_EQ(results.Find(5001), nullptr);
  EXPECT_EQ(results.Find(-1), nullptr);
  EXPECT_EQ(results.num_trials(), 5001u);
}

}  // namespace
}  // namespace sherpa
