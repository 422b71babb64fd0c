#include "server/http_server.h"

#include <httplib.h>

#include <charconv>
#include <thread>

#include "json/value_json.h"

namespace sherpa::server {
namespace {

using Json = json::Json;

constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr char kJson[] = "application/json";

void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  Json body{{"error", {{"code", StatusCodeName(status.code())}, {"message", status.message()}}}};
  res.set_content(body.dump(), kJson);
}

void SendJson(httplib::Response& res, const Json& body) { res.set_content(body.dump(), kJson); }

StatusOr<TrialId> PathTrialId(const httplib::Request& req) {
  const std::string& text = req.matches[1].str();
  TrialId id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return NotFoundError("no trial " + text);
  }
  return id;
}

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
    const size_t threads = options_.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Without TCP_NODELAY every answer waits for the client's delayed ACK
    // (40 ms); with the default of 5 requests per connection, clients keep
    // reconnecting.
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1000000);
    server_.set_keep_alive_timeout(5);
    server_.set_read_timeout(std::chrono::seconds(30));
    server_.set_payload_max_length(kMaxBodyBytes);
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
  }

  StatusOr<int> Start() {
    const int port =
        options_.port == 0
            ? server_.bind_to_any_port(options_.host)
            : (server_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port < 0) {
      return UnavailableError("cannot listen on " + options_.host + ":" +
                              std::to_string(options_.port) +
                              " (address in use or not an address of this machine)");
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
    return port;
  }

  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  // Resolves the caller and checks it may act on the trial in the path.
  // `study_only`: only the study token is enough.
  StatusOr<TrialId> Authorize(const httplib::Request& req, bool study_only) {
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.rfind(kBearer, 0) != 0) {
      return UnauthenticatedError("missing 'Authorization: Bearer <token>' header");
    }
    std::optional<Principal> who = service_->Authenticate(header.substr(kBearer.size()));
    if (!who) return UnauthenticatedError("unknown token");
    SHERPA_ASSIGN_OR_RETURN(TrialId id, PathTrialId(req));
    if (who->study) return id;
    if (study_only) return PermissionDeniedError("this needs the study token");
    if (who->trial != id) {
      return PermissionDeniedError("this token belongs to trial " +
                                   std::to_string(who->trial.value_or(0)) + ", not trial " +
                                   std::to_string(id));
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
              SHERPA_ASSIGN_OR_RETURN(Json body, json::Parse(req.body));
              SHERPA_ASSIGN_OR_RETURN(Observation o, json::ObservationFromJson(body, ""));
              SHERPA_ASSIGN_OR_RETURN(bool stop, service_->Report(id, std::move(o)));
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

  TrialService* service_;
  HttpServerOptions options_;
  httplib::Server server_;
  std::thread thread_;
};

HttpServer::HttpServer(TrialService* service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<int> HttpServer::Start() {
  SHERPA_ASSIGN_OR_RETURN(port_, impl_->Start());
  return port_;
}

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace sherpa::server
