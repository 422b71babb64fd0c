// LocalScheduler: each job is a child in its own process group: the
// command's program itself when the command is plain words, else /bin/sh -c.
//
// Threads: one waiter per running job, blocked in waitid on that job's pid,
// so an exit is seen the moment it happens (no polling, no SIGCHLD handler,
// no waitpid(-1) that would steal other children of the runner), and one
// housekeeper that sends the SIGKILLs of kill() once their grace period is
// over, joins the waiters that have finished and prepares output files.
//
// Output files: creating a file costs an inode allocation, 0.4 ms on a
// well-used ext4 (docs/design.md, "Starting a trial"), and a job's output
// file was created between spawn and exec, on the path from one trial's end
// to the next one's start. The housekeeper keeps one empty spare file,
// kSpareName, in each output directory in use; submit() renames it to the
// job's output path (16 us), and the housekeeper makes the next spare while
// the job runs.
//
// Process groups: a job's group is signalled only under mu_ and only while
// its leader is unreaped (Job::reaped is false), so the group id cannot have
// been reused by the time the signal is sent. When the leader has exited, its
// waiter kills what is left of the group (background processes the script
// started and did not wait for) before reaping it: they would otherwise keep
// running, possibly on a resource already handed to the next job.

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "scheduler/process.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa {
namespace {

using Clock = std::chrono::steady_clock;
namespace si = scheduler_internal;

// The spare output file of a directory. Hidden; one name, so a runner that
// was killed leaves at most one per directory, which the next one reuses.
constexpr const char* kSpareName = ".sherpa-spare-output";

Status ValidateEnv(const std::map<std::string, std::string>& env) {
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return InvalidArgumentError("environment variable name '" + name +
                                  "' is empty or contains '=' or NUL");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError("environment variable " + name + " contains NUL");
    }
  }
  return OkStatus();
}

class LocalScheduler final : public Scheduler {
 public:
  explicit LocalScheduler(LocalSchedulerOptions options)
      : options_(std::move(options)), resource_in_use_(options_.resources.size(), false) {
    housekeeper_ = std::thread([this] { Housekeep(); });
  }

