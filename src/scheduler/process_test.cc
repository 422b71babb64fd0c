#include "scheduler/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "core/status_matchers.h"

namespace sherpa::scheduler_internal {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool NoChildrenLeft() {
  int ignored;
  return ::waitpid(-1, &ignored, WNOHANG) == -1 && errno == ECHILD;
}

TEST(RunCommandTest, CapturesStdoutStderrAndExitCode) {
  ASSERT_OK_AND_ASSIGN(CommandResult result,
                       RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"}));
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.stdout_data, "out\n");
  EXPECT_EQ(result.stderr_data, "err\n");
  EXPECT_TRUE(NoChildrenLeft());
}

TEST(RunCommandTest, LooksUpProgramsInPath) {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"echo", "a b", "c"}));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_data, "a b c\n");
}

TEST(RunCommandTest, FeedsStdin) {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"cat"}, "line 1\nline 2"));
  EXPECT_EQ(result.stdout_data, "line 1\nline 2");
  ASSERT_OK_AND_ASSIGN(CommandResult empty, RunCommand({"cat"}));
  EXPECT_EQ(empty.stdout_data, "");
}

TEST(RunCommandTest, MovesMoreThanAPipeBufferBothWays) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = '\n';
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/bin/sh", "-c",
                                                         "cat; cat /dev/null >&2; head -c 200000 "
                                                         "/dev/zero >&2"},
                                                        big));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_data.size(), big.size());
  EXPECT_TRUE(result.stdout_data == big);
  EXPECT_EQ(result.stderr_data.size(), 200000u);
}

TEST(RunCommandTest, CommandThatIgnoresItsStdinDoesNotKillUs) {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/bin/sh", "-c", "exec 0<&-; echo done"},
                                                        std::string(1 << 20, 'y')));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_data, "done\n");
  // A SIGPIPE must not be left pending for this thread either.
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(RunCommandTest, ReportsDeathBySignal) {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/bin/sh", "-c", "kill -KILL $$"}));
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
}

TEST(RunCommandTest, TimeoutKillsTheWholeCommand) {
  std::string pattern = ::testing::TempDir() + "sherpa_proc_XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path pid_file = std::filesystem::path(pattern) / "child.pid";

  const auto start = Clock::now();
  StatusOr<CommandResult> result =
      RunCommand({"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file.string() + "; wait"}, {},
                 milliseconds(300));
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("300 ms"));
  EXPECT_GE(elapsed, milliseconds(290));
  EXPECT_LT(elapsed, milliseconds(5000));
  EXPECT_TRUE(NoChildrenLeft());

  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 1);
  // Dead, or a zombie waiting for init.
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    std::getline(stat, line);
    gone = line.empty() || line.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(gone);
  std::filesystem::remove_all(pattern);
}

TEST(RunCommandTest, Errors) {
  EXPECT_EQ(RunCommand({}).status().code(), StatusCode::kInvalidArgument);
  StatusOr<CommandResult> missing = RunCommand({"no_such_program_for_sherpa"});
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal);
  EXPECT_THAT(missing.status().message(), HasSubstr("no_such_program_for_sherpa"));
  EXPECT_TRUE(NoChildrenLeft());
}

TEST(SplitPlainCommandTest, SplitsPlainWords) {
  using Words = std::vector<std::string>;
  EXPECT_EQ(SplitPlainCommand("python3 trial.py"), (Words{"python3", "trial.py"}));
  EXPECT_EQ(SplitPlainCommand("  ./bin/trial\t--lr=0.1 -x 1,2 a:b@c%d+e  "),
            (Words{"./bin/trial", "--lr=0.1", "-x", "1,2", "a:b@c%d+e"}));
}

TEST(SplitPlainCommandTest, LeavesShellSyntaxToTheShell) {
  for (const char* command :
       {"",       "   ", "echo $HOME", "a 'b c'", "a \"b\"",    "a > out",    "a | b",  "a; b",
        "a && b", "a &", "a *.txt",    "a ~/x",   "X=1 trial",  "exec trial", "cd dir", "a\\ b",
        "a\nb",   "(a)", "a `b`",      "if",      "a #comment", "a [x]",      "a {b,c}"}) {
    EXPECT_EQ(SplitPlainCommand(command), std::nullopt) << command;
  }
}

TEST(FindProgramTest, SearchesPathLikeTheShell) {
  EXPECT_EQ(FindProgram("sh", "/nonexistent:/bin:/usr/bin", ""), "/bin/sh");
  EXPECT_EQ(FindProgram("no_such_program_for_sherpa", "/bin:/usr/bin", ""), std::nullopt);
  EXPECT_EQ(FindProgram("/bin/sh", "", ""), "/bin/sh");
  EXPECT_EQ(FindProgram("./sh", "", "/bin"), "./sh");  // relative to the working directory
  EXPECT_EQ(FindProgram("./sh", "", "/nonexistent"), std::nullopt);
  EXPECT_EQ(FindProgram("bin", "/", ""), std::nullopt);  // a directory is not a program
}

