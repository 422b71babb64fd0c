// load_bench: the runner under load (issue 8, items 3 and 6), through
// sherpa::optimize with one real process per trial client.
//
// Load mode (default): `clients` trials run at once (max_concurrent =
// clients), each a load_trial process sending reports/clients reports back
// to back on its own keep-alive connection with its own token, every report
// acknowledged only once durable in study.db. Some answers are lost on
// purpose (--cut-every). Prints throughput, client-side latency, the
// runner's memory (this process: the runner runs in-process) and the check
// of study.db against what the clients saw acknowledged: reports lost and
// duplicates are counted, not assumed.
//
// Memory mode (--memory): studies of many short trials (fetch, one report,
// exit) with RandomSearch and with PBT, sampling this process's RSS against
// the number of trials done, to show whether the runner's memory grows with
// what it stores or with time.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include <sys/stat.h>

#include "sherpa/algorithms.h"
#include "sherpa/runner.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// load_trial's line in <out>/acks: fixed width, so the number of trials
// done is the file's size over this.
constexpr size_t kAckLineBytes = 75;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "load_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const sherpa::Status& status) {
  if (!status.ok()) Die(status.ToString());
}

// VmRSS or VmHWM of this process, in bytes.
int64_t ProcStatus(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::strtoll(line.c_str() + len + 1, nullptr, 10) * 1024;
    }
  }
  return -1;
}

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Commit() {
  FILE* pipe = popen("git rev-parse --short HEAD 2>/dev/null", "r");
  if (!pipe) return "?";
  char buf[64] = {};
  const bool got = std::fgets(buf, sizeof(buf), pipe) != nullptr;
  pclose(pipe);
  std::string s = got ? buf : "?";
  while (!s.empty() && (s.back() == '\n')) s.pop_back();
  return s;
}

// Samples this process's RSS (and the trials done, from the acks file) on
// a thread of its own while a study runs.
class Sampler {
 public:
  struct Sample {
    double seconds;
    int64_t trials_done;
    int64_t rss;
  };

  Sampler(std::string acks_path, std::chrono::milliseconds every)
      : acks_path_(std::move(acks_path)), every_(every), start_(Clock::now()) {
    Take();
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        std::this_thread::sleep_for(every_);
        Take();
      }
    });
  }
  ~Sampler() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    Take();
  }
  std::vector<Sample> samples() const {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }
  int64_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t peak = 0;
    for (const Sample& s : samples_) peak = std::max(peak, s.rss);
    return peak;
  }

 private:
  void Take() {
    struct stat st {};
    const int64_t done = ::stat(acks_path_.c_str(), &st) == 0
                             ? static_cast<int64_t>(st.st_size) / int64_t{kAckLineBytes}
                             : 0;
    Sample s{std::chrono::duration<double>(Clock::now() - start_).count(), done,
             ProcStatus("VmRSS")};
    std::lock_guard<std::mutex> lock(mu_);
    samples_.push_back(s);
  }

  const std::string acks_path_;
  const std::chrono::milliseconds every_;
  const Clock::time_point start_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
  std::thread thread_;
};

struct Options {
  int64_t clients = 500;
  int64_t reports = 1'000'000;
  int64_t cut_every = 1000;  // per client: every K-th report loses its answer
  bool memory = false;
  int64_t trials = 100'000;
  int64_t population = 100;
  size_t memory_concurrent = 16;
  std::string algorithms = "random,pbt";
  std::string dir;
  std::string trial;
  bool keep = false;
};

struct Ack {
  int64_t trial = 0, acked = 0, resends = 0, first_send_us = 0, last_answer_us = 0;
};

