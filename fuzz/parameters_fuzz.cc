// Parameter definitions alone (sherpa/spec.h), as YAML and as JSON. Beyond
// not crashing: spec.h promises that the canonical text of a space parses
// back to an equal space, value types included, so writing it again gives
// the same text, in both formats.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"

#include "sherpa/spec.h"

namespace {

using sherpa::ParameterSpace;
using sherpa::StatusOr;
using sherpa::fuzz::Check;

void CheckRoundTrips(const ParameterSpace& space) {
  const std::string json = sherpa::ParametersToJson(space);
  StatusOr<ParameterSpace> from_json = sherpa::ParseParametersJson(json);
  Check(from_json.ok(), "ParametersToJson's text does not parse",
        json + (from_json.ok() ? "" : from_json.status().ToString()));
  Check(sherpa::ParametersToJson(*from_json) == json, "the JSON round trip changes the space",
        json);

  const std::string yaml = sherpa::ParametersToYaml(space);
  StatusOr<ParameterSpace> from_yaml = sherpa::ParseParametersYaml(yaml);
  Check(from_yaml.ok(), "ParametersToYaml's text does not parse",
        yaml + (from_yaml.ok() ? "" : from_yaml.status().ToString()));
  Check(sherpa::ParametersToYaml(*from_yaml) == yaml, "the YAML round trip changes the space",
        yaml + "\n" + sherpa::ParametersToYaml(*from_yaml));
  Check(sherpa::ParametersToJson(*from_yaml) == json, "the YAML text holds another space",
        json + "\n" + sherpa::ParametersToJson(*from_yaml));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sherpa::fuzz::AsText(data, size);
  if (StatusOr<ParameterSpace> space = sherpa::ParseParametersYaml(text); space.ok()) {
    CheckRoundTrips(*space);
  }
  if (StatusOr<ParameterSpace> space = sherpa::ParseParametersJson(text); space.ok()) {
    CheckRoundTrips(*space);
  }
  return 0;
}
