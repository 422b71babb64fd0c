#include "scheduler/sge_parse.h"

#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <sstream>
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

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> lines;
  for (;;) {
    const size_t at = s.find('\n');
    lines.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return lines;
    s.remove_prefix(at + 1);
  }
}

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The leading integer of `s` ("137   (Killed)" -> 137).
std::optional<int> LeadingInt(std::string_view s) {
  s = Trim(s);
  int value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end == s.data()) return std::nullopt;
  return value;
}

bool IsJobId(std::string_view id) {
  return !id.empty() && id.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

StatusOr<JobId> ParseQsubOutput(std::string_view out) {
  for (std::string_view line : Lines(out)) {
    line = Trim(line);
    if (line.rfind("Your job", 0) == 0) {  // "Your job 12 ("x") has been submitted"
      const std::vector<std::string> words = Words(line);
      if (words.size() > 2 && IsJobId(words[2])) return words[2];
    }
    const std::string_view id = line.substr(0, line.find('.'));  // "12.1-4:1" for arrays
    if (IsJobId(id) && (id.size() == line.size() || line[id.size()] == '.')) return JobId(id);
  }
  return InternalError("cannot read a job id in the output of qsub -terse: '" +
                       std::string(Trim(out)) + "'");
}

std::map<JobId, std::string> ParseQstat(std::string_view out) {
  // job-ID prior name user state submit/start-date time [queue] slots [tasks]
  std::map<JobId, std::string> jobs;
  for (std::string_view line : Lines(out)) {
    const std::vector<std::string> words = Words(line);
    if (words.size() < 5 || !IsJobId(words[0])) continue;  // the header and its ---- line
    jobs[words[0]] = words[4];
  }
  return jobs;
}

JobStatus SgeQueueStatus(const JobId& id, std::string_view state) {
  JobStatus status;
  if (state.find('E') != std::string_view::npos) {
    status.state = JobState::kFailed;
    status.exit_code = -1;
    status.reason = "Grid Engine put the job in error state " + std::string(state) +
                    " and cannot run it (`qstat -j " + id + "` says why)";
  } else if (state.find_first_of("rtsST") != std::string_view::npos) {
    status.state = JobState::kRunning;
    if (state != "r") status.reason = std::string(state);
  } else {
    status.state = JobState::kQueued;  // qw, hqw, and the like
    if (state != "qw") status.reason = std::string(state);
  }
  return status;
}

std::optional<SgeAccounting> ParseQacct(std::string_view out, const JobId& id) {
  std::optional<SgeAccounting> last;
  SgeAccounting record;
  bool ours = false;
  auto finish = [&] {
    if (ours) last = record;
    record = SgeAccounting();
    ours = false;
  };
  for (std::string_view line : Lines(out)) {
    line = Trim(line);
    if (line.rfind("====", 0) == 0) {
      finish();
      continue;
    }
    const size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, space);
    const std::string_view value = Trim(line.substr(space));
    if (key == "jobnumber") {
      ours = value == id;
    } else if (key == "failed") {
      record.failed = LeadingInt(value).value_or(0);
      const size_t colon = value.find(':');
      record.failed_text =
          colon == std::string_view::npos ? "" : std::string(Trim(value.substr(colon + 1)));
    } else if (key == "exit_status") {
      record.exit_status = LeadingInt(value).value_or(0);
    }
  }
  finish();
  return last;
}

JobStatus SgeAccountingStatus(const SgeAccounting& record, bool cancelled_by_us) {
  JobStatus status;
  status.exit_code = record.exit_status;
  if (cancelled_by_us) {
    status.state = JobState::kKilled;
    status.reason = "stopped";
    return status;
  }
  ExitStatus exit;
  if (record.exit_status > 128 && record.exit_status < 128 + 65) {
    exit.signal = record.exit_status - 128;  // how Grid Engine reports a job killed by a signal
  } else {
    exit.exit_code = record.exit_status;
  }
  if (record.failed == 0) {
    status.state = record.exit_status == 0 ? JobState::kCompleted : JobState::kFailed;
    if (record.exit_status != 0) status.reason = DescribeExit(exit);
    return status;
  }
  status.state = JobState::kFailed;
  const std::string grid_engine = "Grid Engine: failed " + std::to_string(record.failed) +
                                  (record.failed_text.empty() ? "" : ": " + record.failed_text);
  if (record.failed == 37) {
    // "qmaster enforced h_rt, h_cpu, or h_vmem limit": 8.1.9 does not say which.
    const bool memory = record.failed_text.find("vmem") != std::string::npos;
    status.reason = std::string(memory ? "TIMEOUT or OUT_OF_MEMORY" : "TIMEOUT") +
                    ": the job ran past a limit (" + grid_engine + ")";
  } else if (record.exit_status != 0) {
    status.reason = DescribeExit(exit) + " (" + grid_engine + ")";
  } else {
    status.exit_code = -1;
    status.reason = grid_engine;
  }
  return status;
}

}  // namespace sherpa::scheduler_internal