std::vector<Ack> ReadAcks(const std::string& path) {
  std::vector<Ack> acks;
  std::ifstream in(path);
  Ack a;
  while (in >> a.trial >> a.acked >> a.resends >> a.first_send_us >> a.last_answer_us) {
    acks.push_back(a);
  }
  return acks;
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      Die("cannot open " + path);
    }
  }
  ~Db() { sqlite3_close(db_); }
  // Calls `row` for each result row of `sql`.
  template <typename Fn>
  void Query(const char* sql, Fn row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      Die(std::string("query failed: ") + sqlite3_errmsg(db_));
    }
    while (sqlite3_step(st) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
  }
  int64_t Int(const char* sql) {
    int64_t v = 0;
    Query(sql, [&](sqlite3_stmt* st) { v = sqlite3_column_int64(st, 0); });
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

sherpa::OptimizeOptions StudyOptions(const Options& opt, std::unique_ptr<sherpa::Algorithm> algo,
                                     const std::string& out, const std::string& trial_args,
                                     size_t max_concurrent) {
  sherpa::StatusOr<sherpa::ParameterSpace> space =
      sherpa::ParameterSpace::Create({sherpa::Continuous("x", {0.0, 1.0})});
  Check(space.status());
  sherpa::OptimizeOptions o;
  o.parameters = *space;
  o.algorithm = std::move(algo);
  o.lower_is_better = true;
  o.command = "exec " + ShellQuote(opt.trial) + " --out " + ShellQuote(out) + " " + trial_args;
  o.max_concurrent = max_concurrent;
  o.output_dir = out + "/study";
  o.working_dir = out;
  o.handle_signals = false;
  o.progress = sherpa::ProgressMode::kQuiet;
  return o;
}

int RunLoad(const Options& opt) {
  const int64_t per_client = opt.reports / opt.clients;
  const int64_t total = per_client * opt.clients;
  const std::string out = opt.dir + "/load_" + std::to_string(getpid());
  fs::create_directories(out + "/lat");
  sherpa::StatusOr<std::unique_ptr<sherpa::Algorithm>> algo = sherpa::RandomSearch(opt.clients);
  Check(algo.status());
  const std::string args =
      "--reports " + std::to_string(per_client) + " --cut-every " + std::to_string(opt.cut_every);
  sherpa::OptimizeOptions o =
      StudyOptions(opt, std::move(*algo), out, args, static_cast<size_t>(opt.clients));

  std::printf("load: %lld clients x %lld reports = %lld reports, every %lld-th answer lost%s\n",
              static_cast<long long>(opt.clients), static_cast<long long>(per_client),
              static_cast<long long>(total), static_cast<long long>(opt.cut_every),
              opt.cut_every > 0 ? "" : " (none)");
  std::fflush(stdout);
  const int64_t rss_start = ProcStatus("VmRSS");
  Sampler sampler(out + "/acks", std::chrono::milliseconds(100));
  const auto began = Clock::now();
  sherpa::StatusOr<sherpa::OptimizeResult> result = sherpa::optimize(std::move(o));
  const double wall = std::chrono::duration<double>(Clock::now() - began).count();
  sampler.Stop();
  Check(result.status());
  const int64_t hwm = ProcStatus("VmHWM");
  const std::vector<Sampler::Sample> samples = sampler.samples();
  const int64_t rss_end = samples.size() >= 2 ? samples[samples.size() - 2].rss : -1;
  const int64_t rss_after = ProcStatus("VmRSS");

  // What the clients saw acknowledged.
  std::vector<Ack> acks = ReadAcks(out + "/acks");
  int64_t acked = 0, resends = 0, first = INT64_MAX, last = 0;
  std::map<int64_t, int64_t> acked_by_trial;
  for (const Ack& a : acks) {
    acked += a.acked;
    resends += a.resends;
    first = std::min(first, a.first_send_us);
    last = std::max(last, a.last_answer_us);
    acked_by_trial[a.trial] = a.acked;
  }
  std::vector<uint32_t> lat;
  lat.reserve(static_cast<size_t>(acked));
  for (const Ack& a : acks) {
    std::ifstream in(out + "/lat/" + std::to_string(a.trial), std::ios::binary);
    std::vector<uint32_t> v(static_cast<size_t>(a.acked));
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    lat.insert(lat.end(), v.begin(), v.end());
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) -> double {
    if (lat.empty()) return 0;
    const size_t i =
        std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())));
    return lat[i] / 1000.0;
  };

  // What study.db holds: every acknowledged (trial, iteration) once.
  Db db(out + "/study/study.db");
  const int64_t rows = db.Int("SELECT COUNT(*) FROM observations");
  const int64_t events = db.Int("SELECT COUNT(*) FROM events WHERE kind = 'observation'");
  const int64_t duplicates = db.Int(
      "SELECT COALESCE(SUM(c - 1), 0) FROM "
      "(SELECT COUNT(*) AS c FROM observations GROUP BY trial_id, attempt, iteration)");
  std::map<int64_t, std::vector<bool>> seen;
  for (const auto& [trial, n] : acked_by_trial)
    seen[trial].assign(static_cast<size_t>(n) + 1, false);
  int64_t unacknowledged_rows = 0;
  db.Query("SELECT trial_id, iteration FROM observations", [&](sqlite3_stmt* st) {
    const int64_t trial = sqlite3_column_int64(st, 0), it = sqlite3_column_int64(st, 1);
    auto found = seen.find(trial);
    if (found == seen.end() || it < 1 || it >= static_cast<int64_t>(found->second.size())) {
      ++unacknowledged_rows;
    } else {
      found->second[static_cast<size_t>(it)] = true;
    }
  });
  int64_t lost = 0;
  for (const auto& [trial, v] : seen) lost += std::count(v.begin() + 1, v.end(), false);

  const double span = static_cast<double>(last - first) / 1e6;
  std::printf("trials completed %zu, failed %zu; clients that reported %zu\n", result->completed,
              result->failed, acks.size());
  std::printf("wall (optimize, incl. %lld process starts) %.2f s; reports sent..answered %.2f s\n",
              static_cast<long long>(opt.clients), wall, span);
  std::printf("throughput %.0f reports/s (acknowledged / first send..last answer)\n",
              static_cast<double>(acked) / span);
  std::printf(
      "latency per report (client side, resends included): p50 %.2f ms, p90 %.2f ms, "
      "p99 %.2f ms, max %.2f ms\n",
      pct(0.5), pct(0.9), pct(0.99), lat.empty() ? 0.0 : lat.back() / 1000.0);
  std::printf(
      "runner RSS: start %.1f MiB, end of run %.1f MiB, peak %.1f MiB (VmHWM %.1f MiB), "
      "after optimize returned %.1f MiB\n",
      MiB(rss_start), MiB(rss_end), MiB(sampler.peak()), MiB(hwm), MiB(rss_after));
  std::printf("reports acknowledged %lld, answers lost and resent %lld\n",
              static_cast<long long>(acked), static_cast<long long>(resends));
  std::printf(
      "study.db: observation rows %lld, observation events %lld, rows never "
      "acknowledged %lld\n",
      static_cast<long long>(rows), static_cast<long long>(events),
      static_cast<long long>(unacknowledged_rows));
  std::printf("reports lost: %lld\nduplicates: %lld\n", static_cast<long long>(lost),
              static_cast<long long>(duplicates));
  std::printf(
      "| %lld | %lld | %.0f/s | %.2f ms | %.2f ms | %.1f → %.1f MiB (peak %.1f) | %lld | "
      "%lld | %lld |\n",
      static_cast<long long>(opt.clients), static_cast<long long>(acked),
      static_cast<double>(acked) / span, pct(0.5), pct(0.99), MiB(rss_start), MiB(rss_end),
      MiB(hwm), static_cast<long long>(resends), static_cast<long long>(lost),
      static_cast<long long>(duplicates));
  if (!opt.keep) fs::remove_all(out);
  const bool ok = lost == 0 && duplicates == 0 && rows == acked && events == acked &&
                  result->completed == static_cast<size_t>(opt.clients);
  if (!ok) std::printf("FAILED: the store does not hold exactly what was acknowledged\n");
  return ok ? 0 : 1;
}

