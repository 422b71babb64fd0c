// Benchmarks of the runner (sherpa::optimize), each printed with its target
// and the ratio against SHERPA, whose runner polls MongoDB every 5 s (so at
// most one trial start per 5 s with max_concurrent 1: 0.2 trials/s).
//
//   (a) hand-off: max_concurrent 1; start(n+1) - exit(n), both stamped by
//       the trial program with CLOCK_REALTIME. Split with
//       the runner's own stamps in study.db (same clock) into
//         exit(n) -> runner finalized n  (process teardown, waiter thread,
//                                         loop wake-up)
//         -> runner starts spawning n+1  (suggestion, events)
//         -> main() of n+1               (sh + exec + dynamic loading)
//   (b) throughput: trials that fetch their trial, report once and exit;
//       max_concurrent 4; trials / wall time of optimize().
//   (c) 1,000 trials that sleep 0.1 s, max_concurrent 8: wall time against
//       the ideal 12.5 s; with prestart 8 (the headline) and without.
//   (d) durable reports/s over HTTP: 8 concurrent trials, each sending its
//       reports back to back (each answered after its SQLite commit).
//   spawn, fsync, idle: context for the above (process start outside the
//       runner; fsync latency of the disk under --dir; the runner's CPU while
//       trials are connected but busy).
//
// Every case runs with two trial programs doing the same work: runner_trial
// (sherpa::Client; the headline figures) and runner_trial_libc (plain
// sockets, libc only: next to no start-up cost, so it shows the runner's
// own limits). The machine is shared, so each case runs --repeat times and
// the table shows medians with the spread; every run line also shows how
// much CPU other processes used meanwhile.
//
//   runner_bench [--quick] [--only a,b,c,d,spawn,fsync,idle] [--repeat N]
//                [--trials client|libc|both] [--dir DIR] [--keep]
//                [--trial PATH_OF_runner_trial]
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "scheduler/process.h"
#include "storage/study_store.h"

#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/runner.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kSherpaPollSeconds = 5.0;

// ---------------------------------------------------------------- helpers --

int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Nearest-rank percentile of an unsorted sample; p in [0, 1].
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double rank = std::ceil(p * static_cast<double>(v.size()));
  const size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return v[std::min(i, v.size() - 1)];
}
double Median(const std::vector<double>& v) { return Percentile(v, 0.5); }
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// Quotes only what needs it, as a user would write the command: a command of
// plain words is started without /bin/sh (see LocalScheduler).
std::string ShellQuote(const std::string& s) {
  const auto words = sherpa::scheduler_internal::SplitPlainCommand("word " + s);
  if (words && words->size() == 2 && (*words)[1] == s) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, a);
  return buf;
}

// CPU use while a case runs: ours (the runner, in this process), our
// children's (the trials, including their /bin/sh) and everyone else's,
// so a figure can be read against the load it was measured under.
struct CpuSnapshot {
  double self = 0, children = 0;  // seconds
  int64_t self_switches = 0;      // context switches of all our threads
  double machine_busy = 0;        // seconds, all processes, all cores
  Clock::time_point at;
};

