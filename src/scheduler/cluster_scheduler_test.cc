// The parts of the cluster schedulers that need no cluster: the shared
// table, polling and cancellation logic (through a scripted backend), the
// job script and the helpers, and the errors for missing commands and an
// unreachable controller (through fake commands). The real thing is tested
// against real Slurm and Grid Engine in cluster_test.cc.
#include "scheduler/cluster_scheduler.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/status_matchers.h"
#include "scheduler/process.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- helpers ---------------------------------------------------------------

TEST(SplitShellWordsTest, SplitsLikeAShell) {
  EXPECT_THAT(*SplitShellWords(""), ElementsAre());
  EXPECT_THAT(*SplitShellWords("  --gres=gpu:1\t--time=1:00:00 \n"),
              ElementsAre("--gres=gpu:1", "--time=1:00:00"));
  EXPECT_THAT(*SplitShellWords("-l 'h_rt=1:00:00,gpu=1' --comment=\"a b\" x\\ y"),
              ElementsAre("-l", "h_rt=1:00:00,gpu=1", "--comment=a b", "x y"));
  EXPECT_THAT(*SplitShellWords("\"say \\\"hi\\\" \\$HOME \\n\" ''"),
              ElementsAre("say \"hi\" $HOME \\n", ""));
  EXPECT_THAT(*SplitShellWords("a\\\nb"), ElementsAre("ab"));
  EXPECT_EQ(SplitShellWords("'open").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitShellWords("\"open").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitShellWords("end\\").status().code(), StatusCode::kInvalidArgument);
}

