#include "storage/study_store.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "json/value_json.h"
#include "storage/event_codec.h"
#include "storage/sqlite_schema.h"

namespace sherpa::storage {
namespace {

using json::Json;

// Long enough to ride out another process (e.g. `sherpa results`) holding the
// database for a checkpoint; short enough that a stuck lock surfaces as an
// error instead of a hang.
constexpr int kBusyTimeoutMs = 10000;

// A lock another process held past the busy timeout can be retried; any
// other SQLite failure (I/O, corruption, a full disk) is INTERNAL.
Status FromSqlite(const std::string& context, const SQLite::Exception& e) {
  const int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return UnavailableError(context + ": " + e.what() +
                            " (another process keeps the study database locked; retry later)");
  }
  return InternalError(context + ": " + e.what());
}

// Programmer errors abort, as everywhere in sherpa (see status.h).
void CheckOrDie(bool condition, const char* message) {
  if (condition) return;
  std::fprintf(stderr, "sherpa storage: check failed: %s\n", message);
  std::abort();
}

// ---------------------------------------------------------------------------
// Event kinds as stored in events.kind.

struct KindName {
  EventKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {EventKind::kTrialCreated, "trial_created"},   {EventKind::kTrialStarted, "trial_started"},
    {EventKind::kObservation, "observation"},      {EventKind::kTrialEnded, "trial_ended"},
    {EventKind::kTrialReopened, "trial_reopened"}, {EventKind::kTrialRestarted, "trial_restarted"},
};

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (const KindName& k : kKindNames) {
    if (name == k.name) return k.kind;
  }
  return std::nullopt;
}

// SQLite turns a NaN into NULL, which a NOT NULL column rejects; a bad clock
// value must not fail the commit of a whole group.
double FiniteOrZero(double d) { return std::isfinite(d) ? d : 0.0; }

// ---------------------------------------------------------------------------
// The writer's connection and its prepared statements. Used by one thread
// at a time once the store is constructed: the one committing.

struct MetaWrite {
  StudyStore::MetaEntries entries;
};

struct QueueItem {
  uint64_t ticket = 0;
  std::variant<StoredEvent, MetaWrite> what;
};

