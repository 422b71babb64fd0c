// A minimal HTTP/1.1 client for the trial API: one keep-alive TCP
// connection with TCP_NODELAY, each request written with one send().
//
// Why not cpp-httplib, which the server uses: Debian builds it as a shared
// library linked against OpenSSL, zlib and brotli, and loading those costs a
// trial process about 5 ms before main() (measured by bench/runner), which
// is most of the runner's hand-off time. The trial API needs none of it:
// plain HTTP, JSON bodies, Content-Length framing.
#ifndef SHERPA_CLIENT_HTTP_CONNECTION_H_
#define SHERPA_CLIENT_HTTP_CONNECTION_H_

#include <string>

#include "sherpa/status.h"

namespace sherpa::client_internal {

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  HttpConnection(std::string host, int port, std::string token);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads the answer. UNAVAILABLE if the server
  // cannot be reached or the connection broke (the caller may retry; the
  // connection is reopened on the next call). `extra_headers`: whole header
  // lines, each ending in "\r\n".
  StatusOr<HttpResponse> Request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& extra_headers = "");

  // Opens the connection now if it is not open, so the next request does
  // not wait for the connect (a process started ahead of its trial opens it
  // while it waits).
  Status Open();

 private:
  Status Connect();
  void Close();
  // Whether the runner has closed the open connection (an idle keep-alive
  // connection it timed out): sending on it would fail.
  bool ClosedByPeer() const;

  std::string host_;
  int port_;
  std::string token_;
  int fd_ = -1;
  std::string buffer_;  // bytes read past the previous answer
};

}  // namespace sherpa::client_internal

#endif  // SHERPA_CLIENT_HTTP_CONNECTION_H_
