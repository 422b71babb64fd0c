#include "scheduler/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <sys/stat.h>
#include <sys/wait.h>

extern char** environ;

namespace sherpa::scheduler_internal {
namespace {

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// O_CLOEXEC, so that a child spawned concurrently by another thread does not
// inherit our end and keep the pipe from ever reporting EOF.
Status MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return InternalError("pipe2: " + ErrnoText(errno));
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return OkStatus();
}

void SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

ExitStatus FromWaitStatus(int wait_status) {
  ExitStatus status;
  if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  } else {
    status.exit_code = WEXITSTATUS(wait_status);
  }
  return status;
}

// While alive, writes to a pipe whose reader has gone fail with EPIPE instead
// of raising SIGPIPE, whose default action would end the whole runner.
class BlockSigpipe {
 public:
  BlockSigpipe() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~BlockSigpipe() {
    if (sigismember(&old_, SIGPIPE)) return;
    // Discard the SIGPIPEs our writes raised (they are thread-directed), so
    // unblocking does not deliver them.
    timespec zero{};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  BlockSigpipe(const BlockSigpipe&) = delete;
  BlockSigpipe& operator=(const BlockSigpipe&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
};

// Kills and reaps a child we are giving up on, so no zombie is left behind.
void KillAndReap(pid_t pid) {
  SignalGroup(pid, SIGKILL);
  (void)Reap(pid);
}

}  // namespace

StatusOr<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgumentError("cannot start a process without argv");
  // Everything the child needs is built here, before the spawn: the child
  // shares our memory until exec and must not allocate.
  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> envp;
  char** env = environ;
  if (options.env) {
    envp = CStrings(*options.env);
    env = envp.data();
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int rc = posix_spawn_file_actions_init(&actions); rc != 0) {
    return InternalError("posix_spawn_file_actions_init: " + ErrnoText(rc));
  }
  if (int rc = posix_spawnattr_init(&attr); rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return InternalError("posix_spawnattr_init: " + ErrnoText(rc));
  }

  int rc = 0;
  auto step = [&rc](int result) {
    if (rc == 0) rc = result;
  };
  // Output files are opened before the chdir so that relative paths mean the
  // same thing to the caller and to the child.
  if (options.stdin_fd >= 0) {
    step(posix_spawn_file_actions_adddup2(&actions, options.stdin_fd, 0));
  } else {
    step(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0));
  }
  if (!options.output_path.empty()) {
    step(posix_spawn_file_actions_addopen(&actions, 1, options.output_path.c_str(),
                                          O_WRONLY | O_CREAT | O_APPEND, 0644));
    step(posix_spawn_file_actions_adddup2(&actions, 1, 2));
  } else {
    for (auto [from, to] : {std::pair{options.stdout_fd, 1}, std::pair{options.stderr_fd, 2}}) {
      if (from >= 0) {
        step(posix_spawn_file_actions_adddup2(&actions, from, to));
      } else {
        step(posix_spawn_file_actions_addopen(&actions, to, "/dev/null", O_WRONLY, 0));
      }
    }
  }
  if (!options.working_dir.empty()) {
    step(posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str()));
  }
  int fd3_copy = -1;
  if (options.fd3 >= 0) {
    // dup2 onto itself would keep FD_CLOEXEC on glibcs before 2.29; a copy
    // at another number is dup2'ed like any other descriptor.
    int from = options.fd3;
    if (from == 3) {
      fd3_copy = ::fcntl(from, F_DUPFD_CLOEXEC, 4);
      if (fd3_copy < 0) step(errno);
      from = fd3_copy;
    }
    step(posix_spawn_file_actions_adddup2(&actions, from, 3));
  }
  step(posix_spawn_file_actions_addclosefrom_np(&actions, options.fd3 >= 0 ? 4 : 3));

  sigset_t empty_mask;
  sigset_t all_signals;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  step(posix_spawnattr_setflags(
      &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  step(posix_spawnattr_setpgroup(&attr, 0));
  step(posix_spawnattr_setsigmask(&attr, &empty_mask));
  step(posix_spawnattr_setsigdefault(&attr, &all_signals));

  pid_t pid = -1;
  if (rc == 0) {
    const std::string& program = options.program.empty() ? options.argv[0] : options.program;
    const bool search_path = program.find('/') == std::string::npos;
    rc = search_path ? posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), env)
                     : posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), env);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (fd3_copy >= 0) ::close(fd3_copy);
  if (rc != 0) {
    std::string message =
        "cannot start '" + (options.program.empty() ? options.argv[0] : options.program) + "'";
    if (!options.working_dir.empty()) message += " in '" + options.working_dir + "'";
    if (!options.output_path.empty()) message += " with output to '" + options.output_path + "'";
    return InternalError(message + ": " + ErrnoText(rc));
  }
  return pid;
}

