#include "sherpa/client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "client/http_connection.h"
#include "json/value_json.h"

namespace sherpa {
namespace {

using Json = json::Json;

// How long a process started ahead of its trial tries to reach a runner that
// closed its descriptor without a trial (AwaitTrial).
constexpr std::chrono::milliseconds kRunnerGoneAfter{2000};

// The server's error body as a Status with its code and message.
Status ErrorFromResponse(const client_internal::HttpResponse& res) {
  StatusOr<Json> body = json::Parse(res.body);
  std::string message = res.body;
  StatusCode code = StatusCode::kInternal;
  if (body.ok() && body->is_object() && body->contains("error")) {
    const Json& error = (*body)["error"];
    if (error.contains("message") && error["message"].is_string()) {
      message = error["message"].get<std::string>();
    }
  }
  switch (res.status) {
    case 400:
    case 413:
      code = StatusCode::kInvalidArgument;
      break;
    case 401:
      code = StatusCode::kUnauthenticated;
      break;
    case 403:
      code = StatusCode::kPermissionDenied;
      break;
    case 404:
      code = StatusCode::kNotFound;
      break;
    case 409:
      code = StatusCode::kFailedPrecondition;
      break;
    case 503:
      code = StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, "HTTP " + std::to_string(res.status) + ": " + message);
}

}  // namespace

class Client::Connection {
 public:
  explicit Connection(const ClientOptions& o) : http_(o.host, o.port, o.token) {
    // Keys must differ between clients of the same trial (several
    // processes, or `sherpa trial report` called once per report), so each
    // client draws a random prefix; a counter tells its reports apart.
    std::random_device device;
    std::snprintf(key_prefix_, sizeof(key_prefix_), "%08x%08x-", device(), device());
  }

  // Connects now, so that the first request does not wait for it.
  void Open() { (void)http_.Open(); }

  // A fresh Idempotency-Key for the next report (docs/http_api.md).
  std::string NextKey() { return key_prefix_ + std::to_string(++reports_); }

