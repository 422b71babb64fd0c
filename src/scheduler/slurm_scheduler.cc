// SlurmScheduler: jobs are sbatch batch jobs; one `squeue -t all` per poll
// reads the state, exit code and reason of every job not yet ended. Finished
// jobs stay in squeue for MinJobAge (300 s by default); for one squeue has
// forgotten (a slow poll, a controller restart), sacct is asked: -X when
// accounting goes to slurmdbd, -c when only the job completion log exists.
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/cluster_scheduler.h"
#include "scheduler/process.h"
#include "scheduler/slurm_parse.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa {
namespace {

namespace si = scheduler_internal;

// Every line of `err` says the job is gone already.
bool OnlyEndedJobs(const std::string& err) {
  size_t start = 0;
  bool any = false;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const std::string line = err.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    any = true;
    if (line.find("already completing or completed") == std::string::npos &&
        line.find("Invalid job id") == std::string::npos) {
      return false;
    }
  }
  return any;
}

class SlurmBackend final : public si::ClusterBackend {
 public:
  explicit SlurmBackend(const ClusterSchedulerOptions& options)
      : bin_dir_(options.bin_dir),
        submit_options_(options.submit_options),
        timeout_(options.command_timeout),
        export_environment_(options.export_environment) {}

  std::string_view name() const override { return "slurm"; }

  Status Check() override {
    StatusOr<std::vector<std::string>> extra = si::SplitShellWords(submit_options_);
    if (!extra.ok()) return extra.status().WithContext("submit_options");
    extra_ = std::move(*extra);
    for (auto [program, path] : {std::pair{"sbatch", &sbatch_}, std::pair{"squeue", &squeue_},
                                 std::pair{"scancel", &scancel_}}) {
      *path = si::FindProgram(program, bin_dir_);
      if (path->empty()) {
        return FailedPreconditionError(
            std::string(program) + " not found " +
            (bin_dir_.empty() ? "in PATH" : "in " + bin_dir_) +
            ": is Slurm installed on this host? The runner submits trials with sbatch, so it "
            "must run where Slurm's commands work (e.g. a login node). For a local test "
            "cluster: tools/clusters.sh start slurm");
      }
    }
    sacct_ = si::FindProgram("sacct", bin_dir_);  // optional: only for forgotten jobs
    // Our own jobs only: cheap on a busy cluster, and it needs the controller.
    StatusOr<si::CommandResult> ping =
        si::RunCommand({squeue_, "-h", "-o", "%i", "-u", std::to_string(::getuid())}, "", timeout_);
    if (!ping.ok() || ping->exit_code != 0) {
      return UnavailableError(
          "the Slurm controller does not answer (squeue: " +
          (ping.ok() ? si::Trimmed(ping->stderr_data) : ping.status().message()) +
          "); is slurmctld running? `scontrol ping` tells");
    }
    return OkStatus();
  }

  StatusOr<JobId> Submit(const JobSpec& job, const std::string& name,
                         const std::string& script) override {
    std::vector<std::string> argv = {sbatch_,
                                     "--parsable",
                                     "--job-name=" + name,
                                     "--output=" + FilenamePattern(job.output_path),
                                     "--error=" + FilenamePattern(job.output_path),
                                     "--open-mode=append",
                                     "--chdir=" + job.working_dir};
    if (job.output_path.empty()) {
      argv[3] = "--output=/dev/null";
      argv[4] = "--error=/dev/null";
    }
    if (export_environment_) argv.push_back("--export=ALL");
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    SHERPA_ASSIGN_OR_RETURN(std::string printed, si::RunSubmit("sbatch", argv, script, timeout_));
    return si::ParseSbatchOutput(printed);
  }

