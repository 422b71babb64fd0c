// SGEScheduler: jobs are qsub batch jobs; one qstat per poll lists the
// state of every queued or running job of ours. Grid Engine has no finished
// state: a job leaves qstat when it ends, and its exit status is then read
// once from `qacct -j ID` (a few seconds late: the accounting file is
// flushed every flush_time). A job deleted while pending leaves no record,
// which is why the cluster scheduler remembers its own cancellations.
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/cluster_scheduler.h"
#include "scheduler/process.h"
#include "scheduler/sge_parse.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa {
namespace {

namespace si = scheduler_internal;

std::string UserName() {
  if (const passwd* entry = ::getpwuid(::getuid())) return entry->pw_name;
  return std::to_string(::getuid());
}

class SgeBackend final : public si::ClusterBackend {
 public:
  explicit SgeBackend(const ClusterSchedulerOptions& options)
      : bin_dir_(options.bin_dir),
        submit_options_(options.submit_options),
        timeout_(options.command_timeout),
        export_environment_(options.export_environment),
        user_(UserName()) {}

  std::string_view name() const override { return "sge"; }

  Status Check() override {
    StatusOr<std::vector<std::string>> extra = si::SplitShellWords(submit_options_);
    if (!extra.ok()) return extra.status().WithContext("submit_options");
    extra_ = std::move(*extra);
    for (auto [program, path] : {std::pair{"qsub", &qsub_}, std::pair{"qstat", &qstat_},
                                 std::pair{"qdel", &qdel_}, std::pair{"qacct", &qacct_}}) {
      *path = si::FindProgram(program, bin_dir_);
      if (path->empty()) {
        return FailedPreconditionError(
            std::string(program) + " not found " +
            (bin_dir_.empty() ? "in PATH" : "in " + bin_dir_) +
            ": is Grid Engine installed on this host (and its settings.sh sourced)? The runner "
            "submits trials with qsub, so it must run on a submit host. For a local test "
            "cell: tools/clusters.sh start sge");
      }
    }
    StatusOr<si::CommandResult> ping = si::RunCommand({qstat_, "-u", user_}, "", timeout_);
    if (!ping.ok() || ping->exit_code != 0) {
      return UnavailableError("Grid Engine's qmaster does not answer (qstat: " +
                              (ping.ok() ? si::Trimmed(ping->stderr_data + ping->stdout_data)
                                         : ping.status().message()) +
                              "); is sge_qmaster running, and are SGE_ROOT and SGE_CELL right?");
    }
    return OkStatus();
  }

  StatusOr<JobId> Submit(const JobSpec& job, const std::string& name,
                         const std::string& script) override {
    // -C "": no "#$" directives in the script (a trial's env or command
    // could contain such a line); -j y: stderr into the output file, which
    // Grid Engine appends to. "host:path" is its syntax for -o, so a path
    // with ':' gets an empty host.
    const std::string& out = job.output_path;
    std::vector<std::string> argv = {
        qsub_, "-terse",
        "-S",  "/bin/bash",
        "-C",  "",
        "-N",  name,
        "-o",  out.empty() ? "/dev/null" : (out.find(':') != std::string::npos ? ":" + out : out),
        "-j",  "y",
        "-wd", job.working_dir};
    if (export_environment_) argv.push_back("-V");
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    SHERPA_ASSIGN_OR_RETURN(std::string printed, si::RunSubmit("qsub", argv, script, timeout_));
    return si::ParseQsubOutput(printed);
  }

  StatusOr<std::map<JobId, JobStatus>> Poll(const std::vector<si::PollJob>& jobs) override {
    std::map<JobId, JobStatus> out;
    if (jobs.empty()) return out;
    StatusOr<si::CommandResult> result = si::RunCommand({qstat_, "-u", user_}, "", timeout_);
    if (!result.ok()) return UnavailableError("qstat: " + result.status().message());
    if (result->exit_code != 0) {
      return UnavailableError("qstat failed (exit " + std::to_string(result->exit_code) +
                              "): " + si::Trimmed(result->stderr_data + result->stdout_data));
    }
    const std::map<JobId, std::string> queued = si::ParseQstat(result->stdout_data);
    std::vector<JobId> errored;
    for (const si::PollJob& job : jobs) {
      auto it = queued.find(job.id);
      if (it != queued.end()) {
        JobStatus status = si::SgeQueueStatus(job.id, it->second);
        if (status.state == JobState::kFailed) errored.push_back(job.id);
        out[job.id] = std::move(status);
      } else if (!job.cancelled) {
        // Gone from the queue: ended. A job we deleted needs no record.
        std::optional<si::SgeAccounting> record = Accounting(job.id);
        if (record) out[job.id] = si::SgeAccountingStatus(*record, false);
      }
    }
    // A job in error state would stay in the queue forever; it has been
    // reported as failed, so nothing will ask about it again.
    if (!errored.empty()) (void)Cancel(errored);
    return out;
  }

  Status Cancel(const std::vector<JobId>& jobs) override {
    std::vector<std::string> argv = {qdel_};
    argv.insert(argv.end(), jobs.begin(), jobs.end());
    StatusOr<si::CommandResult> result = si::RunCommand(argv, "", timeout_);
    if (!result.ok()) return UnavailableError("qdel: " + result.status().message());
    if (result->exit_code == 0) return OkStatus();
    const std::string text = result->stderr_data + result->stdout_data;
    // qdel of a job that has ended: 'denied: job "12" does not exist'.
    const std::string message =
        "qdel failed (exit " + std::to_string(result->exit_code) + "): " + si::Trimmed(text);
    if (si::LooksTransient(message)) return UnavailableError(message);
    if (text.find("does not exist") != std::string::npos) return OkStatus();
    return InternalError(message);
  }

  // The accounting file is flushed every flush_time (15 s by default).
  std::chrono::milliseconds missing_grace() const override { return std::chrono::seconds(90); }

 private:
  std::optional<si::SgeAccounting> Accounting(const JobId& id) {
    StatusOr<si::CommandResult> result = si::RunCommand({qacct_, "-j", id}, "", timeout_);
    // Not found yet (not flushed) or not readable: asked again next poll.
    if (!result.ok() || result->exit_code != 0) return std::nullopt;
    return si::ParseQacct(result->stdout_data, id);
  }

  const std::string bin_dir_;
  const std::string submit_options_;
  const std::chrono::milliseconds timeout_;
  const bool export_environment_;
  const std::string user_;
  std::vector<std::string> extra_;
  std::string qsub_, qstat_, qdel_, qacct_;
};

}  // namespace

StatusOr<std::unique_ptr<Scheduler>> NewSgeScheduler(ClusterSchedulerOptions options) {
  auto backend = std::make_unique<SgeBackend>(options);
  return si::NewClusterScheduler(std::move(backend), std::move(options));
}

}  // namespace sherpa
