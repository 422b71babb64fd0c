#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "spec/json_tree.h"

#include "sherpa/parameter.h"
#include "sherpa/spec.h"
#include "sherpa/status.h"
#include "sherpa/value.h"

namespace sherpa {
namespace spec_internal {
namespace {

// Deeper documents are not parameter spaces; the limit keeps recursive
// consumers of the tree (and yaml-cpp's own recursion) far from the stack end.
constexpr int kMaxDepth = 256;
// YAML aliases can make a small text expand to an exponential tree.
constexpr size_t kMaxYamlNodes = 1'000'000;

constexpr std::string_view kTypeNames[] = {"continuous", "discrete", "choice", "ordinal"};
constexpr ParameterType kTypes[] = {ParameterType::kContinuous, ParameterType::kDiscrete,
                                    ParameterType::kChoice, ParameterType::kOrdinal};
constexpr std::string_view kScaleNames[] = {"linear", "log"};
constexpr std::string_view kParameterKeys[] = {"name", "type", "range", "scale"};

// Words people bring from other tuners (hyperopt, optuna, ray); no edit
// distance gets from them to ours.
struct Alias {
  std::string_view word;
  std::string_view meant;
};
constexpr Alias kKeyAliases[] = {
    {"values", "range"}, {"choices", "range"}, {"options", "range"}, {"bounds", "range"},
    {"domain", "range"}, {"low", "range"},     {"high", "range"},    {"min", "range"},
    {"max", "range"},    {"kind", "type"},     {"log", "scale"},
};
constexpr Alias kTypeAliases[] = {
    {"float", "continuous"},   {"real", "continuous"},       {"double", "continuous"},
    {"uniform", "continuous"}, {"loguniform", "continuous"}, {"int", "discrete"},
    {"integer", "discrete"},   {"randint", "discrete"},      {"categorical", "choice"},
    {"category", "choice"},    {"categories", "choice"},     {"ordered", "ordinal"},
};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: a swapped pair of letters ("scael")
// is one edit, the commonest typo.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string_view Suggest(std::string_view word, std::span<const std::string_view> candidates,
                         std::span<const Alias> aliases) {
  const std::string lower = ToLower(word);
  for (const Alias& alias : aliases) {
    if (alias.word == lower) return alias.meant;
  }
  return NearestName(word, candidates);
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Joins "unknown key 'x'" to the list of valid choices that follows it.
std::string DidYouMean(std::string_view suggestion) {
  return suggestion.empty() ? "; " : "; did you mean '" + std::string(suggestion) + "'? ";
}

std::string Quoted(std::string_view s) {
  constexpr size_t kMaxShown = 60;
  if (s.size() <= kMaxShown) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMaxShown)) + "...'";
}

Status CheckKeysImpl(const Json& object, std::string_view path,
                     std::span<const std::string_view> allowed, std::span<const Alias> aliases) {
  for (const auto& [key, unused] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    // At the top of a document there is no path to name.
    const std::string where = path.empty() ? std::string() : std::string(path) + ": ";
    return InvalidArgumentError(where + "unknown key " + Quoted(key) +
                                DidYouMean(Suggest(key, allowed, aliases)) +
                                "allowed keys: " + JoinNames(allowed));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------
// JSON text -> tree

// A SAX handler instead of json::parse, because the DOM parser silently keeps
// one of two repeated keys, and a repeated parameter in the mapping form
// would then vanish without a word.
class TreeBuilder : public nlohmann::json_sax<Json> {
 public:
  Json& root() { return root_; }
  const Status& error() const { return error_; }

  bool null() override { return Add(Json(nullptr)); }
  bool boolean(bool val) override { return Add(Json(val)); }
  bool number_integer(number_integer_t val) override { return Add(Json(val)); }
  bool number_unsigned(number_unsigned_t val) override {
    if (val <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Add(Json(static_cast<int64_t>(val)));
    }
    return Add(Json(val));
  }
  bool number_float(number_float_t val, const string_t& /*text*/) override {
    return Add(Json(val));
  }
  bool string(string_t& val) override { return Add(Json(std::move(val))); }
  bool binary(binary_t& /*val*/) override {
    error_ = InvalidArgumentError("invalid JSON: binary values are not supported");
    return false;
  }
  bool start_object(std::size_t /*elements*/) override { return Open(Json::object()); }
  bool key(string_t& val) override {
    Frame& top = stack_.back();
    if (top.node->contains(val)) {
      error_ = InvalidArgumentError(
          "invalid JSON: key " + Quoted(val) + " appears twice in " +
          (top.path.empty() ? std::string("the top-level object") : "the object at " + top.path));
      return false;
    }
    key_ = std::move(val);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override { return Open(Json::array()); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 3: syntax error ..."; keep the part a user can act on.
    std::string_view what = ex.what();
    if (size_t at = what.find("at line"); at != std::string_view::npos) {
      what.remove_prefix(at);
    } else if (size_t bracket = what.find("] "); bracket != std::string_view::npos) {
      what.remove_prefix(bracket + 2);
    }
    error_ = InvalidArgumentError("invalid JSON " + std::string(what));
    return false;
  }

 private:
  struct Frame {
    Json* node;
    std::string path;
  };

  // Adds `value` to the open container (or makes it the root) and returns
  // where it now lives.
  Json* Place(Json value, std::string* path) {
    if (stack_.empty()) {
      root_ = std::move(value);
      path->clear();
      return &root_;
    }
    Frame& top = stack_.back();
    if (top.node->is_array()) {
      *path = top.path + "[" + std::to_string(top.node->size()) + "]";
      top.node->push_back(std::move(value));
      return &top.node->back();
    }
    *path = KeyPath(top.path, key_);
    Json& slot = (*top.node)[key_];
    slot = std::move(value);
    return &slot;
  }
  bool Add(Json value) {
    std::string path;
    Place(std::move(value), &path);
    return true;
  }
  bool Open(Json container) {
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      error_ = InvalidArgumentError("invalid JSON: nested deeper than " +
                                    std::to_string(kMaxDepth) + " levels");
      return false;
    }
    std::string path;
    Json* node = Place(std::move(container), &path);
    stack_.push_back({node, std::move(path)});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  Json root_;
  std::vector<Frame> stack_;
  std::string key_;
  Status error_;
};

// ---------------------------------------------------------------------------
// YAML text -> tree

std::string At(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return " at line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1);
}

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), s) != words.end();
}

bool IsTrueWord(std::string_view s) {
  return IsOneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"});
}
bool IsFalseWord(std::string_view s) {
  return IsOneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"});
}
bool IsNullWord(std::string_view s) { return IsOneOf(s, {"", "~", "null", "Null", "NULL"}); }

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                               : (c >= '0' && c < static_cast<char>('0' + std::min(base, 10)));
    if (!ok) return false;
  }
  return true;
}

