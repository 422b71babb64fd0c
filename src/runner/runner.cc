// The runner: SHERPA's _Runner loop, event-driven.
//
// Threads and who owns what:
//   * the caller's thread runs the loop (Runner::Run): it alone submits and
//     kills jobs and decides when a trial has ended;
//   * the HTTP server's workers call the TrialService methods (trials fetch
//     their parameters and report);
//   * the scheduler's threads report job exits through on_change;
//   * a signal thread turns Ctrl-C into a graceful stop.
// One mutex guards the Study and the table of running trials. Everything
// that changes what the loop should do sets `dirty_` and notifies `wake_`,
// so the loop sleeps until there is work: no polling interval stands
// between a trial's exit and the start of the next one.
#include "sherpa/runner.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "dashboard/dashboard.h"
#include "json/value_json.h"
#include "runner/checkpoint_gc.h"
#include "runner/progress.h"
#include "runner/replay.h"
#include "server/http_server.h"
#include "storage/study_store.h"

#include "sherpa/scheduler.h"
#include "sherpa/study.h"

namespace sherpa {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using storage::EventKind;
using storage::StoredEvent;

// A trial handed to a process started ahead travels in one send of at most
// this many bytes (a fresh Unix socket's buffer holds far more).
constexpr size_t kMaxHandOffMessage = 32 * 1024;

// How long after a trial starts (handed off or spawned) the runner waits for
// quiet before it starts processes ahead (StartStandby).
constexpr std::chrono::milliseconds kStandbyQuiet{5};

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RandomToken() {
  std::random_device device;  // /dev/urandom: tokens must not be guessable
  std::ostringstream os;
  for (int i = 0; i < 4; ++i) {
    os << std::hex;
    const uint64_t word = (uint64_t{device()} << 32) | device();
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(word));
    os << buf;
  }
  return os.str();
}

// Compares in time that depends on the lengths only (tokens have fixed
// lengths), never on where the first difference is.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// Addresses only this machine can reach.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string Timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", &tm);
  return buf;
}

// This host's name: what compute nodes of a cluster use to reach the
// trial API by default.
std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "127.0.0.1";
  return name;
}

// The last `lines` lines of a file, for showing why a trial failed.
std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  size_t found = 0;
  while (pos > 0 && found < lines) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
    ++found;
  }
  std::string tail = text.substr(pos == 0 ? 0 : pos + 1);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return tail;
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

// Finds the folder holding our `sherpa` Python module: next to the program
// in an install, or in the source tree above a build folder.
std::string FindPythonPath() {
  if (const char* env = std::getenv("SHERPA_PYTHONPATH")) return env;
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; up < 6 && !dir.empty(); ++up, dir = dir.parent_path()) {
    for (const fs::path& candidate : {dir / "python", dir / "share" / "sherpa" / "python"}) {
      if (fs::exists(candidate / "sherpa" / "__init__.py", ec)) return candidate.string();
    }
    if (dir == dir.parent_path()) break;
  }
  return "";
}