TEST(ShellQuoteTest, SurvivesTheShell) {
  for (std::string text : {"", "plain", "with space", "it's", "'''", "$HOME `x` \"q\" \\ \n;|&"}) {
    auto result = RunCommand({"/bin/sh", "-c", "printf %s " + ShellQuote(text)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->stdout_data, text);
  }
}

TEST(SafeJobNameTest, OnlyWhatEveryClusterAccepts) {
  EXPECT_EQ(SafeJobName("trial_7"), "trial_7");
  EXPECT_EQ(SafeJobName("my study: trial 7"), "my_study__trial_7");
  EXPECT_EQ(SafeJobName("7"), "sherpa_7");
  EXPECT_EQ(SafeJobName("_x"), "sherpa__x");
  EXPECT_EQ(SafeJobName(""), "sherpa_job");
  EXPECT_EQ(SafeJobName(std::string(100, 'a')).size(), 64u);
}

TEST(JobScriptTest, ExportsTheEnvironmentAndRunsTheCommandWithSh) {
  const std::string dir = ::testing::TempDir();
  const std::string env_file = dir + "/sherpa_env_test.sh";
  std::ofstream(env_file) << "export FROM_ENV_FILE=sourced\nexport OVERRIDDEN=by-file\n";
  JobSpec job;
  job.name = "trial_1";
  job.command = "echo \"$FROM_ENV_FILE|$OVERRIDDEN|$TRICKY\"; exit 4";
  job.env = {{"OVERRIDDEN", "by-job"}, {"TRICKY", "a 'b' \"c\" $d\nline"}};
  ASSERT_OK_AND_ASSIGN(std::string script, JobScript(job, env_file));
  EXPECT_THAT(script, ::testing::StartsWith("#!/bin/bash\n"));
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/bin/bash"}, script));
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.stdout_data, "sourced|by-job|a 'b' \"c\" $d\nline\n");
  ::unlink(env_file.c_str());

  ASSERT_OK_AND_ASSIGN(script, JobScript(job, dir + "/no_such_env_file.sh"));
  ASSERT_OK_AND_ASSIGN(result, RunCommand({"/bin/bash"}, script));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_data, HasSubstr("cannot source"));

  job.env = {{"NOT-AN-IDENTIFIER", "x"}};
  EXPECT_EQ(JobScript(job, "").status().code(), StatusCode::kInvalidArgument);
  job.env = {{"1X", "x"}};
  EXPECT_EQ(JobScript(job, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(JobScriptTest, HostileValuesAreNeverExecuted) {
  // Every value a job script embeds, made of shell syntax that would run
  // `touch <dir>/pwned_*` if it reached the shell unquoted. The script must
  // hand each value over intact and run nothing but the command.
  const std::string dir = ::testing::TempDir() + "/sherpa_hostile_script";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto touch = [&](const std::string& tag) { return "touch " + dir + "/pwned_" + tag; };
  const std::vector<std::string> hostile = {
      "'; " + touch("quote") + "; '",
      "$(" + touch("dollar") + ")",
      "`" + touch("backtick") + "`",
      "\n" + touch("newline") + "\n",
      "\\'\"; " + touch("mixed") + " #",
      "${IFS}$(" + touch("ifs") + ")",
      "\n#SBATCH --wrap='" + touch("directive") + "'\n#$ -b y " + touch("sge"),
  };
  JobSpec job;
  job.name = "trial_1$(" + touch("name") + ")\n" + touch("name2");
  for (size_t i = 0; i < hostile.size(); ++i) job.env["V" + std::to_string(i)] = hostile[i];
  // The command is the user's own, run as given; it prints the values back.
  job.command = "for v in";
  for (size_t i = 0; i < hostile.size(); ++i) job.command += " \"$V" + std::to_string(i) + "\"";
  job.command += "; do printf '%s\\0' \"$v\"; done";
  // A file name cannot hold the '/' of touch's path: this payload says
  // itself on stderr if it runs.
  const std::string env_file = dir + "/env '$(echo pwned_envfile >&2)' `echo pwned_tick >&2`.sh";
  std::ofstream(env_file) << "true\n";
  ASSERT_OK_AND_ASSIGN(std::string script, JobScript(job, env_file));
  for (const std::string shell : {"/bin/sh", "/bin/bash"}) {
    ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({shell}, script));
    EXPECT_EQ(result.exit_code, 0) << shell << ": " << result.stderr_data;
    std::vector<std::string> printed;
    std::string value;
    for (char c : result.stdout_data) {
      if (c == '\0') {
        printed.push_back(value);
        value.clear();
      } else {
        value += c;
      }
    }
    EXPECT_EQ(printed, hostile) << shell;
    EXPECT_THAT(result.stderr_data, ::testing::Not(HasSubstr("pwned"))) << shell;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      EXPECT_THAT(entry.path().filename().string(), ::testing::Not(::testing::StartsWith("pwned")))
          << shell << " ran an embedded value:\n"
          << script;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(FindProgramTest, LooksInBinDirOrPath) {
  EXPECT_EQ(FindProgram("sh", "/bin"), "/bin/sh");
  EXPECT_EQ(FindProgram("no-such-program-here", "/bin"), "");
  EXPECT_FALSE(FindProgram("sh", "").empty());
  EXPECT_EQ(FindProgram("no-such-program-here", ""), "");
}

TEST(LooksTransientTest, ControllerTroubleIsWorthRetrying) {
  EXPECT_TRUE(LooksTransient(
      "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect "
      "failure)"));
  EXPECT_TRUE(LooksTransient("error: commlib error: got select error (Connection refused)"));
  EXPECT_TRUE(LooksTransient("Socket timed out on send/recv operation"));
  EXPECT_FALSE(LooksTransient(
      "sbatch: error: Batch job submission failed: Invalid partition name specified"));
  EXPECT_FALSE(LooksTransient("Unable to run job: denied: \"1abc\" is not a valid object name"));
}

// --- the shared scheduler, with a scripted backend -----------------------------

// What the backend answers; the test changes it between polls.
struct Script {
  std::mutex mu;
  std::condition_variable polled;
  int polls = 0;
  std::map<JobId, JobStatus> states;  // what Poll returns (absent: unknown)
  Status poll_error;
  int cancel_failures = 0;  // the next this many Cancel calls fail
  std::vector<std::vector<JobId>> cancels;
  std::vector<std::string> scripts;
  int next_id = 100;
};

class ScriptedBackend final : public ClusterBackend {
 public:
  explicit ScriptedBackend(std::shared_ptr<Script> script) : s_(std::move(script)) {}
  std::string_view name() const override { return "scripted"; }
  Status Check() override { return OkStatus(); }
  StatusOr<JobId> Submit(const JobSpec&, const std::string&, const std::string& script) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->scripts.push_back(script);
    return std::to_string(s_->next_id++);
  }
  StatusOr<std::map<JobId, JobStatus>> Poll(const std::vector<PollJob>& jobs) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    ++s_->polls;
    s_->polled.notify_all();
    if (!s_->poll_error.ok()) return s_->poll_error;
    std::map<JobId, JobStatus> out;
    for (const PollJob& job : jobs) {
      if (auto it = s_->states.find(job.id); it != s_->states.end()) out[job.id] = it->second;
    }
    return out;
  }
  Status Cancel(const std::vector<JobId>& jobs) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->cancels.push_back(jobs);
    if (s_->cancel_failures > 0) {
      --s_->cancel_failures;
      return UnavailableError("controller down");
    }
    return OkStatus();
  }
  milliseconds missing_grace() const override { return milliseconds(1000); }

 private:
  std::shared_ptr<Script> s_;
};