  StatusOr<std::map<JobId, JobStatus>> Poll(const std::vector<si::PollJob>& jobs) override {
    std::map<JobId, JobStatus> out;
    if (jobs.empty()) return out;
    std::string ids;
    for (const si::PollJob& job : jobs) ids += (ids.empty() ? "" : ",") + job.id;
    // -t all: without it squeue leaves out the jobs that have ended.
    StatusOr<si::CommandResult> result = si::RunCommand(
        {squeue_, "-h", "-t", "all", "-j", ids, "-O", std::string(si::kSqueueFields)}, "",
        timeout_);
    if (!result.ok()) return UnavailableError("squeue: " + result.status().message());
    std::map<JobId, si::SlurmJob> found;
    if (result->exit_code != 0) {
      // Also what squeue says when it knows none of the ids any more.
      if (result->stderr_data.find("Invalid job id") == std::string::npos) {
        return UnavailableError("squeue failed (exit " + std::to_string(result->exit_code) +
                                "): " + si::Trimmed(result->stderr_data));
      }
    } else {
      SHERPA_ASSIGN_OR_RETURN(found, si::ParseSqueue(result->stdout_data));
    }
    std::vector<JobId> forgotten;
    for (const si::PollJob& job : jobs) {
      if (found.count(job.id) == 0 && !job.cancelled) forgotten.push_back(job.id);
    }
    if (!forgotten.empty()) {
      for (auto& [id, job] : Accounting(forgotten)) found.emplace(id, std::move(job));
    }
    for (const si::PollJob& job : jobs) {
      auto it = found.find(job.id);
      if (it != found.end()) out[job.id] = si::SlurmJobStatus(it->second, job.cancelled);
    }
    return out;
  }

  Status Cancel(const std::vector<JobId>& jobs) override {
    std::vector<std::string> argv = {scancel_};
    argv.insert(argv.end(), jobs.begin(), jobs.end());
    StatusOr<si::CommandResult> result = si::RunCommand(argv, "", timeout_);
    if (!result.ok()) return UnavailableError("scancel: " + result.status().message());
    if (result->exit_code == 0 || OnlyEndedJobs(result->stderr_data)) return OkStatus();
    const std::string message = "scancel failed (exit " + std::to_string(result->exit_code) +
                                "): " + si::Trimmed(result->stderr_data);
    return si::LooksTransient(message) ? UnavailableError(message) : InternalError(message);
  }

  std::chrono::milliseconds missing_grace() const override { return std::chrono::seconds(30); }

 private:
  // sbatch expands %j, %x, ... in file names; "%%" is a literal '%'. A
  // backslash anywhere turns the expansion off, and the name is taken as is.
  static std::string FilenamePattern(const std::string& path) {
    if (path.find('\\') != std::string::npos) return path;
    std::string out;
    for (char c : path) {
      out += c;
      if (c == '%') out += '%';
    }
    return out;
  }

  // What sacct knows of `jobs`; empty if sacct is missing or knows nothing.
  std::map<JobId, si::SlurmJob> Accounting(const std::vector<JobId>& jobs) {
    if (sacct_.empty()) return {};
    std::string ids;
    for (const JobId& id : jobs) ids += (ids.empty() ? "" : ",") + id;
    // -X: the allocation's line only (slurmdbd); -c: the completion log,
    // for clusters without a database.
    for (const char* source : {"-X", "-c"}) {
      StatusOr<si::CommandResult> result = si::RunCommand(
          {sacct_, source, "-n", "-P", "-j", ids, "-o", "JobID,State,ExitCode"}, "", timeout_);
      if (!result.ok() || result->exit_code != 0) continue;
      std::map<JobId, si::SlurmJob> found = si::ParseSacct(result->stdout_data);
      if (!found.empty()) return found;
    }
    return {};
  }

  const std::string bin_dir_;
  const std::string submit_options_;
  const std::chrono::milliseconds timeout_;
  const bool export_environment_;
  std::vector<std::string> extra_;
  std::string sbatch_, squeue_, scancel_, sacct_;
};

}  // namespace

StatusOr<std::unique_ptr<Scheduler>> NewSlurmScheduler(ClusterSchedulerOptions options) {
  auto backend = std::make_unique<SlurmBackend>(options);
  return si::NewClusterScheduler(std::move(backend), std::move(options));
}

}  // namespace sherpa
