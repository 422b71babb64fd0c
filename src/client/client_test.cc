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
    // A process started ahead asks this when its descriptor came empty.
    server_.Get("/api/v1/trial", [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer s1.secret") {
        res.status = 409;
        res.set_content(R"({"error":{"code":"FAILED_PRECONDITION","message":"no trial yet"}})",
                        "application/json");
        return;
      }
      res.set_content(R"({"id":11,"parameters":{"lr":0.25}})", "application/json");
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

// A process started ahead of its trial (OptimizeOptions::prestart).
class StartedAheadTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    if (fds_[1] >= 0) ::close(fds_[1]);
    ClientTest::TearDown();
  }
  Client MakeWaitingClient(std::string token) {
    ClientOptions o;
    o.port = port_;
    o.token = std::move(token);
    o.trial_fd = fds_[0];  // the client closes it
    o.connect_retry_for = std::chrono::milliseconds(2000);
    return Client(o);
  }
  // client.get_trial() while the runner's side sends `message` (if any) a
  // while later, then closes.
  StatusOr<Trial> GetTrialHandedOff(Client& client, const std::string& message) {
    std::thread runner([this, message] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!message.empty()) {
        ASSERT_EQ(::send(fds_[1], message.data(), message.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(message.size()));
      }
      ::close(fds_[1]);
      fds_[1] = -1;
    });
    StatusOr<Trial> trial = client.get_trial();
    runner.join();
    return trial;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(StartedAheadTest, WaitsForItsTrialOnTheDescriptorAndBecomesThatTrialsProcess) {
  unsetenv("SHERPA_TRIAL_ID");
  setenv("SHERPA_TRIAL_FD", "3", 1);
  Client client = MakeWaitingClient("s1.secret");
  StatusOr<Trial> trial =
      GetTrialHandedOff(client, R"({"id":9,"parameters":{"lr":0.5,"save_to":"9"}})");
  ASSERT_TRUE(trial.ok()) << trial.status();
  EXPECT_EQ(trial->id, 9);
  EXPECT_EQ(trial->parameters.at("lr"), Value(0.5));
  EXPECT_EQ(client.options().trial_id, 9);
  // Later clients and child processes are ordinary processes of trial 9.
  ASSERT_NE(std::getenv("SHERPA_TRIAL_ID"), nullptr);
  EXPECT_STREQ(std::getenv("SHERPA_TRIAL_ID"), "9");
  EXPECT_EQ(std::getenv("SHERPA_TRIAL_FD"), nullptr);
  // Reports go to the trial it got.
  StatusOr<bool> stop = client.send_metrics(*trial, 1, 0.5);
  ASSERT_TRUE(stop.ok()) << stop.status();
  unsetenv("SHERPA_TRIAL_ID");
}

TEST_F(StartedAheadTest, AnEmptyDescriptorMeansAskTheServerByToken) {
  Client client = MakeWaitingClient("s1.secret");
  StatusOr<Trial> trial = GetTrialHandedOff(client, "");
  ASSERT_TRUE(trial.ok()) << trial.status();
  EXPECT_EQ(trial->id, 11);
  EXPECT_EQ(trial->parameters.at("lr"), Value(0.25));
  unsetenv("SHERPA_TRIAL_ID");
}

TEST_F(StartedAheadTest, NoTrialForItsTokenIsAnErrorNotAWait) {
  Client client = MakeWaitingClient("s2.other");
  StatusOr<Trial> trial = GetTrialHandedOff(client, "");
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(trial.status().message(), HasSubstr("no trial yet"));
}

TEST_F(ClientTest, FromEnvironmentTakesADescriptorInPlaceOfATrialId) {
  unsetenv("SHERPA_TRIAL_ID");
  setenv("SHERPA_TRIAL_FD", "3", 1);
  setenv("SHERPA_HOST", "127.0.0.1", 1);
  setenv("SHERPA_PORT", "80", 1);
  setenv("SHERPA_TOKEN", "s1.t", 1);
  StatusOr<Client> client = Client::FromEnvironment();
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->options().trial_fd, 3);
  EXPECT_EQ(client->options().trial_id, 0);
  setenv("SHERPA_TRIAL_FD", "three", 1);
  client = Client::FromEnvironment();
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("SHERPA_TRIAL_FD is not a descriptor"));
  unsetenv("SHERPA_TRIAL_FD");
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