  // Sends a request, retrying while the runner cannot be reached (it may be
  // starting, or an idle keep-alive connection was closed). HTTP errors are
  // answers and are not retried. `idempotency_key`: a report sent with a
  // key is recorded once however often it is resent, and a resend is
  // answered like the first copy; so a POST whose answer was lost is resent
  // with the same key. `resent_is_success`: if a resend is refused as a
  // repetition (409 ALREADY_EXISTS, e.g. by a runner that no longer holds
  // the key), it was stored the first time.
  StatusOr<Json> Call(const std::string& method, const std::string& path, const std::string& body,
                      std::chrono::milliseconds retry_for, bool resent_is_success = false,
                      const std::string& idempotency_key = "") {
    const auto deadline = std::chrono::steady_clock::now() + retry_for;
    auto backoff = std::chrono::milliseconds(20);
    bool resent = false;
    const std::string headers =
        idempotency_key.empty() ? "" : "Idempotency-Key: " + idempotency_key + "\r\n";
    for (;;) {
      StatusOr<client_internal::HttpResponse> res = http_.Request(method, path, body, headers);
      if (res.ok()) {
        if (res->status == 200) return json::Parse(res->body);
        if (resent && resent_is_success && res->status == 409 &&
            res->body.find("ALREADY_EXISTS") != std::string::npos) {
          return Json{{"stop", false}};
        }
        return ErrorFromResponse(*res);
      }
      resent = method == "POST";
      if (std::chrono::steady_clock::now() + backoff > deadline) {
        return UnavailableError("cannot reach the sherpa runner: " + res.status().message());
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }

 private:
  client_internal::HttpConnection http_;
  char key_prefix_[18] = {};
  uint64_t reports_ = 0;
};

StatusOr<Client> Client::FromEnvironment() {
  auto get = [](const char* name) -> StatusOr<std::string> {
    const char* value = std::getenv(name);
    if (!value || !*value) {
      return FailedPreconditionError(std::string(name) +
                                     " is not set: this program is meant to be started by "
                                     "`sherpa run`");
    }
    return std::string(value);
  };
  ClientOptions o;
  char* end = nullptr;
  const char* fd = std::getenv("SHERPA_TRIAL_FD");
  if (const char* id = std::getenv("SHERPA_TRIAL_ID"); (!id || !*id) && fd && *fd) {
    const long n = std::strtol(fd, &end, 10);
    if (*end != '\0' || n < 0 || n > INT32_MAX) {
      return InvalidArgumentError("SHERPA_TRIAL_FD is not a descriptor: '" + std::string(fd) + "'");
    }
    o.trial_fd = static_cast<int>(n);
  } else {
    SHERPA_ASSIGN_OR_RETURN(std::string text, get("SHERPA_TRIAL_ID"));
    o.trial_id = std::strtoll(text.c_str(), &end, 10);
    if (*end != '\0' || o.trial_id <= 0) {
      return InvalidArgumentError("SHERPA_TRIAL_ID is not a trial id: '" + text + "'");
    }
  }
  SHERPA_ASSIGN_OR_RETURN(o.host, get("SHERPA_HOST"));
  SHERPA_ASSIGN_OR_RETURN(std::string port, get("SHERPA_PORT"));
  SHERPA_ASSIGN_OR_RETURN(o.token, get("SHERPA_TOKEN"));
  if (const char* dir = std::getenv("SHERPA_OUTPUT_DIR")) o.output_dir = dir;
  o.port = static_cast<int>(std::strtol(port.c_str(), &end, 10));
  if (*end != '\0' || o.port <= 0 || o.port > 65535) {
    return InvalidArgumentError("SHERPA_PORT is not a port: '" + port + "'");
  }
  return Client(std::move(o));
}

Client::Client(ClientOptions options)
    : options_(std::move(options)), connection_(std::make_unique<Connection>(options_)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

StatusOr<Trial> Client::get_trial() {
  if (options_.trial_id == 0 && options_.trial_fd >= 0) return AwaitTrial();
  SHERPA_ASSIGN_OR_RETURN(
      Json body, connection_->Call("GET", "/api/v1/trials/" + std::to_string(options_.trial_id), "",
                                   options_.connect_retry_for));
  return json::TrialFromJson(body, "trial");
}

// The runner writes the trial (GET /api/v1/trials/<id>'s answer) to the
// descriptor and closes it; it closes it empty if the trial is too large
// for the one send it makes (over 32 KiB). Empty also means another process of this trial (a
// shell script's earlier `sherpa trial ...`) read it first: then the server
// tells, by the token.
StatusOr<Trial> Client::AwaitTrial() {
  // While waiting anyway: the first report then needs no connect. (If the
  // wait outlasts the runner's keep-alive, the next request reconnects.)
  connection_->Open();
  std::string message;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(options_.trial_fd, buffer, sizeof(buffer));
    if (n > 0) {
      message.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      return FailedPreconditionError("cannot read the trial from descriptor " +
                                     std::to_string(options_.trial_fd) +
                                     " (SHERPA_TRIAL_FD): " + std::strerror(errno));
    }
  }
  ::close(options_.trial_fd);
  options_.trial_fd = -1;
  Json body;
  if (!message.empty()) {
    SHERPA_ASSIGN_OR_RETURN(body, json::Parse(message));
  } else {
    // The runner is up (it just closed our descriptor) unless it died: then
    // this process has nothing to do, and should not wait long to say so.
    SHERPA_ASSIGN_OR_RETURN(
        body, connection_->Call("GET", "/api/v1/trial", "",
                                std::min(options_.connect_retry_for, kRunnerGoneAfter)));
  }
  SHERPA_ASSIGN_OR_RETURN(Trial trial, json::TrialFromJson(body, "trial"));
  options_.trial_id = trial.id;
  // From now on this process (and what it starts) is an ordinary trial
  // process: a later FromEnvironment reads the id and never touches the
  // descriptor number, which a file opened since may have taken.
  ::setenv("SHERPA_TRIAL_ID", std::to_string(trial.id).c_str(), 1);
  ::unsetenv("SHERPA_TRIAL_FD");
  return trial;
}

StatusOr<bool> Client::send_metrics(const Trial& trial, int64_t iteration, double objective,
                                    const Context& context) {
  Json body{{"iteration", iteration}, {"objective", objective}, {"context", json::ToJson(context)}};
  SHERPA_ASSIGN_OR_RETURN(
      Json answer,
      connection_->Call("POST", "/api/v1/trials/" + std::to_string(trial.id) + "/observations",
                        body.dump(), options_.connect_retry_for, /*resent_is_success=*/true,
                        connection_->NextKey()));
  return json::GetBool(answer, "stop", "answer");
}

StatusOr<bool> Client::should_stop(const Trial& trial) {
  SHERPA_ASSIGN_OR_RETURN(
      Json answer, connection_->Call("GET", "/api/v1/trials/" + std::to_string(trial.id) + "/stop",
                                     "", options_.connect_retry_for));
  return json::GetBool(answer, "stop", "answer");
}

Status Client::end_trial(const Trial& trial, TrialStatus status) {
  Json body{{"status", TrialStatusName(status)}};
  return connection_
      ->Call("POST", "/api/v1/trials/" + std::to_string(trial.id) + "/end", body.dump(),
             options_.connect_retry_for)
      .status();
}

bool Client::IsCheckpointName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

std::string Client::checkpoint_path(std::string_view name) const {
  namespace fs = std::filesystem;
  if (!IsCheckpointName(name)) return "";
  const fs::path dir =
      fs::path(options_.output_dir.empty() ? "." : options_.output_dir) / "checkpoints";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return (dir / std::string(name)).string();
}

}  // namespace sherpa
