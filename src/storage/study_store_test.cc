#include "storage/study_store.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sherpa::storage {
namespace {

using ::testing::HasSubstr;

StoredEvent Created(TrialId id, ParameterValues parameters, double at = 100.0) {
  StoredEvent e;
  e.kind = EventKind::kTrialCreated;
  e.trial_id = id;
  e.at = at;
  e.trial = Trial{id, std::move(parameters)};
  return e;
}

StoredEvent Started(TrialId id, int attempt, std::string job_id, double at = 101.0) {
  StoredEvent e;
  e.kind = EventKind::kTrialStarted;
  e.trial_id = id;
  e.attempt = attempt;
  e.at = at;
  e.job_id = std::move(job_id);
  return e;
}

StoredEvent Obs(TrialId id, int attempt, int64_t iteration, double objective, Context context = {},
                double at = 102.0) {
  StoredEvent e;
  e.kind = EventKind::kObservation;
  e.trial_id = id;
  e.attempt = attempt;
  e.at = at;
  e.observation = Observation{iteration, objective, std::move(context)};
  return e;
}

StoredEvent Ended(TrialId id, int attempt, TrialStatus status, std::string reason,
                  double at = 103.0) {
  StoredEvent e;
  e.kind = EventKind::kTrialEnded;
  e.trial_id = id;
  e.attempt = attempt;
  e.at = at;
  e.status = status;
  e.reason = std::move(reason);
  return e;
}

StoredEvent Simple(EventKind kind, TrialId id, int attempt, double at = 104.0) {
  StoredEvent e;
  e.kind = kind;
  e.trial_id = id;
  e.attempt = attempt;
  e.at = at;
  return e;
}

// Doubles compare by bits so that NaN equals NaN; a Value's type must match.
bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
bool SameValues(const ParameterValues& a, const ParameterValues& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.type() != ib->second.type()) return false;
    if (ia->second.is_double()) {
      if (!SameDouble(ia->second.as_number(), ib->second.as_number())) return false;
    } else if (!(ia->second == ib->second)) {
      return false;
    }
  }
  return true;
}

void ExpectSameEvent(const StoredEvent& want, const StoredEvent& got) {
  EXPECT_EQ(got.kind, want.kind) << EventKindName(got.kind);
  EXPECT_EQ(got.trial_id, want.trial_id);
  EXPECT_EQ(got.attempt, want.attempt);
  EXPECT_EQ(got.at, want.at);
  ASSERT_EQ(got.trial.has_value(), want.trial.has_value());
  if (want.trial) {
    EXPECT_EQ(got.trial->id, want.trial->id);
    EXPECT_TRUE(SameValues(got.trial->parameters, want.trial->parameters));
  }
  ASSERT_EQ(got.observation.has_value(), want.observation.has_value());
  if (want.observation) {
    EXPECT_EQ(got.observation->iteration, want.observation->iteration);
    EXPECT_TRUE(SameDouble(got.observation->objective, want.observation->objective));
    EXPECT_TRUE(SameValues(got.observation->context, want.observation->context));
  }
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.reason, want.reason);
}

class StudyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "sherpa_storage_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/study.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<StudyStore> OpenOrDie(bool create = true) {
    auto store = StudyStore::Open(path_, create);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return *std::move(store);
  }

  static void AppendAndWait(StudyStore& store, StoredEvent event) {
    const uint64_t ticket = store.Append(std::move(event));
    Status status = store.WaitDurable(ticket);
    ASSERT_TRUE(status.ok()) << status;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StudyStoreTest, CreatesAndReopens) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutMeta("seed", "42").ok());
    AppendAndWait(*store, Created(1, {{"lr", 0.1}}));
  }
  EXPECT_TRUE(std::filesystem::exists(path_));
  auto store = OpenOrDie(/*create=*/false);
  ASSERT_NE(store, nullptr);
  auto seed = store->GetMeta("seed");
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(*seed, std::optional<std::string>("42"));
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 1u);
}

