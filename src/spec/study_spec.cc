// Study spec files: the whole runner configuration, checked field by field
// before anything runs.
#include "sherpa/study_spec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "spec/json_tree.h"

#include "sherpa/algorithms.h"
#include "sherpa/stopping_rule.h"

namespace sherpa {
namespace {

using spec_internal::CheckKeys;
using spec_internal::Describe;
using spec_internal::Json;
using spec_internal::KeyPath;

Status Expected(const std::string& path, const std::string& what, const Json& got) {
  return InvalidArgumentError(path + ": expected " + what + ", got " + Describe(got));
}

// Typed readers: each names the field and what it wanted.
StatusOr<int64_t> ReadInt(const Json& node, const std::string& path, int64_t minimum,
                          int64_t maximum = INT64_MAX) {
  if (node.is_number_integer() &&
      !(node.is_number_unsigned() && node.get<uint64_t>() > uint64_t{INT64_MAX})) {
    const auto v = node.get<int64_t>();
    if (v >= minimum && v <= maximum) return v;
  }
  if (maximum == INT64_MAX) return Expected(path, "an integer >= " + std::to_string(minimum), node);
  return Expected(
      path, "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum), node);
}

// Durations become std::chrono nanoseconds in the runner (steady_clock
// arithmetic), which overflow beyond 292 years; a year is past any real use.
constexpr int64_t kMaxSeconds = 365 * 24 * 3600;

StatusOr<double> ReadNumber(const Json& node, const std::string& path) {
  if (node.is_number()) return node.get<double>();
  return Expected(path, "a number", node);
}

StatusOr<std::vector<double>> ReadNumbers(const Json& node, const std::string& path) {
  if (!node.is_array()) return Expected(path, "a list of numbers", node);
  std::vector<double> out;
  for (size_t i = 0; i < node.size(); ++i) {
    SHERPA_ASSIGN_OR_RETURN(double v, ReadNumber(node[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(v);
  }
  return out;
}

StatusOr<bool> ReadBool(const Json& node, const std::string& path) {
  if (node.is_boolean()) return node.get<bool>();
  return Expected(path, "true or false", node);
}

StatusOr<std::string> ReadString(const Json& node, const std::string& path) {
  if (node.is_string() && !node.get<std::string>().empty()) return node.get<std::string>();
  return Expected(path, "a non-empty string", node);
}

StatusOr<Value> ReadValue(const Json& node, const std::string& path) {
  if (node.is_number_integer() && !node.is_number_unsigned()) return Value(node.get<int64_t>());
  if (node.is_number_unsigned() && node.get<uint64_t>() <= uint64_t{INT64_MAX}) {
    return Value(static_cast<int64_t>(node.get<uint64_t>()));
  }
  if (node.is_number_float()) return Value(node.get<double>());
  if (node.is_string()) return Value(node.get<std::string>());
  return Expected(path, "a number or a string", node);
}

// An algorithm or rule may be written as its name alone or as a mapping
// with `name` and its arguments.
StatusOr<std::string> ComponentName(const Json& node, const std::string& path) {
  if (node.is_string()) return node.get<std::string>();
  if (!node.is_object()) return Expected(path, "a name or a mapping with 'name'", node);
  auto name = node.find("name");
  if (name == node.end()) return InvalidArgumentError(path + ".name is missing");
  return ReadString(*name, path + ".name");
}

Status UnknownName(const std::string& path, const std::string& name,
                   std::span<const std::string_view> known) {
  std::string message = path + ": unknown '" + name + "'";
  const std::string_view nearest = spec_internal::NearestName(name, known);
  if (!nearest.empty()) message += "; did you mean '" + std::string(nearest) + "'?";
  message += nearest.empty() ? "; known:" : " known:";
  for (size_t i = 0; i < known.size(); ++i) message += (i ? ", " : " ") + std::string(known[i]);
  return InvalidArgumentError(message);
}

// A list of values written for a Continuous parameter as integers means
// numbers ([0, 1] is [0.0, 1.0]).
void NumbersForContinuous(const ParameterSpace& space, const std::string& param,
                          std::vector<Value>& values) {
  if (const Parameter* p = space.Find(param); p && p->type() == ParameterType::kContinuous) {
    for (Value& value : values) {
      if (value.is_int()) value = Value(value.as_number());
    }
  }
}

// The arguments PopulationBasedTraining and PB2 share. `range_key` is where
// the ranges were written (parameter_range, or PB2's hyperparam_bounds).
Status ReadPbtArgs(const Json& args, const std::string& path, const std::string& range_key,
                   const ParameterSpace& space, PopulationBasedTrainingOptions& o) {
  auto arg = [&](std::string_view key) -> const Json* {
    auto it = args.find(std::string(key));
    return it == args.end() ? nullptr : &*it;
  };
  if (const Json* v = arg("population_size")) {
    SHERPA_ASSIGN_OR_RETURN(o.population_size, ReadInt(*v, path + ".population_size", 1));
  }
  if (const Json* v = arg("num_generations"); v && !v->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(o.num_generations, ReadInt(*v, path + ".num_generations", 0));
  }
  if (const Json* v = arg(range_key)) {
    const std::string range_path = path + "." + range_key;
    if (!v->is_object()) return Expected(range_path, "a mapping from parameter name to range", *v);
    for (const auto& [param, range] : v->items()) {
      const std::string item_path = KeyPath(range_path, param);
      if (!range.is_array()) return Expected(item_path, "a list", range);
      std::vector<Value> values;
      for (size_t i = 0; i < range.size(); ++i) {
        SHERPA_ASSIGN_OR_RETURN(Value value,
                                ReadValue(range[i], item_path + "[" + std::to_string(i) + "]"));
        values.push_back(std::move(value));
      }
      NumbersForContinuous(space, param, values);
      o.parameter_range[param] = std::move(values);
    }
  }
  if (const Json* v = arg("exploit")) {
    SHERPA_ASSIGN_OR_RETURN(std::string exploit, ReadString(*v, path + ".exploit"));
    if (exploit == "top_third") {
      o.exploit = PbtExploit::kTopThird;
    } else if (exploit == "truncation") {
      o.exploit = PbtExploit::kTruncation;
    } else {
      return InvalidArgumentError(path + ".exploit: expected top_third or truncation, got '" +
                                  exploit + "'");
    }
  }
  if (const Json* v = arg("perturbation_factors")) {
    SHERPA_ASSIGN_OR_RETURN(o.perturbation_factors,
                            ReadNumbers(*v, path + ".perturbation_factors"));
  }
  if (const Json* v = arg("resample_probability")) {
    SHERPA_ASSIGN_OR_RETURN(o.resample_probability, ReadNumber(*v, path + ".resample_probability"));
  }
  return OkStatus();
}

// BayesianOptimization's arguments, also under SHERPA's name GPyOpt.
Status ReadBayesianOptimizationArgs(const Json& args, const std::string& path,
                                    const ParameterSpace& space, BayesianOptimizationOptions& o) {
  auto arg = [&](std::string_view key) -> const Json* {
    auto it = args.find(std::string(key));
    return it == args.end() ? nullptr : &*it;
  };
  if (const Json* v = arg("max_num_trials"); v && !v->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(o.max_num_trials, ReadInt(*v, path + ".max_num_trials", 1));
  }
  if (const Json* v = arg("num_initial_data_points");
      v && !(v->is_string() && v->get<std::string>() == "infer")) {
    if (!v->is_number_integer()) {
      return Expected(path + ".num_initial_data_points", "an integer >= 1 or 'infer'", *v);
    }
    SHERPA_ASSIGN_OR_RETURN(o.num_initial_data_points,
                            ReadInt(*v, path + ".num_initial_data_points", 1));
  }
  if (const Json* v = arg("initial_data_points")) {
    const std::string list_path = path + ".initial_data_points";
    if (!v->is_array())
      return Expected(list_path, "a list of mappings from parameter to value", *v);
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& point = (*v)[i];
      const std::string point_path = list_path + "[" + std::to_string(i) + "]";
      if (!point.is_object())
        return Expected(point_path, "a mapping from parameter to value", point);
      ParameterValues values;
      for (const auto& [param, value] : point.items()) {
        std::vector<Value> one;
        SHERPA_ASSIGN_OR_RETURN(Value read, ReadValue(value, KeyPath(point_path, param)));
        one.push_back(std::move(read));
        NumbersForContinuous(space, param, one);
        values[param] = std::move(one[0]);
      }
      o.initial_data_points.push_back(std::move(values));
    }
  }
  if (const Json* v = arg("max_training_points")) {
    SHERPA_ASSIGN_OR_RETURN(o.max_training_points, ReadInt(*v, path + ".max_training_points", 1));
  }
  if (const Json* v = arg("max_concurrent")) {
    // Read only to check it; Build() uses it (see there).
    SHERPA_RETURN_IF_ERROR(ReadInt(*v, path + ".max_concurrent", 1).status());
  }
  // GPyOpt's model and acquisition: only SHERPA's defaults are what runs here.
  const std::pair<std::string_view, std::string_view> kOnly[] = {{"model_type", "GP"},
                                                                 {"acquisition_type", "EI"}};
  for (const auto& [key, supported] : kOnly) {
    if (const Json* v = arg(key)) {
      SHERPA_ASSIGN_OR_RETURN(std::string value, ReadString(*v, path + "." + std::string(key)));
      if (value != supported) {
        return InvalidArgumentError(path + "." + std::string(key) + ": only '" +
                                    std::string(supported) +
                                    "' is supported (a Gaussian process with expected "
                                    "improvement), got '" +
                                    value + "'");
      }
    }
  }
  if (const Json* v = arg("verbosity")) {
    SHERPA_RETURN_IF_ERROR(ReadBool(*v, path + ".verbosity").status());
  }
  return OkStatus();
}

// `path` names `node` in messages: "algorithm", or a nested algorithm of
// Repeat or Chain such as "algorithm.algorithms[1]".
StatusOr<std::unique_ptr<Algorithm>> BuildAlgorithm(const Json& node, const ParameterSpace& space,
                                                    const std::string& path = "algorithm") {
  SHERPA_ASSIGN_OR_RETURN(std::string name, ComponentName(node, path));
  const Json args = node.is_object() ? node : Json::object();
  auto arg = [&](std::string_view key) -> const Json* {
    auto it = args.find(std::string(key));
    return it == args.end() ? nullptr : &*it;
  };
  StatusOr<std::unique_ptr<Algorithm>> built = InvalidArgumentError("");
  if (name == "RandomSearch") {
    static constexpr std::array<std::string_view, 2> kKeys = {"name", "max_num_trials"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    int64_t max = 0;
    if (const Json* v = arg("max_num_trials"); v && !v->is_null()) {
      SHERPA_ASSIGN_OR_RETURN(max, ReadInt(*v, path + ".max_num_trials", 1));
    }
    built = RandomSearch(max);
  } else if (name == "GridSearch") {
    static constexpr std::array<std::string_view, 2> kKeys = {"name", "num_grid_points"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    int64_t points = 2;
    if (const Json* v = arg("num_grid_points")) {
      SHERPA_ASSIGN_OR_RETURN(points, ReadInt(*v, path + ".num_grid_points", 1));
    }
    built = GridSearch(points);
  } else if (name == "PopulationBasedTraining") {
    static constexpr std::array<std::string_view, 10> kKeys = {"name",
                                                               "mode",
                                                               "population_size",
                                                               "num_generations",
                                                               "parameter_range",
                                                               "exploit",
                                                               "perturbation_factors",
                                                               "resample_probability",
                                                               "quantile_fraction",
                                                               "selection"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    PopulationBasedTrainingOptions o;
    if (const Json* v = arg("mode")) {
      SHERPA_ASSIGN_OR_RETURN(std::string mode, ReadString(*v, path + ".mode"));
      if (mode == "generational") {
        o.mode = PbtMode::kGenerational;
      } else if (mode == "asynchronous") {
        o.mode = PbtMode::kAsynchronous;
      } else {
        return InvalidArgumentError(path + ".mode: expected generational or asynchronous, got '" +
                                    mode + "'");
      }
    }
    // Options of the other mode would be silently ignored: refuse them.
    const bool asynchronous = o.mode == PbtMode::kAsynchronous;
    for (std::string_view key :
         asynchronous ? std::vector<std::string_view>{"exploit"}
                      : std::vector<std::string_view>{"quantile_fraction", "selection"}) {
      if (arg(key)) {
        return InvalidArgumentError(path + "." + std::string(key) + ": only for mode " +
                                    (asynchronous ? "generational" : "asynchronous") +
                                    (asynchronous ? " (asynchronous PBT uses selection)" : ""));
      }
    }
    if (const Json* v = arg("quantile_fraction")) {
      SHERPA_ASSIGN_OR_RETURN(o.quantile_fraction, ReadNumber(*v, path + ".quantile_fraction"));
      if (!(o.quantile_fraction > 0 && o.quantile_fraction <= 0.5)) {
        return Expected(path + ".quantile_fraction", "a number in (0, 0.5]", *v);
      }
    }
    if (const Json* v = arg("selection")) {
      SHERPA_ASSIGN_OR_RETURN(std::string selection, ReadString(*v, path + ".selection"));
      if (selection == "truncation") {
        o.selection = PbtSelection::kTruncation;
      } else if (selection == "tournament") {
        o.selection = PbtSelection::kTournament;
      } else {
        return InvalidArgumentError(path + ".selection: expected truncation or tournament, got '" +
                                    selection + "'");
      }
    }
    SHERPA_RETURN_IF_ERROR(ReadPbtArgs(args, path, "parameter_range", space, o));
    built = PopulationBasedTraining(space, std::move(o));
  } else if (name == "Genetic") {
    static constexpr std::array<std::string_view, 3> kKeys = {"name", "mutation_rate",
                                                              "max_num_trials"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    double mutation_rate = 0.1;
    int64_t max = 0;
    if (const Json* v = arg("mutation_rate")) {
      SHERPA_ASSIGN_OR_RETURN(mutation_rate, ReadNumber(*v, path + ".mutation_rate"));
    }
    if (const Json* v = arg("max_num_trials"); v && !v->is_null()) {
      SHERPA_ASSIGN_OR_RETURN(max, ReadInt(*v, path + ".max_num_trials", 1));
    }
    built = Genetic(mutation_rate, max);
  } else if (name == "Iterate") {
    static constexpr std::array<std::string_view, 2> kKeys = {"name", "hp_iter"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    const std::string list_path = path + ".hp_iter";
    const Json* list = arg("hp_iter");
    if (list == nullptr) return InvalidArgumentError(list_path + " is missing");
    if (!list->is_array()) return Expected(list_path, "a list of mappings", *list);
    std::vector<ParameterValues> hp_iter;
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string item_path = list_path + "[" + std::to_string(i) + "]";
      const Json& item = (*list)[i];
      if (!item.is_object()) return Expected(item_path, "a mapping from parameter to value", item);
      ParameterValues values;
      for (const auto& [param, value] : item.items()) {
        SHERPA_ASSIGN_OR_RETURN(values[param], ReadValue(value, KeyPath(item_path, param)));
      }
      hp_iter.push_back(std::move(values));
    }
    built = Iterate(space, std::move(hp_iter));
  } else if (name == "Repeat") {
    static constexpr std::array<std::string_view, 5> kKeys = {"name", "algorithm", "num_times",
                                                              "wait_for_completion", "agg"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    const Json* inner = arg("algorithm");
    if (inner == nullptr) {
      return InvalidArgumentError(path + ".algorithm is missing (the algorithm to repeat)");
    }
    SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> repeated,
                            BuildAlgorithm(*inner, space, path + ".algorithm"));
    RepeatOptions o;
    if (const Json* v = arg("num_times")) {
      SHERPA_ASSIGN_OR_RETURN(o.num_times, ReadInt(*v, path + ".num_times", 1));
    }
    if (const Json* v = arg("wait_for_completion")) {
      SHERPA_ASSIGN_OR_RETURN(o.wait_for_completion, ReadBool(*v, path + ".wait_for_completion"));
    }
    if (const Json* v = arg("agg")) {
      SHERPA_ASSIGN_OR_RETURN(o.agg, ReadBool(*v, path + ".agg"));
    }
    built = Repeat(std::move(repeated), o);
  } else if (name == "Chain") {
    static constexpr std::array<std::string_view, 2> kKeys = {"name", "algorithms"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    const std::string list_path = path + ".algorithms";
    const Json* list = arg("algorithms");
    if (list == nullptr) return InvalidArgumentError(list_path + " is missing");
    if (!list->is_array() || list->empty()) {
      return Expected(list_path, "a non-empty list of algorithms", *list);
    }
    std::vector<std::unique_ptr<Algorithm>> algorithms;
    for (size_t i = 0; i < list->size(); ++i) {
      SHERPA_ASSIGN_OR_RETURN(
          algorithms.emplace_back(),
          BuildAlgorithm((*list)[i], space, list_path + "[" + std::to_string(i) + "]"));
    }
    built = Chain(std::move(algorithms));
  } else if (name == "PopulationBasedTrainingReplay") {
    static constexpr std::array<std::string_view, 2> kKeys = {"name", "schedule"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    const std::string schedule_path = path + ".schedule";
    const Json* v = arg("schedule");
    if (!v) return InvalidArgumentError(schedule_path + " is missing");
    if (!v->is_array()) return Expected(schedule_path, "a list of {generation, parameters}", *v);
    std::vector<PbtScheduleStep> schedule;
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& item = (*v)[i];
      const std::string item_path = schedule_path + "[" + std::to_string(i) + "]";
      if (!item.is_object()) return Expected(item_path, "a mapping {generation, parameters}", item);
      static constexpr std::array<std::string_view, 2> kStepKeys = {"generation", "parameters"};
      SHERPA_RETURN_IF_ERROR(CheckKeys(item, item_path, kStepKeys));
      PbtScheduleStep step;
      auto generation = item.find("generation");
      if (generation == item.end())
        return InvalidArgumentError(item_path + ".generation is missing");
      SHERPA_ASSIGN_OR_RETURN(step.generation, ReadInt(*generation, item_path + ".generation", 1));
      auto parameters = item.find("parameters");
      if (parameters == item.end() || !parameters->is_object()) {
        return Expected(item_path + ".parameters", "a mapping from parameter name to value",
                        parameters == item.end() ? Json() : *parameters);
      }
      for (const auto& [param, value] : parameters->items()) {
        SHERPA_ASSIGN_OR_RETURN(Value read,
                                ReadValue(value, KeyPath(item_path + ".parameters", param)));
        // 1 written for a continuous parameter means the number 1.0.
        if (const Parameter* p = space.Find(param);
            p && p->type() == ParameterType::kContinuous && read.is_int()) {
          read = Value(read.as_number());
        }
        step.parameters[param] = std::move(read);
      }
      schedule.push_back(std::move(step));
    }
    built = PopulationBasedTrainingReplay(space, std::move(schedule));
  } else if (name == "SuccessiveHalving") {
    static constexpr std::array<std::string_view, 7> kKeys = {
        "name", "r", "R", "eta", "s", "max_finished_configs", "max_num_trials"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    SuccessiveHalvingOptions o;
    if (const Json* v = arg("r")) {
      SHERPA_ASSIGN_OR_RETURN(o.r, ReadInt(*v, path + ".r", 1));
    }
    if (const Json* v = arg("R")) {
      SHERPA_ASSIGN_OR_RETURN(o.R, ReadInt(*v, path + ".R", 1));
    }
    if (const Json* v = arg("eta")) {
      SHERPA_ASSIGN_OR_RETURN(o.eta, ReadInt(*v, path + ".eta", 2));
    }
    if (const Json* v = arg("s")) {
      SHERPA_ASSIGN_OR_RETURN(o.s, ReadInt(*v, path + ".s", 0));
    }
    // null is SHERPA's None: no limit.
    if (const Json* v = arg("max_finished_configs")) {
      o.max_finished_configs = 0;
      if (!v->is_null()) {
        SHERPA_ASSIGN_OR_RETURN(o.max_finished_configs,
                                ReadInt(*v, path + ".max_finished_configs", 1));
      }
    }
    if (const Json* v = arg("max_num_trials"); v && !v->is_null()) {
      SHERPA_ASSIGN_OR_RETURN(o.max_num_trials, ReadInt(*v, path + ".max_num_trials", 1));
    }
    built = SuccessiveHalving(space, o);
  } else if (name == "LocalSearch") {
    static constexpr std::array<std::string_view, 4> kKeys = {
        "name", "seed_configuration", "perturbation_factors", "repeat_trials"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    LocalSearchOptions o;
    const std::string seed_path = path + ".seed_configuration";
    const Json* seed = arg("seed_configuration");
    if (seed == nullptr) {
      return InvalidArgumentError(seed_path +
                                  " is missing; give every parameter its starting value");
    }
    if (!seed->is_object()) {
      return Expected(seed_path, "a mapping from parameter name to value", *seed);
    }
    for (const auto& [param, value] : seed->items()) {
      SHERPA_ASSIGN_OR_RETURN(o.seed_configuration[param],
                              ReadValue(value, KeyPath(seed_path, param)));
    }
    if (const Json* v = arg("perturbation_factors")) {
      SHERPA_ASSIGN_OR_RETURN(o.perturbation_factors,
                              ReadNumbers(*v, path + ".perturbation_factors"));
    }
    if (const Json* v = arg("repeat_trials")) {
      SHERPA_ASSIGN_OR_RETURN(o.repeat_trials, ReadInt(*v, path + ".repeat_trials", 1));
    }
    built = LocalSearch(space, std::move(o));
  } else if (name == "PB2") {
    static constexpr std::array<std::string_view, 9> kKeys = {
        "name",           "population_size",      "num_generations",      "hyperparam_bounds",
        "exploit",        "perturbation_factors", "resample_probability", "parameter_range",
        "max_data_points"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    if (arg("hyperparam_bounds") && arg("parameter_range")) {
      return InvalidArgumentError(path +
                                  ".hyperparam_bounds: give hyperparam_bounds or parameter_range "
                                  "(the same thing under PBT's name), not both");
    }
    PB2Options o;
    SHERPA_RETURN_IF_ERROR(
        ReadPbtArgs(args, path, arg("parameter_range") ? "parameter_range" : "hyperparam_bounds",
                    space, o.pbt));
    if (const Json* v = arg("max_data_points")) {
      SHERPA_ASSIGN_OR_RETURN(o.max_data_points, ReadInt(*v, path + ".max_data_points", 1));
    }
    built = PB2(space, std::move(o));
  } else if (name == "BayesianOptimization" || name == "GPyOpt") {
    static constexpr std::array<std::string_view, 9> kKeys = {"name",
                                                              "max_num_trials",
                                                              "num_initial_data_points",
                                                              "initial_data_points",
                                                              "max_training_points",
                                                              "max_concurrent",
                                                              "model_type",
                                                              "acquisition_type",
                                                              "verbosity"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    BayesianOptimizationOptions o;
    SHERPA_RETURN_IF_ERROR(ReadBayesianOptimizationArgs(args, path, space, o));
    built = BayesianOptimization(space, std::move(o));
  } else {
    static constexpr std::array<std::string_view, 13> kKnown = {"RandomSearch",
                                                                "GridSearch",
                                                                "PopulationBasedTraining",
                                                                "PB2",
                                                                "BayesianOptimization",
                                                                "GPyOpt",
                                                                "SuccessiveHalving",
                                                                "LocalSearch",
                                                                "Genetic",
                                                                "Iterate",
                                                                "Repeat",
                                                                "Chain",
                                                                "PopulationBasedTrainingReplay"};
    return UnknownName(path + ".name", name, kKnown);
  }
  if (!built.ok()) return built.status().WithContext(path);
  return built;
}

StatusOr<std::unique_ptr<StoppingRule>> BuildStoppingRule(const Json& node) {
  const std::string path = "stopping_rule";
  SHERPA_ASSIGN_OR_RETURN(std::string name, ComponentName(node, path));
  if (name != "MedianStoppingRule") {
    static constexpr std::array<std::string_view, 1> kKnown = {"MedianStoppingRule"};
    return UnknownName(path + ".name", name, kKnown);
  }
  const Json args = node.is_object() ? node : Json::object();
  static constexpr std::array<std::string_view, 3> kKeys = {"name", "min_iterations", "min_trials"};
  SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
  int64_t min_iterations = 0, min_trials = 1;
  if (auto v = args.find("min_iterations"); v != args.end()) {
    SHERPA_ASSIGN_OR_RETURN(min_iterations, ReadInt(*v, path + ".min_iterations", 0));
  }
  if (auto v = args.find("min_trials"); v != args.end()) {
    SHERPA_ASSIGN_OR_RETURN(min_trials, ReadInt(*v, path + ".min_trials", 1));
  }
  return MedianStoppingRule(min_iterations, min_trials);
}

Status ReadScheduler(const Json& node, SchedulerOptions& out) {
  const std::string path = "scheduler";
  SHERPA_ASSIGN_OR_RETURN(out.name, ComponentName(node, path));
  static constexpr std::array<std::string_view, 3> kKnown = {"local", "slurm", "sge"};
  if (std::find(kKnown.begin(), kKnown.end(), out.name) == kKnown.end()) {
    return UnknownName(path + ".name", out.name, kKnown);
  }
  if (!node.is_object()) return OkStatus();
  const bool local = out.name == "local";
  // Each scheduler's own keys; a key of the other kind gets a hint instead
  // of a bare "unknown key".
  for (std::string_view key : {"resources", "cuda_visible_devices"}) {
    if (!local && node.contains(std::string(key))) {
      return InvalidArgumentError(path + "." + std::string(key) +
                                  ": only for the local scheduler; on a cluster ask for "
                                  "resources with submit_options (e.g. \"--gres=gpu:1\" for "
                                  "slurm, \"-l gpu=1\" for sge)");
    }
  }
  for (std::string_view key : {"submit_options", "environment", "poll_interval"}) {
    if (local && node.contains(std::string(key))) {
      return InvalidArgumentError(path + "." + std::string(key) +
                                  ": only for the cluster schedulers (slurm, sge)");
    }
  }
  static constexpr std::array<std::string_view, 4> kLocalKeys = {
      "name", "resources", "cuda_visible_devices", "kill_grace"};
  static constexpr std::array<std::string_view, 5> kClusterKeys = {
      "name", "submit_options", "environment", "poll_interval", "kill_grace"};
  SHERPA_RETURN_IF_ERROR(local ? CheckKeys(node, path, kLocalKeys)
                               : CheckKeys(node, path, kClusterKeys));
  if (auto v = node.find("resources"); v != node.end()) {
    if (!v->is_array()) return Expected(path + ".resources", "a list", *v);
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& r = (*v)[i];
      if (r.is_string()) {
        out.resources.push_back(r.get<std::string>());
      } else if (r.is_number_integer()) {
        out.resources.push_back(std::to_string(r.get<int64_t>()));
      } else {
        return Expected(path + ".resources[" + std::to_string(i) + "]", "a string or an integer",
                        r);
      }
    }
  }
  if (auto v = node.find("cuda_visible_devices"); v != node.end()) {
    SHERPA_ASSIGN_OR_RETURN(out.set_cuda_visible_devices,
                            ReadBool(*v, path + ".cuda_visible_devices"));
  }
  if (auto v = node.find("kill_grace"); v != node.end()) {
    SHERPA_ASSIGN_OR_RETURN(double seconds, ReadNumber(*v, path + ".kill_grace"));
    if (!(seconds >= 0 && seconds <= kMaxSeconds)) {
      return Expected(path + ".kill_grace",
                      "seconds from 0 to " + std::to_string(kMaxSeconds) + " (a year)", *v);
    }
    out.kill_grace = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (auto v = node.find("submit_options"); v != node.end()) {
    // May be empty: the same as leaving it out.
    if (!v->is_string()) return Expected(path + ".submit_options", "a string", *v);
    out.submit_options = v->get<std::string>();
  }
  if (auto v = node.find("environment"); v != node.end() && !v->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(out.environment, ReadString(*v, path + ".environment"));
  }
  if (auto v = node.find("poll_interval"); v != node.end()) {
    SHERPA_ASSIGN_OR_RETURN(double seconds, ReadNumber(*v, path + ".poll_interval"));
    if (!(seconds >= 0.05 && seconds <= 3600)) {
      return Expected(path + ".poll_interval", "seconds between 0.05 and 3600", *v);
    }
    out.poll_interval = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  return OkStatus();
}

Status ApplyOverrides(Json& tree, const SpecOverrides& o) {
  if (o.command) tree["command"] = *o.command;
  if (o.max_concurrent) tree["max_concurrent"] = *o.max_concurrent;
  if (o.prestart) tree["prestart"] = *o.prestart;
  if (o.output_dir) tree["output_dir"] = *o.output_dir;
  if (o.seed) tree["seed"] = *o.seed;
  if (o.scheduler) {
    // Another scheduler's settings do not carry over (resources mean
    // nothing to slurm, submit_options nothing to local).
    const Json* current = tree.contains("scheduler") ? &tree["scheduler"] : nullptr;
    const bool same =
        current &&
        ((current->is_string() && *current == *o.scheduler) ||
         (current->is_object() && current->contains("name") && (*current)["name"] == *o.scheduler));
    if (!same) tree["scheduler"] = *o.scheduler;
  }
  if (o.host || o.port) {
    if (!tree.contains("server") || !tree["server"].is_object()) tree["server"] = Json::object();
    if (o.host) tree["server"]["host"] = *o.host;
    if (o.port) tree["server"]["port"] = *o.port;
  }
  return OkStatus();
}

StatusOr<OptimizeOptions> Build(const Json& tree) {
  if (!tree.is_object()) return Expected("the spec", "a mapping of study fields", tree);
  static constexpr std::array<std::string_view, 16> kKeys = {
      "parameters",    "algorithm",     "lower_is_better", "command", "max_concurrent",
      "output_dir",    "scheduler",     "stopping_rule",   "seed",    "resubmit_failed_trials",
      "trial_timeout", "checkpoint_gc", "prestart",        "server",  "max_resubmits",
      "name"};
  SHERPA_RETURN_IF_ERROR(CheckKeys(tree, "", kKeys));
  for (std::string_view required : {"parameters", "algorithm", "lower_is_better", "command"}) {
    if (!tree.contains(std::string(required))) {
      return InvalidArgumentError(std::string(required) + " is missing" +
                                  (required == "lower_is_better"
                                       ? " (true to minimize the objective, false to maximize it)"
                                       : ""));
    }
  }
  OptimizeOptions o;
  SHERPA_ASSIGN_OR_RETURN(o.parameters,
                          spec_internal::ParametersFromJson(tree["parameters"], "parameters"));
  SHERPA_ASSIGN_OR_RETURN(o.algorithm, BuildAlgorithm(tree["algorithm"], o.parameters));
  SHERPA_ASSIGN_OR_RETURN(o.lower_is_better, ReadBool(tree["lower_is_better"], "lower_is_better"));
  SHERPA_ASSIGN_OR_RETURN(o.command, ReadString(tree["command"], "command"));
  if (auto v = tree.find("max_concurrent"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t n, ReadInt(*v, "max_concurrent", 1));
    o.max_concurrent = static_cast<size_t>(n);
  } else if (auto algorithm = tree.find("algorithm");
             algorithm != tree.end() && algorithm->is_object()) {
    // SHERPA's GPyOpt took max_concurrent as an argument (its batch size).
    // Here the model sees whatever trials are running, so the argument only
    // sets how many run at once, unless the study sets that itself.
    if (auto n = algorithm->find("max_concurrent"); n != algorithm->end()) {
      SHERPA_ASSIGN_OR_RETURN(int64_t concurrent, ReadInt(*n, "algorithm.max_concurrent", 1));
      o.max_concurrent = static_cast<size_t>(concurrent);
    }
  }
  if (auto v = tree.find("output_dir"); v != tree.end() && !v->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(o.output_dir, ReadString(*v, "output_dir"));
  }
  if (auto v = tree.find("scheduler"); v != tree.end()) {
    SHERPA_RETURN_IF_ERROR(ReadScheduler(*v, o.scheduler));
  }
  if (auto v = tree.find("stopping_rule"); v != tree.end() && !v->is_null()) {
    SHERPA_ASSIGN_OR_RETURN(o.stopping_rule, BuildStoppingRule(*v));
  }
  if (auto v = tree.find("seed"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t seed, ReadInt(*v, "seed", 0));
    o.seed = static_cast<uint64_t>(seed);
  }
  if (auto v = tree.find("resubmit_failed_trials"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(o.resubmit_failed_trials, ReadBool(*v, "resubmit_failed_trials"));
  }
  if (auto v = tree.find("max_resubmits"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t n, ReadInt(*v, "max_resubmits", 0, INT32_MAX));
    o.max_resubmits = static_cast<int>(n);
  }
  if (auto v = tree.find("trial_timeout"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t seconds, ReadInt(*v, "trial_timeout", 0, kMaxSeconds));
    o.trial_timeout = std::chrono::seconds(seconds);
  }
  if (auto v = tree.find("checkpoint_gc"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(o.checkpoint_gc, ReadBool(*v, "checkpoint_gc"));
  }
  if (auto v = tree.find("prestart"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t n, ReadInt(*v, "prestart", 0, 1024));
    o.prestart = static_cast<size_t>(n);
  }
  if (auto v = tree.find("server"); v != tree.end()) {
    if (!v->is_object()) return Expected("server", "a mapping with host and/or port", *v);
    static constexpr std::array<std::string_view, 2> kServerKeys = {"host", "port"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(*v, "server", kServerKeys));
    if (auto h = v->find("host"); h != v->end()) {
      SHERPA_ASSIGN_OR_RETURN(o.host, ReadString(*h, "server.host"));
    }
    if (auto p = v->find("port"); p != v->end()) {
      SHERPA_ASSIGN_OR_RETURN(int64_t port, ReadInt(*p, "server.port", 0));
      if (port > 65535) return Expected("server.port", "a port number (0-65535)", *p);
      o.port = static_cast<int>(port);
    }
  }
  o.spec_json = tree.dump();
  return o;
}

}  // namespace

StatusOr<OptimizeOptions> LoadStudySpec(std::string_view text, std::string_view origin,
                                        const SpecOverrides& overrides) {
  // YAML 1.2 reads JSON too, but JSON's own parser gives better messages.
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  StatusOr<Json> tree = json ? spec_internal::ParseJsonTree(text) : spec_internal::YamlToJson(text);
  if (!tree.ok()) return tree.status().WithContext(origin);
  SHERPA_RETURN_IF_ERROR(ApplyOverrides(*tree, overrides));
  StatusOr<OptimizeOptions> options = Build(*tree);
  if (!options.ok()) return options.status().WithContext(origin);
  return options;
}

StatusOr<std::string> PbtReplaySpec(std::string_view study_spec,
                                    const std::vector<PbtScheduleStep>& schedule,
                                    SpecFormat format) {
  StatusOr<Json> original = spec_internal::ParseJsonTree(study_spec);
  if (!original.ok()) return original.status().WithContext("the study's stored spec");
  if (!original->is_object()) return InvalidArgumentError("the study's stored spec is no mapping");
  Json out = Json::object();
  // What the trials need to run as in the study; not its output_dir (the
  // replay is a study of its own) nor its seed (the replay draws nothing).
  for (const char* key : {"parameters", "lower_is_better", "command", "scheduler", "trial_timeout",
                          "resubmit_failed_trials", "max_resubmits"}) {
    if (original->contains(key)) out[key] = (*original)[key];
  }
  out["max_concurrent"] = 1;
  Json steps = Json::array();
  for (const PbtScheduleStep& step : schedule) {
    Json parameters = Json::object();
    for (const auto& [name, value] : step.parameters) {
      if (value.is_int()) {
        parameters[name] = value.as_int();
      } else if (value.is_double()) {
        parameters[name] = value.as_number();
      } else {
        parameters[name] = value.as_string();
      }
    }
    steps.push_back(Json{{"generation", step.generation}, {"parameters", std::move(parameters)}});
  }
  out["algorithm"] =
      Json{{"name", "PopulationBasedTrainingReplay"}, {"schedule", std::move(steps)}};
  // Only a spec that loads is worth writing.
  SHERPA_RETURN_IF_ERROR(Build(out).status().WithContext("the replay spec"));
  if (format == SpecFormat::kJson) return out.dump(2) + "\n";
  // YAML: one line per field, list items one per line in flow style.
  std::string yaml;
  for (const auto& [key, value] : out.items()) {
    if (key == "algorithm") {
      yaml += "algorithm:\n  name: PopulationBasedTrainingReplay\n  schedule:\n";
      for (const Json& step : value["schedule"]) {
        yaml += "    - " + spec_internal::ToYamlFlow(step) + "\n";
      }
    } else if (value.is_array() && !value.empty()) {
      yaml += key + ":\n";
      for (const Json& item : value) yaml += "  - " + spec_internal::ToYamlFlow(item) + "\n";
    } else {
      yaml += key + ": " + spec_internal::ToYamlFlow(value) + "\n";
    }
  }
  return yaml;
}

StatusOr<OptimizeOptions> LoadStudySpecFile(const std::string& path,
                                            const SpecOverrides& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read study spec '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return LoadStudySpec(text.str(), path, overrides);
}

}  // namespace sherpa
