// The C++ client against a real HTTP server on loopback (cpp-httplib, as the
// runner uses), scripted to misbehave the ways a real network does.
#include "sherpa/client.h"

#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace sherpa {
namespace {

using ::testing::HasSubstr;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_tcp_nodelay(true);
    server_.Get(
        R"(/api/v1/trials/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
          if (req.get_header_value("Authorization") != "Bearer secret") {
            res.status = 401;
            res.set_content(R"({"error":{"code":"UNAUTHENTICATED","message":"unknown token"}})",
                            "application/json");
            return;
          }
          res.set_content(R"({"id":7,"parameters":{"lr":1.0,"layers":3,"load_from":"2"}})",
                          "application/json");
        });
    server_.Post(R"(/api/v1/trials/(\d+)/observations)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     bodies_.push_back(req.body);
                   }
                   if (++reports_ > 1 && req.body.find("\"iteration\":1,") != std::string::npos) {
                     res.status = 409;
                     res.set_content(R"({"error":{"code":"ALREADY_EXISTS","message":"trial 7 )"
                                     R"(has already reported iteration 1"}})",
                                     "application/json");
                     return;
                   }
                   res.set_content(R"({"stop":false})", "application/json");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  Client MakeClient(std::string token = "secret") {
    ClientOptions o;
    o.port = port_;
    o.token = std::move(token);
    o.trial_id = 7;
    o.output_dir = ::testing::TempDir();
    o.connect_retry_for = std::chrono::milliseconds(2000);
    return Client(o);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  // The server's thread writes, the test reads after its answer: under a
  // lock, since ThreadSanitizer cannot see ordering through a socket.
  std::vector<std::string> Bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::atomic<int> reports_{0};
};

TEST_F(ClientTest, GetsItsTrialWithTypedParameters) {
  Client client = MakeClient();
  StatusOr<Trial> trial = client.get_trial();
  ASSERT_TRUE(trial.ok()) << trial.status();
  EXPECT_EQ(trial->id, 7);
  EXPECT_TRUE(trial->parameters.at("lr").is_double());
  EXPECT_EQ(trial->parameters.at("layers"), Value(3));
  EXPECT_EQ(trial->parameters.at("load_from"), Value("2"));
}

TEST_F(ClientTest, ServerErrorsComeBackWithTheirMessage) {
  Client client = MakeClient("wrong");
  StatusOr<Trial> trial = client.get_trial();
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(trial.status().message(), HasSubstr("unknown token"));
}

TEST_F(ClientTest, ReportsSendIterationObjectiveAndContext) {
  Client client = MakeClient();
  StatusOr<bool> stop =
      client.send_metrics(Trial{7, {}}, 2, 0.5, {{"loss", Value(1.25)}, {"tag", Value("a")}});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_FALSE(*stop);
  const std::vector<std::string> bodies = Bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_THAT(bodies[0], HasSubstr("\"iteration\":2"));
  EXPECT_THAT(bodies[0], HasSubstr("\"loss\":1.25"));
}

TEST_F(ClientTest, ARepeatedIterationIsAnErrorWhenTheFirstAnswerArrived) {
  Client client = MakeClient();
  ASSERT_TRUE(client.send_metrics(Trial{7, {}}, 1, 0.5).ok());
  StatusOr<bool> again = client.send_metrics(Trial{7, {}}, 1, 0.5);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("already reported iteration 1"));
}

// A raw socket server: the first connection gets the request and is closed
// without an answer (the report was stored, the answer lost); the next one
// answers 409 ALREADY_EXISTS, as the runner does for a resent report.
TEST(ClientLostAnswerTest, AReportWhoseAnswerWasLostIsNotReportedAsRepeated) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread server([listener] {
    char buf[4096];
    int first = accept(listener, nullptr, nullptr);
    (void)read(first, buf, sizeof(buf));
    close(first);
    int second = accept(listener, nullptr, nullptr);
    (void)read(second, buf, sizeof(buf));
    const std::string body =
        R"({"error":{"code":"ALREADY_EXISTS","message":"already reported iteration 1"}})";
    const std::string answer =
        "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)write(second, answer.data(), answer.size());
    close(second);
  });
  ClientOptions o;
  o.port = ntohs(addr.sin_port);
  o.trial_id = 7;
  o.connect_retry_for = std::chrono::milliseconds(2000);
  Client client(o);
  StatusOr<bool> stop = client.send_metrics(Trial{7, {}}, 1, 0.3);
  server.join();
  close(listener);
  EXPECT_TRUE(stop.ok()) << stop.status();
}

