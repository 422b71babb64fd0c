// -----------------------------------------------------------------------------
// File: value.h
// -----------------------------------------------------------------------------
//
// A `Value` is one hyperparameter or context value: an integer, a double or a
// string. The type is part of the value and survives every path (sampling,
// perturbation, the results table, JSON, YAML and CSV), so a `Discrete`
// parameter stays an integer through a hundred PBT generations and a string
// `Choice` never turns into a number.
//
// Integers and doubles are distinct: Value(1) != Value(1.0). Code that wants a
// number regardless of its type calls `as_number()`.

#ifndef SHERPA_VALUE_H_
#define SHERPA_VALUE_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <variant>

namespace sherpa {

class Value {
 public:
  enum class Type { kInt, kDouble, kString };

  Value() : v_(int64_t{0}) {}
  Value(int v) : v_(int64_t{v}) {}              // NOLINT: implicit, values are written as literals
  Value(int64_t v) : v_(v) {}                   // NOLINT
  Value(double v) : v_(v) {}                    // NOLINT
  Value(std::string v) : v_(std::move(v)) {}    // NOLINT
  Value(const char* v) : v_(std::string(v)) {}  // NOLINT

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_int() const { return type() == Type::kInt; }
  bool is_double() const { return type() == Type::kDouble; }
  bool is_number() const { return !is_string(); }
  bool is_string() const { return type() == Type::kString; }

  // REQUIRES: is_int().
  int64_t as_int() const { return std::get<int64_t>(v_); }
  // REQUIRES: is_number(). Integers are converted.
  double as_number() const {
    return is_int() ? static_cast<double>(std::get<int64_t>(v_)) : std::get<double>(v_);
  }
  // REQUIRES: is_string().
  const std::string& as_string() const { return std::get<std::string>(v_); }

  // The text form used in CSV files and logs: integers as digits, doubles as
  // the shortest text that reads back to the same double (always with a '.'
  // or an exponent, so "1.0" stays a double), strings as they are.
  std::string ToString() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  // Orders by type, then by value; lets Values be map keys and set members.
  friend bool operator<(const Value& a, const Value& b) { return a.v_ < b.v_; }

 private:
  std::variant<int64_t, double, std::string> v_;
};

std::ostream& operator<<(std::ostream& os, const Value& value);

// Returns "int", "double" or "string".
const char* TypeName(Value::Type type);

// Hyperparameter values of one trial, by parameter name. Ordered by name,
// which is also the column order of the results table.
using ParameterValues = std::map<std::string, Value, std::less<>>;

// Extra metrics reported with an observation (SHERPA's `context`).
using Context = std::map<std::string, Value, std::less<>>;

}  // namespace sherpa

#endif  // SHERPA_VALUE_H_
