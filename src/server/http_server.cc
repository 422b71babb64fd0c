#include "server/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "json/value_json.h"
#include "server/connection_pool.h"

namespace sherpa::server {
namespace {

using Json = json::Json;

constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr char kJson[] = "application/json";
// The same, spelled so that httplib does not compress it: it picks Brotli at
// its slowest quality whenever a browser offers "br", which took 38 s for
// the 16 MB feed of a 10,000-trial study, against 1 s to build and send it
// uncompressed over loopback. (httplib compresses only exact type names.)
constexpr char kUncompressedJson[] = "application/json; charset=utf-8";

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  Json body{{"error", {{"code", StatusCodeName(status.code())}, {"message", status.message()}}}};
  // A message may quote bytes the client sent that are not UTF-8.
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), kJson);
}

void SendJson(httplib::Response& res, const Json& body) { res.set_content(body.dump(), kJson); }

// The `Idempotency-Key` header of a report: up to 128 visible ASCII
// characters, or empty when the client sent none. Bounded because the runner
// keeps recent keys in memory.
constexpr size_t kMaxIdempotencyKey = 128;
StatusOr<std::string> IdempotencyKey(const httplib::Request& req) {
  std::string key = req.get_header_value("Idempotency-Key");
  if (key.size() > kMaxIdempotencyKey) {
    return InvalidArgumentError("Idempotency-Key: longer than 128 characters");
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidArgumentError("Idempotency-Key: only visible ASCII characters are allowed");
    }
  }
  return key;
}

StatusOr<TrialId> PathTrialId(const httplib::Request& req) {
  const std::string& text = req.matches[1].str();
  TrialId id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return NotFoundError("no trial " + text);
  }
  return id;
}

// httplib::Server with its per-connection entry point reachable, so that
// ServeBytes runs the real request parsing and routing on bytes in memory.
class Server : public httplib::Server {
 public:
  using httplib::Server::process_request;
  // cpp-httplib ends streamed answers (the dashboard's live events) once its
  // listening socket is gone; ours is ConnectionPool's, so it is told.
  void SetListeningSocket(int fd) { svr_sock_ = fd; }
};

// One connection whose input is a buffer and whose output is a string.
class MemoryStream : public httplib::Stream {
 public:
  explicit MemoryStream(std::string_view input) : input_(input) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, input_.size());
    std::copy_n(input_.data(), n, ptr);
    input_.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    output_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 1;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 2;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

  bool at_end() const { return input_.empty(); }
  std::string& output() { return output_; }

 private:
  std::string_view input_;
  std::string output_;
};

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

