#include "server/connection_pool.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

namespace sherpa::server {
namespace {

int Millis(std::chrono::seconds s) {
  return static_cast<int>(std::min<int64_t>(s.count() * 1000, 1 << 30));
}

// Waits until `fd` has `events`, for at most `timeout_ms`. With
// `stop_fd` >= 0, gives up as soon as it is readable (the pool stops).
bool WaitFor(int fd, short events, int timeout_ms, int stop_fd) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  const nfds_t n = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    const int ready = ::poll(fds, n, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    if (n == 2 && fds[1].revents != 0) return false;
    return fds[0].revents != 0;
  }
}

// The address of `fd`'s own end (getsockname) or its peer's (getpeername)
// as text, and its port; "" and 0 if it has none.
std::string SocketAddress(int fd, bool peer, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  port = 0;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  }
  return text;
}

// A connection as cpp-httplib's Stream. Reads are buffered: its request
// parser reads the head one byte at a time. The first write of an answer
// (cpp-httplib writes the status line and headers in one call, then the
// body in another) is held back and sent with the next one, so a small
// answer leaves in one segment: sent apart, the client woke for the head,
// found no body and went back to sleep until it came: two wake-ups per
// request instead of one (bench/README.md, (c): 0.04 to 0.13 ms less per
// trial on the 2-core VM).
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, int stop_fd, const ConnectionPoolOptions& options)
      : fd_(fd),
        stop_fd_(stop_fd),
        read_ms_(Millis(options.read_timeout)),
        write_ms_(Millis(options.write_timeout)) {}

  bool buffered() const { return begin_ < end_; }

  // Waits for the next request of a kept-alive connection.
  bool WaitForRequest(int timeout_ms) const {
    return buffered() || WaitFor(fd_, POLLIN, timeout_ms, stop_fd_);
  }

  // The next write starts an answer: hold it (see the class comment).
  void BeginAnswer() { hold_next_write_ = true; }

  // Sends what is held. False if the connection broke. Const because
  // waiting to read must send it first (is_readable is const in Stream).
  bool Flush() const {
    if (held_.empty()) return true;
    const bool sent = Send(held_.data(), held_.size());
    held_.clear();
    return sent;
  }

  bool is_readable() const override {
    return buffered() || (Flush() && WaitFor(fd_, POLLIN, read_ms_, stop_fd_));
  }
  bool is_writable() const override { return WaitFor(fd_, POLLOUT, write_ms_, -1); }

  ssize_t read(char* ptr, size_t size) override {
    // Whatever was written is an answer the client may wait for before it
    // sends more (a "100 Continue" before the body).
    if (!Flush()) return -1;
    if (!buffered()) {
      if (!WaitFor(fd_, POLLIN, read_ms_, stop_fd_)) return -1;
      ssize_t n;
      do {
        n = ::recv(fd_, buffer_, sizeof(buffer_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    const bool hold = hold_next_write_;  // only an answer's first write
    hold_next_write_ = false;
    if (hold && size <= kMaxHeld) {
      held_.assign(ptr, size);
      return static_cast<ssize_t>(size);
    }
    if (!held_.empty() && held_.size() + size <= kMaxHeld) {
      held_.append(ptr, size);
      return Flush() ? static_cast<ssize_t>(size) : -1;
    }
    if (!Flush() || !Send(ptr, size)) return -1;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = SocketAddress(fd_, /*peer=*/true, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = SocketAddress(fd_, /*peer=*/false, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  static constexpr size_t kMaxHeld = 64 * 1024;

  bool Send(const char* ptr, size_t size) const {
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        sent += static_cast<size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFor(fd_, POLLOUT, write_ms_, -1)) return false;
      } else if (errno != EINTR) {
        return false;
      }
    }
    return true;
  }

  const int fd_;
  const int stop_fd_;
  const int read_ms_;
  const int write_ms_;
  char buffer_[4096];
  size_t begin_ = 0, end_ = 0;
  bool hold_next_write_ = false;
  mutable std::string held_;
};

}  // namespace

ConnectionPool::ConnectionPool(ServeRequest serve, ConnectionPoolOptions options)
    : serve_(std::move(serve)), options_(options) {}

ConnectionPool::~ConnectionPool() { Stop(); }

StatusOr<int> ConnectionPool::Start(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return UnavailableError("cannot listen on " + host + ":" + service + ": " + ::gai_strerror(rc));
  }
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1, no = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (a->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
    // A full backlog makes a connecting trial wait for a SYN retry (1 s).
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    return UnavailableError("cannot listen on " + host + ":" + service + ": " + error);
  }
  int bound_port = 0;
  SocketAddress(listen_fd_, /*peer=*/false, bound_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return UnavailableError(std::string("eventfd: ") + std::strerror(errno));
  }
  workers_.reserve(options_.threads);
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return bound_port;
}

void ConnectionPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || stop_fd_ < 0) {
      stopping_ = true;
      return;
    }
    stopping_ = true;
  }
  const uint64_t one = 1;
  // An eventfd stays readable once written: every poll on it wakes, now and
  // later.
  (void)!::write(stop_fd_, &one, sizeof(one));
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  for (int fd : accepted_) ::close(fd);
  accepted_.clear();
  ::close(listen_fd_);
  ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void ConnectionPool::AcceptLoop() {
  for (;;) {
    if (!WaitFor(listen_fd_, POLLIN, -1, stop_fd_)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: wait for connections to close, do not spin.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    // Without TCP_NODELAY every answer waits for the client's delayed ACK.
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    {
      std::lock_guard<std::mutex> lock(mu_);
      accepted_.push_back(fd);
    }
    cv_.notify_one();
  }
}

void ConnectionPool::WorkerLoop() {
  for (;;) {
    int fd;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !accepted_.empty(); });
      if (stopping_) return;
      fd = accepted_.front();
      accepted_.pop_front();
    }
    ServeConnection(fd);
    ::close(fd);
  }
}

void ConnectionPool::ServeConnection(int fd) {
  SocketStream stream(fd, stop_fd_, options_);
  const int keep_alive_ms = Millis(options_.keep_alive);
  for (size_t left = options_.keep_alive_max_requests; left > 0; --left) {
    if (!stream.WaitForRequest(keep_alive_ms)) return;
    bool closed = false;
    stream.BeginAnswer();
    const bool served = serve_(stream, /*close=*/left == 1, closed);
    if (!stream.Flush() || !served || closed) return;
  }
}

}  // namespace sherpa::server
