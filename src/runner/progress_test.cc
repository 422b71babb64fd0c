#include "runner/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa::runner {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ProgressTest, DescribesCountsGenerationAndBest) {
  ProgressSnapshot s;
  s.running = 4;
  s.completed = 20;
  s.failed = 1;
  s.generation = 3;
  s.best = BestResult{17, 2, 0.9125, {}, {}};
  const std::string line = Progress::Describe(s, 12.34);
  EXPECT_THAT(line, HasSubstr("[12.3s]"));
  EXPECT_THAT(line, HasSubstr("generation 3"));
  EXPECT_THAT(line, HasSubstr("running 4 | completed 20 | failed 1"));
  EXPECT_THAT(line, HasSubstr("best 0.9125 (trial 17)"));
  EXPECT_THAT(line, Not(HasSubstr("ahead")));
  s.started_ahead = 2;  // prestart: processes waiting for their trials
  EXPECT_THAT(Progress::Describe(s, 1), HasSubstr("running 4 (+2 ahead) | completed 20"));
}

TEST(ProgressTest, LinesModeWritesEventsAndThrottlesUpdates) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  {
    Progress progress(ProgressMode::kLines, out);
    progress.Event("trial 3 FAILED");
    ProgressSnapshot s;
    s.completed = 1;
    progress.Update(s);
    s.completed = 2;
    progress.Update(s);  // within 5 s of the last line: not printed
    s.completed = 3;
    progress.Update(s, /*force=*/true);
    progress.Finish();
  }
  std::fclose(out);
  const std::string text(buffer, size);
  std::free(buffer);
  EXPECT_THAT(text, HasSubstr("trial 3 FAILED\n"));
  EXPECT_THAT(text, HasSubstr("completed 1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("completed 2")));
  EXPECT_THAT(text, HasSubstr("completed 3"));
  EXPECT_EQ(text.find('\r'), std::string::npos);  // no terminal control in logs
}

TEST(ProgressTest, QuietPrintsNothing) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  {
    Progress progress(ProgressMode::kQuiet, out);
    progress.Event("x");
    progress.Update(ProgressSnapshot{}, true);
  }
  std::fclose(out);
  EXPECT_EQ(size, 0u);
  std::free(buffer);
}

}  // namespace
}  // namespace sherpa::runner
