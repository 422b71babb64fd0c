// The HTTP translation layer against a scripted TrialService: every status
// code of docs/http_api.md, and malformed input that must never crash or
// hang the server. The real runner behind it is covered by tests/e2e.
#include "server/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "json/value_json.h"

namespace sherpa::server {
namespace {

using ::testing::HasSubstr;

class ScriptedService : public TrialService {
 public:
  std::optional<Principal> Authenticate(std::string_view token) override {
    if (token == "study") return Principal{std::nullopt, true};
    if (token == "t1") return Principal{1, false};
    if (token == "t2") return Principal{2, false};
    if (token == "waiting") return Principal{std::nullopt, false};  // started ahead, no trial yet
    return std::nullopt;
  }
  StatusOr<Trial> GetTrial(TrialId id) override {
    if (id > 2) return NotFoundError("trial " + std::to_string(id) + " is not part of this study");
    return Trial{id, {{"lr", Value(0.5)}, {"layers", Value(3)}, {"load_from", Value("")}}};
  }
  StatusOr<bool> Report(TrialId id, Observation o, std::string_view key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    keys_.emplace_back(key);
    if (!seen_[id].insert(o.iteration).second) {
      return AlreadyExistsError("trial " + std::to_string(id) + " has already reported iteration " +
                                std::to_string(o.iteration));
    }
    last_ = o;
    return o.objective > 10;  // "stop" for large objectives
  }
  StatusOr<bool> ShouldStop(TrialId) override { return false; }
  Status EndTrial(TrialId id, TrialStatus status) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_[id] = status;
    return OkStatus();
  }
  Status RequestStop(TrialId id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_.push_back(id);
    return OkStatus();
  }
  StatusOr<std::string> StudySummaryJson() override { return std::string("{\"trials\":2}"); }

  // What the server's threads recorded, read under the lock: the HTTP answer
  // orders the handler before the test's read, but ThreadSanitizer cannot
  // see ordering that goes through a socket.
  template <typename T>
  T Read(const T& field) {
    std::lock_guard<std::mutex> lock(mutex_);
    return field;
  }

  std::mutex mutex_;
  std::map<TrialId, std::set<int64_t>> seen_;
  std::optional<Observation> last_;
  std::vector<std::string> keys_;  // the Idempotency-Key of each report
  std::map<TrialId, TrialStatus> ended_;
  std::vector<TrialId> stopped_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(&service_, HttpServerOptions{});
    StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_tcp_nodelay(true);
  }
  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  static std::string ErrorCode(const httplib::Result& r) {
    return json::Parse(r->body)->at("error").at("code").get<std::string>();
  }

  ScriptedService service_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, TrialReadsItsOwnTrialWithTypes) {
  auto r = client_->Get("/api/v1/trials/1", Auth("t1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("\"lr\":0.5"));
  EXPECT_THAT(r->body, HasSubstr("\"layers\":3"));
  EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("application/json"));
}

TEST_F(HttpServerTest, TokensAreCheckedPerTrial) {
  auto none = client_->Get("/api/v1/trials/1");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(ErrorCode(none), "UNAUTHENTICATED");
  auto wrong = client_->Get("/api/v1/trials/1", Auth("nope"));
  EXPECT_EQ(wrong->status, 401);
  auto other = client_->Get("/api/v1/trials/2", Auth("t1"));
  EXPECT_EQ(other->status, 403);
  EXPECT_THAT(other->body, HasSubstr("belongs to trial 1, not trial 2"));
  auto write_other = client_->Post("/api/v1/trials/2/observations", Auth("t1"),
                                   R"({"iteration":1,"objective":1})", "application/json");
  EXPECT_EQ(write_other->status, 403);
  EXPECT_FALSE(service_.Read(service_.last_).has_value());
  auto study = client_->Get("/api/v1/trials/2", Auth("study"));
  EXPECT_EQ(study->status, 200);
  // Stopping a trial needs the study token.
  EXPECT_EQ(client_->Post("/api/v1/trials/1/stop", Auth("t1"), "", "application/json")->status,
            403);
  EXPECT_EQ(client_->Post("/api/v1/trials/1/stop", Auth("study"), "", "application/json")->status,
            200);
  EXPECT_EQ(service_.Read(service_.stopped_), std::vector<TrialId>{1});
}

