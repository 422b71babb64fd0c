// SHERPA's Iterate: a fixed list of configurations, e.g. known-good settings
// to start a Chain with, or the configurations of an earlier study to run
// again.
#include <string>
#include <utility>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

class IterateAlgorithm final : public Algorithm {
 public:
  explicit IterateAlgorithm(std::vector<ParameterValues> hp_iter) : hp_iter_(std::move(hp_iter)) {}

  std::string_view name() const override { return "Iterate"; }

  StatusOr<Suggestion> suggest(const SuggestContext& /*context*/) override {
    if (next_ == hp_iter_.size()) return Suggestion::Done();
    return Suggestion::Of(Trial{0, hp_iter_[next_++]});
  }

 private:
  std::vector<ParameterValues> hp_iter_;
  size_t next_ = 0;
};

// Makes `values` hold exactly the space's parameters with values inside
// their ranges; an integer for a continuous parameter becomes a double (YAML
// and JSON write 1 for 1.0).
Status CheckConfiguration(const ParameterSpace& space, size_t index, ParameterValues& values) {
  const std::string where = "Iterate: hp_iter[" + std::to_string(index) + "]";
  for (const auto& [name, value] : values) {
    if (space.Find(name) == nullptr) {
      return InvalidArgumentError(where + " sets '" + name +
                                  "', which is not a parameter of the study");
    }
  }
  for (const Parameter& p : space) {
    auto it = values.find(p.name());
    if (it == values.end()) {
      return InvalidArgumentError(where + " gives no value for parameter '" + p.name() +
                                  "'; every configuration must set every parameter");
    }
    Value& value = it->second;
    if (value.is_int() && p.value_type() == Value::Type::kDouble) value = Value(value.as_number());
    if (!p.Contains(value)) {
      std::string allowed;
      if (p.is_numeric_range()) {
        allowed = std::string(TypeName(p.value_type())) + " in [" + p.range()[0].ToString() + ", " +
                  p.range()[1].ToString() + "]";
      } else {
        allowed = "one of";
        for (const Value& v : p.range()) allowed += " " + v.ToString();
      }
      return InvalidArgumentError(where + "['" + p.name() + "'] = " + value.ToString() + " (" +
                                  TypeName(value.type()) + ") is not a value of the " +
                                  std::string(ParameterTypeName(p.type())) +
                                  " parameter; expected " + allowed);
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> Iterate(const ParameterSpace& space,
                                             std::vector<ParameterValues> hp_iter) {
  if (hp_iter.empty()) {
    return InvalidArgumentError("Iterate: hp_iter must list at least one configuration");
  }
  for (size_t i = 0; i < hp_iter.size(); ++i) {
    SHERPA_RETURN_IF_ERROR(CheckConfiguration(space, i, hp_iter[i]));
  }
  return std::unique_ptr<Algorithm>(std::make_unique<IterateAlgorithm>(std::move(hp_iter)));
}

}  // namespace sherpa