class Writer {
 public:
  Writer(std::string path, std::unique_ptr<SQLite::Database> db, int64_t last_seq)
      : path_(std::move(path)),
        db_(std::move(db)),
        insert_event_(*db_,
                      "INSERT INTO events (seq, kind, trial_id, attempt, at, payload) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        // A repeated kTrialCreated for an id replaces the row rather than
        // failing: a constraint error would fail the whole group commit, and
        // after it every later report of the study.
        insert_trial_(*db_,
                      "INSERT OR REPLACE INTO trials (id, parameters, state, attempt, job_id, "
                      "reason, generation, load_from, created_at, started_at, ended_at, "
                      "updated_seq) VALUES (?1, ?2, 'QUEUED', 0, '', '', ?3, ?4, ?5, NULL, NULL, "
                      "?6)"),
        update_started_(*db_,
                        "UPDATE trials SET state = 'RUNNING', attempt = ?1, job_id = ?2, "
                        "started_at = ?3, ended_at = NULL, reason = '', updated_seq = ?4 "
                        "WHERE id = ?5"),
        insert_observation_(*db_,
                            "INSERT INTO observations (seq, trial_id, attempt, iteration, "
                            "objective, context, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        update_ended_(*db_,
                      "UPDATE trials SET state = ?1, reason = ?2, ended_at = ?3, "
                      "updated_seq = ?4 WHERE id = ?5"),
        update_reopened_(*db_,
                         "UPDATE trials SET state = 'QUEUED', reason = ?1, ended_at = NULL, "
                         "updated_seq = ?2 WHERE id = ?3"),
        update_restarted_(*db_,
                          "UPDATE trials SET state = 'QUEUED', attempt = ?1, reason = ?2, "
                          "ended_at = NULL, updated_seq = ?3 WHERE id = ?4"),
        put_meta_(*db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"),
        next_seq_(last_seq + 1) {}

  // Writes `batch` in one transaction: one fsync for the whole group.
  Status WriteBatch(const std::vector<QueueItem>& batch) {
    const int64_t first_seq = next_seq_;
    try {
      db_->exec("BEGIN IMMEDIATE");
      try {
        for (const QueueItem& item : batch) {
          if (const auto* event = std::get_if<StoredEvent>(&item.what)) {
            ApplyEvent(*event, next_seq_++);
          } else {
            for (const auto& [key, value] : std::get<MetaWrite>(item.what).entries) {
              Start(put_meta_);
              put_meta_.bind(1, key);
              put_meta_.bind(2, value);
              Run(put_meta_);
            }
          }
        }
        db_->exec("COMMIT");
      } catch (...) {
        ResetAll();
        db_->tryExec("ROLLBACK");
        throw;
      }
      return OkStatus();
    } catch (const SQLite::Exception& e) {
      next_seq_ = first_seq;
      return InternalError(path_ + ": writing the study database failed: " + e.what());
    } catch (const std::exception& e) {
      next_seq_ = first_seq;
      return InternalError(path_ + ": writing the study database failed: " + e.what());
    }
  }

 private:
  static void Start(SQLite::Statement& st) {
    st.tryReset();
    st.clearBindings();
  }
  // Reset right away so that no statement keeps the write transaction's
  // cursors open past its use.
  static void Run(SQLite::Statement& st) {
    st.exec();
    st.tryReset();
  }
  void ResetAll() {
    for (SQLite::Statement* st :
         {&insert_event_, &insert_trial_, &update_started_, &insert_observation_, &update_ended_,
          &update_reopened_, &update_restarted_, &put_meta_}) {
      st->tryReset();
    }
  }

  void ApplyEvent(const StoredEvent& e, int64_t seq) {
    Json parameters;
    std::string parameters_json;
    if (e.trial) {
      parameters = EncodeValues(e.trial->parameters);
      parameters_json = Dump(parameters);
    }
    const double at = FiniteOrZero(e.at);

    Start(insert_event_);
    insert_event_.bind(1, seq);
    insert_event_.bind(2, EventKindName(e.kind));
    insert_event_.bind(3, int64_t{e.trial_id});
    insert_event_.bind(4, e.attempt);
    insert_event_.bind(5, at);
    const std::string payload = EncodePayload(e, parameters);
    if (payload.empty()) {
      insert_event_.bind(6);
    } else {
      insert_event_.bind(6, payload);
    }
    Run(insert_event_);

    switch (e.kind) {
      case EventKind::kTrialCreated: {
        Start(insert_trial_);
        insert_trial_.bind(1, int64_t{e.trial_id});
        insert_trial_.bind(2, parameters_json);
        const ParameterValues& params = e.trial->parameters;
        auto generation = params.find(kGenerationKey);
        if (generation != params.end() && generation->second.is_int()) {
          insert_trial_.bind(3, generation->second.as_int());
        } else {
          insert_trial_.bind(3);
        }
        auto load_from = params.find(kLoadFromKey);
        if (load_from != params.end() && load_from->second.is_string()) {
          insert_trial_.bind(4, load_from->second.as_string());
        } else {
          insert_trial_.bind(4);
        }
        insert_trial_.bind(5, at);
        insert_trial_.bind(6, seq);
        Run(insert_trial_);
        break;
      }
      case EventKind::kTrialStarted:
        Start(update_started_);
        update_started_.bind(1, e.attempt);
        update_started_.bind(2, e.job_id);
        update_started_.bind(3, at);
        update_started_.bind(4, seq);
        update_started_.bind(5, int64_t{e.trial_id});
        Run(update_started_);
        break;
      case EventKind::kObservation: {
        const Observation& o = *e.observation;
        Start(insert_observation_);
        insert_observation_.bind(1, seq);
        insert_observation_.bind(2, int64_t{e.trial_id});
        insert_observation_.bind(3, e.attempt);
        insert_observation_.bind(4, int64_t{o.iteration});
        if (std::isnan(o.objective)) {
          insert_observation_.bind(5);
        } else {
          insert_observation_.bind(5, o.objective);
        }
        insert_observation_.bind(6, Dump(EncodeValues(o.context)));
        insert_observation_.bind(7, at);
        Run(insert_observation_);
        break;
      }
      case EventKind::kTrialEnded:
        Start(update_ended_);
        update_ended_.bind(1, std::string(TrialStatusName(e.status)));
        update_ended_.bind(2, e.reason);
        update_ended_.bind(3, at);
        update_ended_.bind(4, seq);
        update_ended_.bind(5, int64_t{e.trial_id});
        Run(update_ended_);
        break;
      case EventKind::kTrialReopened:
        Start(update_reopened_);
        update_reopened_.bind(1, e.reason);
        update_reopened_.bind(2, seq);
        update_reopened_.bind(3, int64_t{e.trial_id});
        Run(update_reopened_);
        break;
      case EventKind::kTrialRestarted:
        Start(update_restarted_);
        update_restarted_.bind(1, e.attempt);
        update_restarted_.bind(2, e.reason);
        update_restarted_.bind(3, seq);
        update_restarted_.bind(4, int64_t{e.trial_id});
        Run(update_restarted_);
        break;
    }
  }

  const std::string path_;
  // Declared before the statements, which must be finalized first.
  std::unique_ptr<SQLite::Database> db_;
  SQLite::Statement insert_event_;
  SQLite::Statement insert_trial_;
  SQLite::Statement update_started_;
  SQLite::Statement insert_observation_;
  SQLite::Statement update_ended_;
  SQLite::Statement update_reopened_;
  SQLite::Statement update_restarted_;
  SQLite::Statement put_meta_;
  int64_t next_seq_;
};

// ---------------------------------------------------------------------------

class SqliteStudyStore final : public StudyStore {
 public:
  SqliteStudyStore(std::string path, std::unique_ptr<Writer> writer,
                   std::unique_ptr<SQLite::Database> reader)
      : path_(std::move(path)), writer_(std::move(writer)), reader_(std::move(reader)) {
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  ~SqliteStudyStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_one();
    writer_thread_.join();  // the writer commits what is queued before it exits
  }

  Status PutMeta(const MetaEntries& entries) override {
    return WaitDurable(Enqueue(MetaWrite{entries}));
  }

  StatusOr<std::optional<std::string>> GetMeta(const std::string& key) override {
    return Read<std::optional<std::string>>(
        "reading meta", [&](SQLite::Database& db) -> StatusOr<std::optional<std::string>> {
          SQLite::Statement st(db, "SELECT value FROM meta WHERE key = ?1");
          st.bind(1, key);
          if (!st.executeStep()) return std::optional<std::string>();
          return std::optional<std::string>(st.getColumn(0).getString());
        });
  }

  uint64_t Append(StoredEvent event) override {
    CheckOrDie(event.kind != EventKind::kTrialCreated || event.trial.has_value(),
               "Append(kTrialCreated) needs StoredEvent::trial");
    CheckOrDie(!event.trial || event.trial->id == event.trial_id,
               "StoredEvent::trial->id differs from StoredEvent::trial_id");
    CheckOrDie(event.kind != EventKind::kObservation || event.observation.has_value(),
               "Append(kObservation) needs StoredEvent::observation");
    return Enqueue(std::move(event));
  }

  Status WaitDurable(uint64_t ticket) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (ticket > last_ticket_) {
      return InvalidArgumentError("WaitDurable: ticket " + std::to_string(ticket) +
                                  " was never returned by Append");
    }
    wanted_ticket_ = std::max(wanted_ticket_, ticket);
    for (;;) {
      if (durable_ticket_ >= ticket) return OkStatus();
      if (!write_error_.ok()) return write_error_;
      if (!committing_) {
        // Nobody is writing, so `ticket` is queued: commit the queue in this
        // thread. Waking the writer and being woken by it cost two thread
        // hand-offs per report, 0.15 ms on average in runner_bench's (c) on
        // 2 cores (bench/README.md, session 6).
        CommitQueued(lock);
        continue;
      }
      // Another thread commits. The writer thread, woken when that commit
      // ends, commits what was queued meanwhile (or one of its waiters
      // does, if it gets there first).
      durable_cv_.wait(lock);
    }
  }

  StatusOr<std::vector<StoredEvent>> LoadEvents() override {
    return Read<std::vector<StoredEvent>>(
        "reading events", [&](SQLite::Database& db) -> StatusOr<std::vector<StoredEvent>> {
          SQLite::Statement st(db,
                               "SELECT seq, kind, trial_id, attempt, at, payload FROM events "
                               "ORDER BY seq");
          std::vector<StoredEvent> events;
          while (st.executeStep()) {
            StoredEvent e;
            e.seq = st.getColumn(0).getInt64();
            const std::string kind = st.getColumn(1).getString();
            std::optional<EventKind> parsed = ParseEventKind(kind);
            if (!parsed) {
              return InternalError(path_ + ": event " + std::to_string(e.seq) + ": unknown kind '" +
                                   kind + "'");
            }
            e.kind = *parsed;
            e.trial_id = st.getColumn(2).getInt64();
            e.attempt = st.getColumn(3).getInt();
            e.at = st.getColumn(4).getDouble();
            if (!st.getColumn(5).isNull()) {
              const Status status = DecodeEventPayload(st.getColumn(5).getString(), e);
              if (!status.ok()) {
                return InternalError(path_ + ": event " + std::to_string(e.seq) +
                                     " is corrupt: " + status.message());
              }
            }
            events.push_back(std::move(e));
          }
          return events;
        });
  }

  StatusOr<std::vector<StoredTrial>> LoadTrials(int64_t after_seq) override {
    return Read<std::vector<StoredTrial>>(
        "reading trials", [&](SQLite::Database& db) -> StatusOr<std::vector<StoredTrial>> {
          SQLite::Statement st(db,
                               "SELECT id, parameters, state, attempt, job_id, reason, "
                               "created_at, started_at, ended_at, updated_seq FROM trials "
                               "WHERE updated_seq > ?1 ORDER BY id");
          st.bind(1, after_seq);
          std::vector<StoredTrial> trials;
          while (st.executeStep()) {
            StoredTrial t;
            t.trial.id = st.getColumn(0).getInt64();
            StatusOr<Json> params = ParseColumn(st.getColumn(1).getString(), "parameters");
            StatusOr<ParameterValues> values =
                params.ok() ? DecodeValues(*params, "parameters") : params.status();
            if (!values.ok()) {
              return InternalError(path_ + ": trial " + std::to_string(t.trial.id) +
                                   " is corrupt: " + values.status().message());
            }
            t.trial.parameters = *std::move(values);
            t.state = st.getColumn(2).getString();
            t.attempt = st.getColumn(3).getInt();
            t.job_id = st.getColumn(4).getString();
            t.reason = st.getColumn(5).getString();
            t.created_at = st.getColumn(6).getDouble();  // NULL reads as 0
            t.started_at = st.getColumn(7).getDouble();
            t.ended_at = st.getColumn(8).getDouble();
            t.updated_seq = st.getColumn(9).getInt64();
            trials.push_back(std::move(t));
          }
          return trials;
        });
  }

  StatusOr<std::vector<StoredObservation>> LoadObservations(int64_t after_seq) override {
    return Read<std::vector<StoredObservation>>(
        "reading observations",
        [&](SQLite::Database& db) -> StatusOr<std::vector<StoredObservation>> {
          SQLite::Statement st(db,
                               "SELECT seq, trial_id, attempt, iteration, objective, context, "
                               "at FROM observations WHERE seq > ?1 ORDER BY seq");
          st.bind(1, after_seq);
          std::vector<StoredObservation> observations;
          while (st.executeStep()) {
            StoredObservation o;
            o.seq = st.getColumn(0).getInt64();
            o.trial_id = st.getColumn(1).getInt64();
            o.attempt = st.getColumn(2).getInt();
            o.observation.iteration = st.getColumn(3).getInt64();
            o.observation.objective = st.getColumn(4).isNull()
                                          ? std::numeric_limits<double>::quiet_NaN()
                                          : st.getColumn(4).getDouble();
            StatusOr<Json> context = ParseColumn(st.getColumn(5).getString(), "context");
            StatusOr<ParameterValues> values =
                context.ok() ? DecodeValues(*context, "context") : context.status();
            if (!values.ok()) {
              return InternalError(path_ + ": observation " + std::to_string(o.seq) +
                                   " is corrupt: " + values.status().message());
            }
            o.observation.context = *std::move(values);
            o.at = st.getColumn(6).getDouble();
            observations.push_back(std::move(o));
          }
          return observations;
        });
  }

 private:
  uint64_t Enqueue(std::variant<StoredEvent, MetaWrite> what) {
    uint64_t ticket;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ticket = ++last_ticket_;
      if (queue_.empty()) oldest_queued_at_ = std::chrono::steady_clock::now();
      queue_.push_back(QueueItem{ticket, std::move(what)});
      // The writer sleeps until the first event of a group arrives (to set
      // its deadline) or the group is large.
      if (queue_.size() != 1 && queue_.size() != kMaxLazyEvents) return ticket;
    }
    work_cv_.notify_one();
    return ticket;
  }