TEST_F(HttpServerTest, TheTokensOwnTrialIsFoundWithoutItsId) {
  auto own = client_->Get("/api/v1/trial", Auth("t2"));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  EXPECT_EQ(json::Parse(own->body)->at("id"), 2);
  auto waiting = client_->Get("/api/v1/trial", Auth("waiting"));
  EXPECT_EQ(waiting->status, 409);
  EXPECT_THAT(waiting->body, HasSubstr("started ahead of its trial"));
  // Until it has a trial, such a token reaches no trial at all.
  auto other = client_->Get("/api/v1/trials/1", Auth("waiting"));
  EXPECT_EQ(other->status, 409);
  auto report = client_->Post("/api/v1/trials/1/observations", Auth("waiting"),
                              R"({"iteration":1,"objective":1})", "application/json");
  EXPECT_EQ(report->status, 409);
  EXPECT_FALSE(service_.Read(service_.last_).has_value());
  EXPECT_EQ(client_->Get("/api/v1/trial", Auth("study"))->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/trial")->status, 401);
}

TEST_F(HttpServerTest, ReportsAreParsedAndAnswered) {
  auto r = client_->Post("/api/v1/trials/1/observations", Auth("t1"),
                         R"({"iteration":2,"objective":0.5,"context":{"loss":1.5,"tag":"a"}})",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"stop":false})");
  ASSERT_TRUE(service_.Read(service_.last_).has_value());
  EXPECT_EQ(service_.Read(service_.last_)->iteration, 2);
  EXPECT_EQ(service_.Read(service_.last_)->context.at("tag"), Value("a"));
  auto stop = client_->Post("/api/v1/trials/1/observations", Auth("t1"),
                            R"({"iteration":3,"objective":11})", "application/json");
  EXPECT_EQ(stop->body, R"({"stop":true})");
  auto again = client_->Post("/api/v1/trials/1/observations", Auth("t1"),
                             R"({"iteration":3,"objective":1})", "application/json");
  EXPECT_EQ(again->status, 409);
  EXPECT_EQ(ErrorCode(again), "ALREADY_EXISTS");
}

TEST_F(HttpServerTest, TheIdempotencyKeyReachesTheStudy) {
  httplib::Headers headers = Auth("t1");
  headers.emplace("Idempotency-Key", "a1b2-7");
  auto r = client_->Post("/api/v1/trials/1/observations", headers,
                         R"({"iteration":1,"objective":0.5})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto none = client_->Post("/api/v1/trials/1/observations", Auth("t1"),
                            R"({"iteration":2,"objective":0.5})", "application/json");
  EXPECT_EQ(none->status, 200);
  EXPECT_EQ(service_.Read(service_.keys_), (std::vector<std::string>{"a1b2-7", ""}));
  // Keys are held in memory by the runner: bounded and printable.
  for (const std::string& bad : {std::string(129, 'k'), std::string("a b")}) {
    httplib::Headers h = Auth("t1");
    h.emplace("Idempotency-Key", bad);
    auto refused = client_->Post("/api/v1/trials/1/observations", h,
                                 R"({"iteration":3,"objective":0.5})", "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400);
    EXPECT_THAT(refused->body, HasSubstr("Idempotency-Key"));
  }
  EXPECT_EQ(service_.Read(service_.keys_).size(), 2u);
}

TEST_F(HttpServerTest, MalformedBodiesGet400NamingTheField) {
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"{not json", "malformed JSON"},
      {"[]", "expected a JSON object"},
      {R"({"objective":1})", "iteration is missing"},
      {R"({"iteration":"x","objective":1})", "iteration: expected an integer"},
      {R"({"iteration":1,"objective":"high"})", "objective: expected a number"},
      {R"({"iteration":1,"objective":1,"context":[1]})", "context: expected a mapping"},
      {"", "malformed JSON"},
  };
  for (const Case& c : cases) {
    auto r = client_->Post("/api/v1/trials/1/observations", Auth("t1"), c.body, "application/json");
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, 400) << c.body;
    EXPECT_THAT(r->body, HasSubstr(c.message)) << c.body;
  }
}