JobStatus State(JobState state, int exit_code = 0, std::string reason = "") {
  JobStatus status;
  status.state = state;
  status.exit_code = exit_code;
  status.reason = std::move(reason);
  return status;
}

class ClusterSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = std::make_shared<Script>();
    ClusterSchedulerOptions options;
    options.poll_interval = milliseconds(50);
    options.on_change = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++changes_;
      cv_.notify_all();
    };
    auto made = NewClusterScheduler(std::make_unique<ScriptedBackend>(script_), options);
    ASSERT_TRUE(made.ok()) << made.status();
    scheduler_ = std::move(*made);
  }

  // Waits until the backend has been polled `n` more times.
  void WaitPolls(int n) {
    std::unique_lock<std::mutex> lock(script_->mu);
    const int target = script_->polls + n;
    ASSERT_TRUE(script_->polled.wait_for(lock, std::chrono::seconds(10),
                                         [&] { return script_->polls >= target; }));
  }

  void Set(const JobId& id, JobStatus status) {
    std::lock_guard<std::mutex> lock(script_->mu);
    script_->states[id] = std::move(status);
  }

  // Waits until status() says `state` for `id` (the poller ends jobs, after
  // which it stops polling: waiting for polls would wait forever).
  JobStatus WaitState(const JobId& id, JobState state) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    JobStatus status = StatusOf(id);
    while (status.state != state && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
      status = StatusOf(id);
    }
    EXPECT_EQ(status.state, state) << JobStateName(status.state) << ": " << status.reason;
    return status;
  }

  JobStatus StatusOf(const JobId& id) {
    auto statuses = scheduler_->status({id});
    EXPECT_TRUE(statuses.ok()) << statuses.status();
    return statuses.ok() && statuses->count(id) ? statuses->at(id) : JobStatus{};
  }

  JobSpec Spec() {
    JobSpec spec;
    spec.name = "trial_1";
    spec.command = "true";
    spec.output_path = ::testing::TempDir() + "sherpa_cluster_unit/jobs/trial_1.out";
    return spec;
  }

  std::shared_ptr<Script> script_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  int changes_ = 0;
};

TEST_F(ClusterSchedulerTest, AnswersFromItsPollsAndSaysWhenSomethingChanged) {
  EXPECT_EQ(scheduler_->name(), "scripted");
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  EXPECT_TRUE(std::filesystem::is_directory(::testing::TempDir() + "sherpa_cluster_unit/jobs"));
  EXPECT_EQ(StatusOf(id).state, JobState::kQueued);
  Set(id, State(JobState::kRunning));
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return changes_ >= 1; }));
  }
  EXPECT_EQ(StatusOf(id).state, JobState::kRunning);
  Set(id, State(JobState::kFailed, 3, "exit code 3"));
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return changes_ >= 2; }));
  }
  const JobStatus failed = StatusOf(id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.exit_code, 3);
  // Ended is final: later answers, and kill, change nothing.
  Set(id, State(JobState::kCompleted));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(scheduler_->kill(id).ok());
  EXPECT_EQ(StatusOf(id).state, JobState::kFailed);
  EXPECT_EQ(scheduler_->kill("no-such-job").code(), StatusCode::kNotFound);
  EXPECT_EQ(scheduler_->status({"no-such-job"})->size(), 0u);
}

TEST_F(ClusterSchedulerTest, DoesNotPollWithoutLiveJobs) {
  std::this_thread::sleep_for(milliseconds(300));
  std::lock_guard<std::mutex> lock(script_->mu);
  EXPECT_EQ(script_->polls, 0);
}

TEST_F(ClusterSchedulerTest, AFailedPollIsReportedOnceAndTheStudyGoesOn) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  Set(id, State(JobState::kRunning));
  WaitPolls(2);
  {
    std::lock_guard<std::mutex> lock(script_->mu);
    script_->poll_error = UnavailableError("squeue: Unable to contact slurm controller");
  }
  WaitPolls(2);
  auto first = scheduler_->status({id});
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(first.status().message(), HasSubstr("Unable to contact"));
  // Said once; then the last known state.
  EXPECT_EQ(StatusOf(id).state, JobState::kRunning);
  {
    std::lock_guard<std::mutex> lock(script_->mu);
    script_->poll_error = OkStatus();
    script_->states[id] = State(JobState::kCompleted);
  }
  WaitState(id, JobState::kCompleted);
}

