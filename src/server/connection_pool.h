// The trial API's sockets: a listening socket, a fixed pool of threads, one
// keep-alive connection per thread at a time, each request handed to
// cpp-httplib's own parser and router (HttpServer's process_request).
//
// Why not cpp-httplib's listen(): its keep-alive loop polls every idle
// connection (select with a 10 ms timeout, then a 1 ms sleep), so a request
// that arrives during the sleep waits up to 1 ms, and every connected trial
// costs ~90 wake-ups per second while it trains. A trial reporting every
// 100 ms lands in the sleep nearly every time (measured: 0.85 ms per
// round trip after 100 ms idle, 0.05 ms without idling; a plain socket
// 0.10 ms). Here an idle connection waits in poll() without a timeout
// shorter than the keep-alive limit, and a request is served the moment it
// arrives.
#ifndef SHERPA_SERVER_CONNECTION_POOL_H_
#define SHERPA_SERVER_CONNECTION_POOL_H_

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sherpa/status.h"

namespace sherpa::server {

struct ConnectionPoolOptions {
  size_t threads = 16;                    // connections served at once; more wait their turn
  std::chrono::seconds keep_alive{5};     // an idle connection is closed after this
  std::chrono::seconds read_timeout{30};  // within a request
  std::chrono::seconds write_timeout{30};
  size_t keep_alive_max_requests = 1000000;
};

class ConnectionPool {
 public:
  // Serves one request from `stream`: cpp-httplib's process_request.
  // `close`: this is the connection's last request; sets `closed` when the
  // connection must end. False: the connection is broken.
  using ServeRequest = std::function<bool(httplib::Stream& stream, bool close, bool& closed)>;

  ConnectionPool(ServeRequest serve, ConnectionPoolOptions options);
  ~ConnectionPool();  // Stop()s

  // Binds `host`:`port` (0: a free port) and starts serving. Returns the port.
  StatusOr<int> Start(const std::string& host, int port);

  // Stops accepting, wakes idle connections and waits for the requests in
  // progress to finish. Idempotent.
  void Stop();

  // The listening socket, -1 before Start() and after Stop().
  int listen_fd() const { return listen_fd_; }

 private:
  void AcceptLoop();
  void WorkerLoop();
  void ServeConnection(int fd);

  const ServeRequest serve_;
  const ConnectionPoolOptions options_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd, readable once Stop() was called

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> accepted_;  // guarded by mu_
  bool stopping_ = false;     // guarded by mu_

  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace sherpa::server

#endif  // SHERPA_SERVER_CONNECTION_POOL_H_
