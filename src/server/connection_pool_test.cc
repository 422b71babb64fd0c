#include "server/connection_pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace sherpa::server {
namespace {

// A line protocol instead of HTTP: the pool's part is the sockets, the
// keep-alive loop and the threads, whatever the requests are.

// The next line, without its newline. False at the end of the connection.
bool ReadLine(httplib::Stream& stream, std::string& line) {
  line.clear();
  char c;
  while (true) {
    const ssize_t n = stream.read(&c, 1);
    if (n <= 0) return false;
    if (c == '\n') return true;
    line += c;
  }
}

bool WriteAll(httplib::Stream& stream, const std::string& text) {
  return stream.write(text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

bool Echo(httplib::Stream& stream, bool /*close*/, bool& closed) {
  std::string line;
  if (!ReadLine(stream, line)) return false;
  if (line == "bye") closed = true;
  return WriteAll(stream, line + "!\n");
}

class Peer {
 public:
  explicit Peer(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Peer() { ::close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Send(const std::string& text) {
    ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  // The next line, or "" at the end of the connection.
  std::string Line() {
    std::string line;
    char c;
    while (::recv(fd_, &c, 1, 0) == 1) {
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST(ConnectionPoolTest, OneConnectionCarriesManyRequestsEvenAfterIdling) {
  ConnectionPool pool(Echo, ConnectionPoolOptions{});
  StatusOr<int> port = pool.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  Peer peer(*port);
  ASSERT_TRUE(peer.connected());
  // Two requests in one write (pipelined): the read buffer must keep the
  // second for the next round.
  peer.Send("a\nb\n");
  EXPECT_EQ(peer.Line(), "a!");
  EXPECT_EQ(peer.Line(), "b!");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  peer.Send("c\n");
  EXPECT_EQ(peer.Line(), "c!");
  peer.Send("bye\n");
  EXPECT_EQ(peer.Line(), "bye!");
  EXPECT_EQ(peer.Line(), "");  // closed by the server
}

TEST(ConnectionPoolTest, ConnectionsBeyondThePoolWaitTheirTurn) {
  ConnectionPoolOptions options;
  options.threads = 1;
  ConnectionPool pool(Echo, options);
  StatusOr<int> port = pool.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  Peer first(*port), second(*port);
  first.Send("1\n");
  EXPECT_EQ(first.Line(), "1!");
  second.Send("2\n");  // queued: the only thread holds `first`
  first.Send("bye\n");
  EXPECT_EQ(first.Line(), "bye!");
  EXPECT_EQ(second.Line(), "2!");
}

TEST(ConnectionPoolTest, StopEndsIdleConnectionsWithoutWaitingForTheKeepAliveLimit) {
  ConnectionPoolOptions options;
  options.keep_alive = std::chrono::seconds(600);
  auto pool = std::make_unique<ConnectionPool>(Echo, options);
  StatusOr<int> port = pool->Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  Peer idle(*port);
  idle.Send("x\n");
  EXPECT_EQ(idle.Line(), "x!");
  const auto before = std::chrono::steady_clock::now();
  pool->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(60));
  EXPECT_EQ(idle.Line(), "");
  // A new connection is refused once stopped.
  EXPECT_FALSE(Peer(*port).connected());
}

TEST(ConnectionPoolTest, APeerThatLeavesMidRequestCostsNothing) {
  ConnectionPoolOptions options;
  options.threads = 1;  // the next peer is served only if the first one's thread is free
  ConnectionPool pool(Echo, options);
  StatusOr<int> port = pool.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  { Peer(*port).Send("half a li"); }
  Peer next(*port);
  next.Send("whole\n");
  EXPECT_EQ(next.Line(), "whole!");
}

// An answer written as a head and then a body (as cpp-httplib writes every
// answer) reaches the client in one piece: one wake-up for it, not two.
TEST(ConnectionPoolTest, AnAnswersHeadWaitsForItsBody) {
  ConnectionPool pool(
      [](httplib::Stream& stream, bool, bool& closed) {
        std::string request;
        if (!ReadLine(stream, request)) return false;
        closed = true;
        if (!WriteAll(stream, "head|")) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return WriteAll(stream, "body\n");
      },
      ConnectionPoolOptions{});
  StatusOr<int> port = pool.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  Peer peer(*port);
  ASSERT_TRUE(peer.connected());
  peer.Send("go\n");
  char buffer[64];
  const ssize_t n = ::recv(peer.fd(), buffer, sizeof(buffer), 0);  // returns at the first byte
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(std::max<ssize_t>(n, 0))), "head|body\n");
}

// What is held goes out before the server waits to read: a client that
// waits for a "100 Continue" before sending its body must get it.
TEST(ConnectionPoolTest, AHeldWriteIsSentBeforeReadingMore) {
  ConnectionPool pool(
      [](httplib::Stream& stream, bool, bool& closed) {
        std::string head, body;
        if (!ReadLine(stream, head) || !WriteAll(stream, "continue\n") || !ReadLine(stream, body)) {
          return false;
        }
        closed = true;
        return WriteAll(stream, body + "!\n");
      },
      ConnectionPoolOptions{});
  StatusOr<int> port = pool.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  Peer peer(*port);
  ASSERT_TRUE(peer.connected());
  peer.Send("head\n");
  EXPECT_EQ(peer.Line(), "continue");  // without it this waits for the read timeout (30 s)
  peer.Send("body\n");
  EXPECT_EQ(peer.Line(), "body!");
}

TEST(ConnectionPoolTest, AnAddressThatIsNotOursIsUnavailable) {
  ConnectionPool pool(Echo, ConnectionPoolOptions{});
  StatusOr<int> port = pool.Start("192.0.2.1", 0);  // TEST-NET-1
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sherpa::server
