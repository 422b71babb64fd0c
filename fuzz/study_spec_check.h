// The property both study spec targets check: a spec that loads is stored
// as `spec_json`, and `sherpa resume` loads that text again, so it must load
// to the same spec.
#ifndef SHERPA_FUZZ_STUDY_SPEC_CHECK_H_
#define SHERPA_FUZZ_STUDY_SPEC_CHECK_H_

#include <string_view>

#include "fuzz_check.h"

#include "sherpa/study_spec.h"

namespace sherpa::fuzz {

inline void LoadAndCheckStudySpec(std::string_view text) {
  StatusOr<OptimizeOptions> options = LoadStudySpec(text, "fuzz.yaml");
  if (!options.ok()) return;
  StatusOr<OptimizeOptions> again = LoadStudySpec(options->spec_json, "study.db");
  Check(again.ok(), "the stored spec_json does not load again",
        options->spec_json + "\n" + (again.ok() ? "" : again.status().ToString()));
  Check(again->spec_json == options->spec_json, "spec_json changes when loaded again",
        options->spec_json + "\n" + again->spec_json);
}

}  // namespace sherpa::fuzz

#endif  // SHERPA_FUZZ_STUDY_SPEC_CHECK_H_
