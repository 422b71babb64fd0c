// `sherpa report`: the dashboard page with its data, script and style inlined
// into one HTML file that opens from disk or an attachment, offline.
#include <ctime>
#include <string>

#include "dashboard/assets.h"
#include "dashboard/dashboard.h"

namespace sherpa::dashboard {
namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

StatusOr<std::string> RenderReport(storage::StudyStore& store, const std::string& output_dir) {
  std::optional<std::string_view> js = FindEmbeddedFile("assets/app.js");
  std::optional<std::string_view> css = FindEmbeddedFile("assets/app.css");
  if (!kFrontEndBuilt || !js || !css) {
    return FailedPreconditionError(
        "this sherpa was built without the dashboard's front end; run tools/build-web.sh "
        "(it needs npm) and build again");
  }
  Dashboard dashboard(&store, DashboardOptions{output_dir, /*live=*/false});
  SHERPA_ASSIGN_OR_RETURN(std::string study, dashboard.StudyJson(/*study_token=*/false));
  SHERPA_ASSIGN_OR_RETURN(server::DashboardChanges changes, dashboard.Changes(""));

  // In a <script> element the text ends at the first "</script"; "<" occurs
  // in JSON only inside strings, where \u003c means the same.
  std::string data = "{\"report\":true,\"generated_at\":" + std::to_string(std::time(nullptr)) +
                     ",\"study\":" + study + ",\"changes\":" + changes.json + "}";
  ReplaceAll(data, "<", "\\u003c");
  // The bundle holds "</script" or "<!--" at most inside string literals,
  // where an escaped slash or bang means the same.
  std::string script(*js);
  ReplaceAll(script, "</script", "<\\/script");
  ReplaceAll(script, "<!--", "<\\!--");
  std::string style(*css);
  ReplaceAll(style, "</style", "<\\/style");

  std::string html;
  html.reserve(data.size() + script.size() + style.size() + 1024);
  html += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>sherpa report: " + EscapeHtml(output_dir) + "</title>\n";
  html += "<style>\n" + style + "\n</style>\n</head>\n<body>\n<div id=\"app\"></div>\n";
  html += "<script type=\"application/json\" id=\"sherpa-data\">" + data + "</script>\n";
  html += "<script>\n" + script + "\n</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace sherpa::dashboard
