// The Grid Engine parsers, on output recorded from Son of Grid Engine 8.1.9
// (single-node cell of tools/clusters.sh).
#include "scheduler/sge_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa::scheduler_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(SgeParseTest, QsubOutput) {
  EXPECT_EQ(*ParseQsubOutput("12\n"), "12");
  EXPECT_EQ(*ParseQsubOutput("12.1-4:1\n"), "12");
  EXPECT_EQ(*ParseQsubOutput("Your job 7 (\"trial_1\") has been submitted\n"), "7");
  EXPECT_FALSE(ParseQsubOutput("").ok());
  EXPECT_FALSE(
      ParseQsubOutput("Unable to run job: denied: \"1abc\" is not a valid object name\n").ok());
}

TEST(SgeParseTest, QstatTable) {
  const char* out =
      "job-ID  prior   name       user         state submit/start at     queue               "
      "           slots ja-task-ID \n"
      "----------------------------------------------------------------------------------------"
      "-------------------------\n"
      "      4 0.50000 b_sleep    root         r     11/27/2026 23:33:48 all.q@localhost      "
      "              1        \n"
      "      6 0.50000 d_rt       root         dr    11/27/2026 23:33:48 all.q@localhost      "
      "              1        \n"
      "      5 0.00000 c_hold     root         hqw   11/27/2026 23:33:48                      "
      "              1        \n"
      "      9 0.00000 broken     root         Eqw   11/27/2026 23:33:50                      "
      "              1        \n";
  const auto jobs = ParseQstat(out);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs.at("4"), "r");
  EXPECT_EQ(jobs.at("5"), "hqw");
  EXPECT_EQ(SgeQueueStatus("4", jobs.at("4")).state, JobState::kRunning);
  EXPECT_EQ(SgeQueueStatus("6", jobs.at("6")).state, JobState::kRunning);
  EXPECT_EQ(SgeQueueStatus("5", jobs.at("5")).state, JobState::kQueued);
  EXPECT_EQ(SgeQueueStatus("5", "qw").state, JobState::kQueued);
  EXPECT_EQ(SgeQueueStatus("5", "t").state, JobState::kRunning);
  const JobStatus error = SgeQueueStatus("9", jobs.at("9"));
  EXPECT_EQ(error.state, JobState::kFailed);
  EXPECT_THAT(error.reason, HasSubstr("qstat -j 9"));
  EXPECT_TRUE(ParseQstat("").empty());
}

// qacct -j ID, trimmed to the lines that matter plus a few around them.
std::string Record(const std::string& id, const std::string& failed, const std::string& exit) {
  return "==============================================================\n"
         "qname        all.q               \n"
         "hostname     localhost           \n"
         "jobname      a_job               \n"
         "jobnumber    " +
         id +
         "                   \n"
         "failed       " +
         failed +
         "\n"
         "exit_status  " +
         exit +
         "\n"
         "ru_wallclock 8s\n";
}

TEST(SgeParseTest, QacctRecords) {
  auto ok = ParseQacct(Record("2", "0    ", "0                   "), "2");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(SgeAccountingStatus(*ok, false).state, JobState::kCompleted);

  auto exit3 = ParseQacct(Record("3", "0    ", "3                   "), "3");
  ASSERT_TRUE(exit3.has_value());
  const JobStatus failed = SgeAccountingStatus(*exit3, false);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.reason, "exit code 3");

  auto deleted =
      ParseQacct(Record("4", "100 : assumedly after job", "137                  (Killed)"), "4");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->failed, 100);
  EXPECT_EQ(deleted->failed_text, "assumedly after job");
  EXPECT_EQ(deleted->exit_status, 137);
  EXPECT_EQ(SgeAccountingStatus(*deleted, true).state, JobState::kKilled);
  const JobStatus killed = SgeAccountingStatus(*deleted, false);
  EXPECT_EQ(killed.state, JobState::kFailed);
  EXPECT_THAT(killed.reason, HasSubstr("SIGKILL"));
  EXPECT_THAT(killed.reason, HasSubstr("assumedly after job"));

  auto limit = ParseQacct(Record("6", "37  : qmaster enforced h_rt, h_cpu, or h_vmem limit",
                                 "137                  (Killed)"),
                          "6");
  ASSERT_TRUE(limit.has_value());
  const JobStatus timeout = SgeAccountingStatus(*limit, false);
  EXPECT_EQ(timeout.state, JobState::kFailed);
  EXPECT_THAT(timeout.reason, StartsWith("TIMEOUT"));
  EXPECT_THAT(timeout.reason, HasSubstr("h_rt"));

  auto before = ParseQacct(Record("8", "26  : opening input/output file", "0"), "8");
  ASSERT_TRUE(before.has_value());
  const JobStatus setup = SgeAccountingStatus(*before, false);
  EXPECT_EQ(setup.state, JobState::kFailed);
  EXPECT_EQ(setup.exit_code, -1);
  EXPECT_THAT(setup.reason, HasSubstr("failed 26: opening input/output file"));
}

TEST(SgeParseTest, QacctTakesTheLastRecordOfTheJob) {
  // Job ids restart with a new cell; a rescheduled job has one record per run.
  const std::string out = Record("5", "0", "1") + Record("5", "0", "0") + Record("51", "0", "2");
  auto record = ParseQacct(out, "5");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->exit_status, 0);
  EXPECT_FALSE(ParseQacct(out, "6").has_value());
  EXPECT_FALSE(ParseQacct("error: job id 5 not found\n", "5").has_value());
}

}  // namespace
}  // namespace sherpa::scheduler_internal