// YAML text is Unicode; yaml-cpp passes other bytes through, and the tree
// (the stored spec, every JSON dump of it) must hold UTF-8 only.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (size_t k = 1; k <= n; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond Unicode.
    constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[n] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return false;
    i += n + 1;
  }
  return true;
}

// YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloatForm(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const size_t int_digits = digits();
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// How a plain (unquoted) scalar reads; see YamlToJson in json_tree.h.
StatusOr<Json> ResolvePlain(std::string_view s, const YAML::Mark& mark) {
  if (IsNullWord(s)) return Json(nullptr);
  if (IsTrueWord(s)) return Json(true);
  if (IsFalseWord(s)) return Json(false);

  std::string_view body = s;
  const bool negative = !body.empty() && body[0] == '-';
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  int base = 10;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o')) {
    base = body[1] == 'x' ? 16 : 8;
    body.remove_prefix(2);
  }
  if (AllDigits(body, base)) {
    uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), magnitude, base);
    constexpr uint64_t kMaxPositive = std::numeric_limits<int64_t>::max();
    if (ec == std::errc() && end == body.data() + body.size() &&
        magnitude <= kMaxPositive + (negative ? 1 : 0)) {
      // Two's complement negation in unsigned arithmetic, so INT64_MIN works.
      return Json(negative ? static_cast<int64_t>(~magnitude + 1)
                           : static_cast<int64_t>(magnitude));
    }
    return InvalidArgumentError("invalid YAML" + At(mark) + ": integer " + std::string(s) +
                                " is out of the 64-bit range");
  }

  if (IsFloatForm(s)) {
    std::string_view digits = s;
    if (digits[0] == '+') digits.remove_prefix(1);  // from_chars refuses '+'
    double d = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec == std::errc() && end == digits.data() + digits.size()) return Json(d);
    return InvalidArgumentError("invalid YAML" + At(mark) + ": number " + std::string(s) +
                                " is out of the range of a double");
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (IsOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return Json(kInf);
  if (IsOneOf(s, {"-.inf", "-.Inf", "-.INF"})) return Json(-kInf);
  if (IsOneOf(s, {".nan", ".NaN", ".NAN"})) return Json(std::numeric_limits<double>::quiet_NaN());
  return Json(std::string(s));
}

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";

