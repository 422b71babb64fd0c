// Durable append throughput of StudyStore: N threads each Append + WaitDurable
// in a loop, as N trials reporting through the HTTP API do. Prints appends/s
// and the mean group size (appends per commit, i.e. per fsync).
//
//   study_store_bench [dir] [seconds per case]
//
// `dir` should be on the disk the studies use (default: $TMPDIR or /tmp);
// fsync latency there is what bounds every figure.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/study_store.h"

namespace {

using sherpa::storage::EventKind;
using sherpa::storage::StoredEvent;
using sherpa::storage::StudyStore;
using Clock = std::chrono::steady_clock;

StoredEvent Observation(sherpa::TrialId trial, int64_t iteration) {
  StoredEvent e;
  e.kind = EventKind::kObservation;
  e.trial_id = trial;
  e.at = 1.7e9;
  e.observation = sherpa::Observation{iteration, 0.25, {{"acc", 0.9}, {"epoch", iteration}}};
  return e;
}

int RunCase(const std::string& dir, int threads, double seconds) {
  const std::string path = dir + "/bench_" + std::to_string(threads) + ".db";
  std::filesystem::remove(path);
  auto store = StudyStore::Open(path, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> appends{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t ticket = (*store)->Append(Observation(t + 1, n));
        if (!(*store)->WaitDurable(ticket).ok()) failed = true;
        ++n;
      }
      appends += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = static_cast<double>(appends.load()) / elapsed;
  std::printf("%3d thread(s) append+WaitDurable: %9.0f durable appends/s  (%.0f us/ack)%s\n",
              threads, rate, 1e6 * threads / rate, failed ? "  WRITE ERRORS" : "");
  return failed ? 1 : 0;
}

// One thread queueing without waiting, then one wait: the writer's ceiling
// when groups are as large as it can take.
int RunPipelined(const std::string& dir, int64_t count) {
  const std::string path = dir + "/bench_pipelined.db";
  std::filesystem::remove(path);
  auto store = StudyStore::Open(path, /*create=*/true);
  if (!store.ok()) return 1;
  const auto start = Clock::now();
  uint64_t last = 0;
  for (int64_t i = 0; i < count; ++i) last = (*store)->Append(Observation(1, i));
  const double append_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!(*store)->WaitDurable(last).ok()) return 1;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  1 thread, %lld appends then one wait: %9.0f durable appends/s  (Append %.2f us)\n",
              static_cast<long long>(count), static_cast<double>(count) / elapsed,
              1e6 * append_s / static_cast<double>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp ? tmp : "/tmp") + "/study_store_bench_XXXXXX";
    if (!mkdtemp(pattern.data())) return 1;
    dir = pattern;
  }
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::printf("study_store_bench in %s, %.1f s per case\n", dir.c_str(), seconds);
  int rc = 0;
  for (int threads : {1, 2, 8, 32, 64}) rc |= RunCase(dir, threads, seconds);
  rc |= RunPipelined(dir, 100000);
  if (argc <= 1) std::filesystem::remove_all(dir);
  return rc;
}