int RunMemory(const Options& opt, const std::string& name) {
  const std::string out = opt.dir + "/memory_" + name + "_" + std::to_string(getpid());
  fs::create_directories(out + "/lat");
  sherpa::StatusOr<std::unique_ptr<sherpa::Algorithm>> algo = sherpa::RandomSearch(opt.trials);
  if (name == "pbt") {
    sherpa::PopulationBasedTrainingOptions pbt;
    pbt.population_size = opt.population;
    pbt.num_generations = opt.trials / opt.population;
    sherpa::StatusOr<sherpa::ParameterSpace> space =
        sherpa::ParameterSpace::Create({sherpa::Continuous("x", {0.0, 1.0})});
    Check(space.status());
    algo = sherpa::PopulationBasedTraining(*space, pbt);
  }
  Check(algo.status());
  sherpa::OptimizeOptions o =
      StudyOptions(opt, std::move(*algo), out, "--reports 1 --no-latencies", opt.memory_concurrent);
  std::printf("\nmemory, %s: %lld trials, max_concurrent %zu%s\n", name.c_str(),
              static_cast<long long>(opt.trials), opt.memory_concurrent,
              name == "pbt" ? (", population " + std::to_string(opt.population)).c_str() : "");
  std::fflush(stdout);
  const int64_t rss_start = ProcStatus("VmRSS");
  Sampler sampler(out + "/acks", std::chrono::milliseconds(200));
  const auto began = Clock::now();
  sherpa::StatusOr<sherpa::OptimizeResult> result = sherpa::optimize(std::move(o));
  const double wall = std::chrono::duration<double>(Clock::now() - began).count();
  sampler.Stop();
  Check(result.status());
  std::vector<Sampler::Sample> samples = sampler.samples();
  samples.pop_back();  // taken after optimize returned

  // RSS when each tenth of the trials was done.
  std::printf("%10s %10s %12s %14s\n", "trials", "seconds", "RSS MiB", "Δ bytes/trial");
  int64_t prev_trials = 0, prev_rss = rss_start;
  std::vector<std::pair<int64_t, int64_t>> marks;  // (trials, rss)
  for (int64_t step = 1; step <= 10; ++step) {
    const int64_t want = opt.trials * step / 10;
    auto it = std::find_if(samples.begin(), samples.end(),
                           [&](const Sampler::Sample& s) { return s.trials_done >= want; });
    if (it == samples.end()) it = samples.end() - 1;
    const double per = it->trials_done > prev_trials
                           ? static_cast<double>(it->rss - prev_rss) /
                                 static_cast<double>(it->trials_done - prev_trials)
                           : 0;
    std::printf("%10lld %10.1f %12.1f %14.0f\n", static_cast<long long>(it->trials_done),
                it->seconds, MiB(it->rss), per);
    marks.emplace_back(it->trials_done, it->rss);
    prev_trials = it->trials_done;
    prev_rss = it->rss;
  }
  auto slope = [&](size_t a, size_t b) {
    return static_cast<double>(marks[b].second - marks[a].second) /
           static_cast<double>(std::max<int64_t>(1, marks[b].first - marks[a].first));
  };
  Db db(out + "/study/study.db");
  const int64_t param_bytes = db.Int("SELECT SUM(LENGTH(parameters)) FROM trials");
  const int64_t lineage_bytes =
      db.Int("SELECT COALESCE(SUM(LENGTH(json_extract(parameters, '$.lineage'))), 0) FROM trials");
  const int64_t max_lineage =
      db.Int("SELECT COALESCE(MAX(LENGTH(json_extract(parameters, '$.lineage'))), 0) FROM trials");
  const int64_t rows = db.Int("SELECT COUNT(*) FROM observations");
  std::error_code ec;
  const auto db_bytes = static_cast<int64_t>(fs::file_size(out + "/study/study.db", ec)) +
                        static_cast<int64_t>(fs::file_size(out + "/study/study.db-wal", ec));
  const int64_t n = opt.trials;
  std::printf("completed %zu, failed %zu in %.1f s (%.0f trials/s); observations %lld\n",
              result->completed, result->failed, wall, static_cast<double>(n) / wall,
              static_cast<long long>(rows));
  std::printf(
      "RSS start %.1f MiB, end %.1f MiB, peak %.1f MiB: %.0f bytes/trial overall; "
      "first half %.0f, second half %.0f bytes/trial\n",
      MiB(rss_start), MiB(marks.back().second), MiB(sampler.peak()),
      static_cast<double>(marks.back().second - rss_start) / static_cast<double>(n), slope(0, 4),
      slope(4, 9));
  std::printf(
      "stored per trial: parameters JSON %.0f B (lineage %.0f B on average, %lld B at "
      "most), study.db %.0f B\n",
      static_cast<double>(param_bytes) / static_cast<double>(n),
      static_cast<double>(lineage_bytes) / static_cast<double>(n),
      static_cast<long long>(max_lineage), static_cast<double>(db_bytes) / static_cast<double>(n));
  if (!opt.keep) fs::remove_all(out);
  return result->completed == static_cast<size_t>(n) ? 0 : 1;
}

