// What every fuzz target shares: turning the fuzzer's bytes into text, and a
// property check that fails like a crash, so that libFuzzer keeps the input.
#ifndef SHERPA_FUZZ_FUZZ_CHECK_H_
#define SHERPA_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sherpa::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Aborts with `what` (and `detail`, e.g. the two texts that differ) when a
// property does not hold.
inline void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property failed: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace sherpa::fuzz

#endif  // SHERPA_FUZZ_FUZZ_CHECK_H_
