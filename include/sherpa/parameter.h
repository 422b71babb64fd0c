// -----------------------------------------------------------------------------
// File: parameter.h
// -----------------------------------------------------------------------------
//
// The search space of a study: SHERPA's four parameter kinds.
//
//   Continuous("lr", {1e-4, 1e-1}, Scale::kLog)     doubles in [lo, hi]
//   Discrete("layers", {1, 8})                      integers in [lo, hi], both inclusive
//   Choice("activation", {"relu", "tanh"})          unordered; PBT resamples it
//   Ordinal("batch_size", {16, 32, 64, 128})        ordered; PBT moves one step
//
// The factory functions only record what they are given. `ParameterSpace::
// Create` validates the whole space at once and refuses anything wrong with a
// message that names the parameter and the fix: an empty or repeated name,
// lo >= hi, a log scale with a bound <= 0, an empty list, a list that mixes
// strings and numbers. Lists that mix integers and doubles hold doubles.
//
// Unlike SHERPA, a Discrete range includes its upper bound when sampled
// (SHERPA's sampler excluded it while its grid search included it).
//
// Thread safety: Parameter and ParameterSpace are immutable values.

#ifndef SHERPA_PARAMETER_H_
#define SHERPA_PARAMETER_H_

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sherpa/status.h"
#include "sherpa/value.h"

namespace sherpa {

// The one random generator type of the library. A study owns one, seeded
// once; algorithms borrow it and never create their own, so a seed
// reproduces a whole study.
using Rng = std::mt19937_64;

enum class ParameterType { kContinuous, kDiscrete, kChoice, kOrdinal };
enum class Scale { kLinear, kLog };

// "continuous", "discrete", "choice", "ordinal" / "linear", "log": the
// spellings of SHERPA's dict form.
std::string_view ParameterTypeName(ParameterType type);
std::string_view ScaleName(Scale scale);

class Parameter {
 public:
  const std::string& name() const { return name_; }
  ParameterType type() const { return type_; }
  Scale scale() const { return scale_; }

  // Continuous and Discrete: the bounds (doubles resp. integers).
  // Choice and Ordinal: the list of values.
  // This is SHERPA's `range`.
  const std::vector<Value>& range() const { return range_; }

  bool is_numeric_range() const {
    return type_ == ParameterType::kContinuous || type_ == ParameterType::kDiscrete;
  }
  // REQUIRES: is_numeric_range().
  double lower() const { return range_[0].as_number(); }
  double upper() const { return range_[1].as_number(); }

  // The type every value of this parameter has.
  Value::Type value_type() const;

  // OK, or INVALID_ARGUMENT naming this parameter and what is wrong.
  Status Validate() const;

  // Draws a value from the parameter's own range.
  // REQUIRES: Validate().ok().
  Value Sample(Rng& rng) const;

  // True if `value` has this parameter's type and lies in its range or list.
  bool Contains(const Value& value) const;

 private:
  friend Parameter Continuous(std::string, std::array<double, 2>, Scale);
  friend Parameter Discrete(std::string, std::array<int64_t, 2>, Scale);
  friend Parameter Choice(std::string, std::vector<Value>);
  friend Parameter Ordinal(std::string, std::vector<Value>);
  Parameter(std::string name, ParameterType type, Scale scale, std::vector<Value> range);

  std::string name_;
  ParameterType type_;
  Scale scale_;
  std::vector<Value> range_;
};

Parameter Continuous(std::string name, std::array<double, 2> range, Scale scale = Scale::kLinear);
Parameter Discrete(std::string name, std::array<int64_t, 2> range, Scale scale = Scale::kLinear);
Parameter Choice(std::string name, std::vector<Value> values);
Parameter Ordinal(std::string name, std::vector<Value> values);

// A validated, ordered set of parameters with unique names.
class ParameterSpace {
 public:
  // An empty space (a study may tune nothing, e.g. PBT over seeds only).
  ParameterSpace() = default;

  // Validates every parameter and the set as a whole. The first error found
  // is returned, e.g. INVALID_ARGUMENT "parameter 'lr': log scale needs
  // bounds > 0, got [0, 1]; use a linear scale or a positive lower bound".
  static StatusOr<ParameterSpace> Create(std::vector<Parameter> parameters);

  size_t size() const { return parameters_.size(); }
  bool empty() const { return parameters_.empty(); }
  std::vector<Parameter>::const_iterator begin() const { return parameters_.begin(); }
  std::vector<Parameter>::const_iterator end() const { return parameters_.end(); }
  const Parameter& operator[](size_t i) const { return parameters_[i]; }

  // Returns the parameter called `name`, or nullptr.
  const Parameter* Find(std::string_view name) const;

  // One value for every parameter, each drawn from its own range.
  ParameterValues Sample(Rng& rng) const;

 private:
  std::vector<Parameter> parameters_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace sherpa

#endif  // SHERPA_PARAMETER_H_
