// The trial API over HTTP/1.1 + JSON (docs/http_api.md), on cpp-httplib.
// This is the only file of the server side that includes httplib.h.
#ifndef SHERPA_SERVER_HTTP_SERVER_H_
#define SHERPA_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <string_view>

#include "server/dashboard_service.h"
#include "server/trial_service.h"

#include "sherpa/status.h"

namespace sherpa::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // Worker threads. Each keep-alive connection holds one while it is open,
  // so this must exceed the number of concurrently connected trials plus
  // browsers, or a connection starves (cpp-httplib is thread-per-connection).
  size_t threads = 16;
  // When set, the server also serves the dashboard (docs/dashboard.md): the
  // page, its data feed and its live event stream. Not owned; must outlive
  // the server.
  DashboardService* dashboard = nullptr;
};

class HttpServer {
 public:
  HttpServer(TrialService* service, HttpServerOptions options);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a background thread. Returns the port.
  // UNAVAILABLE if the address cannot be bound.
  StatusOr<int> Start();
  void Stop();

  int port() const { return port_; }

  // Serves `request` (raw bytes, possibly several pipelined requests) as if
  // they arrived on one connection, and returns every byte the server wrote
  // back. No socket and no thread: parsing, routing and the handlers run on
  // the caller's thread. Live event streams send what they have and end, as
  // on a stopped server, so use it on a server that is not started. For the
  // fuzzer (fuzz/http_request_fuzz.cc) and tests.
  std::string ServeBytes(std::string_view request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// The HTTP status for a Status code (docs/http_api.md).
int HttpStatusFor(StatusCode code);

}  // namespace sherpa::server

#endif  // SHERPA_SERVER_HTTP_SERVER_H_