TEST_F(StudyStoreTest, MissingFileIsNotFoundWithoutCreate) {
  auto store = StudyStore::Open(path_, /*create=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(StudyStoreTest, MissingDirectoryIsAnInternalErrorNamingThePath) {
  const std::string path = dir_ + "/no/such/dir/study.db";
  auto store = StudyStore::Open(path, /*create=*/true);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

TEST_F(StudyStoreTest, MetaRoundTrips) {
  auto store = OpenOrDie();
  auto missing = store->GetMeta("spec");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  const std::string spec = "{\"name\": \"x\",\n \"quote\": \"'\\\"\", \"utf8\": \"\xc3\xa9\"}";
  ASSERT_TRUE(store->PutMeta("spec", spec).ok());
  ASSERT_TRUE(store->PutMeta("token", "abc").ok());
  ASSERT_TRUE(store->PutMeta("token", "def").ok());  // overwrites
  EXPECT_EQ(*store->GetMeta("spec"), std::optional<std::string>(spec));
  EXPECT_EQ(*store->GetMeta("token"), std::optional<std::string>("def"));
  EXPECT_EQ(*store->GetMeta(""), std::nullopt);
}

TEST_F(StudyStoreTest, EveryEventKindRoundTripsWithTypesPreserved) {
  std::vector<StoredEvent> appended = {
      Created(7,
              {{"lr", 0.5},
               {"one", 1.0},  // a double that prints like an integer stays a double
               {"layers", 3},
               {"big", int64_t{1} << 60},
               {"activation", "relu"},
               {"number_text", "12"},  // a string that looks like a number stays a string
               {"generation", 2},
               {"load_from", "3"}},
              1700000000.25),
      Started(7, 0, "job-17", 1700000001.5),
      Obs(7, 0, 1, 0.75, {{"acc", 0.9}, {"epoch", 1}, {"phase", "train"}, {"round", 2.0}}),
      Obs(7, 0, 2, -3, {}),
      Ended(7, 0, TrialStatus::kFailed, "exit code 3"),
      Simple(EventKind::kTrialReopened, 7, 0),
      Simple(EventKind::kTrialRestarted, 7, 1),
      Started(7, 1, "job-18"),
      Ended(7, 1, TrialStatus::kCompleted, ""),
      Ended(8, 0, TrialStatus::kStopped, "median rule"),
  };
  {
    auto store = OpenOrDie();
    for (const StoredEvent& e : appended) AppendAndWait(*store, e);
  }
  // Through a reopen, as a resumed runner reads it.
  auto store = OpenOrDie(false);
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), appended.size());
  for (size_t i = 0; i < appended.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSameEvent(appended[i], (*events)[i]);
  }
  const StoredEvent& created = (*events)[0];
  EXPECT_TRUE(created.trial->parameters.at("one").is_double());
  EXPECT_TRUE(created.trial->parameters.at("layers").is_int());
  EXPECT_EQ(created.trial->parameters.at("big").as_int(), int64_t{1} << 60);
  EXPECT_TRUE(created.trial->parameters.at("number_text").is_string());
  const Context& context = (*events)[2].observation->context;
  EXPECT_TRUE(context.at("epoch").is_int());
  EXPECT_TRUE(context.at("round").is_double());
  EXPECT_TRUE(context.at("phase").is_string());
}

TEST_F(StudyStoreTest, NonFiniteDoublesRoundTrip) {
  // A diverging run reports nan; it must not make the log unreadable.
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<StoredEvent> appended = {
      Created(1, {{"x", inf}}),
      Obs(1, 0, 1, nan, {{"a", -inf}, {"b", nan}}),
      Obs(1, 0, 2, inf),
  };
  auto store = OpenOrDie();
  for (const StoredEvent& e : appended) AppendAndWait(*store, e);
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), appended.size());
  for (size_t i = 0; i < appended.size(); ++i) ExpectSameEvent(appended[i], (*events)[i]);

  auto observations = store->LoadObservations();
  ASSERT_TRUE(observations.ok()) << observations.status();
  ASSERT_EQ(observations->size(), 2u);
  EXPECT_TRUE(std::isnan((*observations)[0].observation.objective));
  EXPECT_EQ((*observations)[1].observation.objective, inf);
  EXPECT_TRUE(std::isnan((*observations)[0].observation.context.at("b").as_number()));
}

TEST_F(StudyStoreTest, InvalidUtf8DoesNotBreakTheStore) {
  auto store = OpenOrDie();
  AppendAndWait(*store, Created(1, {{"name", std::string("bad\xff\xfe")}}));
  AppendAndWait(*store, Obs(1, 0, 1, 0.5));
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 2u);
}

