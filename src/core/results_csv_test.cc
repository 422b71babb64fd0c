#include <sstream>

#include <gtest/gtest.h>

#include "sherpa/results.h"

namespace sherpa {
namespace {

TEST(ResultsCsvTest, WritesSherpasColumnsAndRows) {
  Results results(/*lower_is_better=*/false);
  ASSERT_TRUE(results
                  .AddTrial(Trial{1,
                                  {{"lr", Value(0.01)},
                                   {"batch_size", Value(32)},
                                   {"act", Value("relu")},
                                   {"load_from", Value("")},
                                   {"save_to", Value("1")},
                                   {"lineage", Value("")},
                                   {"generation", Value(1)}}})
                  .ok());
  ASSERT_TRUE(results
                  .AddTrial(Trial{2,
                                  {{"lr", Value(0.02)},
                                   {"batch_size", Value(64)},
                                   {"act", Value("tanh")},
                                   {"load_from", Value("1")},
                                   {"save_to", Value("2")},
                                   {"lineage", Value("7,1,")},
                                   {"generation", Value(2)}}})
                  .ok());
  ASSERT_TRUE(
      results.AddObservation(1, {1, 0.5, {{"val_loss", Value(1.25)}, {"acc", Value(0.5)}}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {2, 0.75, {{"val_loss", Value(1.0)}}}).ok());
  ASSERT_TRUE(results.Finalize(1, TrialStatus::kCompleted).ok());
  ASSERT_TRUE(results.Finalize(2, TrialStatus::kFailed).ok());

  std::ostringstream csv;
  results.WriteCsv(csv);
  // Parameters sorted by name (bookkeeping keys included), Objective, then
  // context keys sorted; a lineage with commas is quoted; a trial that never
  // reported has an empty Iteration and Objective on its final row.
  EXPECT_EQ(csv.str(),
            "Trial-ID,Status,Iteration,act,batch_size,generation,lineage,load_from,lr,save_to,"
            "Objective,acc,val_loss\n"
            "1,INTERMEDIATE,1,relu,32,1,,,0.01,1,0.5,0.5,1.25\n"
            "1,INTERMEDIATE,2,relu,32,1,,,0.01,1,0.75,,1.0\n"
            "1,COMPLETED,2,relu,32,1,,,0.01,1,0.75,,1.0\n"
            "2,FAILED,,tanh,64,2,\"7,1,\",1,0.02,2,,,\n");
}

TEST(ResultsCsvTest, QuotesFieldsWithQuotesAndNewlines) {
  Results results(true);
  ASSERT_TRUE(results.AddTrial(Trial{1, {{"note", Value("say \"hi\"\nnow")}}}).ok());
  ASSERT_TRUE(results.AddObservation(1, {1, 1.0, {}}).ok());
  std::ostringstream csv;
  results.WriteCsv(csv);
  EXPECT_EQ(csv.str(),
            "Trial-ID,Status,Iteration,note,Objective\n"
            "1,INTERMEDIATE,1,\"say \"\"hi\"\"\nnow\",1.0\n");
}

TEST(ResultsCsvTest, EmptyResultsHaveOnlyTheHeader) {
  Results results(true);
  std::ostringstream csv;
  results.WriteCsv(csv);
  EXPECT_EQ(csv.str(), "Trial-ID,Status,Iteration,Objective\n");
}

}  // namespace
}  // namespace sherpa