void Usage() {
  std::printf(
      "usage: load_bench [--quick] [--clients N] [--reports R] [--cut-every K]\n"
      "       load_bench --memory [--quick] [--trials T] [--population P] [--concurrent C]\n"
      "                  [--algorithms random,pbt]\n"
      "       common: [--dir DIR] [--keep] [--trial PATH]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool quick = false;
  bool clients_set = false, reports_set = false, trials_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--quick") {
      quick = true;
    } else if (a == "--memory") {
      opt.memory = true;
    } else if (a == "--keep") {
      opt.keep = true;
    } else if (a == "--clients" && has) {
      opt.clients = std::atoll(argv[++i]);
      clients_set = true;
    } else if (a == "--reports" && has) {
      opt.reports = std::atoll(argv[++i]);
      reports_set = true;
    } else if (a == "--cut-every" && has) {
      opt.cut_every = std::atoll(argv[++i]);
    } else if (a == "--trials" && has) {
      opt.trials = std::atoll(argv[++i]);
      trials_set = true;
    } else if (a == "--population" && has) {
      opt.population = std::atoll(argv[++i]);
    } else if (a == "--concurrent" && has) {
      opt.memory_concurrent = static_cast<size_t>(std::atoll(argv[++i]));
    } else if (a == "--algorithms" && has) {
      opt.algorithms = argv[++i];
    } else if (a == "--dir" && has) {
      opt.dir = argv[++i];
    } else if (a == "--trial" && has) {
      opt.trial = argv[++i];
    } else {
      Usage();
      return 2;
    }
  }
  if (quick) {
    if (!clients_set) opt.clients = 100;
    if (!reports_set) opt.reports = 100'000;
    if (!trials_set) opt.trials = 10'000;
  }
  if (opt.clients < 1 || opt.reports < opt.clients || opt.trials < 1) {
    Usage();
    return 2;
  }
  std::error_code ec;
  if (opt.trial.empty()) {
    opt.trial = (fs::read_symlink("/proc/self/exe", ec).parent_path() / "load_trial").string();
  }
  if (!fs::exists(opt.trial, ec)) Die("no trial program at " + opt.trial + "; give --trial");
  if (opt.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    opt.dir = tmp && *tmp ? tmp : "/tmp";
  }
  opt.dir = fs::absolute(opt.dir, ec).string();
  std::printf("load_bench at commit %s, %u cores, load average before: ", Commit().c_str(),
              std::thread::hardware_concurrency());
  {
    std::ifstream in("/proc/loadavg");
    std::string l1;
    in >> l1;
    std::printf("%s\n", l1.c_str());
  }
  if (!opt.memory) return RunLoad(opt);
  int rc = 0;
  std::stringstream names(opt.algorithms);
  for (std::string name; std::getline(names, name, ',');) {
    if (name != "random" && name != "pbt") Die("--algorithms: random or pbt, got " + name);
    rc |= RunMemory(opt, name);
  }
  return rc;
}
