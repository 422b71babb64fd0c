#include "scheduler/slurm_parse.h"

#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/process.h"

#include "sherpa/scheduler.h"
#include "sherpa/status.h"

namespace sherpa::scheduler_internal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

std::optional<int> ToInt(std::string_view s) {
  s = Trim(s);
  int value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

bool IsJobId(std::string_view id) {
  return !id.empty() && id.find_first_not_of("0123456789") == std::string_view::npos;
}

// "CANCELLED by 1000" (sacct with slurmdbd) -> "CANCELLED".
std::string StateName(std::string_view state) {
  state = Trim(state);
  return std::string(state.substr(0, state.find(' ')));
}

}  // namespace

StatusOr<JobId> ParseSbatchOutput(std::string_view out) {
  // Warnings may come before the id (e.g. about an option); it is the last line.
  out = Trim(out);
  const size_t line = out.rfind('\n');
  std::string_view id = Trim(line == std::string_view::npos ? out : out.substr(line + 1));
  id = id.substr(0, id.find(';'));
  if (!IsJobId(id)) {
    return InternalError("cannot read a job id in the output of sbatch --parsable: '" +
                         std::string(out) + "'");
  }
  return JobId(id);
}

StatusOr<std::map<JobId, SlurmJob>> ParseSqueue(std::string_view out) {
  std::map<JobId, SlurmJob> jobs;
  for (std::string_view line : Split(out, '\n')) {
    line = Trim(line);
    if (line.empty()) continue;
    const std::vector<std::string_view> fields = Split(line, '|');
    // Four fields and the empty one after the last '|'.
    std::optional<int> raw = fields.size() >= 4 ? ToInt(fields[3]) : std::nullopt;
    if (!raw || !IsJobId(Trim(fields[0]))) {
      return InternalError("unexpected line in the output of squeue: '" + std::string(line) + "'");
    }
    SlurmJob job;
    job.state = StateName(fields[1]);
    job.reason = std::string(Trim(fields[2]));
    // A wait status: the low 7 bits are the signal, the next 8 the exit code.
    job.signal = *raw & 0x7f;
    job.exit_code = (*raw >> 8) & 0xff;
    jobs[std::string(Trim(fields[0]))] = std::move(job);
  }
  return jobs;
}

std::map<JobId, SlurmJob> ParseSacct(std::string_view out) {
  std::map<JobId, SlurmJob> jobs;
  for (std::string_view line : Split(out, '\n')) {
    const std::vector<std::string_view> fields = Split(Trim(line), '|');
    if (fields.size() < 3 || !IsJobId(Trim(fields[0]))) continue;  // steps, blank lines
    SlurmJob job;
    job.state = StateName(fields[1]);
    const std::vector<std::string_view> code = Split(fields[2], ':');
    job.exit_code = ToInt(code[0]).value_or(0);
    job.signal = code.size() > 1 ? ToInt(code[1]).value_or(0) : 0;
    jobs[std::string(Trim(fields[0]))] = std::move(job);
  }
  return jobs;
}

JobStatus SlurmJobStatus(const SlurmJob& job, bool cancelled_by_us) {
  JobStatus status;
  const std::string& s = job.state;
  ExitStatus exit;
  exit.exit_code = job.exit_code;
  exit.signal = job.signal;
  auto failed = [&](std::string reason) {
    status.state = JobState::kFailed;
    status.exit_code = exit.code();
    status.reason = std::move(reason);
    return status;
  };
  if (s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" || s == "REQUEUE_FED" ||
      s == "REQUEUE_HOLD" || s == "RESV_DEL_HOLD" || s == "SPECIAL_EXIT") {
    status.state = JobState::kQueued;
    if (!job.reason.empty() && job.reason != "None") status.reason = job.reason;
    return status;
  }
  if (s == "COMPLETED") {
    if (exit.code() != 0) return failed(DescribeExit(exit));
    status.state = JobState::kCompleted;
    return status;
  }
  if (s == "FAILED") {
    std::string reason = DescribeExit(exit);
    if (!job.reason.empty() && job.reason != "None" && job.reason != "NonZeroExitCode") {
      reason += " (Slurm: " + job.reason + ")";
    }
    return failed(std::move(reason));
  }
  if (s == "CANCELLED") {
    if (cancelled_by_us) {
      status.state = JobState::kKilled;
      status.exit_code = exit.code();
      status.reason = "stopped";
      return status;
    }
    return failed(
        "CANCELLED: the job was cancelled outside this study (scancel, an administrator)");
  }
  if (s == "TIMEOUT") return failed("TIMEOUT: the job ran past its time limit (sbatch --time)");
  if (s == "NODE_FAIL") return failed("NODE_FAIL: the job's node failed");
  if (s == "OUT_OF_MEMORY") {
    return failed("OUT_OF_MEMORY: the job used more memory than it asked for (sbatch --mem)");
  }
  if (s == "BOOT_FAIL") return failed("BOOT_FAIL: the job's node failed to boot");
  if (s == "DEADLINE") return failed("DEADLINE: the job could not end before its deadline");
  if (s == "PREEMPTED") return failed("PREEMPTED: the job was preempted by another one");
  // RUNNING, COMPLETING (the job's processes are ending), SUSPENDED,
  // STOPPED, RESIZING, SIGNALING, STAGE_OUT and states newer than this code.
  status.state = JobState::kRunning;
  if (s != "RUNNING") status.reason = s;
  return status;
}

}  // namespace sherpa::scheduler_internal
