// LocalScheduler behaviour beyond the shared contract: resources, signals,
// process groups, threads and zombies. Real processes throughout.

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/status_matchers.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Generous: the machine may be busy with other builds and tests.
constexpr milliseconds kLongWait{10000};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = kLongWait) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// True if `pid` runs and is not a zombie (an orphaned grandchild is reaped
// by init, which in a container may never do so).
bool IsAlive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  return line[paren + 2] != 'Z';
}

// Reads a pid that a job writes to `path`, waiting for the job to write it.
pid_t ReadPid(const std::filesystem::path& path) {
  pid_t pid = 0;
  WaitUntil([&] {
    std::string text = ReadFile(path);
    if (text.empty() || text.back() != '\n') return false;
    pid = static_cast<pid_t>(std::stol(text));
    return true;
  });
  return pid;
}

size_t ThreadCount() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

class LocalSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "sherpa_local_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = std::filesystem::canonical(pattern);
  }

  void TearDown() override {
    scheduler_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Start(LocalSchedulerOptions options = {}) {
    options.on_change = [this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++changes_;
        last_change_ = Clock::now();
      }
      cv_.notify_all();
    };
    scheduler_ = NewLocalScheduler(std::move(options));
  }

  JobSpec Spec(std::string command, const std::string& name = "job") {
    JobSpec spec;
    spec.command = std::move(command);
    spec.name = name;
    spec.output_path = (dir_ / (name + ".out")).string();
    spec.working_dir = dir_.string();  // for the files the commands write
    return spec;
  }

  JobStatus StatusOf(const JobId& id) {
    StatusOr<std::map<JobId, JobStatus>> statuses = scheduler_->status({id});
    if (!statuses.ok() || statuses->count(id) == 0) {
      ADD_FAILURE() << "no status for " << id;
      return {};
    }
    return statuses->at(id);
  }

  JobStatus WaitForEnd(const JobId& id) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = Clock::now() + kLongWait;
    for (;;) {
      const uint64_t seen = changes_;
      lock.unlock();
      JobStatus status = StatusOf(id);
      lock.lock();
      if (status.ended()) return status;
      if (!cv_.wait_until(lock, deadline, [&] { return changes_ != seen; })) {
        ADD_FAILURE() << "job " << id << " did not end";
        return status;
      }
    }
  }

  uint64_t Changes() {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_;
  }

  std::filesystem::path dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t changes_ = 0;
  Clock::time_point last_change_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST(JobStateNameTest, NamesEveryState) {
  EXPECT_STREQ(JobStateName(JobState::kQueued), "QUEUED");
  EXPECT_STREQ(JobStateName(JobState::kRunning), "RUNNING");
  EXPECT_STREQ(JobStateName(JobState::kCompleted), "COMPLETED");
  EXPECT_STREQ(JobStateName(JobState::kFailed), "FAILED");
  EXPECT_STREQ(JobStateName(JobState::kKilled), "KILLED");
}

// The inode of `path`, 0 if it does not exist.
ino_t InodeOf(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Output files are not created on the way from one job's end to the next
// one's start: a spare made while jobs run becomes the next output file. An
// output file that exists (a trial run again) is appended to, never replaced.
TEST_F(LocalSchedulerTest, OutputFilesComeFromASpareMadeAhead) {
  Start();
  const std::filesystem::path spare = dir_ / ".sherpa-spare-output";
  ASSERT_OK_AND_ASSIGN(JobId first, scheduler_->submit(Spec("echo one", "first")));
  EXPECT_EQ(WaitForEnd(first).state, JobState::kCompleted);
  const auto deadline = Clock::now() + kLongWait;
  while (InodeOf(spare) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const ino_t spare_inode = InodeOf(spare);
  ASSERT_NE(spare_inode, 0u) << "no spare output file was made";

  std::ofstream(dir_ / "again.out") << "earlier\n";
  ASSERT_OK_AND_ASSIGN(JobId again, scheduler_->submit(Spec("echo later", "again")));
  EXPECT_EQ(WaitForEnd(again).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "again.out"), "earlier\nlater\n");

  ASSERT_OK_AND_ASSIGN(JobId second, scheduler_->submit(Spec("echo two", "second")));
  EXPECT_EQ(WaitForEnd(second).state, JobState::kCompleted);
  EXPECT_EQ(InodeOf(dir_ / "second.out"), spare_inode);
  EXPECT_EQ(ReadFile(dir_ / "second.out"), "two\n");

  scheduler_.reset();
  EXPECT_EQ(InodeOf(spare), 0u) << "the spare outlived its scheduler";
}

TEST_F(LocalSchedulerTest, MapsExitCodes) {
  Start();
  for (int code : {1, 2, 42, 127, 255}) {
    ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("exit " + std::to_string(code))));
    JobStatus status = WaitForEnd(id);
    EXPECT_EQ(status.state, JobState::kFailed);
    EXPECT_EQ(status.exit_code, code);
    EXPECT_EQ(status.reason, "exit code " + std::to_string(code));
  }
  ASSERT_OK_AND_ASSIGN(JobId missing, scheduler_->submit(Spec("no_such_command_for_sherpa")));
  EXPECT_EQ(WaitForEnd(missing).exit_code, 127);
}