struct YamlConverter {
  size_t nodes = 0;

  static Status NotUtf8(const YAML::Mark& mark) {
    return InvalidArgumentError("invalid YAML" + At(mark) +
                                ": text that is not UTF-8; save the file as UTF-8");
  }

  Status Convert(const YAML::Node& node, Json& out, int depth) {
    if (++nodes > kMaxYamlNodes) {
      return InvalidArgumentError("invalid YAML: the document expands to more than " +
                                  std::to_string(kMaxYamlNodes) + " nodes (through aliases?)");
    }
    if (depth > kMaxDepth) {
      return InvalidArgumentError("invalid YAML" + At(node.Mark()) + ": nested deeper than " +
                                  std::to_string(kMaxDepth) + " levels");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out = nullptr;
        return OkStatus();
      case YAML::NodeType::Scalar: {
        if (!IsUtf8(node.Scalar())) return NotUtf8(node.Mark());
        const std::string& tag = node.Tag();
        // "!" marks a quoted scalar: the user asked for a string.
        if (tag == "!" || tag == kStrTag) {
          out = node.Scalar();
          return OkStatus();
        }
        SHERPA_ASSIGN_OR_RETURN(out, ResolvePlain(node.Scalar(), node.Mark()));
        if (tag == kFloatTag && out.is_number_integer()) out = out.get<double>();
        return OkStatus();
      }
      case YAML::NodeType::Sequence: {
        out = Json::array();
        for (const YAML::Node& element : node) {
          Json converted;
          SHERPA_RETURN_IF_ERROR(Convert(element, converted, depth + 1));
          out.push_back(std::move(converted));
        }
        return OkStatus();
      }
      case YAML::NodeType::Map: {
        out = Json::object();
        for (const auto& pair : node) {
          const YAML::Node& key = pair.first;
          if (!key.IsScalar()) {
            return InvalidArgumentError("invalid YAML" + At(key.Mark()) +
                                        ": mapping keys must be plain text");
          }
          if (!IsUtf8(key.Scalar())) return NotUtf8(key.Mark());
          if (out.contains(key.Scalar())) {
            return InvalidArgumentError("invalid YAML" + At(key.Mark()) + ": key " +
                                        Quoted(key.Scalar()) + " appears twice in one mapping");
          }
          Json converted;
          SHERPA_RETURN_IF_ERROR(Convert(pair.second, converted, depth + 1));
          out[key.Scalar()] = std::move(converted);
        }
        return OkStatus();
      }
    }
    return InternalError("unknown YAML node type");
  }
};

// ---------------------------------------------------------------------------
// Tree -> text

bool IsReservedPlainWord(std::string_view s) {
  // y/n are booleans to YAML 1.1 readers other than ours; quoting them costs
  // nothing and keeps the file portable.
  return IsNullWord(s) || IsTrueWord(s) || IsFalseWord(s) || IsOneOf(s, {"y", "Y", "n", "N"});
}

bool IsPlainSafe(std::string_view s) {
  if (s.empty() || IsReservedPlainWord(s)) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == '/';
  });
}

