// The HTTP API (docs/http_api.md) on arbitrary bytes: the real server, its
// routes and handlers, given the input as the bytes of one connection
// (HttpServer::ServeBytes: no socket, no thread). Behind it stand a stateless
// TrialService and a DashboardService that reads cursors with the
// dashboard's own parser. Every answer must be well-formed HTTP with a status
// below 500 (a 5xx here is an exception or a bug: nothing behind the server
// fails), and every JSON answer must parse.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dashboard/dashboard.h"
#include "fuzz_check.h"
#include "json/value_json.h"
#include "server/http_server.h"

namespace {

using namespace sherpa;
using sherpa::fuzz::Check;

class FakeTrials : public server::TrialService {
 public:
  std::optional<server::Principal> Authenticate(std::string_view token) override {
    if (token == "study") return server::Principal{std::nullopt, true};
    if (token == "t1") return server::Principal{1, false};
    if (token == "t2") return server::Principal{2, false};
    return std::nullopt;
  }
  StatusOr<Trial> GetTrial(TrialId id) override {
    if (id < 1 || id > 2) return NotFoundError("no trial " + std::to_string(id));
    return Trial{id, {{"lr", Value(0.5)}, {"layers", Value(3)}, {"load_from", Value("")}}};
  }
  StatusOr<bool> Report(TrialId id, Observation o, std::string_view /*idempotency_key*/) override {
    SHERPA_RETURN_IF_ERROR(GetTrial(id).status());
    if (std::isnan(o.objective)) return InvalidArgumentError("objective is NaN");
    if (o.iteration == 13) return AlreadyExistsError("iteration 13 was reported");
    return o.objective > 10;
  }
  StatusOr<bool> ShouldStop(TrialId id) override {
    SHERPA_RETURN_IF_ERROR(GetTrial(id).status());
    return id == 2;
  }
  Status EndTrial(TrialId id, TrialStatus) override {
    SHERPA_RETURN_IF_ERROR(GetTrial(id).status());
    return id == 2 ? FailedPreconditionError("trial 2 has ended") : OkStatus();
  }
  Status RequestStop(TrialId id) override { return GetTrial(id).status(); }
  StatusOr<std::string> StudySummaryJson() override { return std::string(R"({"trials": 2})"); }
};

class FakeDashboard : public server::DashboardService {
 public:
  StatusOr<std::string> StudyJson(bool study_token) override {
    return std::string(study_token ? R"({"live": true})" : R"({"live": false})");
  }
  StatusOr<server::DashboardChanges> Changes(std::string_view since) override {
    SHERPA_ASSIGN_OR_RETURN(dashboard::Cursor cursor, dashboard::ParseCursor(since));
    server::DashboardChanges changes;
    changes.cursor = dashboard::FormatCursor(cursor);
    changes.json = json::Json{{"cursor", changes.cursor}}.dump();
    changes.empty = cursor.trials > 5;
    return changes;
  }
  std::optional<server::DashboardAsset> Asset(std::string_view path) override {
    if (path == "index.html") return server::DashboardAsset{"<!doctype html>", "text/html"};
    if (path == "assets/app.js") return server::DashboardAsset{"let a = 1;", "text/javascript"};
    return std::nullopt;
  }
};

size_t ToSize(std::string_view digits, int base) {
  size_t n = 0;
  for (char c : digits) {
    int d = c >= '0' && c <= '9'                     ? c - '0'
            : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                     : -1;
    if (d < 0 || d >= base) break;
    n = n * base + static_cast<size_t>(d);
  }
  return n;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks every response in `out` (the server may answer several pipelined
// requests).
void CheckResponses(std::string_view out, std::string_view input) {
  while (!out.empty()) {
    const size_t head_end = out.find("\r\n\r\n");
    Check(head_end != std::string_view::npos, "a response without the end of its head", out);
    const std::string_view head = out.substr(0, head_end);
    out.remove_prefix(head_end + 4);
    Check(head.rfind("HTTP/1.1 ", 0) == 0 && head.size() >= 12, "a malformed status line", head);
    const int status = static_cast<int>(ToSize(head.substr(9, 3), 10));
    Check(status >= 100 && status < 500, "a status of 500 or more",
          std::string(head) + "\n--- request:\n" + std::string(input));
    if (status == 100) continue;  // "100 Continue" has no body
    size_t length = 0;
    bool chunked = false, json = false, encoded = false;
    size_t line = head.find("\r\n");
    while (line != std::string_view::npos) {
      const size_t next = head.find("\r\n", line + 2);
      const std::string field = Lower(head.substr(line + 2, next - line - 2));
      if (field.rfind("content-length:", 0) == 0) length = ToSize(field.substr(16), 10);
      if (field == "transfer-encoding: chunked") chunked = true;
      if (field.rfind("content-type: application/json", 0) == 0) json = true;
      // Compressed for a client that offered gzip or br: not checked here.
      if (field.rfind("content-encoding:", 0) == 0) encoded = true;
      line = next;
    }
    std::string body;
    // HEAD answers carry the framing of the body they do not send.
    const bool no_body = out.empty() || out.rfind("HTTP/1.1 ", 0) == 0;
    if (chunked && !no_body) {
      for (;;) {
        const size_t size_end = out.find("\r\n");
        Check(size_end != std::string_view::npos, "a chunk without its size line", out);
        const size_t n = ToSize(out.substr(0, size_end), 16);
        out.remove_prefix(size_end + 2);
        Check(out.size() >= n + 2, "a chunk shorter than its size", out);
        body.append(out.substr(0, n));
        out.remove_prefix(n + 2);
        if (n == 0) break;
      }
    } else if (!no_body) {
      Check(length <= out.size(), "a body shorter than its Content-Length", out);
      body = out.substr(0, length);
      out.remove_prefix(length);
    }
    if (json && !encoded && !body.empty()) {
      Check(json::Parse(body).ok(), "a JSON answer that does not parse",
            std::string(head) + "\n\n" + body);
    }
  }
}

server::HttpServer& Server() {
  static FakeTrials* trials = new FakeTrials;
  static FakeDashboard* dashboard = new FakeDashboard;
  static server::HttpServer* server = [] {
    server::HttpServerOptions options;
    options.dashboard = dashboard;
    return new server::HttpServer(trials, options);
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = sherpa::fuzz::AsText(data, size);
  const std::string out = Server().ServeBytes(input);
  CheckResponses(out, input);
  return 0;
}