// Writes an executable script into the test folder.
void WriteScript(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

TEST_F(LocalSchedulerTest, PlainCommandsStartWithoutAShell) {
  // The script's parent is whoever started it: us when it is started
  // directly, a /bin/sh (which forks for `sh -c cmd`) otherwise.
  WriteScript(dir_ / "who.sh", "#!/bin/sh\necho \"$PPID $*\" > \"$1\"\n");
  Start();
  ASSERT_OK_AND_ASSIGN(JobId plain, scheduler_->submit(Spec("./who.sh plain.txt a=1 --b,c")));
  ASSERT_EQ(WaitForEnd(plain).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "plain.txt"), std::to_string(::getpid()) + " plain.txt a=1 --b,c\n");

  // Shell syntax keeps the shell, so it means what it always meant.
  ASSERT_OK_AND_ASSIGN(JobId quoted, scheduler_->submit(Spec("./who.sh 'quoted.txt' \"$HOME\"")));
  ASSERT_EQ(WaitForEnd(quoted).state, JobState::kCompleted);
  const std::string text = ReadFile(dir_ / "quoted.txt");
  EXPECT_NE(text.substr(0, text.find(' ')), std::to_string(::getpid()));
  EXPECT_THAT(text, HasSubstr(std::string("quoted.txt ") + std::getenv("HOME")));
}

TEST_F(LocalSchedulerTest, PlainCommandsFindProgramsInTheJobsPath) {
  std::filesystem::create_directory(dir_ / "bin");
  WriteScript(dir_ / "bin" / "sherpa_test_tool", "#!/bin/sh\necho found > found.txt\n");
  Start();
  JobSpec spec = Spec("sherpa_test_tool");
  spec.env["PATH"] = (dir_ / "bin").string() + ":/usr/bin:/bin";
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  ASSERT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "found.txt"), "found\n");
}

TEST_F(LocalSchedulerTest, ScriptsWithoutAShebangStillRunThroughTheShell) {
  WriteScript(dir_ / "bare.sh", "echo bare > bare.txt\n");
  WriteScript(dir_ / "not_executable.sh", "echo never\n");
  std::filesystem::permissions(dir_ / "not_executable.sh", std::filesystem::perms::owner_read);
  Start();
  ASSERT_OK_AND_ASSIGN(JobId bare, scheduler_->submit(Spec("./bare.sh")));
  EXPECT_EQ(WaitForEnd(bare).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "bare.txt"), "bare\n");
  // The shell's own verdict and message: 126, "Permission denied".
  ASSERT_OK_AND_ASSIGN(JobId denied, scheduler_->submit(Spec("./not_executable.sh", "denied")));
  EXPECT_EQ(WaitForEnd(denied).exit_code, 126);
  EXPECT_THAT(ReadFile(dir_ / "denied.out"), HasSubstr("Permission denied"));
}

TEST_F(LocalSchedulerTest, CrashBySignalIsFailedWith128PlusSignal) {
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("kill -SEGV $$")));
  JobStatus status = WaitForEnd(id);
  EXPECT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.exit_code, 128 + SIGSEGV);
  EXPECT_EQ(status.reason, "killed by signal 11 (SIGSEGV)");
}

TEST_F(LocalSchedulerTest, JobIsRunningUntilItEnds) {
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60")));
  JobStatus status = StatusOf(id);
  EXPECT_EQ(status.state, JobState::kRunning);
  EXPECT_FALSE(status.ended());
  ASSERT_TRUE(scheduler_->kill(id).ok());
  status = WaitForEnd(id);
  EXPECT_EQ(status.state, JobState::kKilled);
  EXPECT_EQ(status.reason, "stopped");
}