TEST_F(StudyStoreTest, DerivedTablesFollowTheEvents) {
  auto store = OpenOrDie();
  auto trial = [&](TrialId id) {
    auto trials = store->LoadTrials();
    EXPECT_TRUE(trials.ok()) << trials.status();
    for (const StoredTrial& t : *trials) {
      if (t.trial.id == id) return t;
    }
    ADD_FAILURE() << "trial " << id << " missing";
    return StoredTrial{};
  };

  AppendAndWait(*store, Created(1, {{"lr", 0.1}, {"generation", 3}, {"load_from", "0"}}, 10));
  StoredTrial t = trial(1);
  EXPECT_EQ(t.state, "QUEUED");
  EXPECT_EQ(t.attempt, 0);
  EXPECT_EQ(t.created_at, 10);
  EXPECT_EQ(t.started_at, 0);
  EXPECT_TRUE(SameValues(t.trial.parameters, {{"lr", 0.1}, {"generation", 3}, {"load_from", "0"}}));

  AppendAndWait(*store, Started(1, 0, "pid-99", 11));
  t = trial(1);
  EXPECT_EQ(t.state, "RUNNING");
  EXPECT_EQ(t.job_id, "pid-99");
  EXPECT_EQ(t.started_at, 11);

  AppendAndWait(*store, Obs(1, 0, 1, 0.5, {{"acc", 0.8}}, 12));
  AppendAndWait(*store, Obs(1, 0, 2, 0.4, {}, 13));
  AppendAndWait(*store, Ended(1, 0, TrialStatus::kFailed, "exit code 3", 14));
  t = trial(1);
  EXPECT_EQ(t.state, "FAILED");
  EXPECT_EQ(t.reason, "exit code 3");
  EXPECT_EQ(t.ended_at, 14);

  AppendAndWait(*store, Simple(EventKind::kTrialReopened, 1, 0, 15));
  t = trial(1);
  EXPECT_EQ(t.state, "QUEUED");
  EXPECT_EQ(t.reason, "");
  EXPECT_EQ(t.ended_at, 0);
  EXPECT_EQ(t.attempt, 0);

  AppendAndWait(*store, Started(1, 0, "pid-100", 16));
  AppendAndWait(*store, Simple(EventKind::kTrialRestarted, 1, 1, 17));
  t = trial(1);
  EXPECT_EQ(t.state, "QUEUED");
  EXPECT_EQ(t.attempt, 1);

  AppendAndWait(*store, Started(1, 1, "pid-101", 18));
  AppendAndWait(*store, Obs(1, 1, 1, 0.3, {}, 19));
  AppendAndWait(*store, Ended(1, 1, TrialStatus::kCompleted, "", 20));
  t = trial(1);
  EXPECT_EQ(t.state, "COMPLETED");
  EXPECT_EQ(t.attempt, 1);
  EXPECT_EQ(t.job_id, "pid-101");
  EXPECT_EQ(t.started_at, 18);
  EXPECT_EQ(t.ended_at, 20);

  auto observations = store->LoadObservations();
  ASSERT_TRUE(observations.ok()) << observations.status();
  ASSERT_EQ(observations->size(), 3u);
  EXPECT_EQ((*observations)[0].trial_id, 1);
  EXPECT_EQ((*observations)[0].attempt, 0);
  EXPECT_EQ((*observations)[0].observation.iteration, 1);
  EXPECT_EQ((*observations)[0].observation.objective, 0.5);
  EXPECT_TRUE(SameValues((*observations)[0].observation.context, {{"acc", 0.8}}));
  EXPECT_EQ((*observations)[0].at, 12);
  EXPECT_EQ((*observations)[2].attempt, 1);
  EXPECT_EQ((*observations)[2].observation.objective, 0.3);

  // The PBT columns a dashboard can filter on without parsing JSON.
  store.reset();
  SQLite::Database raw(path_, SQLite::OPEN_READONLY);
  SQLite::Statement row(raw, "SELECT generation, load_from FROM trials WHERE id = 1");
  ASSERT_TRUE(row.executeStep());
  EXPECT_EQ(row.getColumn(0).getInt64(), 3);
  EXPECT_EQ(row.getColumn(1).getString(), "0");
}

