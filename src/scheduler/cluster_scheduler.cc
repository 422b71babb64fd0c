// ClusterScheduler: the table of jobs, the polling thread and the
// cancellation record shared by the Slurm and Grid Engine schedulers
// (cluster_scheduler.h says how they behave).
#include "scheduler/cluster_scheduler.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
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

#include <sys/stat.h>

#include "scheduler/process.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {
namespace {

using Clock = std::chrono::steady_clock;

bool SameStatus(const JobStatus& a, const JobStatus& b) {
  return a.state == b.state && a.exit_code == b.exit_code && a.reason == b.reason;
}

class ClusterScheduler final : public Scheduler {
 public:
  ClusterScheduler(std::unique_ptr<ClusterBackend> backend, ClusterSchedulerOptions options)
      : backend_(std::move(backend)), options_(std::move(options)) {
    // A tight loop of squeue calls would load the controller for nothing.
    options_.poll_interval = std::max(options_.poll_interval, std::chrono::milliseconds(50));
    poller_ = std::thread([this] { PollLoop(); });
  }

  ~ClusterScheduler() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    poller_.join();
    // As the local scheduler kills its children: jobs of a study that is
    // gone would otherwise hold cluster resources until they end by
    // themselves. Best effort, in one command.
    std::vector<JobId> left;
    for (const JobId& id : live_) {
      const Job& job = jobs_.at(id);
      if (!job.cancel_requested || job.cancel_pending) left.push_back(id);
    }
    if (!left.empty()) (void)backend_->Cancel(left);
  }

  std::string_view name() const override { return backend_->name(); }

  StatusOr<JobId> submit(const JobSpec& spec) override {
    if (spec.fd3 >= 0) {
      return InvalidArgumentError("a cluster job cannot be handed a descriptor (JobSpec::fd3)");
    }
    SHERPA_ASSIGN_OR_RETURN(std::string script, JobScript(spec, options_.environment));
    JobSpec job = spec;
    std::error_code error;
    if (job.working_dir.empty()) job.working_dir = std::filesystem::current_path(error).string();
    if (!job.output_path.empty()) {
      // Absolute: the cluster would resolve a relative path against the
      // job's working directory on the compute node.
      job.output_path = std::filesystem::absolute(job.output_path, error).string();
      const std::filesystem::path parent = std::filesystem::path(job.output_path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, error);
      if (error) {
        return InternalError("cannot create the output directory '" + parent.string() +
                             "': " + error.message());
      }
    }
    StatusOr<JobId> id = backend_->Submit(job, SafeJobName(job.name), script);
    if (!id.ok()) return id.status().WithContext("job " + job.name);
    {
      std::lock_guard<std::mutex> lock(mu_);
      Job& added = jobs_[*id];
      added.status.state = JobState::kQueued;
      live_.insert(*id);
    }
    cv_.notify_all();
    return id;
  }

  StatusOr<std::map<JobId, JobStatus>> status(const std::vector<JobId>& ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Said once per failure streak: the caller logs it, and the table still
    // holds the last states the cluster told us.
    if (!poll_error_.ok() && !poll_error_reported_) {
      poll_error_reported_ = true;
      return poll_error_;
    }
    std::map<JobId, JobStatus> out;
    for (const JobId& id : ids) {
      auto it = jobs_.find(id);
      if (it != jobs_.end()) out.emplace(id, it->second.status);
    }
    return out;
  }

  Status cancel_left_over(const std::vector<JobId>& ids) override {
    if (ids.empty()) return OkStatus();
    return backend_->Cancel(ids);
  }