CpuSnapshot TakeCpuSnapshot() {
  CpuSnapshot s;
  s.at = Clock::now();
  rusage ru{};
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + 1e-6 * tv.tv_usec; };
  getrusage(RUSAGE_SELF, &ru);
  s.self = secs(ru.ru_utime) + secs(ru.ru_stime);
  s.self_switches = ru.ru_nvcsw + ru.ru_nivcsw;
  getrusage(RUSAGE_CHILDREN, &ru);
  s.children = secs(ru.ru_utime) + secs(ru.ru_stime);
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  s.machine_busy =
      (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

struct CpuUse {
  double wall = 0, runner = 0, trials = 0, others_cores = 0;
  int64_t runner_switches = 0;
};

CpuUse CpuBetween(const CpuSnapshot& a, const CpuSnapshot& b) {
  CpuUse u;
  u.wall = Seconds(b.at - a.at);
  u.runner = b.self - a.self;
  u.trials = b.children - a.children;
  u.runner_switches = b.self_switches - a.self_switches;
  const double others = (b.machine_busy - a.machine_busy) - u.runner - u.trials;
  u.others_cores = std::max(0.0, others / u.wall);
  return u;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0;
  in >> one >> five;
  return Format("%.2f", one) + " (1 min), " + Format("%.2f", five) + " (5 min)";
}

// ------------------------------------------------------------- the studies --

struct TrialTimes {
  int64_t id = 0, main = 0, got_trial = 0, reports_begin = 0, reports_end = 0, exit = 0;
};

std::vector<TrialTimes> ReadTimes(const std::string& path) {
  std::vector<TrialTimes> out;
  std::ifstream in(path);
  TrialTimes t;
  while (in >> t.id >> t.main >> t.got_trial >> t.reports_begin >> t.reports_end >> t.exit) {
    out.push_back(t);
  }
  return out;
}

// The runner's stamps of a trial, from study.db.
struct RunnerTimes {
  int64_t started = 0;  // just before the runner spawned the trial
  int64_t ended = 0;    // when the runner finalized it (saw its exit)
};

struct StudyRun {
  double wall = 0;                   // seconds in optimize()
  int64_t called = 0, returned = 0;  // CLOCK_REALTIME ns around optimize()
  CpuUse cpu;
  sherpa::OptimizeResult result;
  std::vector<TrialTimes> times;  // sorted by start
  std::map<int64_t, RunnerTimes> runner;
};

struct StudySpec {
  std::string name;
  int64_t trials = 0;
  size_t max_concurrent = 1;
  std::string trial_args;   // appended to the trial command
  bool libc_trial = false;  // runner_trial_libc instead of runner_trial
  bool exec_prefix = false;
  size_t prestart = 0;  // OptimizeOptions::prestart
};

const char* TrialName(bool libc_trial) { return libc_trial ? "runner_trial_libc" : "runner_trial"; }

class Bench {
 public:
  Bench(std::string dir, std::string trial, std::string libc_trial)
      : dir_(std::move(dir)), trial_(std::move(trial)), libc_trial_(std::move(libc_trial)) {}

  // Runs one study to the end; exits the program if it cannot.
  StudyRun RunStudy(const StudySpec& spec) {
    const std::string out = dir_ + "/" + spec.name + "_" + std::to_string(++runs_);
    const std::string times = out + ".times";
    sherpa::StatusOr<sherpa::ParameterSpace> space =
        sherpa::ParameterSpace::Create({sherpa::Continuous("x", {0.0, 1.0})});
    sherpa::StatusOr<std::unique_ptr<sherpa::Algorithm>> algorithm =
        sherpa::RandomSearch(spec.trials);
    Check(space.status());
    Check(algorithm.status());
    sherpa::OptimizeOptions o;
    o.parameters = *space;
    o.algorithm = std::move(*algorithm);
    o.lower_is_better = true;
    o.command = std::string(spec.exec_prefix ? "exec " : "") +
                ShellQuote(spec.libc_trial ? libc_trial_ : trial_) + " --times " +
                ShellQuote(times) + " " + spec.trial_args;
    o.max_concurrent = spec.max_concurrent;
    o.prestart = spec.prestart;
    o.output_dir = out;
    o.working_dir = dir_;
    o.handle_signals = false;
    o.progress = sherpa::ProgressMode::kQuiet;

    StudyRun run;
    const CpuSnapshot before = TakeCpuSnapshot();
    run.called = RealtimeNs();
    sherpa::StatusOr<sherpa::OptimizeResult> result = sherpa::optimize(std::move(o));
    run.returned = RealtimeNs();
    const CpuSnapshot after = TakeCpuSnapshot();
    Check(result.status());
    run.wall = Seconds(after.at - before.at);
    run.cpu = CpuBetween(before, after);
    run.result = *result;
    if (run.result.completed != static_cast<size_t>(spec.trials)) {
      std::fprintf(stderr, "%s: only %zu of %lld trials completed (%zu failed); see %s/jobs\n",
                   spec.name.c_str(), run.result.completed, static_cast<long long>(spec.trials),
                   run.result.failed, out.c_str());
      std::exit(1);
    }
    run.times = ReadTimes(times);
    std::sort(run.times.begin(), run.times.end(),
              [](const TrialTimes& a, const TrialTimes& b) { return a.main < b.main; });
    ReadRunnerTimes(out + "/study.db", run.runner);
    return run;
  }

  const std::string& dir() const { return dir_; }
  const std::string& trial(bool libc_trial) const { return libc_trial ? libc_trial_ : trial_; }

  static void Check(const sherpa::Status& status) {
    if (status.ok()) return;
    std::fprintf(stderr, "runner_bench: %s\n", status.ToString().c_str());
    std::exit(1);
  }

 private:
  static void ReadRunnerTimes(const std::string& db, std::map<int64_t, RunnerTimes>& out) {
    namespace st = sherpa::storage;
    sherpa::StatusOr<std::unique_ptr<st::StudyStore>> store = st::StudyStore::Open(db, false);
    Check(store.status());
    sherpa::StatusOr<std::vector<st::StoredEvent>> events = (*store)->LoadEvents();
    Check(events.status());
    for (const st::StoredEvent& e : *events) {
      const auto ns = static_cast<int64_t>(std::llround(e.at * 1e9));
      if (e.kind == st::EventKind::kTrialStarted) out[e.trial_id].started = ns;
      if (e.kind == st::EventKind::kTrialEnded) out[e.trial_id].ended = ns;
    }
  }

  std::string dir_;
  std::string trial_;
  std::string libc_trial_;
  int runs_ = 0;
};

std::string CpuLine(const StudyRun& run, size_t trials) {
  const double n = static_cast<double>(trials);
  return "CPU/trial: runner " + Format("%.2f", 1e3 * run.cpu.runner / n) + " ms, trial " +
         Format("%.2f", 1e3 * run.cpu.trials / n) + " ms; others used " +
         Format("%.2f", run.cpu.others_cores) + " cores";
}

// Medians over a study's trials of the stages of a trial's life, with the
// runner's stamps: where the time of a trial goes.
// With prestart the process starts before its trial: then the hand-off is
// the runner's start (its send) -> got trial.
std::string LifeLine(const StudyRun& run, bool prestart = false) {
  std::vector<double> spawn, get, reports, notice;
  for (const TrialTimes& t : run.times) {
    auto it = run.runner.find(t.id);
    if (it == run.runner.end()) continue;
    spawn.push_back(1e-6 * static_cast<double>(t.main - it->second.started));
    get.push_back(1e-6 *
                  static_cast<double>(t.got_trial - (prestart ? it->second.started : t.main)));
    reports.push_back(1e-6 * static_cast<double>(t.reports_end - t.reports_begin));
    notice.push_back(1e-6 * static_cast<double>(it->second.ended - t.exit));
  }
  return "trial life (median ms): " +
         (prestart ? std::string("hand-off->got trial ") + Format("%.2f", Median(get))
                   : "spawn->main " + Format("%.2f", Median(spawn)) + ", main->got trial " +
                         Format("%.2f", Median(get))) +
         ", reports " + Format("%.2f", Median(reports)) + ", exit->runner saw it " +
         Format("%.2f", Median(notice));
}

// ------------------------------------------------------------------ (a) ----

struct HandoffFigures {
  double median = 0, p90 = 0, p99 = 0;
  double notice = 0, decide = 0, spawn = 0;  // medians of the three parts
  double runner = 0;                         // median of exit(n) -> spawn of n+1 starts
  double others = 0;                         // cores other processes used meanwhile
};

HandoffFigures RunHandoff(Bench& bench, int64_t trials, bool libc_trial, bool exec_prefix,
                          const std::string& label) {
  StudySpec spec;
  spec.name = std::string("handoff_") + TrialName(libc_trial) + (exec_prefix ? "_exec" : "");
  spec.trials = trials;
  spec.max_concurrent = 1;
  spec.libc_trial = libc_trial;
  spec.exec_prefix = exec_prefix;
  const StudyRun r = bench.RunStudy(spec);
  std::vector<double> handoff, notice, decide, spawn, runner;
  for (size_t i = 0; i + 1 < r.times.size(); ++i) {
    const TrialTimes& prev = r.times[i];
    const TrialTimes& next = r.times[i + 1];
    handoff.push_back(1e-6 * static_cast<double>(next.main - prev.exit));
    auto p = r.runner.find(prev.id);
    auto n = r.runner.find(next.id);
    if (p == r.runner.end() || n == r.runner.end()) continue;
    notice.push_back(1e-6 * static_cast<double>(p->second.ended - prev.exit));
    decide.push_back(1e-6 * static_cast<double>(n->second.started - p->second.ended));
    spawn.push_back(1e-6 * static_cast<double>(next.main - n->second.started));
    runner.push_back(1e-6 * static_cast<double>(n->second.started - prev.exit));
  }
  HandoffFigures f{Median(handoff), Percentile(handoff, 0.9), Percentile(handoff, 0.99),
                   Median(notice),  Median(decide),           Median(spawn),
                   Median(runner),  r.cpu.others_cores};
  std::printf(
      "  (a) %s: %zu hand-offs: median %.2f ms, p90 %.2f, p99 %.2f, max %.2f\n"
      "      parts (medians): exit->runner saw it %.3f ms, ->spawn starts %.3f ms, "
      "->main of next %.3f ms\n      %s\n      %s\n",
      label.c_str(), handoff.size(), f.median, f.p90, f.p99, Max(handoff), f.notice, f.decide,
      f.spawn, LifeLine(r).c_str(), CpuLine(r, static_cast<size_t>(trials)).c_str());
  std::fflush(stdout);
  return f;
}

// ------------------------------------------------------------------ (b) ----

struct ThroughputFigures {
  double per_second = 0;         // trials / wall time of optimize()
  double steady_per_second = 0;  // between the first spawn and the last end
  double others = 0;
};

ThroughputFigures RunThroughput(Bench& bench, int64_t trials, bool libc_trial,
                                const std::string& label) {
  StudySpec spec;
  spec.name = std::string("throughput_") + TrialName(libc_trial);
  spec.trials = trials;
  spec.max_concurrent = 4;
  spec.trial_args = "--reports 1";
  spec.libc_trial = libc_trial;
  const StudyRun r = bench.RunStudy(spec);
  int64_t first = INT64_MAX, last = 0;
  for (const auto& [id, t] : r.runner) {
    first = std::min(first, t.started);
    last = std::max(last, t.ended);
  }
  ThroughputFigures f;
  f.per_second = static_cast<double>(trials) / r.wall;
  f.steady_per_second = static_cast<double>(trials) / (1e-9 * static_cast<double>(last - first));
  f.others = r.cpu.others_cores;
  std::printf(
      "  (b) %s: %lld trials in %.2f s: %.1f trials/s (%.1f/s from first spawn to last "
      "end)\n      %s\n      %s\n",
      label.c_str(), static_cast<long long>(trials), r.wall, f.per_second, f.steady_per_second,
      LifeLine(r).c_str(), CpuLine(r, static_cast<size_t>(trials)).c_str());
  std::fflush(stdout);
  return f;
}

// ------------------------------------------------------------------ (c) ----

struct SleepFigures {
  double wall = 0, ideal = 0, overhead = 0;  // overhead: wall / ideal - 1
  double others = 0;
};

constexpr size_t kSleepConcurrent = 8;

SleepFigures RunSleep(Bench& bench, int64_t trials, bool libc_trial, size_t prestart,
                      const std::string& label) {
  constexpr int kSleepMs = 100;
  constexpr size_t kConcurrent = kSleepConcurrent;
  StudySpec spec;
  spec.name = std::string("sleep_") + TrialName(libc_trial) +
              (prestart ? "_prestart" + std::to_string(prestart) : "");
  spec.prestart = prestart;
  spec.trials = trials;
  spec.max_concurrent = kConcurrent;
  spec.trial_args = "--reports 1 --sleep-ms " + std::to_string(kSleepMs);
  spec.libc_trial = libc_trial;
  const StudyRun r = bench.RunStudy(spec);
  SleepFigures f;
  f.wall = r.wall;
  f.ideal = std::ceil(static_cast<double>(trials) / kConcurrent) * kSleepMs / 1e3;
  f.overhead = f.wall / f.ideal - 1;
  f.others = r.cpu.others_cores;
  // The part of a trial's life that is not its sleep, per trial.
  std::vector<double> extra;
  for (const TrialTimes& t : r.times) {
    auto it = r.runner.find(t.id);
    if (it == r.runner.end()) continue;
    extra.push_back(1e-6 * static_cast<double>(it->second.ended - it->second.started) - kSleepMs);
  }
  // The study's fixed costs: optimize() called -> first trial started, and
  // last trial ended -> optimize() returned.
  int64_t first_start = INT64_MAX, last_end = 0;
  for (const auto& [id, times] : r.runner) {
    first_start = std::min(first_start, times.started);
    last_end = std::max(last_end, times.ended);
  }
  double mean_extra = 0;
  for (double e : extra) mean_extra += e / static_cast<double>(extra.size());
  std::printf(
      "  (c) %s%s: %lld trials in %.3f s vs ideal %.3f s: overhead %.2f%%\n"
      "      per trial, runner's spawn to runner's end minus the sleep: median %.2f ms, "
      "mean %.2f, p90 %.2f\n"
      "      fixed: optimize() -> first start %.1f ms, last end -> optimize() returned %.1f ms\n"
      "      %s\n      %s\n",
      label.c_str(), prestart ? (", prestart " + std::to_string(prestart)).c_str() : "",
      static_cast<long long>(trials), f.wall, f.ideal, 100 * f.overhead, Median(extra), mean_extra,
      Percentile(extra, 0.9), 1e-6 * static_cast<double>(first_start - r.called),
      1e-6 * static_cast<double>(r.returned - last_end), LifeLine(r, prestart > 0).c_str(),
      CpuLine(r, static_cast<size_t>(trials)).c_str());
  std::fflush(stdout);
  return f;
}

// ------------------------------------------------------------------ (d) ----

struct ReportFigures {
  double per_second = 0;       // all reports / (first report sent .. last answered)
  double wall_per_second = 0;  // all reports / wall time of optimize()
  double ack_ms = 0;           // median over trials of their mean time per report
  double others = 0;
};

ReportFigures RunReports(Bench& bench, int64_t reports_per_trial, bool libc_trial,
                         const std::string& label) {
  constexpr int64_t kTrials = 8;
  StudySpec spec;
  spec.name = std::string("reports_") + TrialName(libc_trial);
  spec.trials = kTrials;
  spec.max_concurrent = kTrials;
  spec.trial_args = "--reports " + std::to_string(reports_per_trial);
  spec.libc_trial = libc_trial;
  const StudyRun r = bench.RunStudy(spec);
  int64_t first = INT64_MAX, last = 0;
  std::vector<double> ack;
  for (const TrialTimes& t : r.times) {
    first = std::min(first, t.reports_begin);
    last = std::max(last, t.reports_end);
    ack.push_back(1e-6 * static_cast<double>(t.reports_end - t.reports_begin) /
                  static_cast<double>(reports_per_trial));
  }
  const double total = static_cast<double>(kTrials * reports_per_trial);
  ReportFigures f;
  f.per_second = total / (1e-9 * static_cast<double>(last - first));
  f.wall_per_second = total / r.wall;
  f.ack_ms = Median(ack);
  f.others = r.cpu.others_cores;
  const double n = total;
  std::printf(
      "  (d) %s: %lld x %lld durable reports: %.0f reports/s (%.0f/s over the whole "
      "optimize(), %.2f s); mean time per report %.3f ms\n"
      "      CPU/report: runner %.1f us, trials %.1f us; others used %.2f cores\n",
      label.c_str(), static_cast<long long>(kTrials), static_cast<long long>(reports_per_trial),
      f.per_second, f.wall_per_second, r.wall, f.ack_ms, 1e6 * r.cpu.runner / n,
      1e6 * r.cpu.trials / n, r.cpu.others_cores);
  std::fflush(stdout);
  return f;
}

// The runner's cost while trials are connected but busy (training): an
// event-driven server should sleep. cpp-httplib's keep-alive loop instead
// polls each open connection every ~11 ms (select 10 ms, then sleep 1 ms).
// Two studies whose trials sleep 0.2 s and 0.2 s + `idle_ms`; the
// difference is the cost of the idle time alone.
void RunIdle(Bench& bench, int64_t idle_ms, bool libc_trial, const std::string& label) {
  constexpr int64_t kTrials = 8;
  constexpr int64_t kBaseMs = 200;
  CpuUse use[2];
  for (int i = 0; i < 2; ++i) {
    StudySpec spec;
    spec.name = std::string("idle_") + TrialName(libc_trial);
    spec.trials = kTrials;
    spec.max_concurrent = kTrials;
    spec.trial_args = "--reports 1 --sleep-ms " + std::to_string(kBaseMs + i * idle_ms);
    spec.libc_trial = libc_trial;
    use[i] = bench.RunStudy(spec).cpu;
  }
  const double trial_seconds = static_cast<double>(kTrials * idle_ms) / 1e3;
  const double cpu = (use[1].runner - use[0].runner) / trial_seconds;
  const double switches =
      static_cast<double>(use[1].runner_switches - use[0].runner_switches) / trial_seconds;
  std::printf(
      "  idle %s: per second that a trial is connected and busy, the runner used %.2f ms CPU "
      "(%.2f%% of a core) and %.0f context switches\n",
      label.c_str(), 1e3 * cpu, 100 * cpu, switches);
  std::fflush(stdout);
}

// ---------------------------------------------------------------- context --

// Process start outside the runner, through the runner's own spawn code:
// how much of a hand-off is exec + dynamic loading rather than the runner.
void RunSpawn(const Bench& bench, int iterations) {
  namespace si = sherpa::scheduler_internal;
  const std::string probe = bench.dir() + "/spawn.times";
  const std::string output = bench.dir() + "/spawn.out";
  const std::vector<std::string> env = si::MergedEnvironment({{"SHERPA_BENCH", "1"}});
  struct Variant {
    std::string name;
    std::vector<std::string> argv;
    bool probes;
  };
  std::vector<Variant> variants;
  for (bool libc_trial : {false, true}) {
    const std::string name = TrialName(libc_trial);
    const std::string path = bench.trial(libc_trial);
    const std::string cmd = ShellQuote(path) + " --probe --times " + ShellQuote(probe);
    variants.push_back({name + ", exec'd directly", {path, "--probe", "--times", probe}, true});
    variants.push_back({"/bin/sh -c '" + name + "' (as the runner)", {"/bin/sh", "-c", cmd}, true});
    variants.push_back({"/bin/sh -c 'exec " + name + "'", {"/bin/sh", "-c", "exec " + cmd}, true});
  }
  variants.push_back({"/bin/true, exec'd directly", {"/bin/true"}, false});
  std::printf("  spawn: %d starts each through the runner's Spawn(); medians (p90), ms\n",
              iterations);
  for (const Variant& v : variants) {
    std::vector<double> to_main, call, to_reaped;
    for (int i = 0; i < iterations; ++i) {
      fs::remove(probe);
      si::SpawnOptions o;
      o.argv = v.argv;
      o.env = env;
      o.working_dir = bench.dir();
      o.output_path = output;
      const int64_t t0 = RealtimeNs();
      sherpa::StatusOr<pid_t> pid = si::Spawn(o);
      const int64_t t1 = RealtimeNs();
      Bench::Check(pid.status());
      Bench::Check(si::Reap(*pid).status());
      const int64_t t2 = RealtimeNs();
      call.push_back(1e-6 * static_cast<double>(t1 - t0));
      to_reaped.push_back(1e-6 * static_cast<double>(t2 - t0));
      if (v.probes) {
        const std::vector<TrialTimes> t = ReadTimes(probe);
        if (!t.empty()) to_main.push_back(1e-6 * static_cast<double>(t[0].main - t0));
      }
    }
    const std::string main_text =
        v.probes ? Format("%.3f", Median(to_main)) + Format(" (%.3f)", Percentile(to_main, 0.9))
                 : "-";
    std::printf("      %-44s spawn() %.3f, ->main %-16s ->exited+reaped %.3f (%.3f)\n",
                v.name.c_str(), Median(call), main_text.c_str(), Median(to_reaped),
                Percentile(to_reaped, 0.9));
  }
  std::fflush(stdout);
}

// Writes one 4 KiB block at `at`, then times the fdatasync alone (ms); -1
// if the write failed.
double TimedFlush(int fd, off_t at) {
  static const std::vector<char> block(4096, 'x');
  if (::pwrite(fd, block.data(), block.size(), at) != static_cast<ssize_t>(block.size())) {
    return -1;
  }
  const int64_t t0 = RealtimeNs();
  ::fdatasync(fd);
  return 1e-6 * static_cast<double>(RealtimeNs() - t0);
}

// Commit latency is bounded by the disk's flush latency: measure it in the
// folder the studies use, both for a growing file (a journal append) and
// for rewriting the same block (SQLite's WAL reuses its file after a
// checkpoint).
void RunFsync(const Bench& bench, int iterations) {
  const std::string path = bench.dir() + "/fsync.bin";
  std::printf("  fsync: %d x 4 KiB write + fdatasync in %s (ms)\n", iterations,
              bench.dir().c_str());
  for (bool append : {true, false}) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::vector<double> lat;
    for (int i = 0; i < iterations; ++i) {
      const double ms = TimedFlush(fd, append ? static_cast<off_t>(i) * 4096 : 0);
      if (ms < 0) break;
      lat.push_back(ms);
    }
    ::close(fd);
    fs::remove(path);
    std::printf("      %-26s median %.3f, p90 %.3f, p99 %.3f, max %.3f\n",
                append ? "appending (file grows)" : "rewriting one block", Median(lat),
                Percentile(lat, 0.9), Percentile(lat, 0.99), Max(lat));
  }
  // A trial's one durable report comes after the disk has been idle for a
  // while; on a VM's virtual disk a flush after idle time can cost several
  // times one right after another (bench/README.md, session 5).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  for (int idle_ms : {1, 12, 50}) {
    std::vector<double> lat;
    const int samples = std::max(20, std::min(iterations, 2000 / idle_ms));
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
      const double ms = TimedFlush(fd, 0);
      if (ms < 0) break;
      lat.push_back(ms);
    }
    std::printf("      %-26s median %.3f, p90 %.3f (%zu flushes)\n",
                ("after " + std::to_string(idle_ms) + " ms idle").c_str(), Median(lat),
                Percentile(lat, 0.9), lat.size());
  }
  ::close(fd);
  fs::remove(path);
  std::fflush(stdout);
}