// Blocks SIGINT and SIGTERM in every thread started after it (they inherit
// the mask) and turns them into calls of `on_signal` on a thread of its own,
// where ordinary code (locks, condition variables) is allowed.
class SignalCatcher {
 public:
  explicit SignalCatcher(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR2);  // our own wake-up for shutdown
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (stop_.load()) return;
        on_signal_(sig);
      }
    });
  }
  ~SignalCatcher() {
    stop_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::function<void(int)> on_signal_;
  sigset_t set_, old_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class Runner final : public server::TrialService {
 public:
  explicit Runner(OptimizeOptions options)
      : options_(std::move(options)),
        progress_(options_.progress, stderr),
        study_(std::move(options_.parameters), std::move(options_.algorithm),
               options_.lower_is_better, std::move(options_.stopping_rule), options_.seed) {}

  ~Runner() override {
    server_.reset();                       // no request may arrive while members go away
    scheduler_.reset();                    // kills what still runs, joins its threads
    if (lock_fd_ >= 0) ::close(lock_fd_);  // after the trials: the lock is also theirs
  }

  StatusOr<OptimizeResult> Run();

  // --- server::TrialService, called from HTTP worker threads ---
  // A trial's token is "<trial id>.<secret>": the id, which is no secret,
  // finds the one token to compare, and the comparison takes the same time
  // wherever the tokens differ. (Looking the whole token up in a hash map
  // would answer faster the further a guess is from every real token.)
  // A process started ahead of its trial has "s<number>.<secret>": it names
  // no trial until the runner hands it one.
  std::optional<server::Principal> Authenticate(std::string_view token) override {
    if (ConstantTimeEquals(token, study_token_)) return server::Principal{std::nullopt, true};
    const bool standby = !token.empty() && token[0] == 's';
    if (standby) token.remove_prefix(1);
    const size_t dot = token.find('.');
    TrialId id = 0;
    if (dot == std::string_view::npos ||
        std::from_chars(token.data(), token.data() + dot, id).ptr != token.data() + dot) {
      return std::nullopt;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (standby) {
      auto it = standby_tokens_.find(id);
      if (it == standby_tokens_.end() ||
          !ConstantTimeEquals(token, std::string_view(it->second.token).substr(1))) {
        return std::nullopt;
      }
      if (it->second.trial == 0) return server::Principal{std::nullopt, false};
      return server::Principal{it->second.trial, false};
    }
    auto it = tokens_.find(id);
    if (it == tokens_.end() || !ConstantTimeEquals(token, it->second)) return std::nullopt;
    return server::Principal{id, false};
  }

  StatusOr<Trial> GetTrial(TrialId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TrialRecord* record = study_.results().Find(id);
    if (!record) return NotFoundError("trial " + std::to_string(id) + " is not part of this study");
    return record->trial();
  }

  StatusOr<bool> Report(TrialId id, Observation observation,
                        std::string_view idempotency_key) override {
    uint64_t ticket = 0;
    bool stop = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto running = running_.find(id);
      const TrialRecord* record = study_.results().Find(id);
      if (!record)
        return NotFoundError("trial " + std::to_string(id) + " is not part of this study");
      if (running == running_.end() && !record->finalized()) {
        return FailedPreconditionError("trial " + std::to_string(id) + " is not running");
      }
      if (running != running_.end() && !idempotency_key.empty()) {
        if (const AcceptedReport* first = running->second.FindReport(idempotency_key)) {
          // A resend after a lost answer (or one that overtook its first
          // copy's answer): that copy is recorded; answer as it was answered,
          // once it is durable.
          if (first->iteration != observation.iteration) {
            return InvalidArgumentError(
                "Idempotency-Key '" + std::string(idempotency_key) + "' was used for iteration " +
                std::to_string(first->iteration) + "; each report needs a key of its own");
          }
          ticket = first->ticket;
          stop = first->stop;
        }
      }
      if (ticket == 0) {
        const int attempt = running == running_.end() ? 0 : running->second.attempt;
        const int64_t iteration = observation.iteration;
        SHERPA_RETURN_IF_ERROR(study_.add_observation(record->trial(), observation.iteration,
                                                      observation.objective, observation.context));
        StoredEvent event;
        event.kind = EventKind::kObservation;
        event.trial_id = id;
        event.attempt = attempt;
        event.at = NowSeconds();
        event.observation = std::move(observation);
        ticket = Append(std::move(event));
        StatusOr<bool> should_stop = study_.should_trial_stop(record->trial());
        stop = should_stop.ok() && *should_stop;
        if (running != running_.end() && !idempotency_key.empty()) {
          running->second.RememberReport({std::string(idempotency_key), iteration, ticket, stop});
        }
        results_changed_ = true;
        // The loop only needs waking if it may have to stop someone.
        if (stop || study_.stopping_rule() != nullptr) MarkDirty();
      }
    }
    // Acknowledged only once durable: a report the trial saw succeed is
    // never lost, whatever happens to the runner afterwards.
    const Status durable = store_->WaitDurable(ticket);
    if (!durable.ok()) return StorageFailed(durable);
    return stop;
  }

  StatusOr<bool> ShouldStop(TrialId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const TrialRecord* record = study_.results().Find(id);
    if (!record) return NotFoundError("trial " + std::to_string(id) + " is not part of this study");
    return study_.should_trial_stop(record->trial());
  }

  Status EndTrial(TrialId id, TrialStatus status) override {
    uint64_t ticket = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(id);
      if (it == running_.end() || it->second.ended) {
        return FailedPreconditionError("trial " + std::to_string(id) + " is not running");
      }
      ticket = FinalizeLocked(it->second, status,
                              status == TrialStatus::kCompleted
                                  ? ""
                                  : "the trial reported " + std::string(TrialStatusName(status)));
      it->second.ended = true;
      it->second.ended_at = Clock::now();
      MarkDirty();
    }
    const Status durable = store_->WaitDurable(ticket);
    if (!durable.ok()) return StorageFailed(durable);
    return OkStatus();
  }

  Status RequestStop(TrialId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_.find(id) == running_.end()) {
      return FailedPreconditionError("trial " + std::to_string(id) + " is not running");
    }
    study_.request_stop(id);
    MarkDirty();
    return OkStatus();
  }

  StatusOr<std::string> StudySummaryJson() override {
    std::lock_guard<std::mutex> lock(mu_);
    json::Json out{{"output_dir", output_dir_},
                   {"algorithm", std::string(study_.algorithm().name())},
                   {"lower_is_better", study_.lower_is_better()},
                   {"running", running_.size()},
                   {"completed", completed_},
                   {"failed", failed_},
                   {"stopped", stopped_},
                   {"trials", study_.results().num_trials()}};
    if (auto best = study_.get_best_result()) {
      out["best"] = {{"trial_id", best->trial_id},
                     {"iteration", best->iteration},
                     {"objective", best->objective},
                     {"parameters", json::ToJson(best->parameters)}};
    }
    return out.dump();
  }

 private:
  // A report recorded under an idempotency key, so that a resend of it is
  // answered without recording it twice.
  struct AcceptedReport {
    std::string key;
    int64_t iteration = 0;
    uint64_t ticket = 0;  // the store's ticket of its event
    bool stop = false;    // what the first copy was answered
  };

  struct RunningTrial {
    Trial trial;
    // The trial's latest keyed reports, newest last. A client resends only
    // the request it is waiting for, so a few per trial cover every client
    // a trial may run at once; the memory goes when the trial ends. A key
    // that has dropped out is still never recorded twice: the study refuses
    // a repeated iteration (ALREADY_EXISTS).
    static constexpr size_t kRecentReports = 16;
    std::deque<AcceptedReport> recent_reports;
    const AcceptedReport* FindReport(std::string_view key) const {
      for (auto it = recent_reports.rbegin(); it != recent_reports.rend(); ++it) {
        if (it->key == key) return &*it;
      }
      return nullptr;
    }
    void RememberReport(AcceptedReport report) {
      if (recent_reports.size() == kRecentReports) recent_reports.pop_front();
      recent_reports.push_back(std::move(report));
    }

    int attempt = 1;
    JobId job;
    std::string token;
    uint64_t standby = 0;  // the number of the started-ahead process it runs in; 0: none
    Clock::time_point started;
    bool kill_sent = false;
    bool timed_out = false;
    bool interrupted = false;  // stopped by Ctrl-C: runs again on resume
    bool ended = false;        // ended through the API before its process exited
    // When the study first answered "stop": the trial may save its state and
    // exit; it is killed only once kill_grace has passed.
    std::optional<Clock::time_point> stop_asked;
    Clock::time_point ended_at;
  };

  // A trial whose submit failed for a moment (UNAVAILABLE: a cluster out of
  // reach): started again once `not_before` has passed. It keeps its slot.
  struct PendingStart {
    Trial trial;
    bool restarted = false;
    Clock::time_point not_before;
  };

  // A trial process started ahead of its trial (OptimizeOptions::prestart).
  // It waits in get_trial() on its descriptor 3, one end of a socket pair
  // whose other end we keep: a hand-off is one send, and our exit (even
  // kill -9) is an end of file it notices.
  struct Standby {
    uint64_t number = 0;
    JobId job;
    int socket = -1;  // our end
    std::string output_path;
    bool killed = false;  // by us, because the study needs no more trials
  };
  struct StandbyToken {
    std::string token;
    TrialId trial = 0;  // 0: no trial yet
  };

  // Every event goes through here so the runner knows what to flush at the end.
  uint64_t Append(StoredEvent event) {
    const uint64_t ticket = store_->Append(std::move(event));
    last_ticket_ = std::max(last_ticket_, ticket);
    return ticket;
  }

  void MarkDirty() {
    dirty_ = true;
    wake_.notify_one();
  }

  Status Prepare();
  Status StorageFailed(const Status& error);
  void StorageFailedLocked(const Status& error);
  Status ProbeOutputDir() const;
  Status LockOutputDir(std::string* previous_runner);
  Status Resume();
  void StartTrial(std::unique_lock<std::mutex>& lock, const Trial& trial, int attempt,
                  bool restarted);
  JobSpec TrialJob(const std::string& name, const std::string& output_path,
                   const std::string& token) const;
  bool HandToStandby(const Trial& trial, int attempt, bool restarted);
  void RenameHandedOffOutputs(std::unique_lock<std::mutex>& lock);
  void StartStandby(std::unique_lock<std::mutex>& lock);
  void RetireStandby();
  void StandbyEnded(const JobId& job, const JobStatus& status);
  void HandleEndedJobs(std::unique_lock<std::mutex>& lock);
  void EndTrialLocked(RunningTrial& running, const JobStatus& job);
  uint64_t FinalizeLocked(RunningTrial& running, TrialStatus status, const std::string& reason);
  void EnforceStops();
  void SubmitNewTrials(std::unique_lock<std::mutex>& lock);
  size_t Busy() const;
  Status MakeScheduler();
  void WriteResultsCsv(bool force);
  runner::ProgressSnapshot Snapshot() const;
  std::string OutputPath(TrialId id) const {
    return (fs::path(output_dir_) / "jobs" / ("trial_" + std::to_string(id) + ".out")).string();
  }

  OptimizeOptions options_;
  runner::Progress progress_;
  std::string output_dir_;
  std::string working_dir_;
  std::string python_path_;
  // The folder of the running program (the `sherpa` CLI), put first on the
  // trials' PATH so shell trials find `sherpa trial ...`.
  std::string runner_bin_dir_ = fs::read_symlink("/proc/self/exe").parent_path().string();
  std::string study_token_;
  // Handed to every trial as SHERPA_RUNNER_ID: after a crash of this runner,
  // the next one finds its orphaned trials by it (LockOutputDir).
  std::string runner_id_ = RandomToken().substr(0, 16);
  int lock_fd_ = -1;  // output_dir/runner.lock, flock'ed while we run
  std::unique_ptr<storage::StudyStore> store_;
  std::unique_ptr<Scheduler> scheduler_;
  // Before server_, which serves it and so must go first.
  std::unique_ptr<dashboard::Dashboard> dashboard_;
  std::unique_ptr<server::HttpServer> server_;
  std::string host_;
  std::string trial_host_;  // the address trials are given for host_
  int port_ = 0;
  std::unique_ptr<runner::CheckpointCollector> gc_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool dirty_ = true;
  Study study_;
  std::unordered_map<TrialId, RunningTrial> running_;
  std::unordered_map<TrialId, std::string> tokens_;  // of the running trials
  std::deque<Standby> standby_;                      // started ahead, no trial yet
  // prestart_<n>.out -> trial_<id>.out of trials handed off this turn.
  std::vector<std::pair<std::string, std::string>> handed_off_outputs_;
  std::unordered_map<uint64_t, StandbyToken> standby_tokens_;  // by Standby::number
  // Started ahead but never to get a trial (killed, or gone before its
  // hand-off), until the scheduler has seen them exit.
  std::unordered_map<JobId, Standby> leaving_;
  uint64_t standby_started_ = 0;
  Clock::time_point standby_due_;  // replacements start no sooner (StartStandby)
  bool prestart_off_ = false;      // one died before its trial: start trials the plain way
  std::vector<Trial> restarts_;    // unfinished trials found on resume
  std::deque<PendingStart> pending_starts_;
  std::map<TrialId, int> submit_failures_;  // consecutive UNAVAILABLE submits
  std::map<TrialId, int> attempts_;
  std::map<TrialId, int> resubmits_;
  uint64_t last_ticket_ = 0;
  bool algorithm_done_ = false;
  bool results_changed_ = false;
  int interrupts_ = 0;
  bool stopping_ = false;
  bool storage_failed_ = false;
  Status fatal_;
  size_t completed_ = 0, failed_ = 0, stopped_ = 0;
  Clock::time_point next_csv_ = Clock::now();
};

