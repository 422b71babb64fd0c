// The JSON codec of core values (src/json/value_json.h), which reads every
// request body and stored column: a property, not only "does not crash".
// Whatever decodes as a value, a set of values, an observation or a trial
// must encode to JSON text that decodes to the same thing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "json/value_json.h"

namespace {

using sherpa::Observation;
using sherpa::ParameterValues;
using sherpa::StatusOr;
using sherpa::Trial;
using sherpa::Value;
using sherpa::fuzz::Check;
using sherpa::json::Json;

// Encoded, printed and parsed back, as a client and the server see it.
Json Reparsed(const Json& json) {
  const std::string text = json.dump();
  StatusOr<Json> parsed = sherpa::json::Parse(text);
  Check(parsed.ok(), "the codec wrote JSON it cannot parse", text);
  return *std::move(parsed);
}

bool SameObservation(const Observation& a, const Observation& b) {
  // No NaN here: JSON text cannot spell one.
  return a.iteration == b.iteration && a.objective == b.objective && a.context == b.context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StatusOr<Json> json = sherpa::json::Parse(sherpa::fuzz::AsText(data, size));
  if (!json.ok()) return 0;
  const std::string text = json->dump();  // valid UTF-8 in, so this never throws
  // For messages.
  (void)sherpa::json::TypeOf(*json);
  if (StatusOr<Value> v = sherpa::json::ValueFromJson(*json, "value"); v.ok()) {
    StatusOr<Value> again = sherpa::json::ValueFromJson(Reparsed(sherpa::json::ToJson(*v)), "v");
    Check(again.ok() && *again == *v, "a value changes in a JSON round trip", text);
    Check(v->is_double() == json->is_number_float(), "a value changes type", text);
  }
  if (StatusOr<ParameterValues> v = sherpa::json::ValuesFromJson(*json, "values"); v.ok()) {
    StatusOr<ParameterValues> again =
        sherpa::json::ValuesFromJson(Reparsed(sherpa::json::ToJson(*v)), "values");
    Check(again.ok() && *again == *v, "values change in a JSON round trip", text);
  }
  if (StatusOr<Observation> o = sherpa::json::ObservationFromJson(*json, ""); o.ok()) {
    Check(std::isfinite(o->objective) || std::isinf(o->objective), "NaN from JSON text", text);
    StatusOr<Observation> again =
        sherpa::json::ObservationFromJson(Reparsed(sherpa::json::ToJson(*o)), "");
    Check(again.ok() && SameObservation(*again, *o), "an observation changes in a JSON round trip",
          text);
  }
  if (StatusOr<Trial> t = sherpa::json::TrialFromJson(*json, "trial"); t.ok()) {
    StatusOr<Trial> again = sherpa::json::TrialFromJson(Reparsed(sherpa::json::ToJson(*t)), "t");
    Check(again.ok() && again->id == t->id && again->parameters == t->parameters,
          "a trial changes in a JSON round trip", text);
  }
  // The typed getters the request handlers use.
  for (const char* key : {"iteration", "objective", "status", "id"}) {
    (void)sherpa::json::GetInt(*json, key, "");
    (void)sherpa::json::GetNumber(*json, key, "");
    (void)sherpa::json::GetString(*json, key, "");
    (void)sherpa::json::GetBool(*json, key, "");
  }
  return 0;
}