  ~LocalScheduler() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (auto& [id, job] : jobs_) {
        if (job->reaped) continue;
        job->kill_requested = true;
        si::SignalGroup(job->pid, SIGKILL);
      }
    }
    cv_.notify_all();
    housekeeper_.join();
    // The housekeeper is gone and the map no longer changes, so the threads
    // can be joined without the lock (which the waiters still need).
    for (auto& [id, job] : jobs_) {
      if (job->waiter.joinable()) job->waiter.join();
    }
    for (const std::string& dir : spares_) ::unlink((dir + "/" + kSpareName).c_str());
  }

  std::string_view name() const override { return "local"; }

  size_t capacity() const override { return options_.resources.size(); }

  StatusOr<JobId> submit(const JobSpec& spec) override {
    SHERPA_RETURN_IF_ERROR(ValidateEnv(spec.env));
    if (!spec.output_path.empty()) {
      std::filesystem::path parent = std::filesystem::path(spec.output_path).parent_path();
      std::error_code error;
      if (!parent.empty()) std::filesystem::create_directories(parent, error);
      if (error) {
        return InternalError("cannot create the output directory '" + parent.string() +
                             "': " + error.message());
      }
      UseSpareOutputFile(parent.empty() ? "." : parent.string(), spec.output_path);
    }

    std::optional<size_t> resource;
    JobId id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!options_.resources.empty()) {
        auto free = std::find(resource_in_use_.begin(), resource_in_use_.end(), false);
        if (free == resource_in_use_.end()) {
          return UnavailableError("all " + std::to_string(options_.resources.size()) +
                                  " resources are in use");
        }
        resource = static_cast<size_t>(free - resource_in_use_.begin());
        *free = true;
      }
      id = std::to_string(next_id_++);
    }

    // The scheduler's own variables win over spec.env: they say what this
    // job was actually given.
    std::map<std::string, std::string> env = spec.env;
    const std::string resource_name = resource ? options_.resources[*resource] : "";
    env["SHERPA_RESOURCE"] = resource_name;
    if (options_.set_cuda_visible_devices && resource) env["CUDA_VISIBLE_DEVICES"] = resource_name;

    si::SpawnOptions options;
    options.env = si::MergedEnvironment(env);
    options.working_dir = spec.working_dir;
    options.output_path = spec.output_path;
    options.fd3 = spec.fd3;
    StatusOr<pid_t> pid = UnavailableError("not started");
    // A plain `program args...` is started directly: the same process the
    // shell would exec, half a millisecond sooner. Anything else, and any
    // program the direct start cannot run (e.g. a script without a #! line),
    // goes through /bin/sh, which also gives the usual "not found" message.
    if (std::optional<std::vector<std::string>> words = si::SplitPlainCommand(spec.command)) {
      auto path_var = env.find("PATH");
      const char* inherited_path = std::getenv("PATH");
      const std::string path_env = path_var != env.end() ? path_var->second
                                   : inherited_path      ? inherited_path
                                                         : "/usr/bin:/bin";
      if (std::optional<std::string> program =
              si::FindProgram((*words)[0], path_env, spec.working_dir)) {
        options.argv = std::move(*words);
        options.program = std::move(*program);
        pid = si::Spawn(options);
      }
    }
    if (!pid.ok()) {
      options.argv = {"/bin/sh", "-c", spec.command};
      options.program.clear();
      pid = si::Spawn(options);
    }

    std::lock_guard<std::mutex> lock(mu_);
    if (!pid.ok()) {
      if (resource) resource_in_use_[*resource] = false;
      return pid.status().WithContext("job " + (spec.name.empty() ? id : spec.name));
    }
    auto job = std::make_unique<Job>();
    job->pid = *pid;
    job->resource = resource;
    job->status.state = JobState::kRunning;
    job->status.resource = resource_name;
    Job* raw = job.get();
    try {
      raw->waiter = std::thread([this, raw] { Wait(raw); });
    } catch (const std::system_error& e) {
      si::SignalGroup(raw->pid, SIGKILL);
      (void)si::Reap(raw->pid);
      if (resource) resource_in_use_[*resource] = false;
      return UnavailableError(std::string("cannot start a thread to wait for the job: ") +
                              e.what());
    }
    jobs_.emplace(id, std::move(job));
    return id;
  }

  StatusOr<std::map<JobId, JobStatus>> status(const std::vector<JobId>& ids) override {
    std::map<JobId, JobStatus> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const JobId& id : ids) {
      auto it = jobs_.find(id);
      if (it != jobs_.end()) out.emplace(id, it->second->status);
    }
    return out;
  }

  Status kill(const JobId& id) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(id);
      if (it == jobs_.end()) return NotFoundError("no job with id '" + id + "'");
      Job& job = *it->second;
      if (job.reaped || job.kill_requested) return OkStatus();
      job.kill_requested = true;
      if (options_.kill_grace.count() <= 0) {
        si::SignalGroup(job.pid, SIGKILL);
        return OkStatus();
      }
      si::SignalGroup(job.pid, SIGTERM);
      deadlines_.push_back({Clock::now() + options_.kill_grace, &job});
      deadline_added_ = true;
    }
    cv_.notify_all();
    return OkStatus();
  }

 private:
  struct Job {
    pid_t pid = -1;
    std::optional<size_t> resource;  // index into options_.resources
    JobStatus status;
    bool kill_requested = false;
    // Set once the leader is reaped: from then on its pid and group id may
    // belong to someone else and must not be signalled.
    bool reaped = false;
    std::thread waiter;
  };

  struct Deadline {
    Clock::time_point when;
    Job* job;
  };

  // Makes `output_path` the spare file of `dir` if there is one and the path
  // does not exist yet (an existing output file, e.g. of a trial run again,
  // is appended to), and asks the housekeeper for the next spare. Any
  // failure leaves the file to be created by the spawn, as without a spare.
  void UseSpareOutputFile(const std::string& dir, const std::string& output_path) {
    bool had_spare;
    {
      std::lock_guard<std::mutex> lock(mu_);
      had_spare = spares_.erase(dir) > 0;
    }
    if (had_spare) {
      const std::string spare = dir + "/" + kSpareName;
      // RENAME_NOREPLACE: never clobbers an output file that exists.
      if (::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, output_path.c_str(), RENAME_NOREPLACE) !=
          0) {
        if (errno == EEXIST) {  // the spare stays for the next job
          std::lock_guard<std::mutex> lock(mu_);
          spares_.insert(dir);
          return;
        }
        ::unlink(spare.c_str());
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      spares_wanted_.insert(dir);
    }
    cv_.notify_all();
  }

  // Creates the spare output files asked for; called by the housekeeper
  // without the lock.
  void MakeSpares(const std::set<std::string>& dirs) {
    for (const std::string& dir : dirs) {
      const std::string spare = dir + "/" + kSpareName;
      // O_TRUNC: a spare left by a killed runner is reused, empty.
      const int fd = ::open(spare.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) continue;  // the job's spawn creates its file itself
      ::close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::unlink(spare.c_str());
      } else {
        spares_.insert(dir);
      }
    }
  }

  // Waiter thread body.
  void Wait(Job* job) {
    StatusOr<si::ExitStatus> exit = si::AwaitExit(job->pid);
    bool notify = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      JobStatus& status = job->status;
      if (exit.ok()) {
        si::SignalGroup(job->pid, SIGKILL);
        StatusOr<si::ExitStatus> reaped = si::Reap(job->pid);
        if (reaped.ok()) exit = reaped;  // the same status, but read from the reaping itself
        status.exit_code = exit->code();
        if (job->kill_requested) {
          status.state = JobState::kKilled;
          status.reason = "stopped";
        } else if (exit->code() == 0) {
          status.state = JobState::kCompleted;
          status.reason.clear();
        } else {
          status.state = JobState::kFailed;
          status.reason = si::DescribeExit(*exit);
        }
      } else {
        // Someone else reaped our child (a waitpid(-1) elsewhere in the
        // process): the pid is no longer ours and the exit status is lost.
        status.state = job->kill_requested ? JobState::kKilled : JobState::kFailed;
        status.exit_code = -1;
        status.reason = "lost track of the job: " + exit.status().message();
      }
      job->reaped = true;
      if (job->resource) resource_in_use_[*job->resource] = false;
      notify = !stopping_;
    }
    // Outside the lock: the callback may take the runner's locks, and the
    // runner may be calling into us while holding them.
    if (notify && options_.on_change) options_.on_change();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_waiters_.push_back(job);
    }
    cv_.notify_all();
  }

  // Housekeeper thread body.
  void Housekeep() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      // Only waiters past their callback are listed, so these joins are
      // short and cannot wait on the runner.
      std::vector<std::thread> to_join;
      for (Job* job : finished_waiters_) to_join.push_back(std::move(job->waiter));
      finished_waiters_.clear();
      if (!to_join.empty()) {
        lock.unlock();
        for (std::thread& thread : to_join) thread.join();
        lock.lock();
        continue;
      }
      if (!spares_wanted_.empty()) {
        std::set<std::string> dirs;
        dirs.swap(spares_wanted_);
        lock.unlock();
        MakeSpares(dirs);
        lock.lock();
        continue;
      }

      deadline_added_ = false;
      const Clock::time_point now = Clock::now();
      std::optional<Clock::time_point> next;
      std::erase_if(deadlines_, [&](const Deadline& deadline) {
        if (deadline.job->reaped) return true;
        if (deadline.when <= now) {
          si::SignalGroup(deadline.job->pid, SIGKILL);
          return true;
        }
        next = next ? std::min(*next, deadline.when) : deadline.when;
        return false;
      });
      auto has_work = [this] {
        return stopping_ || deadline_added_ || !finished_waiters_.empty() ||
               !spares_wanted_.empty();
      };
      if (next) {
        cv_.wait_until(lock, *next, has_work);
      } else {
        cv_.wait(lock, has_work);
      }
    }
  }

  const LocalSchedulerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Jobs are never removed: status() answers for every job ever submitted.
  // unique_ptr so that the threads can hold on to a Job while the map grows.
  std::map<JobId, std::unique_ptr<Job>> jobs_;
  std::vector<bool> resource_in_use_;
  std::vector<Deadline> deadlines_;
  std::vector<Job*> finished_waiters_;
  std::set<std::string> spares_;         // directories that have a spare output file
  std::set<std::string> spares_wanted_;  // directories the housekeeper should give one
  uint64_t next_id_ = 1;
  bool deadline_added_ = false;
  bool stopping_ = false;
  std::thread housekeeper_;
};

}  // namespace

size_t KillOrphanedJobs(const std::map<std::string, std::string>& env) {
  return si::KillProcessesWithEnvironment(env).size();
}

std::unique_ptr<Scheduler> NewLocalScheduler(LocalSchedulerOptions options) {
  return std::make_unique<LocalScheduler>(std::move(options));
}

}  // namespace sherpa