Status Runner::Prepare() {
  if (options_.command.empty()) {
    return InvalidArgumentError(
        "command is empty: give the trial command to run, e.g. "
        "\"python3 trial.py\"");
  }
  if (options_.max_concurrent == 0) {
    return InvalidArgumentError("max_concurrent must be at least 1");
  }
  if (options_.prestart > 0 && options_.scheduler.name != "local") {
    return InvalidArgumentError(
        "prestart: works with the local scheduler only (a process started ahead gets its trial "
        "through a socket from the runner); remove prestart or use scheduler: local");
  }
  if (options_.prestart > 0 && !options_.scheduler.resources.empty()) {
    return InvalidArgumentError(
        "prestart: cannot be combined with scheduler.resources: a process started ahead cannot "
        "know which resource (GPU) its trial will get; remove one of the two");
  }
  std::error_code ec;
  working_dir_ = options_.working_dir.empty() ? fs::current_path(ec).string()
                                              : fs::absolute(options_.working_dir, ec).string();
  if (!fs::is_directory(working_dir_, ec)) {
    return InvalidArgumentError("working_dir '" + working_dir_ + "' is not a directory");
  }
  // Before anything is written: a scheduler that cannot work (sbatch
  // missing, controller down) must not leave a study folder behind.
  SHERPA_RETURN_IF_ERROR(MakeScheduler());
  std::string dir = options_.output_dir.empty() ? "output_" + Timestamp() : options_.output_dir;
  fs::path out = fs::path(dir).is_absolute() ? fs::path(dir) : fs::path(working_dir_) / dir;
  output_dir_ = out.lexically_normal().string();
  const fs::path db = out / "study.db";
  if (options_.resume && !fs::exists(db, ec)) {
    return FailedPreconditionError("no study to resume in " + output_dir_ + " (no study.db)");
  }
  auto refuse_existing = [this] {
    return FailedPreconditionError(output_dir_ +
                                   " holds a study already; resume it with `sherpa resume " +
                                   output_dir_ + "` or choose another output_dir");
  };
  if (!options_.resume) {
    SHERPA_ASSIGN_OR_RETURN(bool holds, storage::StudyStore::HoldsAStudy(db.string()));
    if (holds) return refuse_existing();
  }
  fs::create_directories(out / "jobs", ec);
  fs::create_directories(out / "checkpoints", ec);
  if (ec) return InternalError("cannot create " + output_dir_ + ": " + ec.message());
  std::string previous_runner;
  SHERPA_RETURN_IF_ERROR(LockOutputDir(&previous_runner));
  if (!options_.resume && fs::exists(db, ec)) {
    // A runner killed before it recorded anything left this study.db (asked
    // again now that we hold the lock, so it is not a runner's just begun).
    SHERPA_ASSIGN_OR_RETURN(bool holds, storage::StudyStore::HoldsAStudy(db.string()));
    if (holds) return refuse_existing();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix, ec);
    progress_.Event("replaced the empty study.db a stopped runner left in " + output_dir_);
  }
  if (!previous_runner.empty() && options_.scheduler.name == "local") {
    // A runner killed with SIGKILL (or crashed) left its trials running in
    // their own process groups. Their reports can no longer land (their
    // tokens died with it), but they would keep their resources and write
    // the checkpoints of the very trials this run starts again.
    const size_t killed = KillOrphanedJobs(
        {{"SHERPA_OUTPUT_DIR", output_dir_}, {"SHERPA_RUNNER_ID", previous_runner}});
    if (killed > 0) {
      progress_.Event("ended " + std::to_string(killed) +
                      " trial processes left running by the previous runner");
    }
  }
  {
    // Only now: should we die before this, the next runner still knows
    // which orphans to look for.
    const std::string mine = std::to_string(::getpid()) + " " + runner_id_ + "\n";
    if (::ftruncate(lock_fd_, 0) != 0 ||
        ::pwrite(lock_fd_, mine.data(), mine.size(), 0) != static_cast<ssize_t>(mine.size()) ||
        ::fsync(lock_fd_) != 0) {
      return InternalError("cannot write " + output_dir_ + "/runner.lock: " + std::strerror(errno));
    }
  }

  SHERPA_ASSIGN_OR_RETURN(store_, storage::StudyStore::Open(db.string(), !options_.resume));
  python_path_ = options_.python_path.empty() ? FindPythonPath() : options_.python_path;
  if (options_.checkpoint_gc) {
    gc_ = std::make_unique<runner::CheckpointCollector>((out / "checkpoints").string());
  }

  if (options_.resume) {
    SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> token, store_->GetMeta("study_token"));
    study_token_ = token.value_or(RandomToken());
    SHERPA_RETURN_IF_ERROR(Resume());
  } else {
    study_token_ = RandomToken();
    // One commit: a study.db holds a whole study or none (HoldsAStudy).
    storage::StudyStore::MetaEntries meta = {
        {"study_token", study_token_},
        {"seed", std::to_string(options_.seed)},
        {"lower_is_better", options_.lower_is_better ? "true" : "false"},
        {"command", options_.command},
        {"working_dir", working_dir_}};
    if (!options_.spec_json.empty()) meta.emplace_back("spec", options_.spec_json);
    SHERPA_RETURN_IF_ERROR(store_->PutMeta(meta));
  }
  {
    const fs::path token_file = out / "study.token";
    std::ofstream(token_file) << study_token_ << "\n";
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
  }

  // Compute nodes cannot reach 127.0.0.1: on a cluster the trial API
  // listens on this host's name unless told otherwise.
  const bool cluster = options_.scheduler.name != "local";
  host_ = options_.host.empty() ? (cluster ? HostName() : "127.0.0.1") : options_.host;
  trial_host_ = host_;
  if (host_ == "0.0.0.0" || host_ == "::") trial_host_ = cluster ? HostName() : "127.0.0.1";

  server::HttpServerOptions http;
  http.host = host_;
  http.port = options_.port;
  // One worker per connected trial, plus room for browsers and the CLI.
  http.threads = std::min<size_t>(512, 2 * options_.max_concurrent + 16);
  // The live dashboard reads what the store has committed, like
  // `sherpa dashboard` does after the study (docs/dashboard.md).
  dashboard_ = std::make_unique<dashboard::Dashboard>(
      store_.get(), dashboard::DashboardOptions{output_dir_, /*live=*/true});
  http.dashboard = dashboard_.get();
  server_ = std::make_unique<server::HttpServer>(this, http);
  SHERPA_ASSIGN_OR_RETURN(port_, server_->Start());
  return OkStatus();
}