std::optional<std::vector<std::string>> SplitPlainCommand(std::string_view command) {
  // Keywords and builtins change what the words mean (or the shell's own
  // state), so a command starting with one is left to the shell.
  static constexpr std::string_view kShellWords[] = {
      "!",     "{",     "}",    ".",        ":",        "[",      "alias", "bg",
      "break", "case",  "cd",   "command",  "continue", "do",     "done",  "elif",
      "else",  "esac",  "eval", "exec",     "exit",     "export", "false", "fc",
      "fg",    "fi",    "for",  "getopts",  "hash",     "if",     "in",    "jobs",
      "kill",  "local", "read", "readonly", "return",   "set",    "shift", "test",
      "then",  "times", "trap", "true",     "type",     "ulimit", "umask", "unalias",
      "unset", "until", "wait", "while",    "echo",     "printf", "pwd"};
  auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./,:+@%=-", c) != nullptr;
  };
  std::vector<std::string> words;
  size_t i = 0;
  while (i < command.size()) {
    const char c = command[i];
    if (c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    if (!plain(c)) return std::nullopt;
    const size_t start = i;
    while (i < command.size() && plain(command[i])) ++i;
    words.emplace_back(command.substr(start, i - start));
  }
  if (words.empty() || words[0].find('=') != std::string::npos) return std::nullopt;
  for (std::string_view word : kShellWords) {
    if (words[0] == word) return std::nullopt;
  }
  return words;
}

std::optional<std::string> FindProgram(const std::string& program, std::string_view path_env,
                                       const std::string& working_dir) {
  auto executable = [&working_dir](const std::string& path) {
    const std::string full =
        path.front() == '/' || working_dir.empty() ? path : working_dir + "/" + path;
    struct stat info {};
    return stat(full.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           access(full.c_str(), X_OK) == 0;
  };
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (executable(program)) return program;
    return std::nullopt;
  }
  size_t start = 0;
  for (;;) {
    const size_t end = std::min(path_env.find(':', start), path_env.size());
    // An empty PATH entry means the current directory.
    std::string candidate =
        (end > start ? std::string(path_env.substr(start, end - start)) : std::string(".")) + "/" +
        program;
    if (executable(candidate)) return candidate;
    if (end == path_env.size()) return std::nullopt;
    start = end + 1;
  }
}

StatusOr<ExitStatus> AwaitExit(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR)
      return InternalError("waitid(" + std::to_string(pid) + "): " + ErrnoText(errno));
  }
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else {
    status.signal = info.si_status;
  }
  return status;
}

StatusOr<ExitStatus> Reap(pid_t pid) {
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) != pid) {
    if (errno != EINTR)
      return InternalError("waitpid(" + std::to_string(pid) + "): " + ErrnoText(errno));
  }
  return FromWaitStatus(wait_status);
}

StatusOr<std::optional<ExitStatus>> TryReap(pid_t pid) {
  int wait_status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &wait_status, WNOHANG);
    if (r == pid) return std::optional<ExitStatus>(FromWaitStatus(wait_status));
    if (r == 0) return std::optional<ExitStatus>();
    if (errno != EINTR)
      return InternalError("waitpid(" + std::to_string(pid) + "): " + ErrnoText(errno));
  }
}

void SignalGroup(pid_t pgid, int sig) {
  // kill(0) and kill(-1) would signal our own group or every process we may
  // signal: never let a bad pid get there.
  if (pgid <= 1) return;
  ::kill(-pgid, sig);
}

std::vector<pid_t> KillProcessesWithEnvironment(const std::map<std::string, std::string>& env) {
  std::vector<pid_t> killed;
  if (env.empty()) return killed;  // would match every process
  std::vector<std::string> wanted;
  for (const auto& [name, value] : env) wanted.push_back(name + "=" + value);
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc", error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    struct stat info {};
    if (pid <= 1 || pid == ::getpid() || ::stat(it->path().c_str(), &info) != 0 ||
        info.st_uid != ::geteuid()) {
      continue;
    }
    std::ifstream in(it->path() / "environ", std::ios::binary);
    if (!in) continue;  // gone, or not ours to read
    std::set<std::string> entries;
    for (std::string entry; std::getline(in, entry, '\0');) entries.insert(std::move(entry));
    if (!std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return entries.count(w) != 0; })) {
      continue;
    }
    if (::getpgid(pid) == pid) SignalGroup(pid, SIGKILL);
    ::kill(pid, SIGKILL);
    killed.push_back(pid);
  }
  return killed;
}