// ------------------------------------------------------------------ main ----

struct Options {
  bool quick = false;
  int repeat = 3;
  std::set<std::string> only;
  std::string dir;
  bool keep = false;
  std::string trial;
  std::string trials = "both";  // client, libc or both
};

std::string Spread(const std::vector<double>& v, const char* fmt) {
  if (v.size() < 2) return "";
  return "(" + Format(fmt, Min(v)) + ".." + Format(fmt, Max(v)) + ")";
}

void Usage() {
  std::fprintf(stderr,
               "usage: runner_bench [--quick] [--only a,b,c,d,spawn,fsync,idle] [--repeat N]\n"
               "                    [--trials client|libc|both] [--dir DIR] [--keep]\n"
               "                    [--trial PATH_OF_runner_trial]\n");
}

template <typename Figures>
std::vector<double> Pick(const std::vector<Figures>& runs, double Figures::*field) {
  std::vector<double> v;
  for (const Figures& r : runs) v.push_back(r.*field);
  return v;
}

void Row(const std::string& what, const std::string& measured, const std::string& target = "",
         const std::string& sherpa = "", const std::string& ratio = "",
         const std::string& load = "") {
  std::printf("  %-42s %-30s %-10s %-13s %-7s %s\n", what.c_str(), measured.c_str(), target.c_str(),
              sherpa.c_str(), ratio.c_str(), load.c_str());
}