// One runner per study: two would interleave their events in study.db and
// each take the other's trials for orphans. The lock is an flock on
// output_dir/runner.lock, which the kernel drops when we die, however we
// die; the descriptor is close-on-exec so trials do not inherit (and keep)
// it. The file holds "<pid> <runner id>" of the last runner to hold it;
// `previous_runner` receives that id (empty if none).
Status Runner::LockOutputDir(std::string* previous_runner) {
  const std::string path = output_dir_ + "/runner.lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return InternalError("cannot open " + path + ": " + std::strerror(errno));
  const bool locked = ::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0;
  const int error = errno;
  char buf[128] = {};
  const ssize_t n = ::pread(lock_fd_, buf, sizeof(buf) - 1, 0);
  std::istringstream text(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
  std::string pid, id;
  text >> pid >> id;
  if (!locked) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (error == EWOULDBLOCK) {
      return FailedPreconditionError("another runner (pid " + (pid.empty() ? "?" : pid) +
                                     ") is running the study in " + output_dir_ +
                                     "; wait for it to end or stop it first");
    }
    return InternalError("cannot lock " + path + ": " + std::strerror(error));
  }
  *previous_runner = id;
  return OkStatus();
}

// The study cannot be recorded any more (disk full, a read-only or vanished
// filesystem): nothing may go on that would need recording. The runner
// stops as for Ctrl-C: running trials are killed and left unfinished (the
// fault is not theirs), and resume continues once the cause is fixed.
// Returns the error for the request that found it: it was not stored, so
// it must not be acknowledged.
Status Runner::StorageFailed(const Status& error) {
  std::lock_guard<std::mutex> lock(mu_);
  StorageFailedLocked(error);
  return UnavailableError("the study cannot be recorded: " + error.message());
}

void Runner::StorageFailedLocked(const Status& error) {
  if (storage_failed_) return;
  storage_failed_ = true;
  fatal_ = Status(error.code(), error.message() +
                                    "; nothing more can be recorded, so the runner "
                                    "stops. Free space or fix the permissions, then "
                                    "continue with: sherpa resume " +
                                    output_dir_);
  progress_.Event("sherpa: " + fatal_.ToString());
  stopping_ = true;
  // At once, not at the loop's next turn: a trial whose report just failed
  // may exit before then, and must not be recorded as FAILED.
  for (auto& [id, running] : running_) running.interrupted = true;
  MarkDirty();
}

// Whether output_dir can take a write now. Asked when a trial fails: a
// full or read-only disk fails trials that write checkpoints or output, and
// such failures are the machine's, not the trials'.
Status Runner::ProbeOutputDir() const {
  const std::string path = output_dir_ + "/.write_probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cannot write in " + output_dir_ + ": " + std::strerror(errno));
  // Enough for the pages a commit of study.db may need.
  static const std::string kBlock(64 * 1024, '\0');
  int error = 0;
  if (::write(fd, kBlock.data(), kBlock.size()) != static_cast<ssize_t>(kBlock.size()) ||
      ::fsync(fd) != 0) {
    error = errno != 0 ? errno : ENOSPC;
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (error != 0) {
    return InternalError("cannot write in " + output_dir_ + ": " + std::strerror(error));
  }
  return OkStatus();
}

Status Runner::MakeScheduler() {
  auto on_change = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    MarkDirty();
  };
  const SchedulerOptions& o = options_.scheduler;
  if (o.name == "local") {
    LocalSchedulerOptions local;
    local.resources = o.resources;
    local.set_cuda_visible_devices = o.set_cuda_visible_devices;
    local.kill_grace = o.kill_grace;
    local.on_change = std::move(on_change);
    scheduler_ = NewLocalScheduler(std::move(local));
    return OkStatus();
  }
  if (o.name != "slurm" && o.name != "sge") {
    return InvalidArgumentError("scheduler '" + o.name +
                                "' is not available; use 'local', 'slurm' or 'sge'");
  }
  ClusterSchedulerOptions cluster;
  cluster.submit_options = o.submit_options;
  cluster.environment = o.environment;
  cluster.poll_interval = o.poll_interval;
  cluster.on_change = std::move(on_change);
  StatusOr<std::unique_ptr<Scheduler>> made = o.name == "slurm"
                                                  ? NewSlurmScheduler(std::move(cluster))
                                                  : NewSgeScheduler(std::move(cluster));
  if (!made.ok()) return made.status().WithContext("scheduler " + o.name);
  scheduler_ = std::move(*made);
  return OkStatus();
}

