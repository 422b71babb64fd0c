// Studies on real clusters: the single-node Slurm cluster and Grid Engine
// cell that tools/clusters.sh starts (CI starts them and sets
// SHERPA_REQUIRE_CLUSTERS=1; elsewhere these tests skip without them).
//
// Each study goes the whole way a user's does: a spec file's text, the
// runner, sbatch/qsub, a shell trial that talks to the runner with the
// `sherpa trial` commands from a compute node, and the study.db that is
// left. The Scheduler contract itself is checked for both clusters by the
// conformance suite compiled into this binary.
//
// SHERPA_CLUSTER_BENCH=1 also runs SlurmHandOff, which prints the hand-off
// latency and the throughput of the Slurm path.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/status_matchers.h"
#include "scheduler/cluster_scheduler.h"
#include "scheduler/cluster_testing.h"
#include "scheduler/process.h"
#include "storage/study_store.h"

#include "sherpa/runner.h"
#include "sherpa/scheduler.h"
#include "sherpa/status.h"
#include "sherpa/study_spec.h"

#ifndef SHERPA_CLI_PATH
#error "SHERPA_CLI_PATH must name the sherpa binary"
#endif

namespace sherpa {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct ClusterCase {
  std::string name;       // test-name suffix
  std::string scheduler;  // the spec's scheduler name
  // submit_options that give a job a time limit it will outlive, and how
  // long it then takes at most to be ended for it.
  std::string time_limit_options;
  std::chrono::seconds time_limit_wait;
};

void PrintTo(const ClusterCase& c, std::ostream* os) { *os << c.name; }

const ClusterCase kSlurm{"Slurm", "slurm",
                         // Slurm's limits are whole minutes, checked every
                         // 30 s: this takes 60-100 s whatever we do.
                         "--time=1", std::chrono::seconds(180)};
const ClusterCase kSge{"Sge", "sge", "-l h_rt=0:0:3", std::chrono::seconds(60)};

// Skips (or, when clusters are required, fails) unless `scheduler` works.
#define SHERPA_REQUIRE_CLUSTER(scheduler)                                                 \
  do {                                                                                    \
    ClusterSchedulerOptions probe;                                                        \
    StatusOr<std::unique_ptr<Scheduler>> made =                                           \
        (scheduler) == "slurm" ? NewSlurmScheduler(probe) : NewSgeScheduler(probe);       \
    if (!made.ok()) {                                                                     \
      if (!scheduler_internal::ClustersRequired()) {                                      \
        GTEST_SKIP() << made.status() << "; " << scheduler_internal::kHowToStartClusters; \
      }                                                                                   \
      FAIL() << made.status();                                                            \
    }                                                                                     \
  } while (false)

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts the sherpa CLI with `args`, its output appended to `log`.
StatusOr<pid_t> StartSherpa(const std::vector<std::string>& args, const std::string& log) {
  scheduler_internal::SpawnOptions spawn;
  spawn.argv = {SHERPA_CLI_PATH};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.output_path = log;
  return scheduler_internal::Spawn(spawn);
}

// Runs studies on the cluster `scheduler_` names.
class ClusterStudy : public ::testing::Test {
 protected:
  explicit ClusterStudy(std::string scheduler) : scheduler_(std::move(scheduler)) {}

