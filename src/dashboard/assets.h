// The built front end (web/dist), embedded in the binary at build time by
// cmake/EmbedFiles.cmake, so `sherpa dashboard` and `sherpa report` work
// from any folder and the page needs nothing from the network.
#ifndef SHERPA_DASHBOARD_ASSETS_H_
#define SHERPA_DASHBOARD_ASSETS_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace sherpa::dashboard {

struct EmbeddedFile {
  const char* path;  // below web/dist, e.g. "assets/app.js"
  const unsigned char* data;
  size_t size;
};

// Defined in the generated dashboard_assets.cc.
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kNumEmbeddedFiles;
// False when web/dist was missing at build time: the embedded page then only
// says how to build the front end (tools/build-web.sh).
extern const bool kFrontEndBuilt;

std::optional<std::string_view> FindEmbeddedFile(std::string_view path);
std::string_view ContentTypeFor(std::string_view path);

}  // namespace sherpa::dashboard

#endif  // SHERPA_DASHBOARD_ASSETS_H_
