// The runner's report path end to end: a real study (sherpa::optimize with a
// real trial process), the real HTTP server and the C++ client, with a TCP
// proxy between client and runner that loses an answer the way a network
// does. What a user relies on: a report the client saw succeed is in
// study.db exactly once, however often it had to be sent.
#include "sherpa/runner.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "client/http_connection.h"
#include "storage/study_store.h"

#include "sherpa/algorithms.h"
#include "sherpa/client.h"

namespace sherpa {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Forwards one connection at a time between a client and 127.0.0.1:upstream
// and breaks the first report it sees: kDropAnswer lets the report reach the
// runner and closes the client's connection when the answer comes back
// (the report is durable, the client does not know); kCutAfterRequest closes
// both sides as soon as the report is forwarded, so the client's resend may
// reach the runner while the first copy is still being committed.
class LossyProxy {
 public:
  enum class Mode { kDropAnswer, kCutAfterRequest };

  LossyProxy(int upstream_port, Mode mode) : upstream_port_(upstream_port), mode_(mode) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listener_, 8) != 0) {
      ADD_FAILURE() << "proxy cannot listen";
      return;
    }
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LossyProxy() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }

  int port() const { return port_; }
  // Report requests forwarded to the runner, resends included.
  int reports_forwarded() const { return reports_forwarded_; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 20) != 1) continue;
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(upstream_port_);
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        Pump(client, upstream);
      }
      close(client);
      close(upstream);
    }
  }

  // Copies bytes both ways until a side closes or the fault is injected.
  void Pump(int client, int upstream) {
    bool report_in_flight = false;
    char buf[65536];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (poll(p, 2, 20) <= 0) continue;
      if (p[0].revents != 0) {
        const ssize_t n = read(client, buf, sizeof(buf));
        if (n <= 0) return;
        const std::string data(buf, static_cast<size_t>(n));
        if (write(upstream, buf, static_cast<size_t>(n)) != n) return;
        if (data.find("/observations HTTP/1.1") != std::string::npos) {
          ++reports_forwarded_;
          report_in_flight = true;
          if (!broken_ && mode_ == Mode::kCutAfterRequest) {
            broken_ = true;
            return;
          }
        }
      }
      if (p[1].revents != 0) {
        const ssize_t n = read(upstream, buf, sizeof(buf));
        if (n <= 0) return;
        if (report_in_flight && !broken_ && mode_ == Mode::kDropAnswer) {
          broken_ = true;
          return;
        }
        report_in_flight = false;
        if (write(client, buf, static_cast<size_t>(n)) != n) return;
      }
    }
  }

  const int upstream_port_;
  const Mode mode_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> reports_forwarded_{0};
  bool broken_ = false;  // the one fault has been injected
  std::thread thread_;
};

class RunnerReportTest : public ::testing::TestWithParam<LossyProxy::Mode> {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("runner_report_" + std::to_string(getpid()) + "_" +
                                             std::to_string(static_cast<int>(GetParam())));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

// The trial process only hands its token and port to the test, which plays
// the trial's client through the proxy, and waits until told to exit.
constexpr char kTrialCommand[] =
    "printf '%s %s\\n' \"$SHERPA_TOKEN\" \"$SHERPA_PORT\" > hand.tmp && mv hand.tmp hand; "
    "i=0; while [ ! -e done ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done";

TEST_P(RunnerReportTest, AReportResentAfterALostAnswerIsStoredOnce) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create({Continuous("x", {0.0, 1.0})});
  StatusOr<std::unique_ptr<Algorithm>> algorithm = RandomSearch(1);
  ASSERT_TRUE(space.ok() && algorithm.ok());
  OptimizeOptions o;
  o.parameters = *space;
  o.algorithm = std::move(*algorithm);
  o.command = kTrialCommand;
  o.working_dir = dir_.string();
  o.output_dir = (dir_ / "study").string();
  o.handle_signals = false;
  o.progress = ProgressMode::kQuiet;
  StatusOr<OptimizeResult> result = InternalError("not run");
  std::thread study([&] { result = optimize(std::move(o)); });

  std::string token;
  int port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::ifstream(dir_ / "hand") >> token >> port;
    if (port == 0) std::this_thread::sleep_for(25ms);
  }
  bool reported = false;
  if (port != 0) {
    // A user asks the trial to stop, so the answer to its report says so:
    // the resend must be answered like the first copy, not merely refused
    // as a repetition.
    std::string study_token;
    std::ifstream(dir_ / "study" / "study.token") >> study_token;
    client_internal::HttpConnection user("127.0.0.1", port, study_token);
    StatusOr<client_internal::HttpResponse> asked =
        user.Request("POST", "/api/v1/trials/1/stop", "");
    ASSERT_TRUE(asked.ok()) << asked.status();
    ASSERT_EQ(asked->status, 200) << asked->body;

    LossyProxy proxy(port, GetParam());
    ClientOptions co;
    co.port = proxy.port();
    co.token = token;
    co.trial_id = 1;
    co.connect_retry_for = 5000ms;
    Client client(co);
    StatusOr<bool> first = client.send_metrics(Trial{1, {}}, 1, 0.5);
    StatusOr<bool> second = client.send_metrics(Trial{1, {}}, 2, 0.25);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(*first);  // the first copy's answer
    EXPECT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(proxy.reports_forwarded(), 3);  // the lost one, its resend, the next
    reported = true;
  }
  std::ofstream(dir_ / "done").close();  // the trial exits, the study ends
  study.join();
  ASSERT_TRUE(reported) << "the trial never started";
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed + result->stopped, 1u);

  StatusOr<std::unique_ptr<storage::StudyStore>> store =
      storage::StudyStore::Open((dir_ / "study" / "study.db").string(), false);
  ASSERT_TRUE(store.ok()) << store.status();
  StatusOr<std::vector<storage::StoredObservation>> rows = (*store)->LoadObservations();
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::vector<int64_t> iterations;
  for (const storage::StoredObservation& row : *rows)
    iterations.push_back(row.observation.iteration);
  EXPECT_THAT(iterations, ::testing::ElementsAre(1, 2));
  StatusOr<std::vector<storage::StoredEvent>> events = (*store)->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  int observation_events = 0;
  for (const storage::StoredEvent& e : *events) {
    observation_events += e.kind == storage::EventKind::kObservation;
  }
  EXPECT_EQ(observation_events, 2);
}

INSTANTIATE_TEST_SUITE_P(LostAnswers, RunnerReportTest,
                         ::testing::Values(LossyProxy::Mode::kDropAnswer,
                                           LossyProxy::Mode::kCutAfterRequest),
                         [](const ::testing::TestParamInfo<LossyProxy::Mode>& param) {
                           return param.param == LossyProxy::Mode::kDropAnswer
                                      ? std::string("AnswerDropped")
                                      : std::string("CutAfterRequest");
                         });

}  // namespace
}  // namespace sherpa
