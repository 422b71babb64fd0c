// The dashboard's routes on the real HttpServer over a real store: who may
// read, the incremental feed, and the live event stream (an observation
// written to the store reaches a connected page without a reload).
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dashboard/dashboard.h"
#include "json/value_json.h"
#include "server/http_server.h"

namespace sherpa::dashboard {
namespace {

using storage::EventKind;
using storage::StoredEvent;
using ::testing::HasSubstr;

// Knows the study token only; stop requests are recorded.
class TokenService final : public server::TrialService {
 public:
  std::optional<server::Principal> Authenticate(std::string_view token) override {
    if (token == "study-token") return server::Principal{std::nullopt, true};
    return std::nullopt;
  }
  StatusOr<Trial> GetTrial(TrialId) override { return NotFoundError("no"); }
  StatusOr<bool> Report(TrialId, Observation, std::string_view) override {
    return NotFoundError("no");
  }
  StatusOr<bool> ShouldStop(TrialId) override { return false; }
  Status EndTrial(TrialId, TrialStatus) override { return OkStatus(); }
  Status RequestStop(TrialId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_.push_back(id);
    return OkStatus();
  }
  StatusOr<std::string> StudySummaryJson() override { return std::string("{}"); }
  // Read under the lock: the server's thread wrote it, and ThreadSanitizer
  // cannot see the ordering the HTTP answer gives through a socket.
  std::vector<TrialId> stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

 private:
  std::mutex mu_;
  std::vector<TrialId> stopped_;
};

class DashboardHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sherpa_dashboard_http_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = storage::StudyStore::Open((dir_ / "study.db").string(), true);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    dashboard_ = std::make_unique<Dashboard>(store_.get(), DashboardOptions{dir_.string(), true});
    server::HttpServerOptions options;
    options.dashboard = dashboard_.get();
    server_ = std::make_unique<server::HttpServer>(&service_, options);
    StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    StoredEvent e;
    e.kind = EventKind::kTrialCreated;
    e.trial_id = 1;
    e.trial = Trial{1, {{"lr", Value(0.1)}}};
    ASSERT_TRUE(store_->WaitDurable(store_->Append(std::move(e))).ok());
  }
  void TearDown() override {
    server_.reset();
    dashboard_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  uint64_t Observe(int64_t iteration) {
    StoredEvent e;
    e.kind = EventKind::kObservation;
    e.trial_id = 1;
    e.attempt = 1;
    e.observation = Observation{iteration, 0.25 * static_cast<double>(iteration), {}};
    return store_->Append(std::move(e));
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::StudyStore> store_;
  std::unique_ptr<Dashboard> dashboard_;
  TokenService service_;
  std::unique_ptr<server::HttpServer> server_;
  int port_ = 0;
};

TEST_F(DashboardHttpTest, ServesThePageAndItsData) {
  httplib::Client c = Client();
  httplib::Result page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'self'"));

  httplib::Result data = c.Get("/api/v1/trials?since=0");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->status, 200);
  EXPECT_EQ(json::Parse(data->body)->at("trials").size(), 1u);

  httplib::Result bad = c.Get("/api/v1/trials?since=zz");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // Reading without the token tells the page it may not stop anything.
  httplib::Result study = c.Get("/api/v1/dashboard");
  ASSERT_TRUE(study);
  EXPECT_EQ(json::Parse(study->body)->at("can_stop"), false);
  httplib::Result with_token =
      c.Get("/api/v1/dashboard", {{"Authorization", "Bearer study-token"}});
  ASSERT_TRUE(with_token);
  EXPECT_EQ(json::Parse(with_token->body)->at("can_stop"), true);
}

TEST_F(DashboardHttpTest, ForeignHostNeedsTheToken) {
  // What a DNS-rebinding page would send: our address under its own name.
  httplib::Client c = Client();
  httplib::Result foreign = c.Get("/api/v1/trials", {{"Host", "evil.example:80"}});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 401);
  httplib::Result with_token =
      c.Get("/api/v1/trials?token=study-token", {{"Host", "evil.example"}});
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 200);
  httplib::Result localhost = c.Get("/api/v1/trials", {{"Host", "localhost:1234"}});
  ASSERT_TRUE(localhost);
  EXPECT_EQ(localhost->status, 200);
}

TEST_F(DashboardHttpTest, StoppingNeedsTheStudyToken) {
  httplib::Client c = Client();
  httplib::Result anonymous = c.Post("/api/v1/trials/1/stop", "", "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_TRUE(service_.stopped().empty());
  httplib::Result allowed = c.Post(
      "/api/v1/trials/1/stop", {{"Authorization", "Bearer study-token"}}, "", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(service_.stopped(), std::vector<TrialId>{1});
}

TEST_F(DashboardHttpTest, EventStreamPushesNewObservations) {
  ASSERT_TRUE(store_->WaitDurable(Observe(1)).ok());
  std::mutex mu;
  std::string received;
  std::string encoding = "unset";
  std::atomic<bool> done{false};
  std::thread reader([&] {
    httplib::Client c = Client();
    c.set_decompress(false);
    // Browsers ask for gzip; a compressed stream would sit in the
    // compressor's buffer instead of reaching the page.
    httplib::Headers headers{{"Accept-Encoding", "gzip, deflate"}};
    httplib::Request req;
    c.Get(
        "/api/v1/events?since=0", headers,
        [&](const httplib::Response& res) {
          std::lock_guard<std::mutex> lock(mu);
          encoding = res.get_header_value("Content-Encoding");
          return true;
        },
        [&](const char* data, size_t size) {
          std::lock_guard<std::mutex> lock(mu);
          received.append(data, size);
          return !done.load();
        });
  });
  auto wait_for = [&](const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (received.find(text) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  // The first event carries everything after the cursor.
  EXPECT_TRUE(wait_for("event: changes")) << received;
  EXPECT_TRUE(wait_for("\"iteration\":[1]")) << received;
  // A later observation is pushed, within the poll interval.
  const auto written = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->WaitDurable(Observe(2)).ok());
  EXPECT_TRUE(wait_for("\"iteration\":[2]")) << received;
  EXPECT_LT(std::chrono::steady_clock::now() - written, std::chrono::seconds(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(encoding, "");
  }
  // Stopping the server ends the stream promptly: it does not hold the
  // pool's shutdown for a poll interval or a heartbeat.
  const auto stop_start = std::chrono::steady_clock::now();
  server_->Stop();
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(2));
}

// With nothing to send yet, the stream still opens at once: the page sees
// it is live (EventSource's open event) instead of waiting for a change or
// the heartbeat (15 s).
TEST_F(DashboardHttpTest, EventStreamOpensAtOnceWhenNothingHasChanged) {
  std::atomic<bool> opened{false};
  std::atomic<bool> done{false};
  std::thread reader([&] {
    httplib::Client c = Client();
    c.Get(
        "/api/v1/events?since=999999", httplib::Headers{},
        [&](const httplib::Response& res) {
          opened = res.status == 200;
          return true;
        },
        [&](const char*, size_t) { return !done.load(); });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!opened && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(opened);
  done = true;
  server_->Stop();
  reader.join();
}

}  // namespace
}  // namespace sherpa::dashboard
