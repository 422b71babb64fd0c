// JSON forms of core values, shared by every module that speaks JSON (spec,
// storage, server, client). Integers stay JSON integers and doubles are
// written with a '.' or an exponent, so a Value's type survives a round trip.
// Nothing here throws: malformed input becomes INVALID_ARGUMENT naming `path`.
#ifndef SHERPA_JSON_VALUE_JSON_H_
#define SHERPA_JSON_VALUE_JSON_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sherpa/results.h"
#include "sherpa/status.h"
#include "sherpa/trial.h"
#include "sherpa/value.h"

namespace sherpa::json {

using Json = nlohmann::json;

Json ToJson(const Value& value);
Json ToJson(const ParameterValues& values);   // also Context: the same map type
Json ToJson(const Trial& trial);              // {"id": .., "parameters": {..}}
Json ToJson(const Observation& observation);  // {"iteration", "objective", "context"}

// `path` names the field in error messages, e.g. "context.loss".
StatusOr<Value> ValueFromJson(const Json& json, std::string_view path);
StatusOr<ParameterValues> ValuesFromJson(const Json& json, std::string_view path);
StatusOr<Trial> TrialFromJson(const Json& json, std::string_view path);
StatusOr<Observation> ObservationFromJson(const Json& json, std::string_view path);

// Parses `text` without throwing; INVALID_ARGUMENT with the parser's position
// on malformed input.
StatusOr<Json> Parse(std::string_view text);

// A short description of a JSON value's type for error messages ("a string",
// "an array", ...).
std::string TypeOf(const Json& json);

// Typed field access for request and spec parsing: the error names
// `path`.`key` and what was expected.
StatusOr<int64_t> GetInt(const Json& object, std::string_view key, std::string_view path);
StatusOr<double> GetNumber(const Json& object, std::string_view key, std::string_view path);
StatusOr<std::string> GetString(const Json& object, std::string_view key, std::string_view path);
StatusOr<bool> GetBool(const Json& object, std::string_view key, std::string_view path);

}  // namespace sherpa::json

#endif  // SHERPA_JSON_VALUE_JSON_H_