TEST_F(ClusterSchedulerTest, AJobWeCancelledThatVanishesIsKilledAtOnce) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  Set(id, State(JobState::kQueued));
  WaitPolls(1);
  EXPECT_TRUE(scheduler_->kill(id).ok());
  EXPECT_TRUE(scheduler_->kill(id).ok());  // once is enough
  {
    std::lock_guard<std::mutex> lock(script_->mu);
    script_->states.erase(id);  // Grid Engine: deleted while pending, no record
    ASSERT_EQ(script_->cancels.size(), 1u);
  }
  WaitState(id, JobState::kKilled);
}

TEST_F(ClusterSchedulerTest, AJobThatVanishesOnItsOwnFailsAfterTheGrace) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  WaitPolls(2);
  EXPECT_EQ(StatusOf(id).state, JobState::kQueued);  // not yet: records can lag
  const JobStatus status = WaitState(id, JobState::kFailed);
  EXPECT_THAT(status.reason, HasSubstr("no record"));
}

TEST_F(ClusterSchedulerTest, OurCancellationWinsOverHowTheJobEnded) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  Set(id, State(JobState::kRunning));
  WaitPolls(1);
  EXPECT_TRUE(scheduler_->kill(id).ok());
  Set(id, State(JobState::kCompleted));  // it raced to the end
  WaitState(id, JobState::kKilled);
}

TEST_F(ClusterSchedulerTest, AFailedCancelIsTriedAgainAtTheNextPoll) {
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec()));
  Set(id, State(JobState::kRunning));
  {
    std::lock_guard<std::mutex> lock(script_->mu);
    script_->cancel_failures = 1;
  }
  const Status killed = scheduler_->kill(id);
  EXPECT_EQ(killed.code(), StatusCode::kUnavailable);
  EXPECT_THAT(killed.message(), HasSubstr("will try again"));
  WaitPolls(2);
  std::lock_guard<std::mutex> lock(script_->mu);
  ASSERT_GE(script_->cancels.size(), 2u);
  EXPECT_THAT(script_->cancels[1], ElementsAre(id));
}

TEST_F(ClusterSchedulerTest, GoingAwayCancelsWhatStillRuns) {
  ASSERT_OK_AND_ASSIGN(JobId running, scheduler_->submit(Spec()));
  ASSERT_OK_AND_ASSIGN(JobId done, scheduler_->submit(Spec()));
  Set(running, State(JobState::kRunning));
  Set(done, State(JobState::kCompleted));
  WaitPolls(2);
  scheduler_.reset();
  std::lock_guard<std::mutex> lock(script_->mu);
  ASSERT_EQ(script_->cancels.size(), 1u);
  EXPECT_THAT(script_->cancels[0], ElementsAre(running));
}

TEST_F(ClusterSchedulerTest, RejectsEnvironmentNamesAShellCannotExport) {
  JobSpec spec = Spec();
  spec.env = {{"A-B", "x"}};
  EXPECT_EQ(scheduler_->submit(spec).status().code(), StatusCode::kInvalidArgument);
}

// --- missing commands and a controller that does not answer ------------------

class FakeCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "sherpa_fake_bin_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Fake(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
  }
  ClusterSchedulerOptions Options() {
    ClusterSchedulerOptions options;
    options.bin_dir = dir_;
    return options;
  }
  std::string dir_;
};