class HttpServer::Impl {
 public:
  Impl(TrialService* service, HttpServerOptions options)
      : service_(service), options_(std::move(options)) {
    // The sockets are ours (ConnectionPool: no polling of idle
    // connections); cpp-httplib parses, routes and answers each request.
    server_.set_payload_max_length(kMaxBodyBytes);
    // Every answer here is small JSON or a small asset, so a Range header is
    // ignored (RFC 9110 section 14.2 allows it): cpp-httplib 0.11 would
    // otherwise cut any answer to the range, errors included, and a client
    // would get `{"er` as its 404 body (found by fuzz/http_request_fuzz.cc).
    // The library has no switch for it; its Request object is not const, the
    // handler's view of it is.
    server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      const_cast<httplib::Request&>(req).ranges.clear();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
          std::string what = "unknown exception";
          try {
            if (error) std::rethrow_exception(error);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          SendError(res, InternalError(what));
        });
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // our own JSON error
      if (res.status == 404) {
        SendError(res, NotFoundError("no endpoint " + req.method + " " + req.path +
                                     "; see docs/http_api.md"));
      } else if (res.status == 413) {
        SendError(res, InvalidArgumentError("request body over 1 MiB"));
        res.status = 413;
      } else {
        SendError(res, InvalidArgumentError("malformed request"));
        res.status = res.status == 0 ? 400 : res.status;
      }
    });
    Routes();
    if (options_.dashboard != nullptr) DashboardRoutes();
  }

  StatusOr<int> Start() {
    ConnectionPoolOptions pool;
    pool.threads = options_.threads;
    connections_ = std::make_unique<ConnectionPool>(
        [this](httplib::Stream& stream, bool close, bool& closed) {
          return server_.process_request(stream, close, closed, nullptr);
        },
        pool);
    StatusOr<int> port = connections_->Start(options_.host, options_.port);
    if (!port.ok()) {
      return UnavailableError(port.status().message() +
                              " (address in use or not an address of this machine)");
    }
    server_.SetListeningSocket(connections_->listen_fd());
    return port;
  }

  std::string ServeBytes(std::string_view request) {
    {
      // No peer keeps a live event stream open: it sends what it has and
      // ends, as when the server stops.
      std::lock_guard<std::mutex> lock(stream_mu_);
      stopping_ = true;
    }
    MemoryStream stream(request);
    bool closed = false;
    while (!closed && !stream.at_end()) {
      if (!server_.process_request(stream, /*close_connection=*/false, closed, nullptr)) break;
    }
    return std::move(stream.output());
  }

  void Stop() {
    {
      // Live event streams sleep between polls; wake them so they end now
      // instead of holding a worker the pool's shutdown waits for.
      std::lock_guard<std::mutex> lock(stream_mu_);
      stopping_ = true;
    }
    stream_cv_.notify_all();
    server_.SetListeningSocket(INVALID_SOCKET);
    if (connections_) connections_->Stop();
  }

 private:
  // Resolves the caller and checks it may act on the trial in the path.
  // `study_only`: only the study token is enough.
  StatusOr<Principal> Authenticate(const httplib::Request& req) {
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.rfind(kBearer, 0) != 0) {
      return UnauthenticatedError("missing 'Authorization: Bearer <token>' header");
    }
    std::optional<Principal> who = service_->Authenticate(header.substr(kBearer.size()));
    if (!who) return UnauthenticatedError("unknown token");
    return *who;
  }

  static Status NoTrialYet() {
    return FailedPreconditionError(
        "this token's process was started ahead of its trial and has none yet; it reads its "
        "trial from the descriptor SHERPA_TRIAL_FD names (the clients do)");
  }

  StatusOr<TrialId> Authorize(const httplib::Request& req, bool study_only) {
    SHERPA_ASSIGN_OR_RETURN(Principal who, Authenticate(req));
    SHERPA_ASSIGN_OR_RETURN(TrialId id, PathTrialId(req));
    if (who.study) return id;
    if (study_only) return PermissionDeniedError("this needs the study token");
    if (!who.trial) return NoTrialYet();
    if (who.trial != id) {
      return PermissionDeniedError("this token belongs to trial " + std::to_string(*who.trial) +
                                   ", not trial " + std::to_string(id));
    }
    return id;
  }

  template <typename Fn>
  httplib::Server::Handler TrialRoute(bool study_only, Fn fn) {
    return [this, study_only, fn](const httplib::Request& req, httplib::Response& res) {
      StatusOr<TrialId> id = Authorize(req, study_only);
      if (!id.ok()) return SendError(res, id.status());
      Status status = fn(*id, req, res);
      if (!status.ok()) SendError(res, status);
    };
  }

  void Routes() {
    // The trial of the token's process: how a process started ahead of its
    // trial (OptimizeOptions::prestart) learns it if its descriptor 3 was
    // read by another process first (a shell script's first `sherpa trial`).
    server_.Get("/api/v1/trial", [this](const httplib::Request& req, httplib::Response& res) {
      Status status = [&]() -> Status {
        SHERPA_ASSIGN_OR_RETURN(Principal who, Authenticate(req));
        if (who.study) return InvalidArgumentError("the study token has no trial of its own");
        if (!who.trial) return NoTrialYet();
        SHERPA_ASSIGN_OR_RETURN(Trial trial, service_->GetTrial(*who.trial));
        SendJson(res, json::ToJson(trial));
        return OkStatus();
      }();
      if (!status.ok()) SendError(res, status);
    });
    server_.Get(
        R"(/api/v1/trials/(\d+))",
        TrialRoute(false,
                   [this](TrialId id, const httplib::Request&, httplib::Response& res) -> Status {
                     SHERPA_ASSIGN_OR_RETURN(Trial trial, service_->GetTrial(id));
                     SendJson(res, json::ToJson(trial));
                     return OkStatus();
                   }));
    server_.Post(
        R"(/api/v1/trials/(\d+)/observations)",
        TrialRoute(
            false,
            [this](TrialId id, const httplib::Request& req, httplib::Response& res) -> Status {
              SHERPA_ASSIGN_OR_RETURN(std::string key, IdempotencyKey(req));
              SHERPA_ASSIGN_OR_RETURN(Json body, json::Parse(req.body));
              SHERPA_ASSIGN_OR_RETURN(Observation o, json::ObservationFromJson(body, ""));
              SHERPA_ASSIGN_OR_RETURN(bool stop, service_->Report(id, std::move(o), key));
              SendJson(res, Json{{"stop", stop}});
              return OkStatus();
            }));
    server_.Get(
        R"(/api/v1/trials/(\d+)/stop)",
        TrialRoute(false,
                   [this](TrialId id, const httplib::Request&, httplib::Response& res) -> Status {
                     SHERPA_ASSIGN_OR_RETURN(bool stop, service_->ShouldStop(id));
                     SendJson(res, Json{{"stop", stop}});
                     return OkStatus();
                   }));
    server_.Post(
        R"(/api/v1/trials/(\d+)/stop)",
        TrialRoute(true,
                   [this](TrialId id, const httplib::Request&, httplib::Response& res) -> Status {
                     SHERPA_RETURN_IF_ERROR(service_->RequestStop(id));
                     SendJson(res, Json{{"stop", true}});
                     return OkStatus();
                   }));
    server_.Post(
        R"(/api/v1/trials/(\d+)/end)",
        TrialRoute(
            false,
            [this](TrialId id, const httplib::Request& req, httplib::Response& res) -> Status {
              TrialStatus status = TrialStatus::kCompleted;
              if (!req.body.empty()) {
                SHERPA_ASSIGN_OR_RETURN(Json body, json::Parse(req.body));
                SHERPA_ASSIGN_OR_RETURN(std::string name, json::GetString(body, "status", ""));
                std::optional<TrialStatus> parsed = ParseTrialStatus(name);
                if (!parsed || *parsed == TrialStatus::kIntermediate) {
                  return InvalidArgumentError(
                      "status: expected COMPLETED, FAILED or STOPPED, got '" + name + "'");
                }
                status = *parsed;
              }
              SHERPA_RETURN_IF_ERROR(service_->EndTrial(id, status));
              SendJson(res, Json{{"status", TrialStatusName(status)}});
              return OkStatus();
            }));
    server_.Get("/api/v1/study", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string header = req.get_header_value("Authorization");
      std::optional<Principal> who;
      if (header.rfind("Bearer ", 0) == 0) who = service_->Authenticate(header.substr(7));
      if (!who) return SendError(res, UnauthenticatedError("needs the study token"));
      if (!who->study) return SendError(res, PermissionDeniedError("needs the study token"));
      StatusOr<std::string> summary = service_->StudySummaryJson();
      if (!summary.ok()) return SendError(res, summary.status());
      res.set_content(*summary, kJson);
    });
  }

  // --- the dashboard (docs/dashboard.md) ---

  // Who may read the dashboard's data: the study token, from the
  // Authorization header or, for EventSource (which cannot set headers),
  // the `token` query parameter; or, without a token, a request addressed to
  // a loopback name. The Host check keeps a web page the user visits from
  // reading the study through DNS rebinding; a server bound to another
  // address (clusters) serves its data to token holders only. Returns
  // whether the study token was given.
  StatusOr<bool> DashboardReader(const httplib::Request& req) {
    std::string token;
    const std::string header = req.get_header_value("Authorization");
    if (header.rfind("Bearer ", 0) == 0) {
      token = header.substr(7);
    } else if (req.has_param("token")) {
      token = req.get_param_value("token");
    }
    if (!token.empty()) {
      std::optional<Principal> who = service_->Authenticate(token);
      if (who && who->study) return true;
    }
    std::string host = req.get_header_value("Host");
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);  // [::1]:8080
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (host == "127.0.0.1" || host == "localhost" || host == "[::1]") return false;
    return UnauthenticatedError(
        "the dashboard's data needs the study token when it is not reached through "
        "127.0.0.1 or localhost; open the URL the runner printed (it carries ?token=)");
  }

  static void SendAsset(httplib::Response& res, const DashboardAsset& asset) {
    res.set_content(std::string(asset.content), std::string(asset.content_type).c_str());
    // Nothing here is versioned by name, and it is all on loopback: always
    // revalidate so a rebuilt binary's page is never mixed with a stale one.
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob:; "
                   "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  }

  void DashboardRoutes() {
    DashboardService* dashboard = options_.dashboard;
    auto page = [dashboard](const httplib::Request&, httplib::Response& res) {
      std::optional<DashboardAsset> asset = dashboard->Asset("index.html");
      if (!asset) return SendError(res, NotFoundError("the dashboard page is not built in"));
      SendAsset(res, *asset);
    };
    server_.Get("/", page);
    server_.Get("/index.html", page);
    server_.Get(R"(/assets/([A-Za-z0-9_.-]+))", [dashboard](const httplib::Request& req,
                                                            httplib::Response& res) {
      std::optional<DashboardAsset> asset = dashboard->Asset("assets/" + req.matches[1].str());
      if (!asset) return SendError(res, NotFoundError("no file " + req.path));
      SendAsset(res, *asset);
    });
    server_.Get("/api/v1/dashboard",
                [this, dashboard](const httplib::Request& req, httplib::Response& res) {
                  StatusOr<bool> study_token = DashboardReader(req);
                  if (!study_token.ok()) return SendError(res, study_token.status());
                  StatusOr<std::string> body = dashboard->StudyJson(*study_token);
                  if (!body.ok()) return SendError(res, body.status());
                  res.set_content(*body, kJson);
                  res.set_header("Cache-Control", "no-store");
                });
    // The incremental feed: what changed after `since`. The page loads the
    // whole study with since=0 once, then follows /api/v1/events (or polls
    // here if it cannot stream).
    server_.Get(
        "/api/v1/trials", [this, dashboard](const httplib::Request& req, httplib::Response& res) {
          StatusOr<bool> study_token = DashboardReader(req);
          if (!study_token.ok()) return SendError(res, study_token.status());
          StatusOr<DashboardChanges> changes = dashboard->Changes(req.get_param_value("since"));
          if (!changes.ok()) return SendError(res, changes.status());
          res.set_content(std::move(changes->json), kUncompressedJson);
          res.set_header("Cache-Control", "no-store");
        });
    server_.Get(
        "/api/v1/events", [this, dashboard](const httplib::Request& req, httplib::Response& res) {
          StatusOr<bool> study_token = DashboardReader(req);
          if (!study_token.ok()) return SendError(res, study_token.status());
          // EventSource sends the id of the last event it saw when it reconnects.
          const std::string since = req.has_header("Last-Event-ID")
                                        ? req.get_header_value("Last-Event-ID")
                                        : req.get_param_value("since");
          // Checked before the stream starts, so a bad cursor is a 400 and not a
          // stream that breaks.
          StatusOr<DashboardChanges> first = dashboard->Changes(since);
          if (!first.ok()) return SendError(res, first.status());
          // Each stream holds a pool worker for as long as the page is open; the
          // rest of the pool is for trials. Pages beyond the limit poll instead.
          if (streams_.fetch_add(1) >= kMaxEventStreams) {
            streams_.fetch_sub(1);
            return SendError(res, UnavailableError("too many live pages; poll /api/v1/trials"));
          }
          auto stream = std::make_shared<EventStream>();
          stream->cursor = first->cursor;
          if (!first->empty) stream->pending = std::move(first->json);
          res.set_header("Cache-Control", "no-store");
          res.set_chunked_content_provider(
              "text/event-stream",
              [this, dashboard, stream](size_t, httplib::DataSink& sink) {
                return NextEvent(*dashboard, *stream, sink);
              },
              [this](bool) { streams_.fetch_sub(1); });
        });
  }

  struct EventStream {
    std::string cursor;
    std::string pending;  // changes found but not yet sent
    bool opened = false;  // something was written
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  };

  // Called by httplib again and again while the stream is open: writes the
  // next event, waiting for the store to change. Polling the store is two
  // indexed range scans that find nothing, every kPollInterval; it works the
  // same whether the writer is this process (the runner) or another one
  // (`sherpa dashboard` on a study that is still running).
  bool NextEvent(DashboardService& dashboard, EventStream& stream, httplib::DataSink& sink) {
    using namespace std::chrono_literals;
    constexpr auto kPollInterval = 200ms;
    // A comment line now and then: proxies keep the stream open, and a
    // closed page is noticed by the failed write.
    constexpr auto kHeartbeat = 15s;
    if (!stream.opened) {
      // The answer's head leaves with its first write (ConnectionPool holds
      // it until then): with no change to send yet, a comment, so the page
      // knows at once that the stream is live.
      stream.opened = true;
      if (stream.pending.empty()) {
        static constexpr char kOpen[] = ": open\n\n";
        return sink.write(kOpen, sizeof(kOpen) - 1);
      }
    }
    for (;;) {
      if (!stream.pending.empty()) {
        const std::string event =
            "id: " + stream.cursor + "\nevent: changes\ndata: " + stream.pending + "\n\n";
        stream.pending.clear();
        stream.last_write = std::chrono::steady_clock::now();
        return sink.write(event.data(), event.size());
      }
      if (std::chrono::steady_clock::now() - stream.last_write > kHeartbeat) {
        stream.last_write = std::chrono::steady_clock::now();
        static constexpr char kPing[] = ": ping\n\n";
        return sink.write(kPing, sizeof(kPing) - 1);
      }
      {
        std::unique_lock<std::mutex> lock(stream_mu_);
        if (stream_cv_.wait_for(lock, kPollInterval, [this] { return stopping_; })) {
          sink.done();
          return true;
        }
      }
      if (sink.is_writable && !sink.is_writable()) return false;
      StatusOr<DashboardChanges> changes = dashboard.Changes(stream.cursor);
      if (!changes.ok()) {
        // E.g. the database is locked for longer than the busy timeout: tell
        // the page, which reconnects from its cursor.
        const std::string event =
            "event: failure\ndata: " + Json{{"message", changes.status().ToString()}}.dump() +
            "\n\n";
        sink.write(event.data(), event.size());
        sink.done();
        return true;
      }
      if (!changes->empty) {
        stream.cursor = changes->cursor;
        stream.pending = std::move(changes->json);
      }
    }
  }

  static constexpr int kMaxEventStreams = 4;

  TrialService* service_;
  HttpServerOptions options_;
  Server server_;
  std::unique_ptr<ConnectionPool> connections_;
  std::atomic<int> streams_{0};
  std::mutex stream_mu_;
  std::condition_variable stream_cv_;
  bool stopping_ = false;  // guarded by stream_mu_
};

HttpServer::HttpServer(TrialService* service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<int> HttpServer::Start() {
  SHERPA_ASSIGN_OR_RETURN(port_, impl_->Start());
  return port_;
}

void HttpServer::Stop() { impl_->Stop(); }

std::string HttpServer::ServeBytes(std::string_view request) { return impl_->ServeBytes(request); }

}  // namespace sherpa::server
