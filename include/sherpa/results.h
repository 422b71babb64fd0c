// -----------------------------------------------------------------------------
// File: results.h
// -----------------------------------------------------------------------------
//
// The results of a study: SHERPA's results table, kept as indexes instead of
// one flat frame so that every operation costs the same whether the study has
// a thousand trials or a million.
//
// Row semantics are SHERPA's:
//   * every observation is one INTERMEDIATE row;
//   * finalizing a trial adds one final row with its status (COMPLETED,
//     FAILED or STOPPED), the trial's best objective (and that row's
//     context), and the highest iteration it reported. A trial finalized
//     without any observation (it crashed before reporting) gets a final row
//     with no objective.
//
// `WriteCsv` writes SHERPA's `results.csv` layout: Trial-ID, Status,
// Iteration, the parameters sorted by name (PBT's bookkeeping keys included),
// Objective, then the context keys sorted by name.
//
// Thread safety: none. The owner (Study, or the runner) serializes access.

#ifndef SHERPA_RESULTS_H_
#define SHERPA_RESULTS_H_

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa {

// Everything known about one trial.
class TrialRecord {
 public:
  const Trial& trial() const { return trial_; }
  TrialId id() const { return trial_.id; }

  // In the order they were reported.
  const std::vector<Observation>& observations() const { return observations_; }

  // kIntermediate until the trial is finalized.
  TrialStatus status() const { return status_; }
  bool finalized() const { return status_ != TrialStatus::kIntermediate; }

  // The observation with the best objective (ties: the earliest), or nullptr.
  const Observation* best() const;
  // The observation with the highest iteration, or nullptr. For PBT this is
  // the state the trial saved as its checkpoint.
  const Observation* last() const;

  // The best objective among observations with iteration <= `iteration`, or
  // nullopt if there is none. O(1) when observations arrived in iteration
  // order (the usual case).
  std::optional<double> BestUpTo(int64_t iteration) const;

 private:
  friend class Results;
  Trial trial_;
  std::vector<Observation> observations_;
  // best_so_far_[i]: best objective over observations_[0..i] ordered by
  // iteration; valid while `in_order_`.
  std::vector<double> best_so_far_;
  bool in_order_ = true;
  TrialStatus status_ = TrialStatus::kIntermediate;
  int32_t best_index_ = -1;
  int32_t last_index_ = -1;
  int64_t final_row_ = -1;  // index into Results::rows_, or -1
  bool lower_is_better_ = true;
};

// One row of the results table, as SHERPA would print it.
struct ResultRow {
  const TrialRecord* trial;
  TrialStatus status;
  // The iteration of the row (final rows: the highest iteration reported;
  // nullopt if the trial never reported).
  std::optional<int64_t> iteration;
  // The observation this row shows (final rows: the best one), or nullptr.
  const Observation* observation;
};

// The best observation of a study, as `Study::get_best_result` returns it.
struct BestResult {
  TrialId trial_id = 0;
  int64_t iteration = 0;
  double objective = 0;
  ParameterValues parameters;
  Context context;
};

class Results {
 public:
  explicit Results(bool lower_is_better) : lower_is_better_(lower_is_better) {}
  Results(Results&&) = default;
  Results& operator=(Results&&) = default;

  bool lower_is_better() const { return lower_is_better_; }

  // Registers a trial. ALREADY_EXISTS if its id is known.
  Status AddTrial(Trial trial);

  // Records one observation (one INTERMEDIATE row).
  // NOT_FOUND for an unknown trial; FAILED_PRECONDITION if it is finalized;
  // ALREADY_EXISTS if it has reported this iteration before; INVALID_ARGUMENT
  // for a NaN or infinite objective. Nothing is recorded on error.
  Status AddObservation(TrialId id, Observation observation);

  // Ends a trial with `status` (kCompleted, kFailed or kStopped) and adds its
  // final row. NOT_FOUND, FAILED_PRECONDITION if already finalized,
  // INVALID_ARGUMENT for kIntermediate.
  Status Finalize(TrialId id, TrialStatus status);

  // Makes a finalized trial that never reported pending again (its final row
  // is withdrawn), so it can be run a second time under the same id, as
  // SHERPA's resubmit_failed_trials does. FAILED_PRECONDITION if it has
  // observations or is not finalized.
  Status Reopen(TrialId id);

  // O(1). nullptr if unknown.
  const TrialRecord* Find(TrialId id) const;

  size_t num_trials() const { return records_.size(); }
  size_t num_finalized() const { return num_finalized_; }
  // Trials in the order they were added.
  const std::deque<TrialRecord>& trials() const { return records_; }

  // The ids of trials that reported `iteration`, in report order. Used by
  // stopping rules that compare trials at equal iterations.
  const std::vector<TrialId>& TrialsAtIteration(int64_t iteration) const;

  // The best observation over all rows (SHERPA's get_best_result), or
  // nullopt if nothing was observed yet. O(1).
  std::optional<BestResult> Best() const;

  // Rows in the order they were added (withdrawn final rows skipped).
  // Calls `fn(const ResultRow&)` for each.
  template <typename Fn>
  void ForEachRow(Fn&& fn) const;
  size_t num_rows() const { return rows_.size() - withdrawn_rows_; }

  // Writes SHERPA's results.csv layout.
  void WriteCsv(std::ostream& out) const;

  // True if `a` is a better objective than `b` under this study's direction.
  bool Better(double a, double b) const { return lower_is_better_ ? a < b : a > b; }

 private:
  struct RowRef {
    uint32_t record;      // index into records_
    int32_t observation;  // index into its observations_, or -1 for a final row
  };
  TrialRecord* FindMutable(TrialId id);
  // The record index of `id`, or -1.
  int64_t IndexOf(TrialId id) const;
  void SetIndex(TrialId id, uint32_t record);
  ResultRow MakeRow(const RowRef& ref) const;

  bool lower_is_better_;
  // deque: records never move, so pointers handed out stay valid.
  std::deque<TrialRecord> records_;
  // Ids handed out by a study are dense (1, 2, 3, ...): a vector indexes
  // them without hashing or cache-missing buckets; other ids go to the map.
  std::vector<uint32_t> dense_index_;  // id -> record index + 1; 0: absent
  std::unordered_map<TrialId, uint32_t> sparse_index_;
  std::vector<RowRef> rows_;
  std::vector<bool> row_withdrawn_;
  size_t withdrawn_rows_ = 0;
  size_t num_finalized_ = 0;
  std::unordered_map<int64_t, std::vector<TrialId>> at_iteration_;
  // The best observation so far: (record index, observation index).
  int64_t best_record_ = -1;
  int32_t best_observation_ = -1;
};

template <typename Fn>
void Results::ForEachRow(Fn&& fn) const {
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (row_withdrawn_[i]) continue;
    fn(MakeRow(rows_[i]));
  }
}

}  // namespace sherpa

#endif  // SHERPA_RESULTS_H_
