// The study spec written as JSON: the JSON tree parser on any text (it
// rejects repeated keys and deep nesting itself), then LoadStudySpec on
// texts it would read as JSON, with the resume property of
// study_spec_check.h.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "spec/json_tree.h"
#include "study_spec_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sherpa::fuzz::AsText(data, size);
  const sherpa::StatusOr<sherpa::spec_internal::Json> tree =
      sherpa::spec_internal::ParseJsonTree(text);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (!tree.ok() || first == std::string_view::npos || text[first] != '{') return 0;
  sherpa::fuzz::LoadAndCheckStudySpec(text);
  return 0;
}