Status Runner::Resume() {
  SHERPA_ASSIGN_OR_RETURN(std::vector<StoredEvent> events, store_->LoadEvents());
  std::lock_guard<std::mutex> lock(mu_);
  SHERPA_ASSIGN_OR_RETURN(runner::ReplayOutcome outcome, runner::Replay(events, study_));
  restarts_ = std::move(outcome.unfinished);
  if (!outcome.left_over_jobs.empty() && options_.scheduler.name != "local") {
    // Before anything starts again: such a job would go on writing the
    // checkpoint its new attempt writes. The local scheduler's orphans were
    // ended by their environment already (Prepare).
    const Status cancelled = scheduler_->cancel_left_over(outcome.left_over_jobs);
    if (cancelled.ok()) {
      progress_.Event("cancelled " + std::to_string(outcome.left_over_jobs.size()) + " " +
                      options_.scheduler.name +
                      " job(s) of trials the previous runner left unfinished");
    } else {
      progress_.Event("could not cancel the " + options_.scheduler.name +
                      " jobs the previous runner left (" + cancelled.ToString() +
                      "); cancel them by hand if they still run");
    }
  }
  attempts_ = std::move(outcome.attempts);
  resubmits_ = std::move(outcome.resubmits);
  for (const TrialRecord& record : study_.results().trials()) {
    switch (record.status()) {
      case TrialStatus::kCompleted:
        ++completed_;
        break;
      case TrialStatus::kFailed:
        ++failed_;
        break;
      case TrialStatus::kStopped:
        ++stopped_;
        break;
      case TrialStatus::kIntermediate:
        break;
    }
    if (gc_) gc_->OnTrialCreated(record.trial());
  }
  progress_.Event("resumed " + output_dir_ + ": " + std::to_string(outcome.events) +
                  " events replayed, " + std::to_string(study_.results().num_finalized()) +
                  " trials finished, " + std::to_string(restarts_.size()) +
                  " to run again from their load_from");
  return OkStatus();
}

JobSpec Runner::TrialJob(const std::string& name, const std::string& output_path,
                         const std::string& token) const {
  JobSpec job;
  job.command = options_.command;
  job.name = name;
  job.output_path = output_path;
  job.working_dir = working_dir_;
  job.env = {{"SHERPA_HOST", trial_host_},
             {"SHERPA_PORT", std::to_string(port_)},
             {"SHERPA_TOKEN", token},
             {"SHERPA_OUTPUT_DIR", output_dir_},
             {"SHERPA_RUNNER_ID", runner_id_}};
  const char* path = std::getenv("PATH");
  job.env["PATH"] = runner_bin_dir_ + (path && *path ? ":" + std::string(path) : std::string());
  if (!python_path_.empty()) {
    const char* existing = std::getenv("PYTHONPATH");
    job.env["PYTHONPATH"] =
        python_path_ + (existing && *existing ? ":" + std::string(existing) : std::string());
  }
  return job;
}

// Gives `trial` to the oldest process started ahead. False if it is gone
// (the caller then starts the trial the plain way).
bool Runner::HandToStandby(const Trial& trial, int attempt, bool restarted) {
  Standby standby = std::move(standby_.front());
  standby_.pop_front();
  StandbyToken& token = standby_tokens_[standby.number];
  // Bound before the write, under mu_: the process may report at once.
  token.trial = trial.id;
  // What GET /api/v1/trials/<id> answers. The socket's empty buffer takes
  // the whole message at once, or the send fails with EPIPE if the process
  // is gone; a trial too large to be sure of that is fetched by the process
  // over HTTP (it reads an empty message).
  const std::string message = json::ToJson(trial).dump();
  const double handed_at = NowSeconds();  // the start, as a spawn's is stamped before it
  bool delivered = true;
  if (message.size() <= kMaxHandOffMessage) {
    ssize_t n;
    do {
      n = ::send(standby.socket, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    delivered = n == static_cast<ssize_t>(message.size());
  }
  ::close(standby.socket);
  if (!delivered) {
    // It died while waiting; HandleEndedJobs reports why once the scheduler
    // has seen its exit.
    standby_tokens_.erase(standby.number);
    leaving_.emplace(standby.job, std::move(standby));
    return false;
  }
  // Renamed after the lock is let go (RenameHandedOffOutputs): a rename
  // waits for the jobs folder's lock, which a file being created there holds
  // for up to half a millisecond, and neither reports nor the next hand-off
  // should wait for that.
  handed_off_outputs_.emplace_back(standby.output_path, OutputPath(trial.id));

  RunningTrial running;
  running.trial = trial;
  running.attempt = attempt;
  running.job = standby.job;
  running.token = token.token;
  running.standby = standby.number;
  running.started = Clock::now();
  standby_due_ = running.started + kStandbyQuiet;
  running_.emplace(trial.id, std::move(running));
  StoredEvent started;
  started.kind = restarted ? EventKind::kTrialRestarted : EventKind::kTrialStarted;
  started.trial_id = trial.id;
  started.attempt = attempt;
  started.at = handed_at;
  started.job_id = standby.job;
  Append(std::move(started));
  return true;
}

void Runner::RenameHandedOffOutputs(std::unique_lock<std::mutex>& lock) {
  if (handed_off_outputs_.empty()) return;
  std::vector<std::pair<std::string, std::string>> renames;
  renames.swap(handed_off_outputs_);
  lock.unlock();
  for (const auto& [from, to] : renames) {
    std::error_code ec;
    fs::rename(from, to, ec);
  }
  lock.lock();
}

void Runner::StartStandby(std::unique_lock<std::mutex>& lock) {
  // Trials tend to end in bursts (they started together); a process
  // starting up takes a core for about a millisecond, which the burst's
  // reports and hand-offs need more. So they start once the runner has
  // started no trial for kStandbyQuiet (the loop wakes for it).
  if (Clock::now() < standby_due_) return;
  // One per turn of the loop: a trial that ends meanwhile is handled before
  // the next spawn, not after all of them.
  if (options_.prestart > standby_.size() && !prestart_off_ && !stopping_ && !algorithm_done_) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      prestart_off_ = true;
      progress_.Event(std::string("prestart: cannot make a socket pair (") + std::strerror(errno) +
                      "); trials start when a slot frees from now on");
      return;
    }
    Standby standby;
    standby.number = ++standby_started_;
    standby.socket = fds[1];
    standby.output_path =
        (fs::path(output_dir_) / "jobs" / ("prestart_" + std::to_string(standby.number) + ".out"))
            .string();
    // Appended piece by piece: `"s" + std::string` trips GCC 12's -Wrestrict.
    std::string token = "s";
    token += std::to_string(standby.number);
    token += '.';
    token += RandomToken();
    standby_tokens_[standby.number] = StandbyToken{token, 0};
    JobSpec job =
        TrialJob("prestart_" + std::to_string(standby.number), standby.output_path, token);
    job.env["SHERPA_TRIAL_FD"] = "3";
    // Empty, not absent: a runner that is itself a trial (a nested study)
    // has an id of its own, which the merged environment would hand on.
    job.env["SHERPA_TRIAL_ID"] = "";
    job.fd3 = fds[0];
    lock.unlock();
    StatusOr<JobId> id = scheduler_->submit(job);
    lock.lock();
    ::close(fds[0]);
    if (!id.ok()) {
      ::close(fds[1]);
      standby_tokens_.erase(standby.number);
      prestart_off_ = true;
      progress_.Event("prestart: cannot start a trial process ahead (" + id.status().ToString() +
                      "); trials start when a slot frees from now on");
      return;
    }
    standby.job = *id;
    standby_.push_back(std::move(standby));
    if (standby_.size() < options_.prestart) dirty_ = true;  // come back for the next
  }
}