std::string YamlString(std::string_view s) {
  if (IsPlainSafe(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string JsonScalar(const Json& node) {
  return node.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// nlohmann's form (0.0001 rather than 1e-04, always a '.' or an exponent) so
// YAML and JSON files show the same numbers; YAML adds the non-finite values
// JSON lacks.
std::string YamlDouble(double d) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  return JsonScalar(Json(d));
}

// ---------------------------------------------------------------------------
// Tree -> ParameterSpace

StatusOr<double> NumberAt(const Json& node, const std::string& path) {
  if (!node.is_number()) {
    return InvalidArgumentError(path + ": expected a number, got " + Describe(node));
  }
  return node.get<double>();
}

StatusOr<int64_t> IntegerAt(const Json& node, const std::string& path) {
  if (node.is_number_unsigned()) {
    return InvalidArgumentError(path + ": integer " + JsonScalar(node) +
                                " is out of the 64-bit range");
  }
  if (node.is_number_integer()) return node.get<int64_t>();
  if (node.is_number_float()) {
    const double d = node.get<double>();
    if (std::isfinite(d) && d != std::trunc(d)) {
      return InvalidArgumentError(path + ": a discrete range needs integers, got " + YamlDouble(d) +
                                  "; use a continuous parameter for fractional values");
    }
    // 2^63 is exactly representable; every double below it in magnitude
    // converts without overflow.
    constexpr double kTwoTo63 = 9223372036854775808.0;
    if (!std::isfinite(d) || d >= kTwoTo63 || d < -kTwoTo63) {
      return InvalidArgumentError(path + ": " + YamlDouble(d) +
                                  " is out of the 64-bit integer range");
    }
    return static_cast<int64_t>(d);
  }
  return InvalidArgumentError(path + ": expected an integer, got " + Describe(node));
}

// "a choice", "an ordinal".
std::string WithArticle(std::string_view word) {
  const bool vowel =
      !word.empty() && std::string_view("aeiou").find(word[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(word);
}

StatusOr<Value> ListValueAt(const Json& node, const std::string& path, std::string_view kind) {
  const std::string where = "in " + WithArticle(kind) + " list";
  switch (node.type()) {
    case Json::value_t::number_integer:
      return Value(node.get<int64_t>());
    case Json::value_t::number_unsigned:
      return InvalidArgumentError(path + ": integer " + JsonScalar(node) +
                                  " is out of the 64-bit range");
    case Json::value_t::number_float:
      return Value(node.get<double>());
    case Json::value_t::string:
      return Value(node.get<std::string>());
    case Json::value_t::boolean:
      return InvalidArgumentError(
          path + ": booleans are not supported " + where + ", got " + Describe(node) +
          "; quote the value to make it a string (unquoted yes/no/on/off are booleans in YAML "
          "too), or use 0 and 1");
    case Json::value_t::null:
      return InvalidArgumentError(path + ": null is not supported " + where +
                                  " (unquoted null, ~ and empty entries are null in YAML); "
                                  "quote the value to make it a string");
    case Json::value_t::array:
      return InvalidArgumentError(path + ": nested lists are not supported " + where +
                                  "; every value must be a number or a string");
    case Json::value_t::object:
      return InvalidArgumentError(path + ": mappings are not supported " + where +
                                  "; every value must be a number or a string");
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return InvalidArgumentError(path + ": expected a number or a string, got " + Describe(node));
}

std::string RangeHint(ParameterType type) {
  switch (type) {
    case ParameterType::kContinuous:
      return "[lo, hi] with numbers";
    case ParameterType::kDiscrete:
      return "[lo, hi] with integers";
    case ParameterType::kChoice:
    case ParameterType::kOrdinal:
      break;
  }
  return "a list of values";
}

// `path` locates the entry ("parameters[2]"); `key_name` is set for the
// mapping form, where the name is the key.
StatusOr<Parameter> ParameterFromEntry(const Json& entry, const std::string& path,
                                       const std::string* key_name) {
  if (!entry.is_object()) {
    return InvalidArgumentError(path + ": expected a mapping {name, type, range[, scale]}, got " +
                                Describe(entry));
  }
  // The name labels every later message, so it is read first.
  std::string name;
  std::string label = path;
  const auto name_it = entry.find("name");
  if (key_name != nullptr) {
    name = *key_name;
    if (name_it != entry.end() && !(name_it->is_string() && *name_it == name)) {
      return InvalidArgumentError(path + ".name: differs from the key " + Quoted(name) +
                                  " the parameter is listed under, got " + Describe(*name_it) +
                                  "; remove 'name' or make them equal");
    }
  } else if (name_it != entry.end() && name_it->is_string() &&
             !name_it->get_ref<const std::string&>().empty()) {
    name = name_it->get<std::string>();
    label = path + " (" + Quoted(name) + ")";
  }
  SHERPA_RETURN_IF_ERROR(CheckKeysImpl(entry, label, kParameterKeys, kKeyAliases));
  if (key_name == nullptr) {
    if (name_it == entry.end()) {
      return InvalidArgumentError(path + ": missing key 'name'; every parameter needs one");
    }
    if (!name_it->is_string()) {
      return InvalidArgumentError(path + ".name: expected a string, got " + Describe(*name_it));
    }
    // An empty name is left to Parameter::Validate, which explains it.
  }

  const auto type_it = entry.find("type");
  if (type_it == entry.end()) {
    return InvalidArgumentError(label +
                                ": missing key 'type'; valid types: " + JoinNames(kTypeNames));
  }
  if (!type_it->is_string()) {
    return InvalidArgumentError(label + ".type: expected one of " + JoinNames(kTypeNames) +
                                ", got " + Describe(*type_it));
  }
  const std::string& type_name = type_it->get_ref<const std::string&>();
  const auto type_pos = std::find(std::begin(kTypeNames), std::end(kTypeNames), type_name);
  if (type_pos == std::end(kTypeNames)) {
    return InvalidArgumentError(label + ".type: unknown type " + Quoted(type_name) +
                                DidYouMean(Suggest(type_name, kTypeNames, kTypeAliases)) +
                                "valid types: " + JoinNames(kTypeNames));
  }
  const ParameterType type = kTypes[type_pos - std::begin(kTypeNames)];
  const bool numeric = type == ParameterType::kContinuous || type == ParameterType::kDiscrete;

  Scale scale = Scale::kLinear;
  if (const auto scale_it = entry.find("scale"); scale_it != entry.end()) {
    const std::string scale_path = label + ".scale";
    if (!scale_it->is_string()) {
      return InvalidArgumentError(scale_path + ": expected linear or log, got " +
                                  Describe(*scale_it));
    }
    const std::string& scale_name = scale_it->get_ref<const std::string&>();
    if (scale_name == "log") {
      scale = Scale::kLog;
    } else if (scale_name != "linear") {
      return InvalidArgumentError(scale_path + ": unknown scale " + Quoted(scale_name) +
                                  DidYouMean(NearestName(scale_name, kScaleNames)) +
                                  "valid scales: linear, log");
    }
    if (!numeric && scale == Scale::kLog) {
      return InvalidArgumentError(scale_path + ": " + WithArticle(type_name) +
                                  " parameter has no log scale (only continuous and discrete "
                                  "ones do); remove 'scale'");
    }
  }

  const auto range_it = entry.find("range");
  if (range_it == entry.end()) {
    return InvalidArgumentError(label + ": missing key 'range'; " + WithArticle(type_name) +
                                " parameter needs " + RangeHint(type));
  }
  const Json& range = *range_it;
  const std::string range_path = label + ".range";
  if (!range.is_array()) {
    return InvalidArgumentError(range_path + ": expected " + RangeHint(type) + ", got " +
                                Describe(range));
  }
  auto element_path = [&](size_t i) { return range_path + "[" + std::to_string(i) + "]"; };

  if (numeric && range.size() != 2) {
    return InvalidArgumentError(range_path + ": " + WithArticle(type_name) + " range is " +
                                RangeHint(type) + ", got a list of " +
                                std::to_string(range.size()) +
                                (range.size() == 1 ? " value" : " values"));
  }
  switch (type) {
    case ParameterType::kContinuous: {
      SHERPA_ASSIGN_OR_RETURN(const double lo, NumberAt(range[0], element_path(0)));
      SHERPA_ASSIGN_OR_RETURN(const double hi, NumberAt(range[1], element_path(1)));
      return Continuous(std::move(name), {lo, hi}, scale);
    }
    case ParameterType::kDiscrete: {
      SHERPA_ASSIGN_OR_RETURN(const int64_t lo, IntegerAt(range[0], element_path(0)));
      SHERPA_ASSIGN_OR_RETURN(const int64_t hi, IntegerAt(range[1], element_path(1)));
      return Discrete(std::move(name), {lo, hi}, scale);
    }
    case ParameterType::kChoice:
    case ParameterType::kOrdinal:
      break;
  }
  std::vector<Value> values;
  values.reserve(range.size());
  for (size_t i = 0; i < range.size(); ++i) {
    SHERPA_ASSIGN_OR_RETURN(Value v, ListValueAt(range[i], element_path(i), type_name));
    values.push_back(std::move(v));
  }
  if (type == ParameterType::kChoice) return Choice(std::move(name), std::move(values));
  return Ordinal(std::move(name), std::move(values));
}

// True for a mapping that is one parameter rather than a mapping of them: the
// user forgot the list dash.
bool LooksLikeOneParameter(const Json& object) {
  for (std::string_view key : {"type", "name", "range"}) {
    const auto it = object.find(key);
    if (it != object.end() && !it->is_object()) return true;
  }
  return false;
}

Json ValueToJson(const Value& v) {
  switch (v.type()) {
    case Value::Type::kInt:
      return Json(v.as_int());
    case Value::Type::kDouble:
      return Json(v.as_number());
    case Value::Type::kString:
      return Json(v.as_string());
  }
  return Json();
}

}  // namespace

StatusOr<Json> ParseJsonTree(std::string_view text) {
  TreeBuilder builder;
  try {
    const bool ok = Json::sax_parse(text.data(), text.data() + text.size(), &builder);
    if (!ok) {
      if (!builder.error().ok()) return builder.error();
      return InvalidArgumentError("invalid JSON");
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("invalid JSON: ") + e.what());
  }
  return std::move(builder.root());
}

StatusOr<Json> YamlToJson(std::string_view text) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    Json out;
    YamlConverter converter;
    SHERPA_RETURN_IF_ERROR(converter.Convert(root, out, 0));
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("invalid YAML" + At(e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InternalError(std::string("reading YAML failed: ") + e.what());
  }
}

StatusOr<ParameterSpace> ParametersFromJson(const Json& tree, std::string_view path) {
  const std::string base(path);
  std::vector<Parameter> parameters;
  std::vector<std::string> paths;
  if (tree.is_array()) {
    for (size_t i = 0; i < tree.size(); ++i) {
      paths.push_back(base + "[" + std::to_string(i) + "]");
      SHERPA_ASSIGN_OR_RETURN(Parameter p, ParameterFromEntry(tree[i], paths.back(), nullptr));
      parameters.push_back(std::move(p));
    }
  } else if (tree.is_object()) {
    if (LooksLikeOneParameter(tree)) {
      return InvalidArgumentError(
          base +
          ": expected a list of parameters, got a single parameter mapping; write it as "
          "a list item: - {name: ..., type: ..., range: ...}");
    }
    for (const auto& [key, entry] : tree.items()) {
      paths.push_back(KeyPath(base, key));
      SHERPA_ASSIGN_OR_RETURN(Parameter p, ParameterFromEntry(entry, paths.back(), &key));
      parameters.push_back(std::move(p));
    }
  } else {
    return InvalidArgumentError(
        base + ": expected a list of parameters ({name, type, range[, scale]} mappings), got " +
        (tree.is_null() ? std::string("nothing") : Describe(tree)));
  }
  // Create validates too, but cannot say which entry of the document failed.
  for (size_t i = 0; i < parameters.size(); ++i) {
    SHERPA_RETURN_IF_ERROR(parameters[i].Validate().WithContext(paths[i]));
  }
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) return space.status().WithContext(base);
  return space;
}

Json ParametersToJsonTree(const ParameterSpace& space) {
  Json list = Json::array();
  for (const Parameter& p : space) {
    Json entry = Json::object();
    entry["name"] = p.name();
    entry["type"] = std::string(ParameterTypeName(p.type()));
    Json range = Json::array();
    for (const Value& v : p.range()) range.push_back(ValueToJson(v));
    entry["range"] = std::move(range);
    if (p.is_numeric_range()) entry["scale"] = std::string(ScaleName(p.scale()));
    list.push_back(std::move(entry));
  }
  return list;
}

std::string ToJsonLine(const Json& tree) {
  std::string out;
  if (tree.is_array()) {
    out = "[";
    for (size_t i = 0; i < tree.size(); ++i) out += (i ? ", " : "") + ToJsonLine(tree[i]);
    return out + "]";
  }
  if (tree.is_object()) {
    out = "{";
    for (const auto& [key, value] : tree.items()) {
      if (out.size() > 1) out += ", ";
      out += JsonScalar(Json(key)) + ": " + ToJsonLine(value);
    }
    return out + "}";
  }
  return JsonScalar(tree);
}

std::string ToYamlFlow(const Json& tree) {
  switch (tree.type()) {
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < tree.size(); ++i) out += (i ? ", " : "") + ToYamlFlow(tree[i]);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      for (const auto& [key, value] : tree.items()) {
        if (out.size() > 1) out += ", ";
        out += YamlString(key) + ": " + ToYamlFlow(value);
      }
      return out + "}";
    }
    case Json::value_t::string:
      return YamlString(tree.get_ref<const std::string&>());
    case Json::value_t::number_float:
      return YamlDouble(tree.get<double>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::boolean:
      return JsonScalar(tree);
    case Json::value_t::null:
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "null";
}

std::string Describe(const Json& node) {
  switch (node.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return std::string("boolean ") + (node.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer " + JsonScalar(node);
    case Json::value_t::number_float:
      return "number " + YamlDouble(node.get<double>());
    case Json::value_t::string:
      return "string " + Quoted(node.get_ref<const std::string&>());
    case Json::value_t::array:
      return "a list";
    case Json::value_t::object:
      return "a mapping";
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "an unsupported value";
}

std::string KeyPath(std::string_view path, std::string_view key) {
  const bool identifier =
      !key.empty() && (std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_') &&
      std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (identifier)
    return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
  return std::string(path) + "[" + JsonScalar(Json(std::string(key))) + "]";
}

std::string_view NearestName(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string lower = ToLower(word);
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    // Case-insensitive: 'populationbasedtraining' is a typo too.
    const size_t d = EditDistance(lower, ToLower(candidate));
    // Short names tolerate one edit, longer ones two; beyond that the
    // "suggestion" is noise.
    const size_t limit = candidate.size() <= 4 ? 1 : 2;
    if (d <= limit && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

Status CheckKeys(const Json& object, std::string_view path,
                 std::span<const std::string_view> allowed) {
  return CheckKeysImpl(object, path, allowed, {});
}

}  // namespace spec_internal

StatusOr<ParameterSpace> ParseParametersJson(std::string_view text) {
  SHERPA_ASSIGN_OR_RETURN(const spec_internal::Json tree, spec_internal::ParseJsonTree(text));
  return spec_internal::ParametersFromJson(tree, "parameters");
}

StatusOr<ParameterSpace> ParseParametersYaml(std::string_view text) {
  SHERPA_ASSIGN_OR_RETURN(const spec_internal::Json tree, spec_internal::YamlToJson(text));
  return spec_internal::ParametersFromJson(tree, "parameters");
}

std::string ParametersToJson(const ParameterSpace& space) {
  if (space.empty()) return "[]\n";
  const spec_internal::Json tree = spec_internal::ParametersToJsonTree(space);
  std::string out = "[\n";
  for (size_t i = 0; i < tree.size(); ++i) {
    out += "  " + spec_internal::ToJsonLine(tree[i]) + (i + 1 < tree.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

std::string ParametersToYaml(const ParameterSpace& space) {
  if (space.empty()) return "[]\n";
  std::string out;
  for (const spec_internal::Json& entry : spec_internal::ParametersToJsonTree(space)) {
    out += "- " + spec_internal::ToYamlFlow(entry) + "\n";
  }
  return out;
}

}  // namespace sherpa