  void SetUp() override {
    SHERPA_REQUIRE_CLUSTER(scheduler_);
    // Under /tmp: on one machine it is the filesystem the "compute node"
    // shares with the runner, as output_dir must be on a real cluster.
    std::string pattern = "/tmp/sherpa_cluster_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  // Writes an executable shell trial; `$S` in it is the sherpa command.
  std::string Trial(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\nS=" << SHERPA_CLI_PATH << "\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }

  // A spec for `trial` on this test's cluster; `more` adds YAML lines.
  std::string Spec(const std::string& parameters_and_algorithm, const std::string& trial,
                   const std::string& more = "") {
    return parameters_and_algorithm + "lower_is_better: false\ncommand: sh " + trial +
           "\noutput_dir: " + dir_ + "/out\nscheduler: {name: " + scheduler_ +
           ", poll_interval: 0.2" + more + "}\n";
  }

  StatusOr<OptimizeResult> Run(const std::string& spec, size_t max_concurrent = 1,
                               const std::string& stopping_rule = "") {
    StatusOr<OptimizeOptions> options = LoadStudySpec(spec + stopping_rule, "cluster_test.yaml");
    if (!options.ok()) return options.status();
    options->max_concurrent = max_concurrent;
    options->working_dir = dir_;
    options->progress = ProgressMode::kLines;
    options->handle_signals = false;
    return optimize(std::move(*options));
  }

  std::vector<storage::StoredTrial> Trials() {
    auto store = storage::StudyStore::Open(dir_ + "/out/study.db", false);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    auto trials = (*store)->LoadTrials();
    EXPECT_TRUE(trials.ok()) << trials.status();
    return trials.ok() ? *trials : std::vector<storage::StoredTrial>{};
  }

  std::vector<storage::StoredObservation> Observations() {
    auto store = storage::StudyStore::Open(dir_ + "/out/study.db", false);
    if (!store.ok()) return {};
    auto observations = (*store)->LoadObservations();
    return observations.ok() ? *observations : std::vector<storage::StoredObservation>{};
  }

  const std::string scheduler_;
  std::string dir_;
};

class ClusterStudyTest : public ClusterStudy, public ::testing::WithParamInterface<ClusterCase> {
 protected:
  ClusterStudyTest() : ClusterStudy(GetParam().scheduler) {}
};

// The score of a member is its parent's score (read from the parent's
// checkpoint) plus its own x; it saves the score as its own checkpoint and
// reports what it loaded. If a trial did not load its parent's checkpoint,
// `loaded` differs from the parent's objective.
constexpr char kPbtTrial[] = R"sh(set -e
echo "$SHERPA_HOST" > "$SHERPA_OUTPUT_DIR/host_seen"
x=$($S trial get -p x)
load=$($S trial get -p load_from)
save=$($S trial get -p save_to)
base=0
if [ -n "$load" ]; then base=$(cat "$($S trial checkpoint "$load")"); fi
score=$(awk "BEGIN { print $base + $x }")
echo "$score" > "$($S trial checkpoint "$save")"
$S trial report -i 1 -o "$score" -c "loaded=$base"
)sh";

TEST_P(ClusterStudyTest, PbtStudyCompletesAndTrialsLoadTheirParentsCheckpoints) {
  const std::string trial = Trial("trial.sh", kPbtTrial);
  StatusOr<OptimizeResult> result = Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: PopulationBasedTraining, population_size: 4, num_generations: 3}
seed: 3
)",
                                             trial),
                                        /*max_concurrent=*/4);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed, 12u);
  EXPECT_EQ(result->failed, 0u);
  EXPECT_FALSE(result->interrupted);

  const std::vector<storage::StoredTrial> trials = Trials();
  ASSERT_EQ(trials.size(), 12u);
  std::map<std::string, double> objective_of_save;  // save_to -> objective
  std::map<TrialId, double> loaded;
  for (const storage::StoredObservation& o : Observations()) {
    loaded[o.trial_id] = o.observation.context.at("loaded").as_number();
    for (const storage::StoredTrial& t : trials) {
      if (t.trial.id == o.trial_id) {
        objective_of_save[t.trial.parameters.at("save_to").ToString()] = o.observation.objective;
      }
    }
  }
  int children = 0;
  for (const storage::StoredTrial& t : trials) {
    EXPECT_EQ(t.state, "COMPLETED") << "trial " << t.trial.id << ": " << t.reason;
    EXPECT_FALSE(t.job_id.empty());
    const std::string load_from = t.trial.parameters.at("load_from").ToString();
    if (load_from.empty()) {
      EXPECT_EQ(loaded[t.trial.id], 0.0);
      continue;
    }
    ++children;
    ASSERT_TRUE(objective_of_save.count(load_from)) << load_from;
    EXPECT_DOUBLE_EQ(loaded[t.trial.id], objective_of_save[load_from])
        << "trial " << t.trial.id << " did not load the checkpoint of its parent " << load_from;
  }
  EXPECT_EQ(children, 8);

  // The trials reached the API through this host's name (the default for
  // cluster schedulers), not 127.0.0.1.
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  std::ifstream seen(dir_ + "/out/host_seen");
  std::string seen_host;
  seen >> seen_host;
  EXPECT_EQ(seen_host, host);
}

TEST_P(ClusterStudyTest, AFailingJobIsFailedWithItsExitCode) {
  const std::string trial =
      Trial("trial.sh", "$S trial report -i 1 -o 1\necho dying >&2\nexit 3\n");
  StatusOr<OptimizeResult> result = Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 1}
)",
                                             trial));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->failed, 1u);
  const std::vector<storage::StoredTrial> trials = Trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, "FAILED");
  EXPECT_EQ(trials[0].reason, "exit code 3");
  // stdout and stderr of the job went to jobs/trial_<id>.out.
  EXPECT_THAT(ReadText(dir_ + "/out/jobs/trial_1.out"), HasSubstr("dying"));
}

