#include "json/value_json.h"

#include <cmath>

namespace sherpa::json {
namespace {

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

}  // namespace

std::string TypeOf(const Json& json) {
  switch (json.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "a list";
    case Json::value_t::object:
      return "a mapping";
    default:
      return "an unsupported value";
  }
}

Json ToJson(const Value& value) {
  switch (value.type()) {
    case Value::Type::kInt:
      return value.as_int();
    case Value::Type::kDouble:
      return value.as_number();
    case Value::Type::kString:
      return value.as_string();
  }
  return nullptr;
}

Json ToJson(const ParameterValues& values) {
  Json out = Json::object();
  for (const auto& [name, value] : values) out[name] = ToJson(value);
  return out;
}

Json ToJson(const Trial& trial) {
  return Json{{"id", trial.id}, {"parameters", ToJson(trial.parameters)}};
}

Json ToJson(const Observation& observation) {
  return Json{{"iteration", observation.iteration},
              {"objective", observation.objective},
              {"context", ToJson(observation.context)}};
}

StatusOr<Value> ValueFromJson(const Json& json, std::string_view path) {
  if (json.is_number_integer()) {
    if (json.is_number_unsigned() && json.get<uint64_t>() > uint64_t{INT64_MAX}) {
      return InvalidArgumentError(std::string(path) + ": integer too large");
    }
    return Value(json.get<int64_t>());
  }
  if (json.is_number_float()) return Value(json.get<double>());
  if (json.is_string()) return Value(json.get<std::string>());
  return InvalidArgumentError(std::string(path) + ": expected a number or a string, got " +
                              TypeOf(json));
}

StatusOr<ParameterValues> ValuesFromJson(const Json& json, std::string_view path) {
  if (!json.is_object()) {
    return InvalidArgumentError(std::string(path) + ": expected a mapping, got " + TypeOf(json));
  }
  ParameterValues values;
  for (const auto& [key, item] : json.items()) {
    SHERPA_ASSIGN_OR_RETURN(Value value, ValueFromJson(item, Join(path, key)));
    values.emplace(key, std::move(value));
  }
  return values;
}

StatusOr<Trial> TrialFromJson(const Json& json, std::string_view path) {
  if (!json.is_object()) {
    return InvalidArgumentError(std::string(path) + ": expected a mapping, got " + TypeOf(json));
  }
  Trial trial;
  SHERPA_ASSIGN_OR_RETURN(trial.id, GetInt(json, "id", path));
  auto params = json.find("parameters");
  if (params == json.end()) {
    return InvalidArgumentError(Join(path, "parameters") + " is missing");
  }
  SHERPA_ASSIGN_OR_RETURN(trial.parameters, ValuesFromJson(*params, Join(path, "parameters")));
  return trial;
}

StatusOr<Observation> ObservationFromJson(const Json& json, std::string_view path) {
  if (!json.is_object()) {
    return InvalidArgumentError(std::string(path.empty() ? "the body" : path) +
                                ": expected a JSON object, got " + TypeOf(json));
  }
  for (const auto& [key, item] : json.items()) {
    if (key != "iteration" && key != "objective" && key != "context") {
      return InvalidArgumentError(Join(path, key) +
                                  ": unknown field; expected iteration, objective, context");
    }
  }
  Observation o;
  SHERPA_ASSIGN_OR_RETURN(o.iteration, GetInt(json, "iteration", path));
  SHERPA_ASSIGN_OR_RETURN(o.objective, GetNumber(json, "objective", path));
  if (auto context = json.find("context"); context != json.end() && !context->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(o.context, ValuesFromJson(*context, Join(path, "context")));
  }
  return o;
}

StatusOr<Json> Parse(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // parse_error, and out_of_range for numbers like 1e400.
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  }
}

namespace {
StatusOr<const Json*> Field(const Json& object, std::string_view key, std::string_view path) {
  if (!object.is_object()) {
    return InvalidArgumentError(std::string(path.empty() ? "the body" : path) +
                                ": expected a mapping, got " + TypeOf(object));
  }
  auto it = object.find(key);
  if (it == object.end()) return InvalidArgumentError(Join(path, key) + " is missing");
  return &*it;
}
}  // namespace

StatusOr<int64_t> GetInt(const Json& object, std::string_view key, std::string_view path) {
  SHERPA_ASSIGN_OR_RETURN(const Json* field, Field(object, key, path));
  if (field->is_number_integer() &&
      !(field->is_number_unsigned() && field->get<uint64_t>() > uint64_t{INT64_MAX})) {
    return field->get<int64_t>();
  }
  // 3.0 is an integer written by a language without integers (JSON from JavaScript).
  if (field->is_number_float()) {
    const double d = field->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return InvalidArgumentError(Join(path, key) + ": expected an integer, got " + TypeOf(*field));
}

StatusOr<double> GetNumber(const Json& object, std::string_view key, std::string_view path) {
  SHERPA_ASSIGN_OR_RETURN(const Json* field, Field(object, key, path));
  if (!field->is_number()) {
    return InvalidArgumentError(Join(path, key) + ": expected a number, got " + TypeOf(*field));
  }
  return field->get<double>();
}

StatusOr<std::string> GetString(const Json& object, std::string_view key, std::string_view path) {
  SHERPA_ASSIGN_OR_RETURN(const Json* field, Field(object, key, path));
  if (!field->is_string()) {
    return InvalidArgumentError(Join(path, key) + ": expected a string, got " + TypeOf(*field));
  }
  return field->get<std::string>();
}

StatusOr<bool> GetBool(const Json& object, std::string_view key, std::string_view path) {
  SHERPA_ASSIGN_OR_RETURN(const Json* field, Field(object, key, path));
  if (!field->is_boolean()) {
    return InvalidArgumentError(Join(path, key) + ": expected true or false, got " +
                                TypeOf(*field));
  }
  return field->get<bool>();
}

}  // namespace sherpa::json
