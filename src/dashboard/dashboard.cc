#include "dashboard/dashboard.h"

#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "dashboard/assets.h"
#include "json/value_json.h"

namespace sherpa::dashboard {
namespace {

using json::Json;

// A job id or a context string may hold stray bytes; one of them must not
// make the whole feed unreadable.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// JSON has no NaN or infinity: such numbers are sent as null, which the page
// shows as missing.
Json Number(double d) { return std::isfinite(d) ? Json(d) : Json(nullptr); }

Json Values(const ParameterValues& values) {
  Json out = Json::object();
  for (const auto& [name, value] : values) {
    out[name] = value.is_double() ? Number(value.as_number()) : json::ToJson(value);
  }
  return out;
}

// 0 for a time that was never set (NULL in the store).
Json Time(double t) { return t > 0 ? Json(t) : Json(nullptr); }

// The spec's parameters in one shape, whichever form the spec file used
// (SHERPA's list of {name, ...}, or a mapping from name to {...}), so the
// page knows each axis's type, range and scale.
Json NormalizeParameters(const Json& spec) {
  Json out = Json::array();
  auto it = spec.find("parameters");
  if (it == spec.end()) return out;
  auto add = [&out](const std::string& name, const Json& p) {
    if (!p.is_object()) return;
    Json entry{{"name", name}};
    for (const char* key : {"type", "range", "scale"}) {
      if (auto field = p.find(key); field != p.end()) entry[key] = *field;
    }
    out.push_back(std::move(entry));
  };
  if (it->is_array()) {
    for (const Json& p : *it) {
      if (p.is_object() && p.contains("name") && p["name"].is_string()) {
        add(p["name"].get<std::string>(), p);
      }
    }
  } else if (it->is_object()) {
    for (const auto& [name, p] : it->items()) add(name, p);
  }
  return out;
}

}  // namespace

StatusOr<Cursor> ParseCursor(std::string_view text) {
  Cursor cursor;
  if (text.empty()) return cursor;
  auto parse = [](std::string_view part, int64_t& out) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && out >= 0;
  };
  const size_t colon = text.find(':');
  const bool ok = colon == std::string_view::npos
                      ? parse(text, cursor.trials)
                      : parse(text.substr(0, colon), cursor.trials) &&
                            parse(text.substr(colon + 1), cursor.observations);
  if (!ok) {
    return InvalidArgumentError(
        "since: expected a cursor from an earlier answer, like '12:10', got '" + std::string(text) +
        "'");
  }
  if (colon == std::string_view::npos) cursor.observations = cursor.trials;
  return cursor;
}

std::string FormatCursor(const Cursor& cursor) {
  return std::to_string(cursor.trials) + ":" + std::to_string(cursor.observations);
}

Dashboard::Dashboard(storage::StudyStore* store, DashboardOptions options)
    : store_(store), options_(std::move(options)) {}

StatusOr<std::string> Dashboard::StudyJson(bool study_token) {
  SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> lower, store_->GetMeta("lower_is_better"));
  SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> spec_text, store_->GetMeta("spec"));
  SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> command, store_->GetMeta("command"));
  SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> seed, store_->GetMeta("seed"));
  Json out{{"output_dir", options_.output_dir},
           {"live", options_.live},
           {"study_token", study_token},
           // Stopping needs a runner to ask and the token to ask with.
           {"can_stop", options_.live && study_token},
           {"lower_is_better", lower.value_or("true") == "true"},
           {"command", command.value_or("")},
           {"seed", seed.value_or("")},
           {"name", ""},
           {"algorithm", ""},
           {"parameters", Json::array()}};
  if (spec_text) {
    StatusOr<Json> spec = json::Parse(*spec_text);
    if (spec.ok() && spec->is_object()) {
      out["parameters"] = NormalizeParameters(*spec);
      if (auto name = spec->find("name"); name != spec->end() && name->is_string()) {
        out["name"] = *name;
      }
      if (auto algorithm = spec->find("algorithm"); algorithm != spec->end()) {
        if (algorithm->is_string()) {
          out["algorithm"] = *algorithm;
        } else if (algorithm->is_object()) {
          out["algorithm"] = algorithm->value("name", "");
          out["algorithm_options"] = *algorithm;
        }
      }
    }
  }
  return Dump(out);
}

StatusOr<server::DashboardChanges> Dashboard::Changes(std::string_view since) {
  SHERPA_ASSIGN_OR_RETURN(Cursor cursor, ParseCursor(since));
  SHERPA_ASSIGN_OR_RETURN(std::vector<storage::StoredTrial> trials,
                          store_->LoadTrials(cursor.trials));
  SHERPA_ASSIGN_OR_RETURN(std::vector<storage::StoredObservation> observations,
                          store_->LoadObservations(cursor.observations));
  server::DashboardChanges changes;
  changes.empty = trials.empty() && observations.empty();

  Json trial_rows = Json::array();
  for (const storage::StoredTrial& t : trials) {
    cursor.trials = std::max(cursor.trials, t.updated_seq);
    trial_rows.push_back(Json{{"id", t.trial.id},
                              {"state", t.state},
                              {"attempt", t.attempt},
                              {"reason", t.reason},
                              {"created_at", Time(t.created_at)},
                              {"started_at", Time(t.started_at)},
                              {"ended_at", Time(t.ended_at)},
                              {"parameters", Values(t.trial.parameters)}});
  }
  // Column arrays: a 10,000-trial study has a few hundred thousand
  // observations, and repeating the keys in every row would double the
  // answer the page must download and parse.
  Json trial_id = Json::array(), attempt = Json::array(), iteration = Json::array(),
       objective = Json::array(), at = Json::array(), context = Json::array();
  bool any_context = false;
  for (const storage::StoredObservation& o : observations) {
    cursor.observations = std::max(cursor.observations, o.seq);
    trial_id.push_back(o.trial_id);
    attempt.push_back(o.attempt);
    iteration.push_back(o.observation.iteration);
    objective.push_back(Number(o.observation.objective));
    at.push_back(o.at);
    if (o.observation.context.empty()) {
      context.push_back(nullptr);
    } else {
      any_context = true;
      context.push_back(Values(o.observation.context));
    }
  }
  Json obs{{"trial_id", std::move(trial_id)},
           {"attempt", std::move(attempt)},
           {"iteration", std::move(iteration)},
           {"objective", std::move(objective)},
           {"at", std::move(at)}};
  if (any_context) obs["context"] = std::move(context);

  changes.cursor = FormatCursor(cursor);
  changes.json = Dump(Json{{"cursor", changes.cursor},
                           {"trials", std::move(trial_rows)},
                           {"observations", std::move(obs)}});
  return changes;
}

std::optional<server::DashboardAsset> Dashboard::Asset(std::string_view path) {
  std::optional<std::string_view> content = FindEmbeddedFile(path);
  if (!content) return std::nullopt;
  return server::DashboardAsset{*content, ContentTypeFor(path)};
}

std::optional<std::string_view> FindEmbeddedFile(std::string_view path) {
  for (size_t i = 0; i < kNumEmbeddedFiles; ++i) {
    if (path == kEmbeddedFiles[i].path) {
      return std::string_view(reinterpret_cast<const char*>(kEmbeddedFiles[i].data),
                              kEmbeddedFiles[i].size);
    }
  }
  return std::nullopt;
}

std::string_view ContentTypeFor(std::string_view path) {
  auto ends_with = [path](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

}  // namespace sherpa::dashboard
