// The dashboard's data over a real study store: cursors, incremental reads,
// the study description, and the self-contained report.
#include "dashboard/dashboard.h"

#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dashboard/assets.h"
#include "json/value_json.h"

namespace sherpa::dashboard {
namespace {

using storage::EventKind;
using storage::StoredEvent;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(CursorTest, ParsesBothFormsAndRejectsGarbage) {
  EXPECT_EQ(ParseCursor("")->trials, 0);
  StatusOr<Cursor> one = ParseCursor("7");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->trials, 7);
  EXPECT_EQ(one->observations, 7);
  StatusOr<Cursor> two = ParseCursor("3:12");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->trials, 3);
  EXPECT_EQ(two->observations, 12);
  EXPECT_EQ(FormatCursor(*two), "3:12");
  for (const char* bad : {"x", "-1", "3:", ":3", "1:2:3", "1 "}) {
    EXPECT_EQ(ParseCursor(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sherpa_dashboard_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = storage::StudyStore::Open((dir_ / "study.db").string(), true);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PutMeta("lower_is_better", "false").ok());
    ASSERT_TRUE(store_
                    ->PutMeta("spec", R"({"name":"demo","parameters":{"lr":{"type":"continuous",)"
                                      R"("range":[0.001,1],"scale":"log"}},)"
                                      R"("algorithm":{"name":"PopulationBasedTraining"}})")
                    .ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t Create(TrialId id, const std::string& load_from) {
    StoredEvent e;
    e.kind = EventKind::kTrialCreated;
    e.trial_id = id;
    e.at = 100;
    e.trial =
        Trial{id, {{"lr", Value(0.1)}, {"load_from", Value(load_from)}, {"generation", Value(1)}}};
    return store_->Append(std::move(e));
  }
  uint64_t Observe(TrialId id, int64_t iteration, double objective) {
    StoredEvent e;
    e.kind = EventKind::kObservation;
    e.trial_id = id;
    e.attempt = 1;
    e.at = 101;
    e.observation = Observation{iteration, objective, {{"loss", Value(0.5)}}};
    return store_->Append(std::move(e));
  }
  json::Json ChangesAfter(const std::string& since, Dashboard& d) {
    StatusOr<server::DashboardChanges> c = d.Changes(since);
    EXPECT_TRUE(c.ok()) << c.status();
    StatusOr<json::Json> j = json::Parse(c->json);
    EXPECT_TRUE(j.ok());
    EXPECT_EQ((*j)["cursor"], c->cursor);
    return *j;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::StudyStore> store_;
};

TEST_F(DashboardTest, ChangesAreIncrementalByCursor) {
  Dashboard d(store_.get(), {dir_.string(), true});
  Create(1, "");
  Create(2, "1");
  Observe(1, 1, 0.5);
  ASSERT_TRUE(store_->WaitDurable(Observe(1, 2, 0.75)).ok());

  json::Json all = ChangesAfter("", d);
  ASSERT_EQ(all["trials"].size(), 2u);
  EXPECT_EQ(all["trials"][1]["parameters"]["load_from"], "1");
  EXPECT_EQ(all["trials"][0]["state"], "QUEUED");
  EXPECT_EQ(all["observations"]["objective"], json::Json::parse("[0.5, 0.75]"));
  EXPECT_EQ(all["observations"]["context"][0]["loss"], 0.5);
  const std::string cursor = all["cursor"];

  // Nothing new: empty, and the cursor stays.
  StatusOr<server::DashboardChanges> none = d.Changes(cursor);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty);
  EXPECT_EQ(none->cursor, cursor);

  // One new observation and one ended trial: exactly those come back.
  Observe(2, 1, 0.9);
  StoredEvent ended;
  ended.kind = EventKind::kTrialEnded;
  ended.trial_id = 1;
  ended.attempt = 1;
  ended.status = TrialStatus::kStopped;
  ended.reason = "stopped";
  ASSERT_TRUE(store_->WaitDurable(store_->Append(std::move(ended))).ok());
  json::Json next = ChangesAfter(cursor, d);
  ASSERT_EQ(next["trials"].size(), 1u);
  EXPECT_EQ(next["trials"][0]["id"], 1);
  EXPECT_EQ(next["trials"][0]["state"], "STOPPED");
  EXPECT_EQ(next["observations"]["trial_id"], json::Json::parse("[2]"));

  EXPECT_EQ(d.Changes("nonsense").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DashboardTest, StudyJsonDescribesTheStudy) {
  Dashboard live(store_.get(), {dir_.string(), true});
  StatusOr<json::Json> study = json::Parse(*live.StudyJson(true));
  ASSERT_TRUE(study.ok());
  EXPECT_EQ((*study)["lower_is_better"], false);
  EXPECT_EQ((*study)["name"], "demo");
  EXPECT_EQ((*study)["algorithm"], "PopulationBasedTraining");
  EXPECT_EQ((*study)["parameters"][0]["name"], "lr");
  EXPECT_EQ((*study)["parameters"][0]["scale"], "log");
  EXPECT_EQ((*study)["can_stop"], true);
  // Without the token, or without a runner, nothing may be stopped.
  EXPECT_EQ(json::Parse(*live.StudyJson(false))->at("can_stop"), false);
  Dashboard offline(store_.get(), {dir_.string(), false});
  EXPECT_EQ(json::Parse(*offline.StudyJson(true))->at("can_stop"), false);
}

TEST_F(DashboardTest, ServesTheEmbeddedPage) {
  Dashboard d(store_.get(), {dir_.string(), true});
  std::optional<server::DashboardAsset> index = d.Asset("index.html");
  ASSERT_TRUE(index.has_value());
  EXPECT_THAT(std::string(index->content_type), HasSubstr("text/html"));
  EXPECT_FALSE(d.Asset("../study.db").has_value());
  EXPECT_FALSE(d.Asset("nope.js").has_value());
}

TEST_F(DashboardTest, ReportIsSelfContained) {
  // A parameter value that would end the inlined <script> early if it were
  // not escaped.
  StoredEvent e;
  e.kind = EventKind::kTrialCreated;
  e.trial_id = 1;
  e.trial = Trial{1, {{"note", Value("</script><script>alert(1)</script>")}}};
  ASSERT_TRUE(store_->WaitDurable(store_->Append(std::move(e))).ok());
  ASSERT_TRUE(store_->WaitDurable(Observe(1, 1, 0.5)).ok());

  StatusOr<std::string> html = RenderReport(*store_, dir_.string());
  if (!kFrontEndBuilt) {
    EXPECT_EQ(html.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(html.status().message(), HasSubstr("tools/build-web.sh"));
    return;
  }
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_THAT(*html, HasSubstr("id=\"sherpa-data\""));
  EXPECT_THAT(*html, Not(HasSubstr("alert(1)</script>")));
  EXPECT_THAT(*html, HasSubstr("\\u003c/script>\\u003cscript>alert(1)"));
  // Nothing is fetched: no external script, style or font.
  EXPECT_THAT(*html, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(*html, Not(HasSubstr("href=\"http")));
  EXPECT_THAT(*html, Not(HasSubstr("/assets/app.js")));
}

}  // namespace
}  // namespace sherpa::dashboard