TEST_P(ClusterStudyTest, AJobCancelledByTheStudyIsStopped) {
  // "good" reports 10 and ends; "bad" reports 0, which the median rule
  // stops, and ignores the request, so the study must cancel its job.
  const std::string trial = Trial("trial.sh", R"sh(mode=$($S trial get -p mode)
if [ "$mode" = good ]; then $S trial report -i 1 -o 10; exit 0; fi
$S trial report -i 1 -o 0
sleep 600
)sh");
  StatusOr<OptimizeResult> result =
      Run(Spec(R"(parameters:
  - {name: mode, type: choice, range: [good, bad]}
algorithm: GridSearch
)",
               trial),
          1, "stopping_rule: {name: MedianStoppingRule, min_trials: 1}\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed, 1u);
  EXPECT_EQ(result->stopped, 1u);
  for (const storage::StoredTrial& t : Trials()) {
    const bool bad = t.trial.parameters.at("mode").ToString() == "bad";
    EXPECT_EQ(t.state, bad ? "STOPPED" : "COMPLETED") << t.reason;
  }
}

TEST_P(ClusterStudyTest, AJobThatOutlivesItsTimeLimitFailsWithTheReason) {
  const std::string trial = Trial("trial.sh", "$S trial report -i 1 -o 1\nsleep 600\n");
  const auto start = std::chrono::steady_clock::now();
  StatusOr<OptimizeResult> result =
      Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 1}
)",
               trial, ", submit_options: \"" + GetParam().time_limit_options + "\""));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, GetParam().time_limit_wait);
  const std::vector<storage::StoredTrial> trials = Trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, "FAILED");
  EXPECT_THAT(trials[0].reason, StartsWith("TIMEOUT"));
}

TEST_P(ClusterStudyTest, ATrialThatEndsThroughTheApiFreesItsSlotAtOnce) {
  // With one slot, the second trial starts while the first one's job is
  // still running (sleeping after `sherpa trial end`; kill_grace lets it).
  const std::string trial = Trial("trial.sh", R"sh(id=$SHERPA_TRIAL_ID
echo "start $(date +%s.%N)" > "$SHERPA_OUTPUT_DIR/t$id"
$S trial report -i 1 -o 1
$S trial end
sleep 6
echo "exit $(date +%s.%N)" >> "$SHERPA_OUTPUT_DIR/t$id"
)sh");
  StatusOr<OptimizeResult> result = Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 2}
)",
                                             trial, ", kill_grace: 30"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed, 2u);
  auto read = [&](int id) {
    std::map<std::string, double> times;
    std::ifstream in(dir_ + "/out/t" + std::to_string(id));
    std::string what;
    double at = 0;
    while (in >> what >> at) times[what] = at;
    return times;
  };
  auto first = read(1), second = read(2);
  ASSERT_TRUE(first.count("exit") && second.count("start"));
  EXPECT_LT(second["start"], first["exit"]);
}

TEST_P(ClusterStudyTest, AnEndedTrialWhoseJobDoesNotExitIsStoppedAfterKillGrace) {
  const std::string trial =
      Trial("trial.sh", "$S trial report -i 1 -o 1\n$S trial end\nsleep 600\n");
  const auto start = std::chrono::steady_clock::now();
  StatusOr<OptimizeResult> result = Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 1}
)",
                                             trial, ", kill_grace: 1"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(result->completed, 1u);  // ended through the API: stopping its job changes nothing
  const std::vector<storage::StoredTrial> trials = Trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, "COMPLETED");
}

bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0; }

