#include "runner/progress.h"

#include <unistd.h>

#include <sstream>

namespace sherpa::runner {

Progress::Progress(ProgressMode mode, std::FILE* out)
    : mode_(mode),
      out_(out),
      terminal_(mode == ProgressMode::kAuto && isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_ - std::chrono::hours(1)) {}

std::string Progress::Describe(const ProgressSnapshot& s, double elapsed) {
  std::ostringstream os;
  os.precision(1);
  os << std::fixed << "[" << elapsed << "s] ";
  if (s.generation > 0) os << "generation " << s.generation << " | ";
  os << "running " << s.running;
  if (s.started_ahead) os << " (+" << s.started_ahead << " ahead)";
  os << " | completed " << s.completed << " | failed " << s.failed;
  if (s.stopped) os << " | stopped " << s.stopped;
  if (s.best) {
    os.precision(6);
    os.unsetf(std::ios::fixed);
    os << " | best " << s.best->objective << " (trial " << s.best->trial_id << ")";
  }
  return os.str();
}

void Progress::Event(const std::string& line) {
  if (mode_ == ProgressMode::kQuiet) return;
  if (terminal_ && line_shown_) std::fputs("\r\x1b[K", out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  if (terminal_ && line_shown_) std::fputs(last_text_.c_str(), out_);
  std::fflush(out_);
}

void Progress::Update(const ProgressSnapshot& snapshot, bool force) {
  if (mode_ == ProgressMode::kQuiet) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5);
  if (!force && now - last_ < interval) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  last_text_ = Describe(snapshot, elapsed);
  if (terminal_) {
    std::fputs("\r\x1b[K", out_);
    std::fputs(last_text_.c_str(), out_);
    line_shown_ = true;
  } else {
    std::fputs(last_text_.c_str(), out_);
    std::fputc('\n', out_);
  }
  std::fflush(out_);
}

void Progress::Finish() {
  if (terminal_ && line_shown_) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
  }
  line_shown_ = false;
}

}  // namespace sherpa::runner