// The study needs no more trials (or stops): the processes started ahead
// are killed; they ran nothing but the script's start-up.
void Runner::RetireStandby() {
  while (!standby_.empty()) {
    Standby standby = std::move(standby_.front());
    standby_.pop_front();
    ::close(standby.socket);
    standby.socket = -1;
    standby_tokens_.erase(standby.number);
    standby.killed = true;
    (void)scheduler_->kill(standby.job);
    leaving_.emplace(standby.job, std::move(standby));
  }
}

void Runner::StandbyEnded(const JobId& job, const JobStatus& status) {
  std::string output_path;
  if (auto left = leaving_.find(job); left != leaving_.end()) {
    const bool killed = left->second.killed;
    output_path = left->second.output_path;
    leaving_.erase(left);
    if (killed) {
      std::error_code ec;
      fs::remove(output_path, ec);  // it ran no trial
      return;
    }
  } else {
    auto it = std::find_if(standby_.begin(), standby_.end(),
                           [&](const Standby& s) { return s.job == job; });
    if (it == standby_.end()) return;
    output_path = it->output_path;
    ::close(it->socket);
    standby_tokens_.erase(it->number);
    standby_.erase(it);
  }
  // A script that dies before asking for its trial would kill every trial
  // the same way; each of them, started the plain way, then fails with its
  // own output, and the study goes on as without prestart.
  if (!prestart_off_) {
    prestart_off_ = true;
    std::string message = "prestart: a trial process started ahead of its trial ended (" +
                          status.reason +
                          ") before it got one; trials start when a slot frees from now on. "
                          "Its output: " +
                          output_path;
    const std::string tail = Tail(output_path, 10);
    if (!tail.empty()) message += "\n" + Indent(tail, "    | ");
    progress_.Event(message);
  }
  RetireStandby();
}

void Runner::StartTrial(std::unique_lock<std::mutex>& lock, const Trial& trial, int attempt,
                        bool restarted) {
  // A trial run again (resubmitted, or restarted by a resume) already has an
  // output file, which its new process appends to; a process started ahead
  // writes to a file of its own, which would replace it.
  while (!standby_.empty() && attempt == 1 && !restarted) {
    if (HandToStandby(trial, attempt, restarted)) return;
  }
  RunningTrial running;
  running.trial = trial;
  running.attempt = attempt;
  running.token = std::to_string(trial.id) + "." + RandomToken();
  running.started = Clock::now();
  tokens_[trial.id] = running.token;

  JobSpec job = TrialJob("trial_" + std::to_string(trial.id), OutputPath(trial.id), running.token);
  job.env["SHERPA_TRIAL_ID"] = std::to_string(trial.id);
  job.env["SHERPA_TRIAL_FD"] = "";  // (a nested study's runner may have one)
  StoredEvent started;
  started.kind = restarted ? EventKind::kTrialRestarted : EventKind::kTrialStarted;
  started.trial_id = trial.id;
  started.attempt = attempt;
  started.at = NowSeconds();
  RunningTrial& slot = running_.emplace(trial.id, std::move(running)).first->second;

  // Spawning takes a millisecond; reports of other trials need not wait.
  lock.unlock();
  StatusOr<JobId> id = scheduler_->submit(job);
  lock.lock();
  if (!id.ok() && id.status().code() == StatusCode::kUnavailable && !stopping_) {
    // A cluster out of reach for a moment must not fail the trial: it is
    // started again later, waiting longer after each failure (up to a
    // minute), as the same attempt.
    const int failures = ++submit_failures_[trial.id];
    const auto delay = std::chrono::seconds(std::min(60, 1 << std::min(failures - 1, 6)));
    progress_.Event("trial " + std::to_string(trial.id) +
                    " could not be submitted: " + id.status().ToString() + "; trying again in " +
                    std::to_string(delay.count()) + " s");
    tokens_.erase(trial.id);
    running_.erase(trial.id);
    --attempts_[trial.id];
    pending_starts_.push_back({trial, restarted, Clock::now() + delay});
    return;
  }
  submit_failures_.erase(trial.id);
  if (!id.ok()) {
    progress_.Event("trial " + std::to_string(trial.id) +
                    " could not start: " + id.status().ToString());
    JobStatus failed;
    failed.state = JobState::kFailed;
    failed.exit_code = -1;
    failed.reason = "could not start: " + id.status().message();
    EndTrialLocked(slot, failed);
    return;
  }
  slot.job = *id;
  started.job_id = *id;
  Append(std::move(started));
  // The processes started ahead wait too: at the study's start they took
  // the cores the first trials' own start-ups need (in (c) the last of the
  // first eight trials got its trial 10.9 ms after the first start; with
  // the wait, 6.5 to 8.6 ms).
  standby_due_ = Clock::now() + kStandbyQuiet;
}

uint64_t Runner::FinalizeLocked(RunningTrial& running, TrialStatus status,
                                const std::string& reason) {
  const Status finalized = study_.finalize(running.trial, status);
  if (!finalized.ok()) progress_.Event("internal: " + finalized.ToString());
  switch (status) {
    case TrialStatus::kCompleted:
      ++completed_;
      break;
    case TrialStatus::kFailed:
      ++failed_;
      break;
    default:
      ++stopped_;
      break;
  }
  results_changed_ = true;
  StoredEvent event;
  event.kind = EventKind::kTrialEnded;
  event.trial_id = running.trial.id;
  event.attempt = running.attempt;
  event.at = NowSeconds();
  event.status = status;
  event.reason = reason;
  return Append(std::move(event));
}