// A runner killed with SIGKILL leaves its cluster jobs running (unlike local
// trials, they are not its processes). `sherpa resume` cancels them before
// it runs their trials again: the old job would otherwise go on, holding a
// slot and writing the checkpoint of the attempt that replaces it.
TEST_P(ClusterStudyTest, ResumeCancelsTheJobsAKilledRunnerLeft) {
  const std::string first_pid = dir_ + "/first_pid";
  // The first attempt records its pid and sleeps; the next one reports.
  const std::string trial =
      Trial("trial.sh", "if [ ! -e " + first_pid + " ]; then\n  echo $$ > " + first_pid +
                            ".tmp\n  mv " + first_pid + ".tmp " + first_pid +
                            "\n  exec sleep 600\nfi\n"
                            "$S trial report -i 1 -o 1\n");
  std::ofstream(dir_ + "/spec.yaml") << Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 1}
)",
                                             trial);
  const std::string log = dir_ + "/runner.log";
  ASSERT_OK_AND_ASSIGN(const pid_t runner, StartSherpa({"run", dir_ + "/spec.yaml"}, log));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!fs::exists(first_pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(first_pid)) << ReadText(log);
  // Past the runner's lazy commit of "trial started" (at most 20 ms).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(runner, SIGKILL);
  ASSERT_TRUE(scheduler_internal::Reap(runner).ok());
  const pid_t orphan = static_cast<pid_t>(std::stol(ReadText(first_pid)));
  ASSERT_TRUE(ProcessExists(orphan)) << "the killed runner's job should still run";

  ASSERT_OK_AND_ASSIGN(const pid_t resume, StartSherpa({"resume", dir_ + "/out"}, log));
  StatusOr<scheduler_internal::ExitStatus> resumed = scheduler_internal::Reap(resume);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->code(), 0) << ReadText(log);
  EXPECT_THAT(ReadText(log), HasSubstr("cancelled 1 " + GetParam().scheduler + " job(s)"));
  const std::vector<storage::StoredTrial> trials = Trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, "COMPLETED");
  // The cluster ends the cancelled job's processes within a few seconds.
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ProcessExists(orphan) && std::chrono::steady_clock::now() < gone_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(ProcessExists(orphan)) << "the job left by the killed runner still runs";
}

TEST_P(ClusterStudyTest, AStudySurvivesSchedulerCommandsThatFailOnce) {
  // Wrappers in front of the real commands: the first submit and the first
  // poll after it fail as with a controller that is briefly down.
  const bool slurm = GetParam().scheduler == "slurm";
  const std::string bin = dir_ + "/bin";
  fs::create_directories(bin);
  const std::string submit = slurm ? "sbatch" : "qsub";
  const std::string poll = slurm ? "squeue" : "qstat";
  const std::string message = slurm ? "error: Unable to contact slurm controller (connect failure)"
                                    : "error: commlib error: got select error (Connection refused)";
  auto wrap = [&](const std::string& name, int fail_on_call) {
    const std::string real = scheduler_internal::FindProgram(name, "");
    ASSERT_FALSE(real.empty()) << name;
    const std::string path = bin + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n"
                        << "echo x >> " << bin << "/" << name << ".calls\n"
                        << "if [ \"$(wc -l < " << bin << "/" << name << ".calls)\" -eq "
                        << fail_on_call << " ]; then echo '" << message << "' >&2; exit 1; fi\n"
                        << "exec " << real << " \"$@\"\n";
    ::chmod(path.c_str(), 0755);
  };
  wrap(submit, 1);
  wrap(poll, 3);  // the first call checks the controller, the second is the first poll
  const std::string old_path = std::getenv("PATH");
  ASSERT_EQ(::setenv("PATH", (bin + ":" + old_path).c_str(), 1), 0);
  const std::string trial = Trial("trial.sh", "$S trial report -i 1 -o 1\n");
  StatusOr<OptimizeResult> result = Run(Spec(R"(parameters:
  - {name: x, type: continuous, range: [0.0, 1.0]}
algorithm: {name: RandomSearch, max_num_trials: 2}
)",
                                             trial));
  ::setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed, 2u);
  EXPECT_EQ(result->failed, 0u);
  auto calls = [&](const std::string& name) {
    std::ifstream in(bin + "/" + name + ".calls");
    return static_cast<int>(
        std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  };
  EXPECT_GE(calls(submit), 3);  // one failure, then the two trials
  EXPECT_GE(calls(poll), 3);
}

INSTANTIATE_TEST_SUITE_P(Clusters, ClusterStudyTest, ::testing::Values(kSlurm, kSge),
                         [](const ::testing::TestParamInfo<ClusterCase>& param_info) {
                           return param_info.param.name;
                         });

// --- measurement ---------------------------------------------------------------

// Times from the trials' own clocks (date +%s.%N at start and at exit).
struct TrialTimes {
  double start = 0, end = 0;
};

class SlurmHandOff : public ClusterStudy {
 protected:
  SlurmHandOff() : ClusterStudy("slurm") {}

