// The dashboard's data, read from a study's SQLite store (docs/dashboard.md).
//
// One implementation serves every case: the runner's own server while the
// study runs, `sherpa dashboard` on a finished or crashed study (or on one
// another process is still running: WAL lets us read while it writes), and
// `sherpa report`, which inlines the same JSON into one HTML file. Nothing
// is kept in memory between requests; every answer comes from the store's
// derived tables through their seq cursors.
#ifndef SHERPA_DASHBOARD_DASHBOARD_H_
#define SHERPA_DASHBOARD_DASHBOARD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/dashboard_service.h"
#include "server/trial_service.h"
#include "storage/study_store.h"

#include "sherpa/status.h"

namespace sherpa::dashboard {

// Where an incremental read starts. Trials and observations have cursors of
// their own: each is read in its own snapshot of the database, and a single
// cursor taken from both could skip a row committed between the two reads.
// Written "<trials>:<observations>"; a single number sets both.
struct Cursor {
  int64_t trials = 0;
  int64_t observations = 0;
};
StatusOr<Cursor> ParseCursor(std::string_view text);
std::string FormatCursor(const Cursor& cursor);

struct DashboardOptions {
  // Shown on the page.
  std::string output_dir;
  // True when served by the runner of the study: the page may stop trials
  // (with the study token) and expects the study to change.
  bool live = false;
};

class Dashboard final : public server::DashboardService {
 public:
  // `store` is not owned and must outlive the dashboard.
  Dashboard(storage::StudyStore* store, DashboardOptions options);

  StatusOr<std::string> StudyJson(bool study_token) override;
  StatusOr<server::DashboardChanges> Changes(std::string_view since) override;
  std::optional<server::DashboardAsset> Asset(std::string_view path) override;

 private:
  storage::StudyStore* store_;
  DashboardOptions options_;
};

// For `sherpa dashboard`, which serves no trials: every token is unknown,
// so the trial API answers 401 and nothing can change the study.
class NoTrialService final : public server::TrialService {
 public:
  std::optional<server::Principal> Authenticate(std::string_view) override { return std::nullopt; }
  StatusOr<Trial> GetTrial(TrialId) override { return Unavailable(); }
  StatusOr<bool> Report(TrialId, Observation, std::string_view) override { return Unavailable(); }
  StatusOr<bool> ShouldStop(TrialId) override { return Unavailable(); }
  Status EndTrial(TrialId, TrialStatus) override { return Unavailable(); }
  Status RequestStop(TrialId) override { return Unavailable(); }
  StatusOr<std::string> StudySummaryJson() override { return Unavailable(); }

 private:
  static Status Unavailable() {
    return UnavailableError("this is `sherpa dashboard`: the study is not run from here");
  }
};

// `sherpa report`: one self-contained HTML file with the dashboard's views
// and the whole study inlined (no server, no stop button, no network).
// FAILED_PRECONDITION if this binary was built without the front end.
StatusOr<std::string> RenderReport(storage::StudyStore& store, const std::string& output_dir);

}  // namespace sherpa::dashboard

#endif  // SHERPA_DASHBOARD_DASHBOARD_H_