void Runner::EndTrialLocked(RunningTrial& running, const JobStatus& job) {
  const TrialId id = running.trial.id;
  tokens_.erase(id);
  if (running.standby != 0) standby_tokens_.erase(running.standby);
  if (running.interrupted && !running.ended) {
    // Ctrl-C: not the trial's fault. It stays unfinished in study.db and
    // runs again on resume.
    running_.erase(id);
    return;
  }
  if (!running.ended) {
    const TrialRecord* record = study_.results().Find(id);
    const bool reported = record && !record->observations().empty();
    TrialStatus status = TrialStatus::kFailed;
    std::string reason = job.reason;
    if (job.state == JobState::kFailed && !running.timed_out) {
      if (Status probe = ProbeOutputDir(); !probe.ok()) {
        StorageFailedLocked(probe);
        running_.erase(id);
        return;
      }
    }
    if (running.timed_out) {
      reason = "timed out after " + std::to_string(options_.trial_timeout.count()) + " s";
    } else if (job.state == JobState::kKilled || running.kill_sent || running.stop_asked) {
      status = TrialStatus::kStopped;
      reason = "stopped";
    } else if (job.state == JobState::kCompleted) {
      if (reported) {
        status = TrialStatus::kCompleted;
      } else {
        reason = "exited without reporting a result";
      }
    }
    FinalizeLocked(running, status, reason);
    if (status == TrialStatus::kFailed) {
      std::string message =
          "trial " + std::to_string(id) + " FAILED (" + reason + "); output: " + OutputPath(id);
      const std::string tail = Tail(OutputPath(id), 10);
      if (!tail.empty()) message += "\n" + Indent(tail, "    | ");
      progress_.Event(message);
      if (options_.resubmit_failed_trials && !reported && !stopping_ &&
          resubmits_[id] < options_.max_resubmits) {
        if (study_.add_trial(running.trial).ok()) {
          ++resubmits_[id];
          StoredEvent reopened;
          reopened.kind = EventKind::kTrialReopened;
          reopened.trial_id = id;
          reopened.attempt = running.attempt;
          reopened.at = NowSeconds();
          Append(std::move(reopened));
          --failed_;
          progress_.Event("trial " + std::to_string(id) + " resubmitted (" +
                          std::to_string(resubmits_[id]) + " of " +
                          std::to_string(options_.max_resubmits) + ")");
        }
      }
    }
  }
  running_.erase(id);
  if (gc_) gc_->Collect(study_.results());
}

void Runner::HandleEndedJobs(std::unique_lock<std::mutex>& lock) {
  std::vector<JobId> jobs;
  std::unordered_map<JobId, TrialId> trial_of;
  for (const auto& [id, running] : running_) {
    if (running.job.empty()) continue;
    jobs.push_back(running.job);
    trial_of[running.job] = id;
  }
  for (const Standby& standby : standby_) jobs.push_back(standby.job);
  for (const auto& [job, standby] : leaving_) jobs.push_back(job);
  if (jobs.empty()) return;
  lock.unlock();
  StatusOr<std::map<JobId, JobStatus>> states = scheduler_->status(jobs);
  lock.lock();
  if (!states.ok()) {
    progress_.Event("scheduler: " + states.status().ToString() + " (will ask again)");
    return;
  }
  for (const auto& [job, state] : *states) {
    if (!state.ended()) continue;
    if (trial_of.count(job) == 0) {
      StandbyEnded(job, state);
      continue;
    }
    auto it = running_.find(trial_of[job]);
    if (it == running_.end() || it->second.job != job) continue;
    EndTrialLocked(it->second, state);
  }
}

void Runner::EnforceStops() {
  const auto now = Clock::now();
  for (auto& [id, running] : running_) {
    if (running.kill_sent || running.job.empty()) continue;
    if (running.ended) {
      // Ended through the API: its slot is free already. A process that
      // does not exit soon after is stopped, so it cannot hold a resource,
      // or the end of the study, forever.
      if (now - running.ended_at > options_.scheduler.kill_grace) {
        running.kill_sent = true;
        (void)scheduler_->kill(running.job);
      }
      continue;
    }
    bool kill = stopping_;
    if (stopping_) running.interrupted = true;
    if (!kill && options_.trial_timeout.count() > 0 &&
        now - running.started > options_.trial_timeout) {
      running.timed_out = kill = true;
    }
    if (!kill) {
      StatusOr<bool> stop = study_.should_trial_stop(running.trial);
      if (stop.ok() && *stop) {
        // The loop wakes at least twice a second, so the kill follows the
        // grace period closely without a timer of its own.
        if (!running.stop_asked) running.stop_asked = now;
        kill = now - *running.stop_asked >= options_.scheduler.kill_grace;
      }
    }
    if (kill) {
      running.kill_sent = true;
      const Status killed = scheduler_->kill(running.job);
      if (!killed.ok())
        progress_.Event("cannot stop trial " + std::to_string(id) + ": " + killed.ToString());
    }
  }
}

// Trials that still hold a slot: a trial that ended through the API frees
// its slot at once, without waiting for the scheduler to see its exit.
size_t Runner::Busy() const {
  size_t busy = pending_starts_.size();
  for (const auto& [id, running] : running_) busy += running.ended ? 0 : 1;
  return busy;
}

void Runner::SubmitNewTrials(std::unique_lock<std::mutex>& lock) {
  if (stopping_) return;
  const auto now = Clock::now();
  for (size_t n = pending_starts_.size(); n > 0; --n) {
    PendingStart pending = std::move(pending_starts_.front());
    pending_starts_.pop_front();
    if (pending.not_before > now) {
      pending_starts_.push_back(std::move(pending));
      continue;
    }
    // A new failure puts it back at the end, with a later not_before.
    StartTrial(lock, pending.trial, ++attempts_[pending.trial.id], pending.restarted);
  }
  // The capacity counts every job still running: an ended trial's process
  // may hold a resource until it exits.
  while (Busy() < options_.max_concurrent &&
         (scheduler_->capacity() == 0 || running_.size() < scheduler_->capacity())) {
    if (!restarts_.empty()) {
      Trial trial = std::move(restarts_.back());
      restarts_.pop_back();
      StartTrial(lock, trial, ++attempts_[trial.id], /*restarted=*/true);
      continue;
    }
    // After DONE the study still hands out the trials queued for
    // resubmission (a crashed trial may be resubmitted after the algorithm
    // finished); it answers DONE again, without asking the algorithm, once
    // there is none.
    StatusOr<Suggestion> suggestion = study_.get_suggestion();
    if (!suggestion.ok()) {
      // Not a usage error: the study ran and cannot go on.
      fatal_ = AbortedError(suggestion.status().message());
      stopping_ = true;
      progress_.Event("the algorithm cannot go on: " + fatal_.ToString());
      return;
    }
    if (suggestion->is_wait()) return;
    if (suggestion->is_done()) {
      algorithm_done_ = true;
      return;
    }
    Trial trial = std::move(*suggestion).trial();
    const bool resubmission = attempts_.count(trial.id) > 0;
    if (!resubmission) {
      StoredEvent created;
      created.kind = EventKind::kTrialCreated;
      created.trial_id = trial.id;
      created.at = NowSeconds();
      created.trial = trial;
      Append(std::move(created));
      if (gc_) gc_->OnTrialCreated(trial);
    }
    StartTrial(lock, trial, ++attempts_[trial.id], /*restarted=*/false);
  }
}