  // Group commit: everything queued while the previous commit was syncing
  // goes into the next transaction, so N concurrent reporters share one
  // fsync instead of paying one each. Whoever commits (a waiter in
  // WaitDurable, or the writer thread for events nobody waits for) sets
  // committing_ and owns writer_ until it clears it. Called with mu_ held
  // (through `lock`) and committing_ false; unlocks while writing.
  void CommitQueued(std::unique_lock<std::mutex>& lock) {
    CheckOrDie(!committing_ && !queue_.empty(),
               "CommitQueued: nothing to commit, or a commit runs");
    committing_ = true;
    std::vector<QueueItem> batch;
    batch.swap(queue_);
    // After a failed commit nothing more is written: a later event on disk
    // without the lost earlier ones would replay a history that never was.
    const bool failed = !write_error_.ok();
    lock.unlock();
    Status status = failed ? OkStatus() : writer_->WriteBatch(batch);
    lock.lock();
    committing_ = false;
    if (!failed && status.ok()) {
      durable_ticket_ = batch.back().ticket;
    } else if (write_error_.ok()) {
      write_error_ = std::move(status);
    }
    durable_cv_.notify_all();
    // The writer waits for this commit to end if something is queued behind
    // it (or to leave, if the store closes).
    if (!queue_.empty() || stop_) work_cv_.notify_one();
  }