TEST(SpawnTest, ChildLeadsItsOwnProcessGroup) {
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(options));
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_NE(::getpgid(pid), ::getpgrp());
  SignalGroup(pid, SIGTERM);
  ASSERT_OK_AND_ASSIGN(ExitStatus awaited, AwaitExit(pid));
  EXPECT_EQ(awaited.signal, SIGTERM);
  // Not reaped yet: the pid is still ours.
  EXPECT_EQ(::kill(pid, 0), 0);
  ASSERT_OK_AND_ASSIGN(ExitStatus reaped, Reap(pid));
  EXPECT_EQ(reaped.signal, SIGTERM);
  EXPECT_EQ(reaped.code(), 128 + SIGTERM);
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(SpawnTest, TryReapSeesRunningAndEndedChildren) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "read x; exit 5"};
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  options.stdin_fd = fds[0];
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(options));
  ::close(fds[0]);
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> running, TryReap(pid));
  EXPECT_FALSE(running.has_value());
  ::close(fds[1]);
  ASSERT_OK_AND_ASSIGN(ExitStatus awaited, AwaitExit(pid));
  EXPECT_EQ(awaited.exit_code, 5);
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> ended, TryReap(pid));
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->exit_code, 5);
  EXPECT_FALSE(AwaitExit(pid).ok());
}

TEST(SpawnTest, UsesTheGivenEnvironmentAndDirectory) {
  std::string pattern = ::testing::TempDir() + "sherpa_proc_XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = std::filesystem::canonical(pattern);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo \"$ONLY_THIS|${HOME-unset}|$(pwd)\"; echo err >&2"};
  options.env = std::vector<std::string>{"ONLY_THIS=yes", "PATH=/usr/bin:/bin"};
  options.working_dir = (dir / ".").string();
  options.output_path = (dir / "out.txt").string();
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(options));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, Reap(pid));
  EXPECT_EQ(status.code(), 0);
  std::ifstream in(dir / "out.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "yes|unset|" + dir.string() + "\nerr\n");
  std::filesystem::remove_all(dir);
}

TEST(SpawnTest, HandsOnDescriptor3AndNoOther) {
  std::string pattern = ::testing::TempDir() + "sherpa_proc_XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = std::filesystem::canonical(pattern);
  int stray[2];
  ASSERT_EQ(::pipe2(stray, 0), 0);  // inheritable, yet must not reach the child
  // Ours may sit anywhere, 3 included (which dup2 onto itself would mishandle).
  for (const bool at_three : {false, true}) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    int from = ::fcntl(fds[0], F_DUPFD_CLOEXEC, 20);
    if (at_three) {
      ASSERT_EQ(::dup3(from, 3, O_CLOEXEC), 3);
      ::close(from);
      from = 3;
    }
    ::close(fds[0]);
    SpawnOptions options;
    options.argv = {"/bin/sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"};
    options.output_path = (dir / "out.txt").string();
    options.fd3 = from;
    ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(options));
    ::close(from);
    ASSERT_EQ(::write(fds[1], "hello\n", 6), 6);
    ::close(fds[1]);  // the child's cat then sees the end
    ASSERT_OK_AND_ASSIGN(ExitStatus status, Reap(pid));
    EXPECT_EQ(status.code(), 0);
    std::ifstream in(dir / "out.txt");
    std::stringstream text;
    text << in.rdbuf();
    // 0-2, 3, and the one ls opens to list them.
    EXPECT_EQ(text.str(), "hello\n0 1 2 3 4 ") << (at_three ? "from 3" : "from 20");
    std::filesystem::remove(dir / "out.txt");
  }
  ::close(stray[0]);
  ::close(stray[1]);
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, NamesSignalsAndExits) {
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGRTMIN + 3), "signal " + std::to_string(SIGRTMIN + 3));
  EXPECT_EQ(DescribeExit({.exit_code = 3}), "exit code 3");
  EXPECT_EQ(DescribeExit({.signal = SIGSEGV}), "killed by signal 11 (SIGSEGV)");
}

TEST(ProcessTest, MergedEnvironmentOverridesByName) {
  ASSERT_EQ(::setenv("SHERPA_MERGE_A", "old", 1), 0);
  ASSERT_EQ(::setenv("SHERPA_MERGE_AB", "kept", 1), 0);
  std::vector<std::string> env =
      MergedEnvironment({{"SHERPA_MERGE_A", "new"}, {"SHERPA_MERGE_C", ""}});
  EXPECT_THAT(env, Contains("SHERPA_MERGE_A=new"));
  EXPECT_THAT(env, Not(Contains("SHERPA_MERGE_A=old")));
  EXPECT_THAT(env, Contains("SHERPA_MERGE_AB=kept"));
  EXPECT_THAT(env, Contains("SHERPA_MERGE_C="));
  ::unsetenv("SHERPA_MERGE_A");
  ::unsetenv("SHERPA_MERGE_AB");
}

}  // namespace
}  // namespace sherpa::scheduler_internal
