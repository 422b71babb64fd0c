// The durable record of a study: one SQLite file, `output_dir/study.db`, in
// WAL mode, written one group commit at a time.
//
// Why group commit: every report a trial sends is acknowledged only once it
// is durable (the HTTP answer waits for WaitDurable), and one fsync per
// report would cap a study at a few hundred reports per second. Each commit
// takes everything queued since the last one into one transaction, so
// concurrent trials share an fsync and each still gets its answer only
// after its own write is on disk. A thread that waits for its event commits
// the group itself when no commit is running (no hand-off to another
// thread on a report's path); a writer thread commits the events nobody
// waits for.
//
// The file holds an append-only event log (one sequence for every kind of
// event, so a resumed runner can replay the study in the order it happened)
// and tables derived from it in the same transaction (trials, observations)
// for `sherpa results`, the dashboard and export.
//
// Thread safety: all methods may be called from any thread.
#ifndef SHERPA_STORAGE_STUDY_STORE_H_
#define SHERPA_STORAGE_STUDY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::storage {

enum class EventKind {
  kTrialCreated,    // the study handed out a trial (or a queued one was added)
  kTrialStarted,    // a job was submitted for an attempt of the trial
  kObservation,     // the trial reported a result
  kTrialEnded,      // finalized: COMPLETED, FAILED or STOPPED
  kTrialReopened,   // a crashed trial queued again under its id (resubmission)
  kTrialRestarted,  // after a runner crash: a running trial re-run as a new attempt
};

const char* EventKindName(EventKind kind);

struct StoredEvent {
  int64_t seq = 0;
  EventKind kind = EventKind::kTrialCreated;
  TrialId trial_id = 0;
  int attempt = 0;
  double at = 0;                                    // seconds since the Unix epoch
  std::optional<Trial> trial;                       // kTrialCreated
  std::optional<Observation> observation;           // kObservation
  TrialStatus status = TrialStatus::kIntermediate;  // kTrialEnded
  std::string job_id;                               // kTrialStarted
  std::string reason;                               // kTrialEnded: e.g. "exit code 3"
};

// The current state of a trial, as the derived `trials` table holds it.
struct StoredTrial {
  Trial trial;
  // "QUEUED" (created, not started), "RUNNING", or a final TrialStatus name.
  std::string state;
  int attempt = 0;
  std::string job_id;
  std::string reason;
  double created_at = 0, started_at = 0, ended_at = 0;
  // The seq of the last event that changed this row: the cursor for
  // incremental reads (LoadTrials(after_seq)).
  int64_t updated_seq = 0;
};

struct StoredObservation {
  int64_t seq = 0;
  TrialId trial_id = 0;
  int attempt = 0;
  Observation observation;
  double at = 0;
};

class StudyStore {
 public:
  // Opens (creating if `create`) the database at `path`. NOT_FOUND if it
  // does not exist and !create; INTERNAL for SQLite errors, with the path
  // and SQLite's message (UNAVAILABLE if another process keeps the file
  // locked); FAILED_PRECONDITION for a file of a newer schema or a file that
  // is not a sherpa study.
  static StatusOr<std::unique_ptr<StudyStore>> Open(const std::string& path, bool create);
  // False for a file that records no study: missing, empty, or one whose
  // runner was killed before its metadata commit (no seed, no events). Such
  // a file may be replaced; a study, or any other database, may not.
  static StatusOr<bool> HoldsAStudy(const std::string& path);
  virtual ~StudyStore() = default;

  // Small key/value metadata (the spec, the seed, the study token, ...),
  // written synchronously, all `entries` in one transaction: a study's
  // metadata is on disk whole or not at all.
  using MetaEntries = std::vector<std::pair<std::string, std::string>>;
  virtual Status PutMeta(const MetaEntries& entries) = 0;
  Status PutMeta(const std::string& key, const std::string& value) {
    return PutMeta(MetaEntries{{key, value}});
  }
  virtual StatusOr<std::optional<std::string>> GetMeta(const std::string& key) = 0;

  // Queues an event to be written and returns its ticket (> 0).
  // Events are written in the order these calls happen; `event.seq` is
  // ignored (the store assigns it). Cheap: no I/O on the caller's thread.
  // An event is committed as soon as someone waits for it (or for a later
  // one), and otherwise within 20 ms, so that events nobody waits for do not
  // put an fsync in front of the reports that are waited for.
  // REQUIRES: `trial` is set for kTrialCreated, `observation` for
  // kObservation.
  virtual uint64_t Append(StoredEvent event) = 0;

  // Blocks until the event with `ticket` (and every earlier one) is durable,
  // committing the queued events in the calling thread if no commit runs.
  // Returns the write error if the commit failed (e.g. disk full); after a
  // failed commit every later wait fails too, so no report is acknowledged
  // that was not stored. (A ticket made durable before the failure still
  // waits OK.) INVALID_ARGUMENT for a ticket Append never returned.
  virtual Status WaitDurable(uint64_t ticket) = 0;

  // Everything in the log, in order (for replay on resume).
  virtual StatusOr<std::vector<StoredEvent>> LoadEvents() = 0;
  // Derived tables. `after_seq` makes the reads incremental (the dashboard
  // polls "what changed since seq N"): trials whose updated_seq > after_seq,
  // ordered by id, and observations whose seq > after_seq, ordered by seq.
  // Only committed events are visible.
  virtual StatusOr<std::vector<StoredTrial>> LoadTrials(int64_t after_seq = 0) = 0;
  virtual StatusOr<std::vector<StoredObservation>> LoadObservations(int64_t after_seq = 0) = 0;
};

}  // namespace sherpa::storage

#endif  // SHERPA_STORAGE_STUDY_STORE_H_