TEST_F(LocalSchedulerTest, StdinIsDevNull) {
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("read line; echo \"read=$?\"")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "job.out"), "read=1\n");
}

TEST_F(LocalSchedulerTest, EmptyOutputPathDiscardsOutput) {
  Start();
  JobSpec spec = Spec("echo nowhere");
  spec.output_path.clear();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
}

TEST_F(LocalSchedulerTest, JobEnvOverridesTheRunnersSherpaVariables) {
  // A nested study: the runner itself runs as a trial and has these set.
  ASSERT_EQ(::setenv("SHERPA_TRIAL_ID", "99", 1), 0);
  ASSERT_EQ(::setenv("SHERPA_RESOURCE", "outer-gpu", 1), 0);
  Start();
  JobSpec spec = Spec("echo \"$SHERPA_TRIAL_ID|$SHERPA_RESOURCE\"");
  spec.env = {{"SHERPA_TRIAL_ID", "7"}};
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(spec.output_path), "7|\n");
  ::unsetenv("SHERPA_TRIAL_ID");
  ::unsetenv("SHERPA_RESOURCE");
}

TEST_F(LocalSchedulerTest, HandsOutResourcesOnePerJob) {
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  LocalSchedulerOptions options;
  options.resources = {"gpu0", "gpu1"};
  Start(options);
  EXPECT_EQ(scheduler_->capacity(), 2u);

  const std::string command = "echo \"$SHERPA_RESOURCE|${CUDA_VISIBLE_DEVICES-unset}\"; sleep 60";
  ASSERT_OK_AND_ASSIGN(JobId first, scheduler_->submit(Spec(command, "first")));
  ASSERT_OK_AND_ASSIGN(JobId second, scheduler_->submit(Spec(command, "second")));
  StatusOr<JobId> third = scheduler_->submit(Spec(command, "third"));
  EXPECT_EQ(third.status().code(), StatusCode::kUnavailable);

  EXPECT_EQ(StatusOf(first).resource, "gpu0");
  EXPECT_EQ(StatusOf(second).resource, "gpu1");
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(dir_ / "second.out") == "gpu1|unset\n"; }))
      << ReadFile(dir_ / "second.out");
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(dir_ / "first.out") == "gpu0|unset\n"; }))
      << ReadFile(dir_ / "first.out");

  // The resource of an ended job goes to the next one.
  ASSERT_TRUE(scheduler_->kill(first).ok());
  EXPECT_EQ(WaitForEnd(first).resource, "gpu0");
  ASSERT_OK_AND_ASSIGN(JobId fourth, scheduler_->submit(Spec("echo $SHERPA_RESOURCE", "fourth")));
  EXPECT_EQ(WaitForEnd(fourth).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "fourth.out"), "gpu0\n");
}

TEST_F(LocalSchedulerTest, SetsCudaVisibleDevicesWhenAsked) {
  LocalSchedulerOptions options;
  options.resources = {"3"};
  options.set_cuda_visible_devices = true;
  Start(options);
  ASSERT_OK_AND_ASSIGN(JobId id,
                       scheduler_->submit(Spec("echo \"$SHERPA_RESOURCE|$CUDA_VISIBLE_DEVICES\"")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "job.out"), "3|3\n");
}

TEST_F(LocalSchedulerTest, WithoutResourcesThereIsNoLimit) {
  Start();
  EXPECT_EQ(scheduler_->capacity(), 0u);
  std::vector<JobId> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60", "j" + std::to_string(i))));
    ids.push_back(id);
  }
  for (const JobId& id : ids) EXPECT_EQ(StatusOf(id).resource, "");
}

TEST_F(LocalSchedulerTest, FailedSubmitsGiveTheResourceBack) {
  LocalSchedulerOptions options;
  options.resources = {"only"};
  Start(options);

  JobSpec bad_dir = Spec("true");
  bad_dir.working_dir = (dir_ / "does-not-exist").string();
  StatusOr<JobId> result = scheduler_->submit(bad_dir);
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), HasSubstr("does-not-exist"));

  std::ofstream(dir_ / "a-file") << "x";
  JobSpec bad_output = Spec("true");
  bad_output.output_path = (dir_ / "a-file" / "sub" / "out").string();
  EXPECT_EQ(scheduler_->submit(bad_output).status().code(), StatusCode::kInternal);

  JobSpec bad_env = Spec("true");
  bad_env.env = {{"A=B", "c"}};
  EXPECT_EQ(scheduler_->submit(bad_env).status().code(), StatusCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("echo $SHERPA_RESOURCE")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "job.out"), "only\n");
}

