// Study spec files: the whole runner configuration, checked field by field
// before anything runs.
#include "sherpa/study_spec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

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
StatusOr<int64_t> ReadInt(const Json& node, const std::string& path, int64_t minimum) {
  if (node.is_number_integer() &&
      !(node.is_number_unsigned() && node.get<uint64_t>() > uint64_t{INT64_MAX})) {
    const auto v = node.get<int64_t>();
    if (v >= minimum) return v;
  }
  return Expected(path, "an integer >= " + std::to_string(minimum), node);
}

StatusOr<double> ReadNumber(const Json& node, const std::string& path) {
  if (node.is_number()) return node.get<double>();
  return Expected(path, "a number", node);
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
    if (!v->is_array()) return Expected(path + ".perturbation_factors", "a list of numbers", *v);
    o.perturbation_factors.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      SHERPA_ASSIGN_OR_RETURN(
          double f, ReadNumber((*v)[i], path + ".perturbation_factors[" + std::to_string(i) + "]"));
      o.perturbation_factors.push_back(f);
    }
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

StatusOr<std::unique_ptr<Algorithm>> BuildAlgorithm(const Json& node, const ParameterSpace& space) {
  const std::string path = "algorithm";
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
    static constexpr std::array<std::string_view, 7> kKeys = {
        "name",    "population_size",      "num_generations",     "parameter_range",
        "exploit", "perturbation_factors", "resample_probability"};
    SHERPA_RETURN_IF_ERROR(CheckKeys(args, path, kKeys));
    PopulationBasedTrainingOptions o;
    SHERPA_RETURN_IF_ERROR(ReadPbtArgs(args, path, "parameter_range", space, o));
    built = PopulationBasedTraining(space, std::move(o));
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
    static constexpr std::array<std::string_view, 6> kKnown = {
        "RandomSearch", "GridSearch",           "PopulationBasedTraining",
        "PB2",          "BayesianOptimization", "GPyOpt"};
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
    if (!(seconds >= 0)) return Expected(path + ".kill_grace", "seconds >= 0", *v);
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
  static constexpr std::array<std::string_view, 15> kKeys = {"parameters",
                                                             "algorithm",
                                                             "lower_is_better",
                                                             "command",
                                                             "max_concurrent",
                                                             "output_dir",
                                                             "scheduler",
                                                             "stopping_rule",
                                                             "seed",
                                                             "resubmit_failed_trials",
                                                             "trial_timeout",
                                                             "checkpoint_gc",
                                                             "server",
                                                             "max_resubmits",
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
    SHERPA_ASSIGN_OR_RETURN(int64_t n, ReadInt(*v, "max_resubmits", 0));
    o.max_resubmits = static_cast<int>(n);
  }
  if (auto v = tree.find("trial_timeout"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(int64_t seconds, ReadInt(*v, "trial_timeout", 0));
    o.trial_timeout = std::chrono::seconds(seconds);
  }
  if (auto v = tree.find("checkpoint_gc"); v != tree.end()) {
    SHERPA_ASSIGN_OR_RETURN(o.checkpoint_gc, ReadBool(*v, "checkpoint_gc"));
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

StatusOr<OptimizeOptions> LoadStudySpecFile(const std::string& path,
                                            const SpecOverrides& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read study spec '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return LoadStudySpec(text.str(), path, overrides);
}

}  // namespace sherpa
