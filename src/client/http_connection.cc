#include "client/http_connection.h"

#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace sherpa::client_internal {
namespace {

constexpr int kConnectTimeoutMs = 5000;
// The runner answers a report after its commit; a slow disk under load
// takes milliseconds, a stuck one should not hang a trial forever.
constexpr int kReadTimeoutMs = 300000;

Status Broken(const std::string& what) {
  return UnavailableError(what + ": " + std::strerror(errno));
}

}  // namespace

HttpConnection::HttpConnection(std::string host, int port, std::string token)
    : host_(std::move(host)), port_(port), token_(std::move(token)) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Status HttpConnection::Connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  if (const int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return UnavailableError("cannot resolve '" + host_ + "': " + ::gai_strerror(rc));
  }
  Status last = UnavailableError("no address for '" + host_ + "'");
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Broken("cannot connect to " + host_ + ":" + port);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof(error);
    if (::poll(&p, 1, kConnectTimeoutMs) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      errno = error != 0 ? error : ETIMEDOUT;
      last = Broken("cannot connect to " + host_ + ":" + port);
      ::close(fd);
      continue;
    }
    const int flags = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof(flags));
    fd_ = fd;
    ::freeaddrinfo(found);
    return OkStatus();
  }
  ::freeaddrinfo(found);
  return last;
}

Status HttpConnection::Open() {
  if (fd_ >= 0 && ClosedByPeer()) Close();
  if (fd_ < 0) return Connect();
  return OkStatus();
}

bool HttpConnection::ClosedByPeer() const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;  // nothing to read: open and idle
  char byte;
  return ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

StatusOr<HttpResponse> HttpConnection::Request(const std::string& method, const std::string& path,
                                               const std::string& body,
                                               const std::string& extra_headers) {
  SHERPA_RETURN_IF_ERROR(Open());
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nAuthorization: Bearer " + token_ +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n" + extra_headers + "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, kReadTimeoutMs) != 1) {
      Close();
      return UnavailableError("timed out sending to the runner");
    }
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      Status s = Broken("connection to the runner broke");
      Close();
      return s;
    }
    sent += static_cast<size_t>(n);
  }

  // Read until the headers and Content-Length bytes of body are in.
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buffer_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        for (size_t line = buffer_.find("\r\n"); line < header_end;
             line = buffer_.find("\r\n", line + 2)) {
          constexpr char kLength[] = "Content-Length:";
          if (::strncasecmp(buffer_.c_str() + line + 2, kLength, sizeof(kLength) - 1) == 0) {
            content_length =
                std::strtoul(buffer_.c_str() + line + 2 + sizeof(kLength) - 1, nullptr, 10);
          }
        }
      }
    }
    if (header_end != std::string::npos && buffer_.size() >= header_end + 4 + content_length) {
      break;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, kReadTimeoutMs) != 1) {
      Close();
      return UnavailableError("timed out waiting for the runner's answer");
    }
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      Status s = n == 0 ? UnavailableError("the runner closed the connection")
                        : Broken("connection to the runner broke");
      Close();
      return s;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  HttpResponse response;
  // "HTTP/1.1 200 OK"
  response.status = buffer_.size() > 12 ? std::atoi(buffer_.c_str() + 9) : 0;
  response.body = buffer_.substr(header_end + 4, content_length);
  const bool close = buffer_.substr(0, header_end).find("Connection: close") != std::string::npos;
  buffer_.erase(0, header_end + 4 + content_length);
  if (close) Close();
  return response;
}

}  // namespace sherpa::client_internal