// The value of the Idempotency-Key header in a raw request, or "".
std::string KeyOf(const std::string& request) {
  const size_t at = request.find("Idempotency-Key: ");
  if (at == std::string::npos) return "";
  const size_t begin = at + 17;
  return request.substr(begin, request.find("\r\n", begin) - begin);
}

// The first connection gets the report and is closed without an answer;
// the resend must carry the same key (so the runner records it once), and
// its answer, the first copy's, is what send_metrics returns.
TEST(ClientLostAnswerTest, AResentReportCarriesTheSameIdempotencyKey) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<std::string> requests;
  std::thread server([listener, &requests] {
    const std::string body = R"({"stop":true})";
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    for (int i = 0; i < 3; ++i) {
      char buf[4096];
      const int fd = accept(listener, nullptr, nullptr);
      const ssize_t n = read(fd, buf, sizeof(buf));
      requests.emplace_back(buf, n > 0 ? static_cast<size_t>(n) : 0);
      if (i > 0) (void)write(fd, answer.data(), answer.size());
      close(fd);
    }
  });
  ClientOptions o;
  o.port = ntohs(addr.sin_port);
  o.trial_id = 7;
  o.connect_retry_for = std::chrono::milliseconds(2000);
  Client client(o);
  StatusOr<bool> stop = client.send_metrics(Trial{7, {}}, 1, 0.3);
  StatusOr<bool> next = client.send_metrics(Trial{7, {}}, 2, 0.3);
  server.join();
  close(listener);
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_TRUE(*stop);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_NE(KeyOf(requests[0]), "");
  EXPECT_EQ(KeyOf(requests[1]), KeyOf(requests[0]));
  EXPECT_NE(KeyOf(requests[2]), KeyOf(requests[0]));  // a new report, a new key
  // Another client of the same trial (another process) draws other keys.
  EXPECT_EQ(KeyOf(requests[0]).find('-'), 16u);
}

TEST_F(ClientTest, UnreachableRunnerIsUnavailableAfterRetrying) {
  ClientOptions o;
  o.port = 1;  // nothing listens there
  o.trial_id = 7;
  o.connect_retry_for = std::chrono::milliseconds(200);
  Client client(o);
  StatusOr<Trial> trial = client.get_trial();
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(trial.status().message(), HasSubstr("cannot reach the sherpa runner"));
}

TEST_F(ClientTest, FromEnvironmentNamesWhatIsMissing) {
  unsetenv("SHERPA_TRIAL_ID");
  StatusOr<Client> client = Client::FromEnvironment();
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("SHERPA_TRIAL_ID is not set"));
  setenv("SHERPA_TRIAL_ID", "x7", 1);
  setenv("SHERPA_HOST", "127.0.0.1", 1);
  setenv("SHERPA_PORT", "80", 1);
  setenv("SHERPA_TOKEN", "t", 1);
  client = Client::FromEnvironment();
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("not a trial id"));
}

TEST_F(ClientTest, CheckpointPathIsUnderTheStudyFolder) {
  Client client = MakeClient();
  EXPECT_THAT(client.checkpoint_path("12"), HasSubstr("checkpoints/12"));
  EXPECT_THAT(client.checkpoint_path("model.v2-best"), HasSubstr("checkpoints/model.v2-best"));
}

TEST_F(ClientTest, HostileCheckpointNamesGiveNoPath) {
  Client client = MakeClient();
  // Each of these would leave the checkpoints folder if joined to it.
  for (std::string_view name :
       {std::string_view(""), std::string_view("."), std::string_view(".."),
        std::string_view("../study.db"), std::string_view("/etc/passwd"), std::string_view("a/b"),
        std::string_view("../../x"), std::string_view("ok\0/../../x", 11)}) {
    EXPECT_FALSE(Client::IsCheckpointName(name)) << name;
    EXPECT_EQ(client.checkpoint_path(name), "") << name;
  }
  EXPECT_TRUE(Client::IsCheckpointName("..."));  // an odd name, but a file in the folder
}

}  // namespace
}  // namespace sherpa
