// The Scheduler contract (sherpa/scheduler.h), checked for every scheduler
// through a factory, with real jobs:
//   * submit runs `command` through /bin/sh in `working_dir`, with the
//     runner's environment plus `env` (env wins), stdout and stderr appended
//     to `output_path` (whose directory is created);
//   * exit 0 is kCompleted, a non-zero exit kFailed with its exit code;
//   * every change of state is followed by an on_change call after which
//     status() shows it (tests here wait on on_change only, never on a timer);
//   * status answers for many jobs at once and leaves unknown ids out;
//   * kill ends a job as kKilled; killing an ended job is OK and changes
//     nothing, killing an unknown one is NOT_FOUND.
//
// To check another scheduler, add a SchedulerFactory to Factories() below.
// The cluster schedulers (Slurm, Grid Engine) are checked by the same code
// compiled into scheduler_cluster_test with SHERPA_CLUSTER_CONFORMANCE, against
// the real clusters of tools/clusters.sh.

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"
#include "scheduler/cluster_testing.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa {
namespace {

using ::testing::HasSubstr;

struct SchedulerFactory {
  std::string name;  // test-name suffix
  std::function<StatusOr<std::unique_ptr<Scheduler>>(std::function<void()> on_change)> make;
  // How long a short job may take from submit to being reported ended.
  std::chrono::milliseconds end_timeout;
  // A cluster that cannot be reached skips the tests (unless required).
  bool cluster = false;
};

void PrintTo(const SchedulerFactory& factory, std::ostream* os) { *os << factory.name; }

const std::vector<SchedulerFactory>& Factories() {
  static const auto* factories = new std::vector<SchedulerFactory>{
#ifndef SHERPA_CLUSTER_CONFORMANCE
      {"Local",
       [](std::function<void()> on_change) -> StatusOr<std::unique_ptr<Scheduler>> {
         LocalSchedulerOptions options;
         options.on_change = std::move(on_change);
         return NewLocalScheduler(std::move(options));
       },
       std::chrono::seconds(10)},
#else
      // Jobs take about a second to be scheduled on these clusters, and
      // their end is seen at the next poll.
      {"Slurm",
       [](std::function<void()> on_change) {
         ClusterSchedulerOptions options;
         options.poll_interval = std::chrono::milliseconds(200);
         options.on_change = std::move(on_change);
         return NewSlurmScheduler(std::move(options));
       },
       std::chrono::seconds(60), /*cluster=*/true},
      {"Sge",
       [](std::function<void()> on_change) {
         ClusterSchedulerOptions options;
         options.poll_interval = std::chrono::milliseconds(200);
         options.on_change = std::move(on_change);
         return NewSgeScheduler(std::move(options));
       },
       std::chrono::seconds(60), /*cluster=*/true},
#endif
  };
  return *factories;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SchedulerConformanceTest : public ::testing::TestWithParam<SchedulerFactory> {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "sherpa_sched_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = std::filesystem::canonical(pattern);
    StatusOr<std::unique_ptr<Scheduler>> made = GetParam().make([this] { OnChange(); });
    if (!made.ok() && GetParam().cluster && !scheduler_internal::ClustersRequired()) {
      GTEST_SKIP() << made.status() << "; " << scheduler_internal::kHowToStartClusters;
    }
    ASSERT_TRUE(made.ok()) << made.status();
    scheduler_ = std::move(*made);
    ASSERT_NE(scheduler_, nullptr);
  }

  void TearDown() override {
    scheduler_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void OnChange() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++changes_;
    }
    cv_.notify_all();
  }

  JobSpec Spec(std::string command, std::string name = "job") {
    JobSpec spec;
    spec.command = std::move(command);
    spec.output_path = (dir_ / (name + ".out")).string();
    spec.name = std::move(name);
    return spec;
  }

  // Waits for `id` to end, rechecking status() after each on_change only.
  JobStatus WaitForEnd(const JobId& id) {
    const auto deadline = std::chrono::steady_clock::now() + GetParam().end_timeout;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      const uint64_t seen = changes_;
      lock.unlock();
      StatusOr<std::map<JobId, JobStatus>> statuses = scheduler_->status({id});
      lock.lock();
      if (!statuses.ok()) {
        ADD_FAILURE() << statuses.status();
        return {};
      }
      auto it = statuses->find(id);
      if (it == statuses->end()) {
        ADD_FAILURE() << "job " << id << " is unknown";
        return {};
      }
      if (it->second.ended()) return it->second;
      if (!cv_.wait_until(lock, deadline, [&] { return changes_ != seen; })) {
        ADD_FAILURE() << "job " << id << " still " << JobStateName(it->second.state)
                      << " and no on_change call after " << GetParam().end_timeout.count() << " ms";
        return it->second;
      }
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t changes_ = 0;
};

TEST_P(SchedulerConformanceTest, HasAName) { EXPECT_FALSE(scheduler_->name().empty()); }

TEST_P(SchedulerConformanceTest, CompletedJobAppendsStdoutAndStderrToItsOutput) {
  JobSpec spec = Spec("echo to-stdout; echo to-stderr >&2");
  std::ofstream(spec.output_path) << "earlier\n";
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  JobStatus status = WaitForEnd(id);
  EXPECT_EQ(status.state, JobState::kCompleted) << status.reason;
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(ReadFile(spec.output_path), "earlier\nto-stdout\nto-stderr\n");

  // A second job with the same output file appends too.
  ASSERT_OK_AND_ASSIGN(JobId again, scheduler_->submit(Spec("echo again")));
  EXPECT_NE(again, id);
  EXPECT_EQ(WaitForEnd(again).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(spec.output_path), "earlier\nto-stdout\nto-stderr\nagain\n");
}

TEST_P(SchedulerConformanceTest, CreatesTheOutputDirectory) {
  JobSpec spec = Spec("echo made");
  spec.output_path = (dir_ / "jobs" / "nested" / "trial_1.out").string();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(spec.output_path), "made\n");
}

