#include "sherpa/parameter.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace sherpa {
namespace {

std::string RangeText(const std::vector<Value>& range) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < range.size(); ++i) os << (i ? ", " : "") << range[i];
  os << "]";
  return os.str();
}

// Lists that mix integers and doubles are lists of doubles: [0.5, 1] means
// two numbers, not a typo. Strings and numbers never mix (Validate refuses).
std::vector<Value> PromoteMixedNumbers(std::vector<Value> values) {
  const bool has_double =
      std::any_of(values.begin(), values.end(), [](const Value& v) { return v.is_double(); });
  const bool has_string =
      std::any_of(values.begin(), values.end(), [](const Value& v) { return v.is_string(); });
  if (has_double && !has_string) {
    for (Value& v : values) v = Value(v.as_number());
  }
  return values;
}

}  // namespace

std::string_view ParameterTypeName(ParameterType type) {
  switch (type) {
    case ParameterType::kContinuous:
      return "continuous";
    case ParameterType::kDiscrete:
      return "discrete";
    case ParameterType::kChoice:
      return "choice";
    case ParameterType::kOrdinal:
      return "ordinal";
  }
  return "?";
}

std::string_view ScaleName(Scale scale) { return scale == Scale::kLog ? "log" : "linear"; }

Parameter::Parameter(std::string name, ParameterType type, Scale scale, std::vector<Value> range)
    : name_(std::move(name)), type_(type), scale_(scale), range_(std::move(range)) {}

Parameter Continuous(std::string name, std::array<double, 2> range, Scale scale) {
  return Parameter(std::move(name), ParameterType::kContinuous, scale,
                   {Value(range[0]), Value(range[1])});
}

Parameter Discrete(std::string name, std::array<int64_t, 2> range, Scale scale) {
  return Parameter(std::move(name), ParameterType::kDiscrete, scale,
                   {Value(range[0]), Value(range[1])});
}

Parameter Choice(std::string name, std::vector<Value> values) {
  return Parameter(std::move(name), ParameterType::kChoice, Scale::kLinear,
                   PromoteMixedNumbers(std::move(values)));
}

Parameter Ordinal(std::string name, std::vector<Value> values) {
  return Parameter(std::move(name), ParameterType::kOrdinal, Scale::kLinear,
                   PromoteMixedNumbers(std::move(values)));
}

Value::Type Parameter::value_type() const {
  switch (type_) {
    case ParameterType::kContinuous:
      return Value::Type::kDouble;
    case ParameterType::kDiscrete:
      return Value::Type::kInt;
    case ParameterType::kChoice:
    case ParameterType::kOrdinal:
      break;
  }
  return range_.empty() ? Value::Type::kString : range_[0].type();
}

Status Parameter::Validate() const {
  auto error = [this](const std::string& what) {
    return InvalidArgumentError(name_.empty() ? "a parameter has " + what
                                              : "parameter '" + name_ + "': " + what);
  };
  if (name_.empty()) return error("an empty name; give every parameter a name");
  if (is_numeric_range()) {
    if (range_.size() != 2) return error("range must be [lo, hi], got " + RangeText(range_));
    const double lo = lower(), hi = upper();
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
      return error("bounds must be finite numbers, got " + RangeText(range_));
    }
    if (lo >= hi) {
      return error("lower bound must be below upper bound, got " + RangeText(range_) +
                   "; for a fixed value use a choice with one value");
    }
    if (scale_ == Scale::kLog && lo <= 0) {
      return error("log scale needs bounds > 0, got " + RangeText(range_) +
                   "; use a linear scale or a positive lower bound");
    }
    return OkStatus();
  }
  const std::string kind(ParameterTypeName(type_));
  if (scale_ == Scale::kLog) return error("a " + kind + " parameter has no scale; remove 'log'");
  if (range_.empty()) return error("a " + kind + " parameter needs at least one value");
  const Value::Type first = range_[0].type();
  for (const Value& v : range_) {
    if (v.is_string() != (first == Value::Type::kString)) {
      return error("values mix strings and numbers in " + RangeText(range_) +
                   "; use all strings or all numbers");
    }
    if (v.is_double() && !std::isfinite(v.as_number())) {
      return error("values must be finite, got " + RangeText(range_));
    }
  }
  std::vector<Value> sorted = range_;
  std::sort(sorted.begin(), sorted.end());
  if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
    std::ostringstream os;
    os << "value " << *dup << " appears twice in " << RangeText(range_);
    return error(os.str());
  }
  return OkStatus();
}

Value Parameter::Sample(Rng& rng) const {
  switch (type_) {
    case ParameterType::kContinuous: {
      if (scale_ == Scale::kLog) {
        std::uniform_real_distribution<double> u(std::log(lower()), std::log(upper()));
        return std::clamp(std::exp(u(rng)), lower(), upper());
      }
      return std::uniform_real_distribution<double>(lower(), upper())(rng);
    }
    case ParameterType::kDiscrete: {
      const int64_t lo = range_[0].as_int(), hi = range_[1].as_int();
      if (scale_ == Scale::kLog) {
        // Uniform in log space over [lo, hi + 1) and floored, so each integer
        // gets the log-width of its own unit interval and hi is reachable.
        std::uniform_real_distribution<double> u(std::log(static_cast<double>(lo)),
                                                 std::log(static_cast<double>(hi) + 1.0));
        const auto v = static_cast<int64_t>(std::floor(std::exp(u(rng))));
        return std::clamp(v, lo, hi);
      }
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    }
    case ParameterType::kChoice:
    case ParameterType::kOrdinal:
      break;
  }
  std::uniform_int_distribution<size_t> pick(0, range_.size() - 1);
  return range_[pick(rng)];
}

bool Parameter::Contains(const Value& value) const {
  if (is_numeric_range()) {
    if (value.type() != value_type()) return false;
    const double v = value.as_number();
    return v >= lower() && v <= upper();
  }
  return std::find(range_.begin(), range_.end(), value) != range_.end();
}

StatusOr<ParameterSpace> ParameterSpace::Create(std::vector<Parameter> parameters) {
  ParameterSpace space;
  for (size_t i = 0; i < parameters.size(); ++i) {
    SHERPA_RETURN_IF_ERROR(parameters[i].Validate());
    auto [it, inserted] = space.index_.emplace(parameters[i].name(), i);
    if (!inserted) {
      return InvalidArgumentError("parameter '" + parameters[i].name() +
                                  "' is defined twice; give each parameter a unique name");
    }
  }
  space.parameters_ = std::move(parameters);
  return space;
}

const Parameter* ParameterSpace::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &parameters_[it->second];
}

ParameterValues ParameterSpace::Sample(Rng& rng) const {
  ParameterValues values;
  for (const Parameter& p : parameters_) values.emplace(p.name(), p.Sample(rng));
  return values;
}

}  // namespace sherpa