  // Commits the events nobody waits for (a trial created, started, ended),
  // which ride along with the next report's commit or go out within
  // kMaxLazyDelay, so a report waits for its own commit, not behind someone
  // else's; and, under load, the groups that queue up behind a running
  // commit: it keeps committing while anyone waits, with no hand-off
  // between groups.
  void WriterLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (committing_) {
        work_cv_.wait(lock);
      } else if (queue_.empty()) {
        if (stop_) return;  // everything is written
        work_cv_.wait(lock);
      } else if (const auto due = oldest_queued_at_ + kMaxLazyDelay;
                 stop_ || wanted_ticket_ > durable_ticket_ || queue_.size() >= kMaxLazyEvents ||
                 std::chrono::steady_clock::now() >= due) {
        CommitQueued(lock);
      } else {
        work_cv_.wait_until(lock, due);
      }
    }
  }

  // Runs `read` on the read-only connection. Reads are serialized among
  // themselves (one connection), never with the writer: in WAL mode a reader
  // sees the last commit and does not block it.
  template <typename T, typename F>
  StatusOr<T> Read(const char* what, F&& read) {
    std::lock_guard<std::mutex> lock(read_mu_);
    try {
      return read(*reader_);
    } catch (const SQLite::Exception& e) {
      return FromSqlite(path_ + ": " + what + " failed", e);
    } catch (const std::exception& e) {
      return InternalError(path_ + ": " + what + " failed: " + e.what());
    }
  }

  const std::string path_;
  std::unique_ptr<Writer> writer_;  // used only by the thread that set committing_

  std::mutex read_mu_;
  std::unique_ptr<SQLite::Database> reader_;  // guarded by read_mu_

  std::mutex mu_;
  std::condition_variable work_cv_;     // queue_ not empty, a commit ended, or stop_
  std::condition_variable durable_cv_;  // durable_ticket_ or write_error_ changed
  std::vector<QueueItem> queue_;        // guarded by mu_, in ticket order
  uint64_t last_ticket_ = 0;            // guarded by mu_
  uint64_t durable_ticket_ = 0;         // guarded by mu_
  uint64_t wanted_ticket_ = 0;          // the highest ticket waited for; guarded by mu_
  bool committing_ = false;             // a thread is writing a batch; guarded by mu_
  std::chrono::steady_clock::time_point oldest_queued_at_;  // of queue_.front(); guarded by mu_
  // How long an event nobody waits for may stay queued, and how many may.
  // This bounds what a crash of the runner can lose of them (a trial then
  // runs again on resume); reports are always waited for, so never lost.
  static constexpr std::chrono::milliseconds kMaxLazyDelay{20};
  static constexpr size_t kMaxLazyEvents = 4096;
  Status write_error_;  // guarded by mu_; sticky
  bool stop_ = false;   // guarded by mu_

  std::thread writer_thread_;  // last: started once everything above exists
};

