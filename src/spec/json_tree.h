// Internal to the spec module and its users (the runner's study-spec parser):
// the document tree behind sherpa/spec.h.
//
// YAML and JSON are both read into one nlohmann::ordered_json tree, so there
// is a single validation path and a single set of error messages. The tree is
// ordered because parameter order is meaningful (grid order, results columns)
// and error messages should follow the order the user wrote.
//
// Paths in messages look like `parameters[2].range[0]` or `study.algorithm`:
// callers pass the path of the node they hand over, and the functions append
// keys and indices to it.

#ifndef SHERPA_SPEC_JSON_TREE_H_
#define SHERPA_SPEC_JSON_TREE_H_

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sherpa/parameter.h"
#include "sherpa/status.h"

namespace sherpa::spec_internal {

using Json = nlohmann::ordered_json;

// Parses JSON text. Syntax errors and repeated keys in one object are
// INVALID_ARGUMENT; syntax errors give line and column. Non-negative integers
// are stored as signed integers when they fit, so `is_number_integer()` plus
// `get<int64_t>()` is safe unless `is_number_unsigned()`.
StatusOr<Json> ParseJsonTree(std::string_view text);

// Parses the first YAML document of `text` into a tree with typed scalars:
// quoted scalars are strings; plain scalars are integers if they read fully
// as int64 (decimal, 0x.., 0o..), doubles if they have YAML 1.2's float form
// (1.5, .5, 1e-3, 1.0e-4, .inf, .nan), booleans for true/false/yes/no/on/off
// (any of the three usual casings), null for null/~/empty, and strings
// otherwise. An empty document is null. Syntax errors, repeated keys and
// integers beyond int64 are INVALID_ARGUMENT with line and column.
StatusOr<Json> YamlToJson(std::string_view text);

// Builds and validates a parameter space from `tree`: a list of
// {name, type, range[, scale]} mappings, or a mapping from name to
// {type, range[, scale]}. `path` names `tree` in messages ("parameters").
StatusOr<ParameterSpace> ParametersFromJson(const Json& tree, std::string_view path);

// The canonical list form of `space`; ParametersFromJson reads it back to an
// equal space.
Json ParametersToJsonTree(const ParameterSpace& space);

// One-line JSON with a space after ':' and ',' (nlohmann's compact dump has
// none, its pretty dump puts every list element on its own line).
std::string ToJsonLine(const Json& tree);

// One-line YAML flow text, e.g. `{name: lr, range: [0.1, 1.0]}`. Strings are
// left unquoted only when YamlToJson would read them back as the same string;
// doubles always carry a '.' or an exponent.
std::string ToYamlFlow(const Json& tree);

// For messages: "null", "boolean true", "integer 3", "number 1.5",
// "string 'abc'", "a list", "a mapping".
std::string Describe(const Json& node);

// `path` extended by an object key: `path.key`, or `path["odd key"]` for keys
// that are not identifiers.
std::string KeyPath(std::string_view path, std::string_view key);

// The candidate closest to `word` by edit distance (transpositions count
// once), or "" if none is close enough to be a plausible typo.
std::string_view NearestName(std::string_view word, std::span<const std::string_view> candidates);

// OK if every key of the mapping `object` is in `allowed`. Otherwise names the
// first unknown key, suggests the nearest allowed one and lists them all:
// "<path>: unknown key 'scael'; did you mean 'scale'? allowed keys: ...".
Status CheckKeys(const Json& object, std::string_view path,
                 std::span<const std::string_view> allowed);

}  // namespace sherpa::spec_internal

#endif  // SHERPA_SPEC_JSON_TREE_H_