TEST_F(StudyStoreTest, SeqFollowsAppendOrderAcrossKindsAndReopens) {
  std::vector<StoredEvent> appended = {
      Created(1, {}),     Created(2, {}),
      Started(2, 0, "b"), Started(1, 0, "a"),
      Obs(2, 0, 1, 1.0),  Obs(1, 0, 1, 2.0),
      Obs(2, 0, 2, 0.5),  Ended(2, 0, TrialStatus::kCompleted, ""),
  };
  {
    auto store = OpenOrDie();
    uint64_t last = 0;
    for (const StoredEvent& e : appended) last = store->Append(e);
    ASSERT_TRUE(store->WaitDurable(last).ok());
  }
  auto store = OpenOrDie(false);
  AppendAndWait(*store, Ended(1, 0, TrialStatus::kStopped, "rule"));
  appended.push_back(Ended(1, 0, TrialStatus::kStopped, "rule"));

  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), appended.size());
  for (size_t i = 0; i < appended.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSameEvent(appended[i], (*events)[i]);
    if (i > 0) {
      EXPECT_GT((*events)[i].seq, (*events)[i - 1].seq);
    }
  }
  // An observation's seq is its event's seq: one cursor for both.
  auto observations = store->LoadObservations();
  ASSERT_TRUE(observations.ok());
  ASSERT_EQ(observations->size(), 3u);
  EXPECT_EQ((*observations)[0].seq, (*events)[4].seq);
  EXPECT_EQ((*observations)[2].seq, (*events)[6].seq);
}

TEST_F(StudyStoreTest, IncrementalReadsReturnOnlyWhatChanged) {
  auto store = OpenOrDie();
  AppendAndWait(*store, Created(1, {}));
  AppendAndWait(*store, Created(2, {}));
  AppendAndWait(*store, Obs(1, 0, 1, 1.0));
  auto trials = store->LoadTrials();
  auto observations = store->LoadObservations();
  ASSERT_TRUE(trials.ok() && observations.ok());
  int64_t cursor = 0;
  for (const StoredTrial& t : *trials) cursor = std::max(cursor, t.updated_seq);
  for (const StoredObservation& o : *observations) cursor = std::max(cursor, o.seq);

  AppendAndWait(*store, Started(2, 0, "job"));
  AppendAndWait(*store, Obs(2, 0, 1, 0.5));
  trials = store->LoadTrials(cursor);
  observations = store->LoadObservations(cursor);
  ASSERT_TRUE(trials.ok() && observations.ok());
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_EQ((*trials)[0].trial.id, 2);
  EXPECT_EQ((*trials)[0].state, "RUNNING");
  ASSERT_EQ(observations->size(), 1u);
  EXPECT_EQ((*observations)[0].trial_id, 2);
}