  Status kill(const JobId& id) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(id);
      if (it == jobs_.end()) return NotFoundError("no job with id '" + id + "'");
      Job& job = it->second;
      if (job.status.ended() || job.cancel_requested) return OkStatus();
      // Recorded before the command runs: Grid Engine forgets a job deleted
      // while pending, so this record is all we will have of it.
      job.cancel_requested = true;
    }
    const Status cancelled = backend_->Cancel({id});
    if (cancelled.ok()) return OkStatus();
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_[id].cancel_pending = true;
    }
    return Status(cancelled.code(), cancelled.message() + " (will try again at the next poll)");
  }

 private:
  struct Job {
    JobStatus status;
    bool cancel_requested = false;
    bool cancel_pending = false;  // the cancel command failed; retried at each poll
    std::optional<Clock::time_point> missing_since;
  };

  void PollLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    Clock::time_point next = Clock::now();
    while (!stopping_) {
      if (live_.empty()) {
        cv_.wait(lock, [this] { return stopping_ || !live_.empty(); });
        // A job just submitted is queued; there is nothing to learn sooner.
        next = Clock::now() + options_.poll_interval;
        continue;
      }
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
      next = Clock::now() + options_.poll_interval;
      if (PollOnce(lock) && options_.on_change) {
        // Outside the lock: the callback takes the runner's lock, and the
        // runner calls status() while holding it.
        lock.unlock();
        options_.on_change();
        lock.lock();
      }
    }
  }

  // One round: retries failed cancels, polls, updates the table. Returns
  // whether any job changed state. Called and returns with `lock` held.
  bool PollOnce(std::unique_lock<std::mutex>& lock) {
    std::vector<PollJob> asked;
    std::vector<JobId> cancels;
    for (const JobId& id : live_) {
      const Job& job = jobs_.at(id);
      asked.push_back({id, job.cancel_requested});
      if (job.cancel_pending) cancels.push_back(id);
    }
    lock.unlock();
    const Status cancelled = cancels.empty() ? OkStatus() : backend_->Cancel(cancels);
    StatusOr<std::map<JobId, JobStatus>> polled = backend_->Poll(asked);
    lock.lock();

    if (cancelled.ok()) {
      for (const JobId& id : cancels) jobs_.at(id).cancel_pending = false;
    }
    if (!polled.ok()) {
      if (poll_error_.ok()) poll_error_reported_ = false;
      poll_error_ = polled.status();
      return false;
    }
    poll_error_ = OkStatus();

    const Clock::time_point now = Clock::now();
    bool changed = false;
    for (const PollJob& poll : asked) {
      Job& job = jobs_.at(poll.id);
      JobStatus next;
      if (auto it = polled->find(poll.id); it != polled->end()) {
        job.missing_since.reset();
        next = it->second;
      } else {
        if (!job.missing_since) job.missing_since = now;
        if (job.cancel_requested) {
          next.state = JobState::kKilled;
          next.reason = "stopped";
        } else if (now - *job.missing_since >= backend_->missing_grace()) {
          next.state = JobState::kFailed;
          next.exit_code = -1;
          next.reason = std::string(backend_->name()) +
                        " has no record of the job any more (neither queued nor in its "
                        "accounting)";
        } else {
          continue;
        }
      }
      // As with the local scheduler, a job we asked to end ended because we
      // asked, whatever the cluster calls it (it may have raced to the end).
      if (next.ended() && job.cancel_requested && next.state != JobState::kKilled) {
        next.state = JobState::kKilled;
        next.reason = "stopped";
      }
      next.resource = job.status.resource;
      if (SameStatus(next, job.status)) continue;
      job.status = std::move(next);
      changed = true;
      if (job.status.ended()) live_.erase(poll.id);
    }
    return changed;
  }

  std::unique_ptr<ClusterBackend> backend_;
  ClusterSchedulerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Jobs are never removed: status() answers for every job ever submitted.
  std::map<JobId, Job> jobs_;
  std::set<JobId> live_;  // not ended yet: the jobs each poll asks about
  Status poll_error_;
  bool poll_error_reported_ = true;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace

StatusOr<std::unique_ptr<Scheduler>> NewClusterScheduler(std::unique_ptr<ClusterBackend> backend,
                                                         ClusterSchedulerOptions options) {
  SHERPA_RETURN_IF_ERROR(backend->Check());
  if (!options.environment.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(options.environment, error)) {
      return InvalidArgumentError("environment file '" + options.environment +
                                  "' does not exist (it must also be readable on the compute "
                                  "nodes)");
    }
    options.environment = std::filesystem::absolute(options.environment, error).string();
  }
  return std::unique_ptr<Scheduler>(
      std::make_unique<ClusterScheduler>(std::move(backend), std::move(options)));
}