TEST_F(FakeCommandsTest, MissingCommandsSayWhatToDo) {
  auto slurm = NewSlurmScheduler(Options());
  EXPECT_EQ(slurm.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(slurm.status().message(), HasSubstr("sbatch not found"));
  EXPECT_THAT(slurm.status().message(), HasSubstr("is Slurm installed"));
  auto sge = NewSgeScheduler(Options());
  EXPECT_EQ(sge.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(sge.status().message(), HasSubstr("qsub not found"));
}

TEST_F(FakeCommandsTest, AControllerThatDoesNotAnswerIsUnavailable) {
  Fake("sbatch", "exit 0");
  Fake("scancel", "exit 0");
  Fake("squeue",
       "echo 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller "
       "(connect failure)' >&2; exit 1");
  auto slurm = NewSlurmScheduler(Options());
  EXPECT_EQ(slurm.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(slurm.status().message(), HasSubstr("Unable to contact slurm controller"));
  EXPECT_THAT(slurm.status().message(), HasSubstr("slurmctld"));

  Fake("qsub", "exit 0");
  Fake("qdel", "exit 0");
  Fake("qacct", "exit 0");
  Fake("qstat",
       "echo 'error: commlib error: got select error (Connection refused)' >&2; "
       "echo 'unable to contact qmaster using port 6444 on host \"localhost\"' >&2; exit 1");
  auto sge = NewSgeScheduler(Options());
  EXPECT_EQ(sge.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sge.status().message(), HasSubstr("unable to contact qmaster"));
}

TEST_F(FakeCommandsTest, BadSubmitOptionsAreRefusedAtOnce) {
  Fake("sbatch", "exit 0");
  Fake("scancel", "exit 0");
  Fake("squeue", "exit 0");
  ClusterSchedulerOptions options = Options();
  options.submit_options = "--comment='unclosed";
  auto slurm = NewSlurmScheduler(options);
  EXPECT_EQ(slurm.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(slurm.status().message(), HasSubstr("submit_options"));
}

TEST_F(FakeCommandsTest, SubmitErrorsAreUnavailableOnlyWhenWorthRetrying) {
  Fake("scancel", "exit 0");
  Fake("squeue", "exit 0");
  Fake("sbatch",
       "echo 'sbatch: error: Batch job submission failed: Unable to contact slurm controller "
       "(connect failure)' >&2; exit 1");
  ASSERT_OK_AND_ASSIGN(auto slurm, NewSlurmScheduler(Options()));
  JobSpec spec;
  spec.command = "true";
  EXPECT_EQ(slurm->submit(spec).status().code(), StatusCode::kUnavailable);
  Fake("sbatch",
       "echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2; "
       "exit 1");
  const Status rejected = slurm->submit(spec).status();
  EXPECT_EQ(rejected.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.message(), HasSubstr("Invalid partition name"));
}

TEST_F(FakeCommandsTest, HangingCommandsAreCutShortAndPollingGoesOn) {
  // sbatch and squeue hang (sleep in a child: the whole group must go)
  // while the file `hang` exists.
  const std::string hang = dir_ + "/hang";
  const std::string calls = dir_ + "/squeue_calls";
  Fake("scancel", "exit 0");
  Fake("sbatch", "[ -e " + hang + " ] && { sleep 30; exit 0; }; echo 77");
  Fake("squeue", "echo x >> " + calls + "; [ -e " + hang + " ] && sleep 30; exit 0");
  ClusterSchedulerOptions options = Options();
  options.command_timeout = milliseconds(300);
  options.poll_interval = milliseconds(50);
  ASSERT_OK_AND_ASSIGN(auto slurm, NewSlurmScheduler(options));
  JobSpec spec;
  spec.command = "true";
  ASSERT_OK_AND_ASSIGN(JobId id, slurm->submit(spec));

  std::ofstream(hang) << "";
  auto started = std::chrono::steady_clock::now();
  const Status submit = slurm->submit(spec).status();
  EXPECT_EQ(submit.code(), StatusCode::kUnavailable);  // the runner tries again later
  EXPECT_THAT(submit.message(), HasSubstr("did not finish within 300 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));

  // A hanging poll is cut short too, said once through status(), and the
  // polling thread keeps asking.
  StatusOr<std::map<JobId, JobStatus>> answer = std::map<JobId, JobStatus>();
  started = std::chrono::steady_clock::now();
  do {
    std::this_thread::sleep_for(milliseconds(20));
    answer = slurm->status({id});
  } while (answer.ok() && std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(answer.status().message(), HasSubstr("did not finish"));
  auto count_calls = [&] {
    std::ifstream in(calls);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  const auto before = count_calls();
  started = std::chrono::steady_clock::now();
  while (count_calls() < before + 2 &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(20)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GE(count_calls(), before + 2) << "polling stopped after a hanging squeue";

  // Once the controller answers again, status() answers again.
  ::unlink(hang.c_str());
  started = std::chrono::steady_clock::now();
  do {
    std::this_thread::sleep_for(milliseconds(20));
    answer = slurm->status({id});
  } while (!answer.ok() && std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  EXPECT_TRUE(answer.ok()) << answer.status();
  started = std::chrono::steady_clock::now();
  slurm.reset();  // nothing left hanging to wait for
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace sherpa::scheduler_internal
