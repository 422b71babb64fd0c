// What the HTTP server asks of the dashboard it serves (docs/dashboard.md).
// The dashboard module implements it over the study's SQLite store, for the
// runner's live server and for `sherpa dashboard` alike; the server only
// turns these calls into routes, server-sent events and static files, so
// neither side sees the other's library (httplib here, SQLite there).
#ifndef SHERPA_SERVER_DASHBOARD_SERVICE_H_
#define SHERPA_SERVER_DASHBOARD_SERVICE_H_

#include <optional>
#include <string>
#include <string_view>

#include "sherpa/status.h"

namespace sherpa::server {

// What changed in the study after a cursor.
struct DashboardChanges {
  std::string json;    // the answer body: {"cursor", "trials", "observations"}
  std::string cursor;  // where the next read starts
  bool empty = true;   // nothing changed: no need to send anything
};

// A built front-end file (index.html, app.js, ...), embedded in the binary.
struct DashboardAsset {
  std::string_view content;
  std::string_view content_type;
};

class DashboardService {
 public:
  virtual ~DashboardService() = default;

  // The study's description (direction, parameters, algorithm, ...).
  // `study_token`: the request carried the study token, so the page may
  // offer the actions that need it (stopping a trial).
  virtual StatusOr<std::string> StudyJson(bool study_token) = 0;

  // Trials and observations changed after `since` (a cursor from an earlier
  // answer, or "" / "0" for everything). INVALID_ARGUMENT for a malformed
  // cursor. Cheap when nothing changed: the live feed calls it a few times a
  // second per connected page.
  virtual StatusOr<DashboardChanges> Changes(std::string_view since) = 0;

  // A front-end file by its path below the site root ("index.html",
  // "assets/app.js"); nullopt if there is none.
  virtual std::optional<DashboardAsset> Asset(std::string_view path) = 0;
};

}  // namespace sherpa::server

#endif  // SHERPA_SERVER_DASHBOARD_SERVICE_H_