// The other processes' CPU use during a case's runs: the context of a figure.
template <typename Figures>
std::string Others(const std::vector<Figures>& runs) {
  return Format("%.2f", Median(Pick(runs, &Figures::others)));
}

const char* Verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool repeat_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      opt.quick = true;
    } else if (arg == "--keep") {
      opt.keep = true;
    } else if (arg == "--only" && has_value) {
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) opt.only.insert(item);
    } else if (arg == "--repeat" && has_value) {
      opt.repeat = std::max(1, std::atoi(argv[++i]));
      repeat_given = true;
    } else if (arg == "--trials" && has_value) {
      opt.trials = argv[++i];
    } else if (arg == "--dir" && has_value) {
      opt.dir = argv[++i];
    } else if (arg == "--trial" && has_value) {
      opt.trial = argv[++i];
    } else {
      Usage();
      return 2;
    }
  }
  if (opt.trials != "client" && opt.trials != "libc" && opt.trials != "both") {
    Usage();
    return 2;
  }
  if (opt.quick && !repeat_given) opt.repeat = 1;
  auto wanted = [&](const char* name) { return opt.only.empty() || opt.only.count(name) > 0; };
  std::vector<bool> kinds;  // libc_trial values to run
  if (opt.trials != "libc") kinds.push_back(false);
  if (opt.trials != "client") kinds.push_back(true);

  std::error_code ec;
  if (opt.trial.empty()) {
    // Built next to this program (bench/runner/ of the build tree).
    opt.trial = (fs::read_symlink("/proc/self/exe", ec).parent_path() / "runner_trial").string();
  }
  const std::string libc_trial = opt.trial + "_libc";
  for (const std::string& path : {opt.trial, libc_trial}) {
    if (!fs::exists(path, ec)) {
      std::fprintf(stderr, "runner_bench: no trial program at %s (give --trial PATH)\n",
                   path.c_str());
      return 1;
    }
  }
  if (opt.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    opt.dir = tmp && *tmp ? tmp : "/tmp";
  }
  std::string base = opt.dir + "/sherpa_runner_bench.XXXXXX";
  if (::mkdtemp(base.data()) == nullptr) {
    std::fprintf(stderr, "runner_bench: cannot create a folder in %s\n", opt.dir.c_str());
    return 1;
  }
  base = fs::canonical(base, ec).string();
  Bench bench(base, opt.trial, libc_trial);

  // Sizes: the issue's, or about 30 s in all with --quick.
  const int64_t handoff_trials = opt.quick ? 60 : 300;
  const int64_t throughput_trials = opt.quick ? 300 : 2000;
  const int64_t sleep_trials = opt.quick ? 160 : 1000;
  const int64_t reports_per_trial = opt.quick ? 500 : 5000;
  const int spawn_iterations = opt.quick ? 50 : 200;

  std::printf("runner_bench: %d run(s) per case%s; %ld cores; load average %s; folder %s\n",
              opt.repeat, opt.quick ? " (--quick sizes)" : "", sysconf(_SC_NPROCESSORS_ONLN),
              LoadAverage().c_str(), base.c_str());
  std::fflush(stdout);

  if (wanted("fsync")) RunFsync(bench, spawn_iterations);
  if (wanted("spawn")) RunSpawn(bench, spawn_iterations);
  if (wanted("idle")) {
    for (bool libc : kinds) RunIdle(bench, opt.quick ? 1000 : 3000, libc, TrialName(libc));
  }

  // Indexed by libc_trial (and exec_prefix for (a)).
  std::map<std::pair<bool, bool>, std::vector<HandoffFigures>> handoff;
  std::map<bool, std::vector<ThroughputFigures>> throughput;
  std::map<std::pair<bool, bool>, std::vector<SleepFigures>> sleep;  // (libc, prestart)
  std::map<bool, std::vector<ReportFigures>> reports;
  for (int run = 1; run <= opt.repeat; ++run) {
    const std::string of = " run " + std::to_string(run) + "/" + std::to_string(opt.repeat);
    for (bool libc : kinds) {
      const std::string label = TrialName(libc) + of;
      if (wanted("a")) {
        for (bool exec_prefix : {false, true}) {
          handoff[{libc, exec_prefix}].push_back(
              RunHandoff(bench, handoff_trials, libc, exec_prefix,
                         std::string(TrialName(libc)) + (exec_prefix ? " (exec)" : "") + of));
        }
      }
      if (wanted("b"))
        throughput[libc].push_back(RunThroughput(bench, throughput_trials, libc, label));
      if (wanted("c")) {
        for (bool prestart : {true, false}) {
          sleep[{libc, prestart}].push_back(
              RunSleep(bench, sleep_trials, libc, prestart ? kSleepConcurrent : 0, label));
        }
      }
      if (wanted("d")) reports[libc].push_back(RunReports(bench, reports_per_trial, libc, label));
    }
  }

  std::printf(
      "\nSummary: median over %d run(s) (min..max); load average now %s\n"
      "Headline rows use runner_trial (sherpa::Client); rows marked libc use "
      "runner_trial_libc,\nwhose start-up costs next to nothing: they show the runner's own "
      "limits.\n",
      opt.repeat, LoadAverage().c_str());
  Row("figure", "measured", "target", "SHERPA", "ratio", "others' CPU (cores)");
  for (bool libc : kinds) {
    const std::string who = libc ? "    libc " : "";
    auto a = handoff.find({libc, false});
    if (a != handoff.end()) {
      const std::vector<double> med = Pick(a->second, &HandoffFigures::median);
      const double m = Median(med);
      Row(who.empty() ? std::string("(a) hand-off median [") + Verdict(m < 5.0) + "]"
                      : who + "hand-off median",
          Format("%.2f ms ", m) + Spread(med, "%.2f"), "< 5 ms", "5 s poll",
          Format("%.0fx", 1e3 * kSherpaPollSeconds / m), Others(a->second));
      Row(who + "    p90 / p99",
          Format("%.2f", Median(Pick(a->second, &HandoffFigures::p90))) + " / " +
              Format("%.2f ms", Median(Pick(a->second, &HandoffFigures::p99))));
      Row(who + "    exit -> next spawn starts",
          Format("%.3f ms", Median(Pick(a->second, &HandoffFigures::runner))));
      Row(who + "    spawn -> main (sh+exec+ld.so)",
          Format("%.3f ms", Median(Pick(a->second, &HandoffFigures::spawn))));
      const std::vector<HandoffFigures>& e = handoff[{libc, true}];
      const std::vector<double> emed = Pick(e, &HandoffFigures::median);
      Row(who + "    `exec trial`: median, p90",
          Format("%.2f", Median(emed)) +
              Format(" / %.2f ms ", Median(Pick(e, &HandoffFigures::p90))) + Spread(emed, "%.2f"));
    }
    auto b = throughput.find(libc);
    if (b != throughput.end()) {
      const std::vector<double> v = Pick(b->second, &ThroughputFigures::per_second);
      const double m = Median(v);
      Row(who.empty() ? std::string("(b) throughput, 4 at a time [") + Verdict(m > 200) + "]"
                      : who + "throughput",
          Format("%.1f trials/s ", m) + Spread(v, "%.1f"), "> 200/s", "0.2 trials/s",
          Format("%.0fx", m / 0.2), Others(b->second));
    }
    for (bool prestart : {true, false}) {
      auto c = sleep.find({libc, prestart});
      if (c == sleep.end()) continue;
      std::vector<double> percent;
      for (const SleepFigures& f : c->second) percent.push_back(100 * f.overhead);
      const double m = Median(percent);
      const double wall = Median(Pick(c->second, &SleepFigures::wall));
      const double ideal = c->second.front().ideal;
      // SHERPA sees each wave of 8 ends at its next poll: one wave per 5 s.
      const double sherpa_wall = ideal / 0.1 * kSherpaPollSeconds;
      const std::string what = prestart ? "" : "    without prestart";
      Row(who.empty() && prestart
              ? std::string("(c) ") + std::to_string(sleep_trials) +
                    " x 0.1 s, 8 at a time, prestart 8 [" + Verdict(m < 2.0) + "]"
              : who + (prestart ? "sleep overhead, prestart 8" : what),
          Format("%.2f%% ", m) + Spread(percent, "%.2f") + Format(" %.2f s", wall), "< 2%",
          Format("%.0f s", sherpa_wall), Format("%.0fx", sherpa_wall / wall), Others(c->second));
    }
    auto d = reports.find(libc);
    if (d != reports.end()) {
      const std::vector<double> v = Pick(d->second, &ReportFigures::per_second);
      const double m = Median(v);
      Row(who.empty() ? std::string("(d) durable reports/s, 8 trials [") + Verdict(m > 10000) + "]"
                      : who + "durable reports/s",
          Format("%.0f/s ", m) + Spread(v, "%.0f"), "> 10000/s", "n/a", "", Others(d->second));
      Row(who + "    time per report in a trial",
          Format("%.3f ms", Median(Pick(d->second, &ReportFigures::ack_ms))));
    }
  }

  if (!opt.keep) {
    fs::remove_all(base, ec);
  } else {
    std::printf("kept %s\n", base.c_str());
  }
  return 0;
}
