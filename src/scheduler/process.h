// Internal to the scheduler module: the POSIX process plumbing shared by the
// schedulers and their tests. Every fork/exec/wait/kill of the module lives in
// process.cc, so the rules below are kept in one place:
//
//   * Children are started with posix_spawn (glibc: clone with vfork
//     semantics, well under a millisecond, and safe in a multithreaded
//     process because nothing but async-signal-safe code runs in the child).
//   * Every child leads its own process group, so a signal to -pid reaches
//     the grandchildren of a shell too. Its signal mask is emptied and all
//     dispositions reset, so a runner that blocks or ignores signals (a
//     sigwait thread, SIG_IGN for SIGPIPE) does not hand that on. Descriptors
//     other than 0, 1 and 2 (and 3 when asked for) are closed, so a child cannot keep the runner's
//     sockets or database files open.
//   * Children are waited for by pid only, never with waitpid(-1), so several
//     users of this file can have children at once.
//   * A group is signalled only while its leader has not been reaped: until
//     then the kernel cannot reuse the pid as a group id, so the signal cannot
//     hit an unrelated process. AwaitExit waits without reaping for exactly
//     that reason.

#ifndef SHERPA_SCHEDULER_PROCESS_H_
#define SHERPA_SCHEDULER_PROCESS_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "sherpa/status.h"

namespace sherpa::scheduler_internal {

struct SpawnOptions {
  // argv[0] is the program: a path if it contains '/', else looked up in PATH.
  std::vector<std::string> argv;
  // The file to run if not argv[0] (a shell keeps argv[0] as typed and runs
  // the file it found in PATH).
  std::string program;
  // The child's whole environment as "NAME=value" entries; nullopt: this
  // process's environment.
  std::optional<std::vector<std::string>> env;
  // "" = this process's current directory. A relative output_path is still
  // resolved against this process's directory, a relative argv[0] with a '/'
  // against working_dir.
  std::string working_dir;
  // If not "", stdout and stderr are appended to this file (created 0644;
  // its directory must exist). Otherwise stdout_fd and stderr_fd are used.
  std::string output_path;
  // Descriptors of this process to become the child's 0, 1 and 2; -1 means
  // /dev/null. They should be O_CLOEXEC so other children do not inherit
  // them.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // If >= 0, a descriptor of this process that becomes the child's
  // descriptor 3 and stays open through exec (the only one above 2).
  int fd3 = -1;
};

// Starts a child as described above; returns its pid, which is also its
// process group id. INVALID_ARGUMENT for an empty argv; INTERNAL if it
// cannot be started (missing program, working directory or output
// directory, ...).
StatusOr<pid_t> Spawn(const SpawnOptions& options);

// How a child ended: exactly one of `exit_code` (exited) or `signal` (killed
// by that signal) is meaningful.
struct ExitStatus {
  int exit_code = 0;
  int signal = 0;  // 0: the child exited
  // The shell convention: exit_code, or 128 + signal.
  int code() const { return signal != 0 ? 128 + signal : exit_code; }
};

// Blocks until child `pid` has ended, but leaves it unreaped (a zombie), so
// its pid and group id stay reserved until Reap. Retries on EINTR. INTERNAL if
// `pid` is not a child of this process or was reaped by someone else.
StatusOr<ExitStatus> AwaitExit(pid_t pid);

// Reaps child `pid`, blocking until it has ended.
StatusOr<ExitStatus> Reap(pid_t pid);

// Reaps child `pid` if it has ended; nullopt if it is still running.
StatusOr<std::optional<ExitStatus>> TryReap(pid_t pid);

// Sends `sig` to every process of group `pgid`. REQUIRES: the group's leader
// is a child of this process that has not been reaped yet. A group that has
// no members left is not an error.
void SignalGroup(pid_t pgid, int sig);

// Sends SIGKILL to every other process of this user whose environment
// holds each of `env`'s name=value pairs, and to the process group such a
// process leads. Returns their pids. For processes a dead parent left
// behind: they are nobody's children, so no waitpid stands guard over their
// pids, and the environment is what proves they are ours. Reads
// /proc/<pid>/environ; where there is no /proc it finds nothing.
std::vector<pid_t> KillProcessesWithEnvironment(const std::map<std::string, std::string>& env);

// "SIGSEGV" for 11; "signal 77" for numbers without a name.
std::string SignalName(int sig);

// "exit code 3", "killed by signal 11 (SIGSEGV)".
std::string DescribeExit(const ExitStatus& status);

// This process's environment with `overrides` added, replacing variables of
// the same name. Not safe against a concurrent setenv (nothing is).
std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& overrides);

// The argv of `command` if /bin/sh would run it as one plain program with
// plain arguments (words of letters, digits and `_./,:+@%=-`, the first one
// without '=' and not a shell keyword or builtin); nullopt if it needs the
// shell (quotes, variables, globs, redirections, pipes, `cd`, `exec`, ...).
// Running such a command directly saves a /bin/sh start-up (about 0.5 ms)
// per trial and behaves the same.
std::optional<std::vector<std::string>> SplitPlainCommand(std::string_view command);

// Where /bin/sh would find `program` for a child whose PATH is `path_env` and
// whose current directory is `working_dir` ("": ours): `program` itself if it
// contains '/', else the first executable regular file named so in PATH.
// nullopt if there is none (the shell would then report "not found").
std::optional<std::string> FindProgram(const std::string& program, std::string_view path_env,
                                       const std::string& working_dir);

struct CommandResult {
  int exit_code = 0;  // the exit status, or 128 + signal
  int signal = 0;     // the signal that ended the command, 0 if it exited
  std::string stdout_data;
  std::string stderr_data;
};

// Runs `argv` (argv[0] looked up in PATH unless it contains '/') with this
// process's environment and directory, writes `stdin_data` to its stdin,
// and returns its exit code with everything it wrote to stdout and stderr. A
// non-zero exit is a result, not an error. Errors: INVALID_ARGUMENT for an
// empty argv; INTERNAL if the program cannot be started; UNAVAILABLE if it
// has not finished within `timeout`, in which case its whole process group is
// killed (SIGKILL) and reaped before this returns.
StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   std::string_view stdin_data = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace sherpa::scheduler_internal

#endif  // SHERPA_SCHEDULER_PROCESS_H_