TEST_P(SchedulerConformanceTest, NonZeroExitIsFailedWithItsCode) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("echo partial; exit 3")));
  JobStatus status = WaitForEnd(id);
  EXPECT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_THAT(status.reason, HasSubstr("3"));
}

TEST_P(SchedulerConformanceTest, EnvIsAddedToTheRunnersAndWins) {
  ASSERT_EQ(::setenv("SHERPA_CONFORMANCE_KEPT", "from-runner", 1), 0);
  ASSERT_EQ(::setenv("SHERPA_CONFORMANCE_OVERRIDDEN", "from-runner", 1), 0);
  JobSpec spec = Spec(
      "echo \"$SHERPA_CONFORMANCE_KEPT|$SHERPA_CONFORMANCE_OVERRIDDEN|$SHERPA_CONFORMANCE_NEW\"");
  spec.env = {{"SHERPA_CONFORMANCE_OVERRIDDEN", "from-job"},
              {"SHERPA_CONFORMANCE_NEW", "with space; and 'quotes'"}};
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(spec.output_path), "from-runner|from-job|with space; and 'quotes'\n");
  ::unsetenv("SHERPA_CONFORMANCE_KEPT");
  ::unsetenv("SHERPA_CONFORMANCE_OVERRIDDEN");
}

TEST_P(SchedulerConformanceTest, RunsInTheWorkingDirectory) {
  std::filesystem::create_directories(dir_ / "work");
  JobSpec spec = Spec("pwd; echo data > made_here.txt");
  spec.working_dir = (dir_ / "work").string();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(spec.output_path), (dir_ / "work").string() + "\n");
  EXPECT_EQ(ReadFile(dir_ / "work" / "made_here.txt"), "data\n");
}

TEST_P(SchedulerConformanceTest, StatusAnswersForManyJobsAndLeavesOutUnknownOnes) {
  std::vector<JobId> ids;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(
        JobId id, scheduler_->submit(Spec("exit " + std::to_string(i), "j" + std::to_string(i))));
    ids.push_back(id);
  }
  EXPECT_EQ(std::set<JobId>(ids.begin(), ids.end()).size(), ids.size()) << "ids must be unique";
  for (const JobId& id : ids) WaitForEnd(id);

  std::vector<JobId> query = ids;
  query.push_back("no-such-job");
  ASSERT_OK_AND_ASSIGN(auto statuses, scheduler_->status(query));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[ids[0]].state, JobState::kCompleted);
  EXPECT_EQ(statuses[ids[1]].state, JobState::kFailed);
  EXPECT_EQ(statuses[ids[1]].exit_code, 1);
  EXPECT_EQ(statuses[ids[2]].exit_code, 2);
  EXPECT_EQ(statuses.count("no-such-job"), 0u);
}

TEST_P(SchedulerConformanceTest, KillEndsAJobAsKilled) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60")));
  ASSERT_OK_AND_ASSIGN(auto before, scheduler_->status({id}));
  EXPECT_FALSE(before[id].ended());
  EXPECT_TRUE(scheduler_->kill(id).ok());
  JobStatus status = WaitForEnd(id);
  EXPECT_EQ(status.state, JobState::kKilled);
  // Again, now that it has ended.
  EXPECT_TRUE(scheduler_->kill(id).ok());
  ASSERT_OK_AND_ASSIGN(auto after, scheduler_->status({id}));
  EXPECT_EQ(after[id].state, JobState::kKilled);
}

TEST_P(SchedulerConformanceTest, KillingAnEndedJobIsOkAndKeepsItsState) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("true")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_TRUE(scheduler_->kill(id).ok());
  ASSERT_OK_AND_ASSIGN(auto statuses, scheduler_->status({id}));
  EXPECT_EQ(statuses[id].state, JobState::kCompleted);
}

TEST_P(SchedulerConformanceTest, KillingAnUnknownJobIsNotFound) {
  EXPECT_EQ(scheduler_->kill("no-such-job").code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(All, SchedulerConformanceTest, ::testing::ValuesIn(Factories()),
                         [](const ::testing::TestParamInfo<SchedulerFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sherpa
