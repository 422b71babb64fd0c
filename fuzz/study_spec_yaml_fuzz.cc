// The study spec as `sherpa run spec.yaml` reads it: any text through
// LoadStudySpec (YAML unless it starts with '{'), with the resume property of
// study_spec_check.h.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "study_spec_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sherpa::fuzz::LoadAndCheckStudySpec(sherpa::fuzz::AsText(data, size));
  return 0;
}
