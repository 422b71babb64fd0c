// The Slurm parsers, on output recorded from Slurm 22.05.8 (single-node
// cluster of tools/clusters.sh).
#include "scheduler/slurm_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa::scheduler_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(SlurmParseTest, SbatchParsableOutput) {
  EXPECT_EQ(*ParseSbatchOutput("12\n"), "12");
  EXPECT_EQ(*ParseSbatchOutput("12;cluster_b\n"), "12");
  // A warning on stdout before the id.
  EXPECT_EQ(*ParseSbatchOutput("sbatch: warning: something odd\n34\n"), "34");
  EXPECT_FALSE(ParseSbatchOutput("").ok());
  EXPECT_FALSE(ParseSbatchOutput("Submitted batch job\n").ok());
}

TEST(SlurmParseTest, SqueueOfFinishedAndLiveJobs) {
  // squeue -h -t all -j 3,4,5,6 -O "JobID:|,State:|,Reason:|,exit_code:|"
  const char* out =
      "4|CANCELLED|None|15|\n"
      "5|COMPLETED|None|0|\n"
      "3|FAILED|NonZeroExitCode|768|\n"
      "6|PENDING|JobHeldUser|0|\n"
      "8|FAILED|JobLaunchFailure|9|\n"
      "7|TIMEOUT|TimeLimit|15|\n";
  auto jobs = ParseSqueue(out);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 6u);
  EXPECT_EQ(jobs->at("3").state, "FAILED");
  EXPECT_EQ(jobs->at("3").exit_code, 3);
  EXPECT_EQ(jobs->at("3").signal, 0);
  EXPECT_EQ(jobs->at("4").signal, 15);
  EXPECT_EQ(jobs->at("6").reason, "JobHeldUser");
  EXPECT_EQ(jobs->at("8").signal, 9);

  EXPECT_EQ(SlurmJobStatus(jobs->at("5"), false).state, JobState::kCompleted);
  const JobStatus failed = SlurmJobStatus(jobs->at("3"), false);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.reason, "exit code 3");
  const JobStatus crashed = SlurmJobStatus(jobs->at("8"), false);
  EXPECT_EQ(crashed.state, JobState::kFailed);
  EXPECT_EQ(crashed.exit_code, 128 + 9);
  EXPECT_THAT(crashed.reason, HasSubstr("SIGKILL"));
  EXPECT_THAT(crashed.reason, HasSubstr("JobLaunchFailure"));
  const JobStatus pending = SlurmJobStatus(jobs->at("6"), false);
  EXPECT_EQ(pending.state, JobState::kQueued);
  EXPECT_EQ(pending.reason, "JobHeldUser");
  const JobStatus timeout = SlurmJobStatus(jobs->at("7"), false);
  EXPECT_EQ(timeout.state, JobState::kFailed);
  EXPECT_THAT(timeout.reason, StartsWith("TIMEOUT"));
}

TEST(SlurmParseTest, CancelledIsKilledOnlyIfWeCancelled) {
  SlurmJob job{"CANCELLED", "None", 0, 15};
  EXPECT_EQ(SlurmJobStatus(job, true).state, JobState::kKilled);
  const JobStatus theirs = SlurmJobStatus(job, false);
  EXPECT_EQ(theirs.state, JobState::kFailed);
  EXPECT_THAT(theirs.reason, StartsWith("CANCELLED"));
}

TEST(SlurmParseTest, EveryClusterFailureIsFailedWithItsName) {
  for (const char* state :
       {"TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}) {
    const JobStatus status = SlurmJobStatus(SlurmJob{state, "", 0, 0}, false);
    EXPECT_EQ(status.state, JobState::kFailed) << state;
    EXPECT_THAT(status.reason, StartsWith(state));
  }
}

TEST(SlurmParseTest, LiveStates) {
  for (const char* state : {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD"}) {
    EXPECT_EQ(SlurmJobStatus(SlurmJob{state, "None", 0, 0}, false).state, JobState::kQueued)
        << state;
  }
  for (const char* state : {"RUNNING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SOMETHING_NEW"}) {
    EXPECT_EQ(SlurmJobStatus(SlurmJob{state, "None", 0, 0}, false).state, JobState::kRunning)
        << state;
  }
}

TEST(SlurmParseTest, SqueueRejectsGarbage) {
  EXPECT_TRUE(ParseSqueue("").ok());
  EXPECT_TRUE(ParseSqueue("\n").ok());
  EXPECT_FALSE(ParseSqueue("slurm_load_jobs error: Invalid job id specified\n").ok());
  EXPECT_FALSE(ParseSqueue("12|RUNNING|None|\n").ok());
}

TEST(SlurmParseTest, SacctFromTheCompletionLogAndFromSlurmdbd) {
  // sacct -c -n -P -j 3,4,5,7,8,9 -o JobID,State,ExitCode (jobcomp/filetxt)
  auto jobs = ParseSacct(
      "5|COMPLETED|0:0\n3|FAILED|3:0\n4|CANCELLED|0:0\n9|FAILED|44:0\n8|FAILED|0:9\n"
      "7|TIMEOUT|0:0\n");
  ASSERT_EQ(jobs.size(), 6u);
  EXPECT_EQ(jobs["3"].exit_code, 3);
  EXPECT_EQ(jobs["8"].signal, 9);
  EXPECT_EQ(SlurmJobStatus(jobs["9"], false).exit_code, 44);
  // sacct -X with slurmdbd: "CANCELLED by <uid>", and step lines without -X.
  jobs = ParseSacct("12|CANCELLED by 0|0:0\n12.batch|CANCELLED|0:15\n13|COMPLETED|0:0\n");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs["12"].state, "CANCELLED");
  EXPECT_EQ(SlurmJobStatus(jobs["12"], true).state, JobState::kKilled);
  // The completion log keeps jobs of an earlier cluster with the same id.
  jobs = ParseSacct("5|FAILED|1:0\n5|COMPLETED|0:0\n");
  EXPECT_EQ(jobs["5"].state, "COMPLETED");
  EXPECT_TRUE(ParseSacct("").empty());
}

}  // namespace
}  // namespace sherpa::scheduler_internal
