// -----------------------------------------------------------------------------
// File: spec.h
// -----------------------------------------------------------------------------
//
// Reads and writes a parameter space in SHERPA's dict form, as JSON or YAML:
// a list of mappings `{name, type, range[, scale]}`, the form SHERPA's
// `Parameter.from_dict` reads, so spaces written for SHERPA load unchanged.
//
//   - {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
//   - {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}
//   - {name: activation, type: choice, range: [relu, tanh]}
//   - {name: layers, type: discrete, range: [1, 8]}
//
// `type` is continuous, discrete, choice or ordinal. `range` is [lo, hi] for
// continuous (numbers) and discrete (integers; 2.0 is read as 2), and a list
// of numbers or strings for choice and ordinal. `scale` is linear (the
// default) or log; choice and ordinal accept only linear.
//
// A mapping keyed by name is accepted too and keeps the written order:
//
//   lr: {type: continuous, range: [1.0e-4, 0.1], scale: log}
//   activation: {type: choice, range: [relu, tanh]}
//
// Value types survive the round trip: in YAML an unquoted 1 is an integer,
// 1.0 and 1e-3 are doubles, and a quoted "1" is a string. Unquoted
// true/false/yes/no/on/off and null are booleans and null, which no range
// accepts (the error says to quote them).
//
// Every error is INVALID_ARGUMENT and names where the problem is, e.g.
//   "parameters[1] ('lr').type: unknown type 'continous'; did you mean
//    'continuous'? valid types: continuous, discrete, choice, ordinal"
// Syntax errors give the line and column. No function here throws.
//
// Thread safety: all functions are pure and may be called concurrently.

#ifndef SHERPA_SPEC_H_
#define SHERPA_SPEC_H_

#include <string>
#include <string_view>

#include "sherpa/parameter.h"
#include "sherpa/status.h"

namespace sherpa {

// Parses a JSON document whose root is the parameter list (or mapping).
StatusOr<ParameterSpace> ParseParametersJson(std::string_view text);

// Parses a YAML document whose root is the parameter list (or mapping). JSON
// text is valid YAML, so this accepts both.
StatusOr<ParameterSpace> ParseParametersYaml(std::string_view text);

// Writes the canonical list form, one parameter per line. Parsing the output
// with the matching parser gives back an equal space, value types included.
std::string ParametersToJson(const ParameterSpace& space);
std::string ParametersToYaml(const ParameterSpace& space);

}  // namespace sherpa

#endif  // SHERPA_SPEC_H_