// Checks that `db` is a sherpa study of a version this build reads, and
// creates the schema in a fresh file.
Status Prepare(SQLite::Database& db, const std::string& path, bool create) {
  // The first statements read the file header: a file that is not SQLite
  // fails here, with SQLite's "file is not a database".
  const int application_id = db.execAndGet("PRAGMA application_id").getInt();
  const int version = db.execAndGet("PRAGMA user_version").getInt();
  if (application_id != kApplicationId) {
    const bool empty = application_id == 0 && version == 0 &&
                       db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
    if (!empty) {
      return FailedPreconditionError(path +
                                     ": is an SQLite database, but not a sherpa study "
                                     "database; point sherpa at the study's output directory");
    }
  }
  if (version > kSchemaVersion) {
    return FailedPreconditionError(path + ": was written by a newer sherpa (schema version " +
                                   std::to_string(version) + "; this build reads up to version " +
                                   std::to_string(kSchemaVersion) +
                                   "); open it with that version or newer");
  }

  // WAL: readers (dashboard, `sherpa results`) never block the writer, and a
  // commit costs one sequential append plus one fsync. synchronous=FULL
  // fsyncs the WAL on every commit: an acknowledged report survives power
  // loss, not just a crash of the process.
  // If the filesystem cannot do WAL (no shared memory), SQLite keeps its
  // rollback journal: slower, but just as durable.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");

  if (version == 0) {
    if (!create) {
      return FailedPreconditionError(path + ": is empty, not a sherpa study database");
    }
    db.exec("BEGIN IMMEDIATE");
    try {
      // Another process may have created the schema while we waited.
      if (db.execAndGet("PRAGMA user_version").getInt() == 0) {
        db.exec(kCreateSchemaSql);
        db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
        db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
      }
      db.exec("COMMIT");
    } catch (...) {
      db.tryExec("ROLLBACK");
      throw;
    }
  }
  return OkStatus();
}

}  // namespace

