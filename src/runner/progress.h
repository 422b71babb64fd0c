// What the user sees while a study runs: a live status line on a terminal,
// plain log lines otherwise (CI logs, `| tee`), and events (a failed trial
// with the tail of its output) as lines above the status line.
#ifndef SHERPA_RUNNER_PROGRESS_H_
#define SHERPA_RUNNER_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "sherpa/runner.h"

namespace sherpa::runner {

struct ProgressSnapshot {
  size_t running = 0, completed = 0, failed = 0, stopped = 0;
  size_t started_ahead = 0;  // processes waiting for a trial (prestart)
  int64_t generation = 0;    // 0: the algorithm has no generations
  std::optional<BestResult> best;
  bool lower_is_better = true;
};

class Progress {
 public:
  Progress(ProgressMode mode, std::FILE* out);

  // A line that always shows (on a terminal, above the status line).
  void Event(const std::string& line);
  // Updates the status; throttled (10/s on a terminal, 1 per 5 s as lines).
  void Update(const ProgressSnapshot& snapshot, bool force = false);
  // Clears the status line before the final summary.
  void Finish();

  static std::string Describe(const ProgressSnapshot& snapshot, double elapsed_seconds);

 private:
  ProgressMode mode_;
  std::FILE* out_;
  bool terminal_;
  bool line_shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::string last_text_;
};

}  // namespace sherpa::runner

#endif  // SHERPA_RUNNER_PROGRESS_H_