TEST_F(HttpServerTest, UnknownTrialsAndPathsAre404) {
  auto r = client_->Get("/api/v1/trials/7", Auth("study"));
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->body, HasSubstr("trial 7"));
  auto huge = client_->Get("/api/v1/trials/99999999999999999999999", Auth("study"));
  EXPECT_EQ(huge->status, 404);
  auto path = client_->Get("/api/v2/nothing", Auth("study"));
  EXPECT_EQ(path->status, 404);
  EXPECT_EQ(ErrorCode(path), "NOT_FOUND");
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  std::string big(2 << 20, 'x');
  auto r = client_->Post("/api/v1/trials/1/observations", Auth("t1"), big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, EndTakesAStatus) {
  auto r = client_->Post("/api/v1/trials/2/end", Auth("t2"), R"({"status":"FAILED"})",
                         "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(service_.Read(service_.ended_).at(2), TrialStatus::kFailed);
  auto bad =
      client_->Post("/api/v1/trials/2/end", Auth("t2"), R"({"status":"DONE"})", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("expected COMPLETED, FAILED or STOPPED"));
}

TEST_F(HttpServerTest, GarbageOnTheSocketDoesNotHurtTheServer) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const char garbage[] = "\x01\x02 NOT HTTP AT ALL\r\n\r\n";
  ASSERT_GT(write(fd, garbage, sizeof(garbage) - 1), 0);
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  ASSERT_GT(n, 0);
  EXPECT_THAT(std::string(buf, static_cast<size_t>(n)), HasSubstr("400"));
  // Still serving.
  auto r = client_->Get("/api/v1/trials/1", Auth("t1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, StudySummaryNeedsTheStudyToken) {
  EXPECT_EQ(client_->Get("/api/v1/study", Auth("t1"))->status, 403);
  auto r = client_->Get("/api/v1/study", Auth("study"));
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"trials\":2}");
}

// A Range header must not cut an answer: a client asking for bytes 0-3 of a
// 404 used to get `{"er` (found by the fuzzer).
TEST_F(HttpServerTest, RangeHeadersAreIgnored) {
  httplib::Headers headers = Auth("t1");
  headers.emplace("Range", "bytes=0-3");
  auto missing = client_->Get("/api/v1/trials/7", headers);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 403);
  EXPECT_FALSE(missing->has_header("Content-Range"));
  EXPECT_TRUE(json::Parse(missing->body).ok()) << missing->body;
  auto found = client_->Get("/api/v1/trials/1", headers);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
  EXPECT_THAT(found->body, HasSubstr("\"load_from\":\"\""));
}

// The fuzzer's way in (fuzz/http_request_fuzz.cc): the same routes, on bytes.
TEST(HttpServerBytesTest, ServeBytesAnswersPipelinedRequestsLikeAConnection) {
  ScriptedService service;
  HttpServer server(&service, HttpServerOptions{});
  const std::string out = server.ServeBytes(
      "GET /api/v1/trials/1 HTTP/1.1\r\nAuthorization: Bearer t1\r\n\r\n"
      "POST /api/v1/trials/1/observations HTTP/1.1\r\nAuthorization: Bearer t1\r\n"
      "Content-Length: 33\r\n\r\n{\"iteration\": 1, \"objective\": 11}"
      "GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n"
      "GET /api/v1/trials/1 HTTP/1.1\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(out, HasSubstr("\"load_from\":\"\""));
  EXPECT_THAT(out, HasSubstr("{\"stop\":true}"));
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 404 Not Found"));
  // Nothing is read after "Connection: close".
  EXPECT_EQ(out.find("401"), std::string::npos);
  ASSERT_TRUE(service.last_.has_value());
  EXPECT_EQ(service.last_->iteration, 1);
}

}  // namespace
}  // namespace sherpa::server