const char* EventKindName(EventKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

StatusOr<std::unique_ptr<StudyStore>> StudyStore::Open(const std::string& path, bool create) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) return InternalError(path + ": " + ec.message());
  if (!exists && !create) {
    return NotFoundError(path + ": no study database here; check the output directory");
  }
  try {
    int flags = SQLite::OPEN_READWRITE;
    if (create) flags |= SQLite::OPEN_CREATE;
    auto db = std::make_unique<SQLite::Database>(path, flags, kBusyTimeoutMs);
    SHERPA_RETURN_IF_ERROR(Prepare(*db, path, create));
    const int64_t last_seq = db->execAndGet("SELECT COALESCE(MAX(seq), 0) FROM events").getInt64();
    auto writer = std::make_unique<Writer>(path, std::move(db), last_seq);
    // Opened after the writer, which has made the file a WAL database.
    auto reader = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    return std::unique_ptr<StudyStore>(
        std::make_unique<SqliteStudyStore>(path, std::move(writer), std::move(reader)));
  } catch (const SQLite::Exception& e) {
    return FromSqlite(path + ": cannot open the study database", e);
  } catch (const std::exception& e) {
    return InternalError(path + ": cannot open the study database: " + e.what());
  }
}

StatusOr<bool> StudyStore::HoldsAStudy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) return false;
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    const int application_id = db.execAndGet("PRAGMA application_id").getInt();
    if (application_id != kApplicationId) {
      // Not ours, unless nothing was ever created in it.
      return db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() != 0;
    }
    return db.execAndGet("SELECT count(*) FROM meta WHERE key = 'seed'").getInt() > 0 ||
           db.execAndGet("SELECT count(*) FROM events").getInt() > 0;
  } catch (const SQLite::Exception& e) {
    return FromSqlite(path + ": cannot read the study database", e);
  }
}

}  // namespace sherpa::storage