TEST_F(LocalSchedulerTest, KillUsesSigtermFirst) {
  LocalSchedulerOptions options;
  options.kill_grace = milliseconds(30000);
  Start(options);
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60")));
  const auto start = Clock::now();
  ASSERT_TRUE(scheduler_->kill(id).ok());
  EXPECT_EQ(WaitForEnd(id).state, JobState::kKilled);
  EXPECT_LT(Clock::now() - start, milliseconds(5000)) << "SIGTERM alone should have ended it";
}

TEST_F(LocalSchedulerTest, KillEscalatesToSigkillWhenSigtermIsIgnored) {
  LocalSchedulerOptions options;
  options.kill_grace = milliseconds(500);
  Start(options);
  ASSERT_OK_AND_ASSIGN(JobId id,
                       scheduler_->submit(Spec("trap '' TERM; echo trapped > ready; sleep 60")));
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(dir_ / "ready"); }));

  const auto start = Clock::now();
  ASSERT_TRUE(scheduler_->kill(id).ok());
  EXPECT_LT(Clock::now() - start, milliseconds(400)) << "kill must not wait for the grace period";
  const JobStatus status = WaitForEnd(id);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(status.state, JobState::kKilled);
  EXPECT_EQ(status.reason, "stopped");
  EXPECT_GE(elapsed, milliseconds(450)) << "the job ignores SIGTERM: only SIGKILL can end it";
  EXPECT_LT(elapsed, milliseconds(5000));
}

TEST_F(LocalSchedulerTest, KillReachesTheWholeProcessGroup) {
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60 & echo $! > child.pid; wait")));
  const pid_t grandchild = ReadPid(dir_ / "child.pid");
  ASSERT_GT(grandchild, 1);
  ASSERT_TRUE(IsAlive(grandchild));
  ASSERT_TRUE(scheduler_->kill(id).ok());
  EXPECT_EQ(WaitForEnd(id).state, JobState::kKilled);
  EXPECT_TRUE(WaitUntil([&] { return !IsAlive(grandchild); }, milliseconds(3000)));
}

TEST_F(LocalSchedulerTest, LeftoverBackgroundProcessesDieWhenTheJobEnds) {
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60 & echo $! > child.pid")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  const pid_t grandchild = ReadPid(dir_ / "child.pid");
  ASSERT_GT(grandchild, 1);
  EXPECT_TRUE(WaitUntil([&] { return !IsAlive(grandchild); }, milliseconds(3000)));
}

TEST_F(LocalSchedulerTest, KillOfUnknownJobIsNotFound) {
  Start();
  EXPECT_EQ(scheduler_->kill("42").code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto statuses, scheduler_->status({"42"}));
  EXPECT_TRUE(statuses.empty());
}

TEST_F(LocalSchedulerTest, OnChangeFiresWhenAJobExits) {
  Start();
  const uint64_t before = Changes();
  const auto start = Clock::now();
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("true")));
  std::unique_lock<std::mutex> lock(mu_);
  ASSERT_TRUE(cv_.wait_for(lock, kLongWait, [&] { return changes_ > before; }));
  EXPECT_LT(last_change_ - start, milliseconds(1000));
  lock.unlock();
  // The state is final by the time the callback runs.
  EXPECT_EQ(StatusOf(id).state, JobState::kCompleted);
}

TEST_F(LocalSchedulerTest, JobsDoNotInheritTheRunnersSignalMaskOrIgnoredSignals) {
  // A runner that handles SIGTERM in a sigwait thread blocks it everywhere;
  // one that ignores SIGINT/SIGTERM must not make its trials unkillable.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old_mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_action {};
  ASSERT_EQ(sigaction(SIGTERM, &ignore, &old_action), 0);

  LocalSchedulerOptions options;
  options.kill_grace = milliseconds(30000);
  Start(options);
  ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("sleep 60")));
  const auto start = Clock::now();
  ASSERT_TRUE(scheduler_->kill(id).ok());
  EXPECT_EQ(WaitForEnd(id).state, JobState::kKilled);
  EXPECT_LT(Clock::now() - start, milliseconds(5000));

  scheduler_.reset();
  sigaction(SIGTERM, &old_action, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

TEST_F(LocalSchedulerTest, JobsDoNotInheritTheRunnersDescriptors) {
  const std::string path = (dir_ / "runner-file").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);  // no O_CLOEXEC on purpose
  ASSERT_GE(fd, 3);
  Start();
  ASSERT_OK_AND_ASSIGN(JobId id,
                       scheduler_->submit(Spec("if [ -e /proc/$$/fd/" + std::to_string(fd) +
                                               " ]; then echo open; else echo closed; fi")));
  EXPECT_EQ(WaitForEnd(id).state, JobState::kCompleted);
  EXPECT_EQ(ReadFile(dir_ / "job.out"), "closed\n");
  ::close(fd);
}

