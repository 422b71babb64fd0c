// The trial program of runner_bench: fetches its trial, optionally sleeps,
// sends `--reports` reports as fast as the runner acknowledges them, and
// appends one line of CLOCK_REALTIME timestamps to `--times`:
//
//   <trial id> <main> <got trial> <reports begin> <reports end> <exit>
//
// in nanoseconds since the epoch. The runner stamps its own events
// (study.db) with the same clock, so the driver can split a hand-off into
// the runner's part and the process start.
//
//   runner_trial [--times FILE] [--reports N] [--sleep-ms MS] [--probe]
//
// --probe: record <main> and <exit> only, without talking to a runner (for
// timing process start outside the runner).
//
// Deliberately small: its own start-up cost is part of what is measured.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>

#include "sherpa/client.h"

namespace {

int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "runner_trial: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // First thing: the hand-off ends here.
  const int64_t main_ns = RealtimeNs();

  const char* times_path = nullptr;
  long reports = 1;
  long sleep_ms = 0;
  bool probe = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--times" && has_value) {
      times_path = argv[++i];
    } else if (arg == "--reports" && has_value) {
      reports = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--sleep-ms" && has_value) {
      sleep_ms = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--probe") {
      probe = true;
    } else {
      return Fail("unknown argument '" + std::string(arg) + "'");
    }
  }

  // Opened now, not at the end: the stamps are the measurement, and opening
  // a file costs 0.03 ms that would land between <exit> and the runner
  // seeing the exit (a process started ahead opens it while it waits).
  // O_APPEND: concurrent trials append whole lines without tearing them.
  int times_fd = -1;
  if (times_path != nullptr) {
    times_fd = ::open(times_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (times_fd < 0) {
      return Fail(std::string("cannot open --times file: ") + std::strerror(errno));
    }
  }

  long long trial_id = 0;
  int64_t got_trial_ns = 0, reports_begin_ns = 0, reports_end_ns = 0;
  if (!probe) {
    // Scoped so that closing the connection happens before <exit>: it is the
    // trial's work, not part of the hand-off to the next trial.
    sherpa::StatusOr<sherpa::Client> client = sherpa::Client::FromEnvironment();
    if (!client.ok()) return Fail(client.status().ToString());
    sherpa::StatusOr<sherpa::Trial> trial = client->get_trial();
    if (!trial.ok()) return Fail(trial.status().ToString());
    trial_id = trial->id;
    got_trial_ns = RealtimeNs();
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    reports_begin_ns = RealtimeNs();
    for (long i = 1; i <= reports; ++i) {
      // Acknowledged only once durable (committed to study.db).
      sherpa::StatusOr<bool> stop =
          client->send_metrics(*trial, i, 1.0 / static_cast<double>(i + trial_id));
      if (!stop.ok()) return Fail(stop.status().ToString());
      if (*stop) break;
    }
    reports_end_ns = RealtimeNs();
  }

  const int64_t exit_ns = RealtimeNs();
  if (times_fd >= 0) {
    char line[160];
    const int n =
        std::snprintf(line, sizeof(line), "%lld %lld %lld %lld %lld %lld\n", trial_id,
                      static_cast<long long>(main_ns), static_cast<long long>(got_trial_ns),
                      static_cast<long long>(reports_begin_ns),
                      static_cast<long long>(reports_end_ns), static_cast<long long>(exit_ns));
    const bool written = ::write(times_fd, line, static_cast<size_t>(n)) == n;
    ::close(times_fd);
    if (!written) return Fail("cannot write the --times file");
  }
  return 0;
}
