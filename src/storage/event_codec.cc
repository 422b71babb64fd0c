#include "storage/event_codec.h"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>

namespace sherpa::storage {

using json::Json;

namespace {

// ---------------------------------------------------------------------------
// JSON encoding of values.
//
// JSON has no NaN or infinity: nlohmann writes them as null, which would not
// read back, and one diverging training run (loss = nan) would then make the
// whole log unreadable on resume. Non-finite doubles are therefore written as
// {"float": "nan" | "inf" | "-inf"}; everything else is value_json's form.

Json EncodeDouble(double d) {
  if (std::isnan(d)) return Json{{"float", "nan"}};
  if (std::isinf(d)) return Json{{"float", d > 0 ? "inf" : "-inf"}};
  return Json(d);
}

StatusOr<double> DecodeDouble(const Json& j, std::string_view path) {
  if (j.is_number()) return j.get<double>();
  if (j.is_object()) {
    auto it = j.find("float");
    if (it != j.end() && it->is_string()) {
      const std::string& name = it->get_ref<const std::string&>();
      if (name == "nan") return std::numeric_limits<double>::quiet_NaN();
      if (name == "inf") return std::numeric_limits<double>::infinity();
      if (name == "-inf") return -std::numeric_limits<double>::infinity();
    }
  }
  return InvalidArgumentError(std::string(path) + ": expected a number, got " + json::TypeOf(j));
}

}  // namespace

Json EncodeValues(const ParameterValues& values) {
  Json out = Json::object();
  for (const auto& [name, value] : values) {
    out[name] = value.is_double() ? EncodeDouble(value.as_number()) : json::ToJson(value);
  }
  return out;
}

StatusOr<ParameterValues> DecodeValues(const Json& j, std::string_view path) {
  if (!j.is_object()) {
    return InvalidArgumentError(std::string(path) + ": expected a mapping, got " + json::TypeOf(j));
  }
  ParameterValues values;
  for (const auto& [name, item] : j.items()) {
    const std::string item_path = std::string(path) + "." + name;
    if (item.is_object()) {
      SHERPA_ASSIGN_OR_RETURN(double d, DecodeDouble(item, item_path));
      values.emplace(name, Value(d));
    } else {
      SHERPA_ASSIGN_OR_RETURN(Value v, json::ValueFromJson(item, item_path));
      values.emplace(name, std::move(v));
    }
  }
  return values;
}

// Invalid UTF-8 (a job id or a context string with stray bytes) is replaced
// instead of throwing: one odd string must not fail the commit, and with it
// every later report of the study.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

StatusOr<Json> ParseColumn(std::string_view text, std::string_view what) {
  StatusOr<Json> parsed = json::Parse(text);
  if (!parsed.ok()) return parsed.status().WithContext(what);
  return parsed;
}

Status DecodeEventPayload(std::string_view text, StoredEvent& e) {
  SHERPA_ASSIGN_OR_RETURN(Json payload, ParseColumn(text, "payload"));
  return DecodePayload(payload, e);
}

// The kind-specific fields of an event, as the events.payload JSON. Only the
// fields that are set are written, but every field of StoredEvent that is set
// is written, so LoadEvents gives back exactly what Append got.
std::string EncodePayload(const StoredEvent& e, const Json& parameters) {
  Json p = Json::object();
  if (e.trial) p["parameters"] = parameters;
  if (e.observation) {
    p["observation"] = Json{{"iteration", e.observation->iteration},
                            {"objective", EncodeDouble(e.observation->objective)},
                            {"context", EncodeValues(e.observation->context)}};
  }
  if (e.kind == EventKind::kTrialEnded || e.status != TrialStatus::kIntermediate) {
    p["status"] = std::string(TrialStatusName(e.status));
  }
  if (!e.job_id.empty()) p["job_id"] = e.job_id;
  if (!e.reason.empty()) p["reason"] = e.reason;
  return p.empty() ? std::string() : Dump(p);
}

Status DecodePayload(const Json& p, StoredEvent& e) {
  if (!p.is_object()) return InvalidArgumentError("payload: expected a mapping");
  if (auto it = p.find("parameters"); it != p.end()) {
    SHERPA_ASSIGN_OR_RETURN(ParameterValues params, DecodeValues(*it, "parameters"));
    e.trial = Trial{e.trial_id, std::move(params)};
  }
  if (auto it = p.find("observation"); it != p.end()) {
    Observation o;
    SHERPA_ASSIGN_OR_RETURN(o.iteration, json::GetInt(*it, "iteration", "observation"));
    auto objective = it->find("objective");
    if (objective == it->end()) return InvalidArgumentError("observation.objective is missing");
    SHERPA_ASSIGN_OR_RETURN(o.objective, DecodeDouble(*objective, "observation.objective"));
    if (auto context = it->find("context"); context != it->end()) {
      SHERPA_ASSIGN_OR_RETURN(o.context, DecodeValues(*context, "observation.context"));
    }
    e.observation = std::move(o);
  }
  if (p.contains("status")) {
    SHERPA_ASSIGN_OR_RETURN(std::string name, json::GetString(p, "status", ""));
    std::optional<TrialStatus> status = ParseTrialStatus(name);
    if (!status) return InvalidArgumentError("status: unknown trial status '" + name + "'");
    e.status = *status;
  }
  if (p.contains("job_id")) {
    SHERPA_ASSIGN_OR_RETURN(e.job_id, json::GetString(p, "job_id", ""));
  }
  if (p.contains("reason")) {
    SHERPA_ASSIGN_OR_RETURN(e.reason, json::GetString(p, "reason", ""));
  }
  return OkStatus();
}

}  // namespace sherpa::storage