TEST_F(LocalSchedulerTest, ManyJobsAllCompleteWithoutLeakingThreadsOrProcesses) {
  // ThreadSanitizer starts a thread of its own at the first thread creation;
  // it must already be there when the baseline is counted.
  std::thread([] {}).join();
  const size_t threads_before = ThreadCount();
  Start();
  std::vector<JobId> ids;
  for (int i = 0; i < 200; ++i) {
    JobSpec spec = Spec("true", "many");
    ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(spec));
    ids.push_back(id);
  }
  EXPECT_EQ(std::set<JobId>(ids.begin(), ids.end()).size(), ids.size());
  for (const JobId& id : ids) {
    JobStatus status = WaitForEnd(id);
    EXPECT_EQ(status.state, JobState::kCompleted) << id << ": " << status.reason;
  }
  // on_change comes after the status is set (outside the lock), so the last
  // call may still be on its way when WaitForEnd has seen the end.
  EXPECT_TRUE(WaitUntil([&] { return Changes() >= 200u; })) << Changes() << " changes";
  // Finished waiters are joined in the background; only the housekeeper stays.
  EXPECT_TRUE(WaitUntil([&] { return ThreadCount() == threads_before + 1; }))
      << ThreadCount() << " threads, " << threads_before << " before";

  scheduler_.reset();
  EXPECT_EQ(ThreadCount(), threads_before);
  int ignored;
  EXPECT_EQ(::waitpid(-1, &ignored, WNOHANG), -1) << "a child is left";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(LocalSchedulerTest, DestructorKillsRunningJobsAtOnce) {
  const size_t threads_before = ThreadCount();
  LocalSchedulerOptions options;
  options.kill_grace = milliseconds(30000);  // the destructor must not wait for it
  Start(options);
  std::vector<pid_t> shells;
  std::vector<pid_t> sleeps;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "job" + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(JobId id, scheduler_->submit(Spec("trap '' TERM; echo $$ > " + name +
                                                               ".shell; sleep 60 & echo $! > " +
                                                               name + ".sleep; wait",
                                                           name)));
    shells.push_back(ReadPid(dir_ / (name + ".shell")));
    sleeps.push_back(ReadPid(dir_ / (name + ".sleep")));
    ASSERT_GT(shells.back(), 1);
    ASSERT_GT(sleeps.back(), 1);
  }
  const uint64_t changes_before = Changes();

  const auto start = Clock::now();
  scheduler_.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  EXPECT_EQ(Changes(), changes_before) << "no on_change calls from a scheduler being destroyed";
  EXPECT_EQ(ThreadCount(), threads_before);
  for (pid_t shell : shells) {
    EXPECT_EQ(::kill(shell, 0), -1) << "shell " << shell << " is not reaped";
  }
  for (pid_t sleep_pid : sleeps) {
    EXPECT_TRUE(WaitUntil([&] { return !IsAlive(sleep_pid); }, milliseconds(3000)));
  }
  int ignored;
  EXPECT_EQ(::waitpid(-1, &ignored, WNOHANG), -1);
}

TEST_F(LocalSchedulerTest, ConcurrentSubmitStatusAndKill) {
  LocalSchedulerOptions options;
  options.resources = {"a", "b", "c", "d"};
  options.kill_grace = milliseconds(200);
  Start(options);
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        StatusOr<JobId> id =
            scheduler_->submit(Spec(i % 2 == 0 ? "true" : "sleep 60", "t" + std::to_string(t)));
        if (!id.ok()) {
          ADD_FAILURE() << id.status();  // each thread holds at most one resource
          return;
        }
        if (i % 2 == 1) {
          EXPECT_TRUE(scheduler_->kill(*id).ok());
        }
        if (WaitForEnd(*id).ended()) ++completed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(completed.load(), 40);
}

}  // namespace
}  // namespace sherpa