TEST_F(StudyStoreTest, WaitDurableSemantics) {
  auto store = OpenOrDie();
  EXPECT_TRUE(store->WaitDurable(0).ok());  // nothing to wait for
  EXPECT_EQ(store->WaitDurable(1).code(), StatusCode::kInvalidArgument);

  const uint64_t first = store->Append(Created(1, {}));
  const uint64_t second = store->Append(Obs(1, 0, 1, 0.5));
  EXPECT_GT(first, 0u);
  EXPECT_GT(second, first);
  ASSERT_TRUE(store->WaitDurable(second).ok());
  // Waiting for the later ticket covers the earlier one.
  EXPECT_TRUE(store->WaitDurable(first).ok());
  // Durable means visible to readers, also through another connection.
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
  SQLite::Database raw(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM events").getInt(), 2);
}

TEST_F(StudyStoreTest, EventsNobodyWaitsForAreStillCommittedSoon) {
  std::unique_ptr<StudyStore> store = OpenOrDie();
  store->Append(Created(1, {}));
  // Another connection, as the dashboard reads: the event shows up without
  // anyone waiting for it (within 20 ms; generous here for a busy machine).
  StatusOr<std::unique_ptr<StudyStore>> reader = StudyStore::Open(path_, /*create=*/false);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t seen = 0;
  while (seen == 0 && std::chrono::steady_clock::now() < deadline) {
    StatusOr<std::vector<StoredTrial>> trials = (*reader)->LoadTrials();
    ASSERT_TRUE(trials.ok()) << trials.status();
    seen = trials->size();
    if (seen == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(seen, 1u);
}

TEST_F(StudyStoreTest, DestructorCommitsWhatIsQueued) {
  {
    auto store = OpenOrDie();
    store->Append(Created(1, {}));
    for (int i = 0; i < 2000; ++i) store->Append(Obs(1, 0, i, i * 0.5));
  }
  auto store = OpenOrDie(false);
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2001u);
  EXPECT_EQ(events->back().observation->iteration, 1999);
}

TEST_F(StudyStoreTest, ConcurrentAppendsAreStoredOnceInTicketOrder) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  auto store = OpenOrDie();
  struct Sent {
    uint64_t ticket;
    TrialId trial;
    int64_t iteration;
  };
  std::vector<std::vector<Sent>> sent(kThreads);
  std::atomic<bool> stop_reading{false};
  std::atomic<int> reads{0};
  // Readers poll as a dashboard would, while the writer commits.
  std::thread reader([&] {
    size_t seen = 0;
    while (!stop_reading.load()) {
      auto observations = store->LoadObservations();
      ASSERT_TRUE(observations.ok()) << observations.status();
      EXPECT_GE(observations->size(), seen);  // committed data never disappears
      seen = observations->size();
      reads.fetch_add(1);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint64_t ticket = store->Append(Obs(t + 1, 0, i, 0.1 * i));
        sent[t].push_back({ticket, t + 1, i});
        // Half the threads wait for each report, as trials do; the others
        // fire and forget, so batches mix both.
        if (t % 2 == 0) {
          Status status = store->WaitDurable(ticket);
          ASSERT_TRUE(status.ok()) << status;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  uint64_t max_ticket = 0;
  for (const auto& s : sent) max_ticket = std::max(max_ticket, s.back().ticket);
  ASSERT_TRUE(store->WaitDurable(max_ticket).ok());
  stop_reading = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);

  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), size_t{kThreads * kPerThread});
  std::map<std::pair<TrialId, int64_t>, int64_t> seq_of;
  for (const StoredEvent& e : *events) {
    ASSERT_TRUE(e.observation.has_value());
    const bool inserted =
        seq_of.emplace(std::pair(e.trial_id, e.observation->iteration), e.seq).second;
    EXPECT_TRUE(inserted) << "duplicate " << e.trial_id << "/" << e.observation->iteration;
  }
  std::vector<Sent> all;
  for (const auto& s : sent) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end(),
            [](const Sent& a, const Sent& b) { return a.ticket < b.ticket; });
  int64_t previous_seq = 0;
  for (const Sent& s : all) {
    auto it = seq_of.find({s.trial, s.iteration});
    ASSERT_NE(it, seq_of.end()) << "missing " << s.trial << "/" << s.iteration;
    EXPECT_GT(it->second, previous_seq) << "ticket " << s.ticket << " stored out of order";
    previous_seq = it->second;
  }
}

TEST_F(StudyStoreTest, AFailedCommitFailsEveryLaterWait) {
  {
    auto store = OpenOrDie();
    AppendAndWait(*store, Created(1, {}));
  }
  {
    // Inject a write failure the way a full disk would surface: the commit of
    // the group holding iteration 666 fails.
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec(
        "CREATE TRIGGER fail_666 BEFORE INSERT ON observations WHEN NEW.iteration = 666 "
        "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END");
  }
  auto store = OpenOrDie(false);
  const uint64_t good = store->Append(Obs(1, 0, 1, 0.5));
  ASSERT_TRUE(store->WaitDurable(good).ok());

  const uint64_t bad = store->Append(Obs(1, 0, 666, 0.5));
  Status status = store->WaitDurable(bad);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("injected write failure"));
  EXPECT_THAT(status.message(), HasSubstr(path_));

  const uint64_t later = store->Append(Obs(1, 0, 2, 0.5));
  EXPECT_EQ(store->WaitDurable(later), status);
  EXPECT_EQ(store->PutMeta("k", "v"), status);
  EXPECT_TRUE(store->WaitDurable(good).ok());  // that one is on disk

  store.reset();
  store = OpenOrDie(false);
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);  // created + iteration 1; nothing after the failure
  EXPECT_EQ((*events)[1].observation->iteration, 1);
}

