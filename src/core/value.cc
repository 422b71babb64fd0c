#include "sherpa/value.h"

#include <charconv>
#include <cmath>
#include <ostream>

namespace sherpa {

std::string Value::ToString() const {
  switch (type()) {
    case Type::kInt:
      return std::to_string(as_int());
    case Type::kString:
      return as_string();
    case Type::kDouble:
      break;
  }
  const double d = std::get<double>(v_);
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string out(buf, end);
  // Keep the type visible in text: 1.0 must not read back as the integer 1.
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::ostream& operator<<(std::ostream& os, const Value& value) {
  if (value.is_string()) return os << '"' << value.as_string() << '"';
  return os << value.ToString();
}

const char* TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kInt:
      return "int";
    case Value::Type::kDouble:
      return "double";
    case Value::Type::kString:
      return "string";
  }
  return "?";
}

}  // namespace sherpa