StatusOr<std::vector<std::string>> SplitShellWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == text.size())
        return InvalidArgumentError("trailing backslash in '" + std::string(text) + "'");
      if (text[i] != '\n') word += text[i];  // backslash-newline joins lines
    } else if (c == '\'') {
      const size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return InvalidArgumentError("unterminated ' in '" + std::string(text) + "'");
      }
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i == text.size())
          return InvalidArgumentError("unterminated \" in '" + std::string(text) + "'");
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() &&
            std::string_view("\"\\$`\n").find(text[i + 1]) != std::string_view::npos) {
          ++i;
          if (text[i] == '\n') continue;
        }
        word += text[i];
      }
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string SafeJobName(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "sherpa_" + out;
  if (out == "sherpa_") out = "sherpa_job";
  if (out.size() > 64) out.resize(64);
  return out;
}

StatusOr<std::string> JobScript(const JobSpec& job, const std::string& environment_file) {
  std::string script =
      "#!/bin/bash\n"
      "# Written by sherpa for job " +
      SafeJobName(job.name) + ": the trial's environment, then its command.\n";
  if (!environment_file.empty()) {
    script += ". " + ShellQuote(environment_file) + " || { echo " +
              ShellQuote("sherpa: cannot source " + environment_file) + " >&2; exit 1; }\n";
  }
  for (const auto& [name, value] : job.env) {
    const bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                            std::all_of(name.begin(), name.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                            });
    if (!identifier) {
      return InvalidArgumentError("environment variable name '" + name +
                                  "' is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError("environment variable " + name + " contains NUL");
    }
    script += "export " + name + "=" + ShellQuote(value) + "\n";
  }
  if (job.command.find('\0') != std::string::npos) {
    return InvalidArgumentError("the command contains NUL");
  }
  script += "exec /bin/sh -c " + ShellQuote(job.command) + "\n";
  return script;
}

std::string FindProgram(const std::string& program, const std::string& bin_dir) {
  auto executable = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (!bin_dir.empty()) {
    const std::string path = bin_dir + "/" + program;
    return executable(path) ? path : "";
  }
  const char* env = std::getenv("PATH");
  const std::string path_list = env ? env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path_list.size()) {
    size_t end = path_list.find(':', start);
    if (end == std::string::npos) end = path_list.size();
    const std::string dir = end == start ? "." : path_list.substr(start, end - start);
    const std::string candidate = dir + "/" + program;
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

bool LooksTransient(std::string_view message) {
  std::string lower(message);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::string_view kTransient[] = {
      "unable to contact",  // Slurm: controller down; SGE: qmaster down
      "connection refused", "connect failure", "timed out",
      "temporarily",        "try again",       "busy",
      "commlib error",      "unable to send",  "got no message",
      "zero bytes",         "submit limit",    "maxsubmit",
      "not responding",     "communication",   "can't connect",
      "cannot connect"};
  return std::any_of(std::begin(kTransient), std::end(kTransient),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

StatusOr<std::string> RunSubmit(std::string_view tool, const std::vector<std::string>& argv,
                                std::string_view script, std::chrono::milliseconds timeout) {
  const std::string name(tool);
  StatusOr<CommandResult> result = RunCommand(argv, script, timeout);
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kUnavailable) {
      return UnavailableError(name + ": " + result.status().message());
    }
    return result.status().WithContext(name);
  }
  if (result->exit_code != 0) {
    const std::string message = name + " failed (exit " + std::to_string(result->exit_code) +
                                "): " + Trimmed(result->stderr_data + result->stdout_data);
    if (LooksTransient(message)) return UnavailableError(message);
    return InvalidArgumentError(message + " (check the scheduler's submit_options)");
  }
  return std::move(result->stdout_data);
}

}  // namespace sherpa::scheduler_internal