bool ReadFull(int fd, void* buffer, size_t size) {
  char* p = static_cast<char*>(buffer);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// The guarantee behind every acknowledged report: once WaitDurable returned
// OK, the event survives the process being killed at any moment.
TEST_F(StudyStoreTest, AcknowledgedEventsSurviveSigkill) {
  constexpr int kThreads = 4;
  constexpr size_t kAcksBeforeKill = 300;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto store = StudyStore::Open(path_, /*create=*/true);
    if (!store.ok()) _exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int64_t i = 0;; ++i) {
          const uint64_t ticket = (*store)->Append(Obs(t + 1, 0, i, 0.5, {{"i", i}}));
          if (!(*store)->WaitDurable(ticket).ok()) _exit(3);
          // Acknowledged: tell the parent (16 bytes < PIPE_BUF, so atomic).
          const int64_t message[2] = {t + 1, i};
          if (write(fds[1], message, sizeof(message)) != sizeof(message)) _exit(4);
        }
      });
    }
    for (std::thread& th : threads) th.join();
    _exit(0);
  }
  close(fds[1]);
  std::set<std::pair<int64_t, int64_t>> acknowledged;
  int64_t message[2];
  while (acknowledged.size() < kAcksBeforeKill && ReadFull(fds[0], message, sizeof(message))) {
    acknowledged.emplace(message[0], message[1]);
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Whatever the child acknowledged before it died is in the pipe.
  while (ReadFull(fds[0], message, sizeof(message))) acknowledged.emplace(message[0], message[1]);
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
  ASSERT_GE(acknowledged.size(), kAcksBeforeKill);

  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  auto events = store->LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  std::map<int64_t, std::set<int64_t>> stored;
  for (const StoredEvent& e : *events) stored[e.trial_id].insert(e.observation->iteration);
  for (const auto& [trial, iteration] : acknowledged) {
    EXPECT_TRUE(stored[trial].count(iteration))
        << "acknowledged " << trial << "/" << iteration << " was lost";
  }
  // Each child thread reported serially, so what is stored is a prefix.
  for (const auto& [trial, iterations] : stored) {
    EXPECT_EQ(*iterations.rbegin() + 1, static_cast<int64_t>(iterations.size())) << trial;
  }
  // The store is usable after the crash.
  AppendAndWait(*store, Obs(1, 0, 1000000, 0.5));
}

// What a runner killed while creating its study leaves may be replaced;
// a study, or someone else's database, may not.
TEST_F(StudyStoreTest, HoldsAStudyOnlyOnceSeedOrEventsAreRecorded) {
  EXPECT_FALSE(*StudyStore::HoldsAStudy(path_));  // missing
  std::ofstream(path_).close();
  EXPECT_FALSE(*StudyStore::HoldsAStudy(path_));  // empty file
  std::filesystem::remove(path_);
  {
    auto store = OpenOrDie();  // schema, no metadata yet
    ASSERT_TRUE(store->PutMeta("study_token", "t").ok());
  }
  EXPECT_FALSE(*StudyStore::HoldsAStudy(path_));
  {
    auto store = OpenOrDie(/*create=*/false);
    // The runner's metadata goes in one commit.
    ASSERT_TRUE(store->PutMeta({{"seed", "3"}, {"spec", "{}"}, {"command", "true"}}).ok());
  }
  EXPECT_TRUE(*StudyStore::HoldsAStudy(path_));
  auto store = OpenOrDie(/*create=*/false);
  EXPECT_EQ(*store->GetMeta("spec"), std::optional<std::string>("{}"));
  EXPECT_EQ(*store->GetMeta("command"), std::optional<std::string>("true"));
  store.reset();

  const std::string songs = dir_ + "/songs.db";
  {
    SQLite::Database raw(songs, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE songs (title TEXT)");
  }
  EXPECT_TRUE(*StudyStore::HoldsAStudy(songs));
  std::ofstream(dir_ + "/notes.db") << "not a database at all, but not empty either\n";
  EXPECT_FALSE(StudyStore::HoldsAStudy(dir_ + "/notes.db").ok());
}

TEST_F(StudyStoreTest, ANonSqliteFileIsAClearError) {
  {
    std::ofstream out(path_);
    for (int i = 0; i < 100; ++i) out << "this is a results.csv, not a database\n";
  }
  auto store = StudyStore::Open(path_, /*create=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
}

TEST_F(StudyStoreTest, AnotherSqliteDatabaseIsRefused) {
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE songs (title TEXT)");
  }
  auto store = StudyStore::Open(path_, /*create=*/true);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("not a sherpa study"));
}

TEST_F(StudyStoreTest, ANewerSchemaIsFailedPrecondition) {
  { OpenOrDie(); }
  {
    SQLite::Database raw(path_, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 99");
  }
  auto store = StudyStore::Open(path_, /*create=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
  EXPECT_THAT(store.status().message(), HasSubstr("99"));
}

TEST_F(StudyStoreTest, IsAWalDatabaseOfTheCurrentSchema) {
  { OpenOrDie(); }
  SQLite::Database raw(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), 1);
}

TEST(EventKindNameTest, NamesEveryKind) {
  std::set<std::string> names;
  for (EventKind kind :
       {EventKind::kTrialCreated, EventKind::kTrialStarted, EventKind::kObservation,
        EventKind::kTrialEnded, EventKind::kTrialReopened, EventKind::kTrialRestarted}) {
    names.insert(EventKindName(kind));
  }
  EXPECT_EQ(names.size(), 6u);
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace sherpa::storage