  void SetUp() override {
    if (std::getenv("SHERPA_CLUSTER_BENCH") == nullptr) {
      GTEST_SKIP() << "set SHERPA_CLUSTER_BENCH=1 to measure the Slurm hand-off";
    }
    ClusterStudy::SetUp();
  }

  // Runs `trials` trivial trials, `concurrent` at a time; each reports, then
  // (if `end_through_api`) ends itself through the API, then exits.
  std::vector<TrialTimes> Study(int trials, size_t concurrent, bool end_through_api,
                                double poll_interval) {
    std::error_code ignored;
    fs::remove_all(dir_ + "/out", ignored);
    const std::string trial =
        Trial("trial.sh", std::string("echo \"start $(date +%s.%N)\" >> "
                                      "\"$SHERPA_OUTPUT_DIR/t$SHERPA_TRIAL_ID\"\n"
                                      "$S trial report -i 1 -o 1\n") +
                              "echo \"end $(date +%s.%N)\" >> "
                              "\"$SHERPA_OUTPUT_DIR/t$SHERPA_TRIAL_ID\"\n" +
                              (end_through_api ? "$S trial end\n" : ""));
    std::string spec = Spec(
        "parameters:\n  - {name: x, type: continuous, range: [0.0, 1.0]}\n"
        "algorithm: {name: RandomSearch, max_num_trials: " +
            std::to_string(trials) + "}\n",
        trial);
    const std::string from = "poll_interval: 0.2";
    spec.replace(spec.find(from), from.size(), "poll_interval: " + std::to_string(poll_interval));
    StatusOr<OptimizeOptions> options = LoadStudySpec(spec, "bench.yaml");
    EXPECT_TRUE(options.ok()) << options.status();
    if (!options.ok()) return {};
    options->max_concurrent = concurrent;
    options->working_dir = dir_;
    options->progress = ProgressMode::kQuiet;
    options->handle_signals = false;
    const auto started = std::chrono::steady_clock::now();
    StatusOr<OptimizeResult> result = optimize(std::move(*options));
    wall_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) {
      EXPECT_EQ(result->completed, static_cast<size_t>(trials));
    }
    std::vector<TrialTimes> times;
    for (int id = 1; id <= trials; ++id) {
      std::ifstream in(dir_ + "/out/t" + std::to_string(id));
      TrialTimes t;
      std::string what;
      double at = 0;
      while (in >> what >> at) (what == "start" ? t.start : t.end) = at;
      times.push_back(t);
    }
    std::sort(times.begin(), times.end(),
              [](const TrialTimes& a, const TrialTimes& b) { return a.start < b.start; });
    return times;
  }

  double wall_ = 0;  // of the last Study, from optimize() to its return
};

TEST_F(SlurmHandOff, LatencyAndThroughput) {
  std::printf("Slurm hand-off (single-node cluster of tools/clusters.sh)\n");
  for (double poll : {1.0, 0.2}) {
    for (bool api : {false, true}) {
      const std::vector<TrialTimes> t = Study(8, 1, api, poll);
      std::vector<double> gaps;
      for (size_t i = 1; i < t.size(); ++i) gaps.push_back(t[i].start - t[i - 1].end);
      std::sort(gaps.begin(), gaps.end());
      ASSERT_FALSE(gaps.empty());
      double sum = 0;
      for (double g : gaps) sum += g;
      std::printf(
          "  latency, max_concurrent 1, poll_interval %.1f s, %-26s: mean %.2f s, median %.2f "
          "s, min %.2f s, max %.2f s (%zu hand-offs)\n",
          poll, api ? "trial ends through the API" : "trial just exits", sum / gaps.size(),
          gaps[gaps.size() / 2], gaps.front(), gaps.back(), gaps.size());
    }
  }
  for (size_t concurrent : {2, 4, 8}) {
    const int n = static_cast<int>(4 * concurrent);
    const std::vector<TrialTimes> t = Study(n, concurrent, true, 1.0);
    ASSERT_EQ(t.size(), static_cast<size_t>(n));
    double last_end = 0;
    for (const TrialTimes& x : t) last_end = std::max(last_end, x.end);
    const double span = last_end - t.front().start;
    std::printf(
        "  throughput, max_concurrent %zu, %d trivial trials ending through the API: first "
        "start to last end %.2f s = %.2f trials/s (whole study %.2f s)\n",
        concurrent, n, span, n / span, wall_);
  }
}

}  // namespace
}  // namespace sherpa