std::string SignalName(int sig) {
  if (const char* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

std::string DescribeExit(const ExitStatus& status) {
  if (status.signal != 0) {
    return "killed by signal " + std::to_string(status.signal) + " (" + SignalName(status.signal) +
           ")";
  }
  return "exit code " + std::to_string(status.exit_code);
}

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view name = text.substr(0, text.find('='));
    if (overrides.count(std::string(name)) != 0) continue;
    env.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   std::string_view stdin_data, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  if (argv.empty()) return InvalidArgumentError("RunCommand needs a program to run");

  Fd stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write;
  SHERPA_RETURN_IF_ERROR(MakePipe(stdin_read, stdin_write));
  SHERPA_RETURN_IF_ERROR(MakePipe(stdout_read, stdout_write));
  SHERPA_RETURN_IF_ERROR(MakePipe(stderr_read, stderr_write));
  SpawnOptions options;
  options.argv = argv;
  options.stdin_fd = stdin_read.get();
  options.stdout_fd = stdout_write.get();
  options.stderr_fd = stderr_write.get();
  SHERPA_ASSIGN_OR_RETURN(const pid_t pid, Spawn(options));
  // Our copies of the child's ends must go, or the reads never see EOF.
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();

  std::optional<BlockSigpipe> block_sigpipe;
  if (stdin_data.empty()) {
    stdin_write.reset();
  } else {
    block_sigpipe.emplace();
    SetNonBlocking(stdin_write.get());
  }
  SetNonBlocking(stdout_read.get());
  SetNonBlocking(stderr_read.get());

  CommandResult result;
  auto remaining_ms = [&deadline] {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max<int64_t>(0, left.count());
  };
  auto drain = [](Fd& fd, std::string& out) {
    char buffer[16384];
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
      if (n > 0) {
        out.append(buffer, static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n == 0 || errno != EAGAIN) fd.reset();  // EOF, or an error we cannot recover from
        return;
      }
    }
  };

  bool timed_out = false;
  while (stdin_write.valid() || stdout_read.valid() || stderr_read.valid()) {
    const int64_t wait_ms = remaining_ms();
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t count = 0;
    Fd* owners[3];
    if (stdin_write.valid()) {
      owners[count] = &stdin_write;
      fds[count++] = {stdin_write.get(), POLLOUT, 0};
    }
    for (Fd* fd : {&stdout_read, &stderr_read}) {
      if (!fd->valid()) continue;
      owners[count] = fd;
      fds[count++] = {fd->get(), POLLIN, 0};
    }
    int ready = ::poll(fds, count, static_cast<int>(std::min<int64_t>(wait_ms, 1 << 30)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      KillAndReap(pid);
      return InternalError("poll: " + ErrnoText(error));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      Fd& fd = *owners[i];
      if (&fd == &stdin_write) {
        ssize_t n =
            ::write(fd.get(), stdin_data.data(), std::min<size_t>(stdin_data.size(), 65536));
        if (n > 0) {
          stdin_data.remove_prefix(static_cast<size_t>(n));
          if (stdin_data.empty()) fd.reset();
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
          fd.reset();  // EPIPE: the command does not want (the rest of) its input
        }
      } else {
        drain(fd, &fd == &stdout_read ? result.stdout_data : result.stderr_data);
      }
    }
  }

  // The pipes are closed; the command itself usually exits at the same time,
  // but may close them early and keep running.
  std::optional<ExitStatus> exit_status;
  std::chrono::microseconds pause(100);
  while (!timed_out) {
    StatusOr<std::optional<ExitStatus>> reaped = TryReap(pid);
    if (!reaped.ok()) return reaped.status();
    if (*reaped) {
      exit_status = **reaped;
      break;
    }
    const int64_t wait_ms = remaining_ms();
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::microseconds>(pause, std::chrono::milliseconds(wait_ms)));
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(20));
  }
  if (timed_out) {
    KillAndReap(pid);
    return UnavailableError("'" + argv[0] + "' did not finish within " +
                            std::to_string(timeout.count()) + " ms and was killed");
  }
  result.exit_code = exit_status->code();
  result.signal = exit_status->signal;
  return result;
}

}  // namespace sherpa::scheduler_internal