runner::ProgressSnapshot Runner::Snapshot() const {
  runner::ProgressSnapshot s;
  s.running = running_.size();
  s.started_ahead = standby_.size();
  s.completed = completed_;
  s.failed = failed_;
  s.stopped = stopped_;
  s.best = study_.get_best_result();
  s.lower_is_better = study_.lower_is_better();
  const auto& trials = study_.results().trials();
  if (!trials.empty()) {
    const ParameterValues& p = trials.back().trial().parameters;
    if (auto g = p.find(kGenerationKey); g != p.end() && g->second.is_int()) {
      s.generation = g->second.as_int();
    }
  }
  return s;
}

void Runner::WriteResultsCsv(bool force) {
  if (!results_changed_) return;
  const auto now = Clock::now();
  // Rewriting the table costs O(rows), under the study's lock. At most once
  // a second, and never more than 5% of the time: a study with a million
  // rows (tens of MB) rewrites it every few seconds instead of stalling the
  // runner. study.db is the durable record; the CSV is a convenience copy.
  if (!force && now < next_csv_) return;
  results_changed_ = false;
  const fs::path final_path = fs::path(output_dir_) / "results.csv";
  const fs::path tmp = fs::path(output_dir_) / "results.csv.tmp";
  bool written = false;
  {
    std::ofstream out(tmp, std::ios::trunc);
    study_.results().WriteCsv(out);
    out.close();
    written = !out.fail();
  }
  const auto took = Clock::now() - now;
  next_csv_ = now + std::max<Clock::duration>(std::chrono::seconds(1), 20 * took);
  std::error_code ec;
  if (!written) {
    // A full disk: keep the last complete table rather than replace it with
    // a truncated one. study.db has everything; the next write catches up.
    fs::remove(tmp, ec);
    results_changed_ = true;
    return;
  }
  fs::rename(tmp, final_path, ec);  // readers never see a half-written file
}

StatusOr<OptimizeResult> Runner::Run() {
  std::unique_ptr<SignalCatcher> signals;
  if (options_.handle_signals) {
    // Before any thread exists, so all of them inherit the blocked mask.
    signals = std::make_unique<SignalCatcher>([this](int sig) {
      std::lock_guard<std::mutex> lock(mu_);
      ++interrupts_;
      (void)sig;
      MarkDirty();
    });
  }
  SHERPA_RETURN_IF_ERROR(Prepare());
  if (!IsLoopback(host_)) {
    // Anyone who can reach this address can try tokens, and read what the
    // dashboard's page shows; on a shared cluster network that is many
    // people. Said loudly, every time, since it is easy to miss in a spec.
    progress_.Event(
        "WARNING: the trial API and dashboard listen on " + host_ +
        ", reachable from other machines, not only from this one. Requests need a token, but "
        "the traffic is plain HTTP: tokens and results cross the network unencrypted. Bind to "
        "127.0.0.1 (the default for the local scheduler) unless trials run elsewhere.");
  }
  progress_.Event("sherpa: study in " + output_dir_ + "; trial API on http://" + host_ + ":" +
                  std::to_string(port_) + " (study token in " + output_dir_ + "/study.token)");
  // The token in the URL lets the page stop trials; without it the page
  // only shows the study.
  progress_.Event("dashboard: http://" + (host_ == "0.0.0.0" ? std::string("127.0.0.1") : host_) +
                  ":" + std::to_string(port_) + "/?token=" + study_token_);

  std::unique_lock<std::mutex> lock(mu_);
  int handled_interrupts = 0;
  for (;;) {
    // No work is skipped by waking early, and every source of work sets
    // dirty_; the timeout only paces progress output and trial timeouts.
    auto timeout = std::chrono::milliseconds(500);
    if (const auto now = Clock::now(); standby_.size() < options_.prestart && !prestart_off_ &&
                                       !stopping_ && !algorithm_done_ && standby_due_ > now) {
      // Wake for the replacements StartStandby held back.
      timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(standby_due_ - now));
    }
    wake_.wait_for(lock, timeout, [this] { return dirty_; });
    dirty_ = false;

    if (interrupts_ > handled_interrupts) {
      if (handled_interrupts == 0) {
        progress_.Event("interrupted: stopping " + std::to_string(running_.size()) +
                        " running trials (Ctrl-C again to kill them at once)");
      } else {
        for (auto& [id, running] : running_) {
          running.interrupted = true;
          if (!running.job.empty()) (void)scheduler_->kill(running.job);
        }
      }
      handled_interrupts = interrupts_;
      stopping_ = true;
    }

    HandleEndedJobs(lock);
    EnforceStops();
    SubmitNewTrials(lock);
    // Before anything reads a handed-off trial's output (its end is handled
    // in a later turn).
    RenameHandedOffOutputs(lock);
    if (stopping_ || algorithm_done_) {
      RetireStandby();
    } else {
      StartStandby(lock);  // after the hand-offs, which it must not delay
    }
    WriteResultsCsv(false);
    progress_.Update(Snapshot());

    if (running_.empty() && leaving_.empty() &&
        (stopping_ || (algorithm_done_ && restarts_.empty() && pending_starts_.empty()))) {
      break;
    }
    if (running_.empty() && pending_starts_.empty() && !algorithm_done_ && !stopping_) {
      // The algorithm answered WAIT with nothing running: it can never be
      // answered. That is a bug in the algorithm, not something to wait for.
      fatal_ = InternalError(std::string(study_.algorithm().name()) +
                             " answered WAIT while no trial was running");
      break;
    }
  }
  if (gc_ && algorithm_done_ && !stopping_ && fatal_.ok() && running_.empty()) {
    gc_->Finish(study_.results());
  }
  WriteResultsCsv(true);
  progress_.Update(Snapshot(), /*force=*/true);
  progress_.Finish();

  OptimizeResult result;
  result.output_dir = output_dir_;
  result.best = study_.get_best_result();
  result.completed = completed_;
  result.failed = failed_;
  result.stopped = stopped_;
  result.interrupted = handled_interrupts > 0;
  lock.unlock();

  server_->Stop();
  // Everything appended so far must be on disk before we say we are done.
  const Status flushed = store_->WaitDurable(last_ticket_);
  if (!flushed.ok() && !storage_failed_) {
    lock.lock();
    StorageFailedLocked(flushed);
    lock.unlock();
  }
  if (!fatal_.ok()) return fatal_;
  if (result.interrupted) {
    progress_.Event("stopped; continue with: sherpa resume " + output_dir_);
  }
  return result;
}

}  // namespace

StatusOr<OptimizeResult> optimize(OptimizeOptions options) {
  if (!options.algorithm) return InvalidArgumentError("no algorithm given");
  Runner runner(std::move(options));
  return runner.Run();
}

}  // namespace sherpa
