// The last clause of the algorithm contract, checked for every built-in
// algorithm (the cases of algorithm_cases.h): after a crash, the study that
// `sherpa resume` rebuilds from storage gives the same next suggestions as
// the study that did not crash.
//
// A driver plays the runner: it keeps three trials running, ends them out of
// order after one to three reports, lets some fail or be stopped, resubmits
// some failures, and stores every event the runner would store, in the order
// the runner would, in a real StudyStore. A crash keeps the first k events
// (whatever the writer had committed); a fresh study with the same seed then
// replays them with runner::Replay, as `sherpa resume` does. The two studies
// must agree on every finished trial, the trials that were running must come
// back as unfinished, and once those have run to their end in both, the
// studies must hand out the same trials to the end.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "algorithms/algorithm_cases.h"
#include "runner/replay.h"
#include "storage/study_store.h"

#include "sherpa/algorithm.h"
#include "sherpa/study.h"

namespace sherpa::runner {
namespace {

namespace fs = std::filesystem;
using conformance::AlgorithmCase;
using conformance::Cases;
using conformance::ConformanceSpace;
using storage::EventKind;
using storage::StoredEvent;
using storage::StudyStore;

constexpr size_t kWorkers = 3;
constexpr uint64_t kSeed = 41;
// How many trials the studies must agree on after the crash.
constexpr size_t kNextSuggestions = 25;

// What a trial does, from its id and how often it was resubmitted only: a
// trial run again after a crash behaves as the interrupted run would have.
struct Script {
  int64_t iterations = 0;  // reports before it ends
  TrialStatus status = TrialStatus::kCompleted;
  bool resubmit = false;  // the runner queues it again (it failed without reporting)
};

Script ScriptOf(TrialId id, int resubmits) {
  if (id % 7 == 3 && resubmits == 0) return {0, TrialStatus::kFailed, true};
  if (id % 11 == 5) return {0, TrialStatus::kFailed, false};
  if (id % 5 == 0) return {1, TrialStatus::kStopped, false};
  return {id % 3 == 1 ? 3 : 2, TrialStatus::kCompleted, false};
}

double ObjectiveAt(const Trial& trial, int64_t iteration) {
  return conformance::Objective(trial) * (1.0 + 1.0 / static_cast<double>(iteration));
}

StatusOr<std::unique_ptr<Study>> MakeStudy(const AlgorithmCase& c) {
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, c.make(ConformanceSpace()));
  return std::make_unique<Study>(ConformanceSpace(), std::move(algorithm),
                                 /*lower_is_better=*/true, nullptr, kSeed);
}

struct Run {
  Trial trial;
  bool started = false;
  bool restarted = false;  // found unfinished on resume
  int attempt = 0;
  int64_t reported = 0;
};

// Plays the runner's loop one stored event at a time (a few steps store
// none: a WAIT, DONE), so a crash can fall between any two events.
class Driver {
 public:
  // `store` may be null: nothing is stored.
  Driver(Study& study, StudyStore* store) : study_(study), store_(store) {}

  // The state `sherpa resume` starts from.
  void Resume(const ReplayOutcome& outcome) {
    for (const Trial& trial : outcome.unfinished) {
      running_.push_back(Run{trial, false, true, 0, 0});
    }
    attempts_ = outcome.attempts;
    resubmits_ = outcome.resubmits;
  }

  // One step: start a trial handed out, else fill a free slot, else advance
  // a running trial (not always the oldest, so trials end out of order).
  // False once there is nothing left to do or on an error (error()).
  bool Step() {
    for (size_t i = 0; i < running_.size(); ++i) {
      if (!running_[i].started) return Start(i);
    }
    if (!done_ && !waiting_ && running_.size() < kWorkers) return Fill();
    if (running_.empty()) return false;
    turn_ = (turn_ + 2) % 5;
    return Advance(turn_ % running_.size());
  }

  // Steps until `events` more events are stored (the crash) or the study
  // ends; true if the crash happened.
  bool StepUntilStored(size_t events) {
    const size_t target = stored_ + events;
    while (stored_ < target) {
      if (!Step()) return false;
    }
    return true;
  }

  // Runs the running trials to their end, lowest id first.
  bool FinishRunning() {
    while (!running_.empty()) {
      size_t lowest = 0;
      for (size_t i = 1; i < running_.size(); ++i) {
        if (running_[i].trial.id < running_[lowest].trial.id) lowest = i;
      }
      const bool ok = running_[lowest].started ? Advance(lowest) : Start(lowest);
      if (!ok) return false;
    }
    waiting_ = false;
    return true;
  }

  Status Sync() { return ticket_ == 0 ? OkStatus() : store_->WaitDurable(ticket_); }

  const std::vector<Run>& running() const { return running_; }
  const std::vector<Trial>& suggested() const { return suggested_; }
  const Status& error() const { return error_; }
  bool done() const { return done_; }
  size_t stored() const { return stored_; }

 private:
  void Store(StoredEvent event) {
    ++stored_;
    if (store_ != nullptr) ticket_ = store_->Append(std::move(event));
  }

  StoredEvent Event(EventKind kind, const Run& run) {
    StoredEvent event;
    event.kind = kind;
    event.trial_id = run.trial.id;
    event.attempt = run.attempt;
    return event;
  }

  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }

  bool Start(size_t i) {
    Run& run = running_[i];
    run.started = true;
    run.attempt = ++attempts_[run.trial.id];
    Store(Event(run.restarted ? EventKind::kTrialRestarted : EventKind::kTrialStarted, run));
    return true;
  }

  bool Fill() {
    StatusOr<Suggestion> suggestion = study_.get_suggestion();
    if (!suggestion.ok()) return Fail(suggestion.status());
    if (suggestion->is_done()) {
      done_ = true;
      return true;
    }
    if (suggestion->is_wait()) {
      if (running_.empty()) return Fail(InternalError("WAIT with no trial running"));
      waiting_ = true;
      return true;
    }
    const Trial& trial = suggestion->trial();
    suggested_.push_back(trial);
    StoredEvent created;
    created.kind = EventKind::kTrialCreated;
    created.trial_id = trial.id;
    created.trial = trial;
    Store(std::move(created));
    running_.push_back(Run{trial, false, false, 0, 0});
    return true;
  }

  bool Advance(size_t i) {
    Run& run = running_[i];
    const Script script = ScriptOf(run.trial.id, resubmits_[run.trial.id]);
    if (run.reported < script.iterations) {
      ++run.reported;
      const double objective = ObjectiveAt(run.trial, run.reported);
      Status added = study_.add_observation(run.trial, run.reported, objective);
      if (!added.ok()) return Fail(added);
      StoredEvent event = Event(EventKind::kObservation, run);
      event.observation = Observation{run.reported, objective, {}};
      Store(std::move(event));
      return true;
    }
    Status finalized = study_.finalize(run.trial, script.status);
    if (!finalized.ok()) return Fail(finalized);
    StoredEvent ended = Event(EventKind::kTrialEnded, run);
    ended.status = script.status;
    Store(std::move(ended));
    const Run ended_run = run;
    running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
    waiting_ = false;
    if (!script.resubmit) return true;
    // The runner's resubmission: queued again under its id and handed out
    // at once, ahead of anything the algorithm would suggest.
    Status queued = study_.add_trial(ended_run.trial);
    if (!queued.ok()) return Fail(queued);
    ++resubmits_[ended_run.trial.id];
    Store(Event(EventKind::kTrialReopened, ended_run));
    StatusOr<Suggestion> again = study_.get_suggestion();
    if (!again.ok()) return Fail(again.status());
    if (!again->is_trial() || again->trial().id != ended_run.trial.id) {
      return Fail(InternalError("the resubmitted trial was not handed out first"));
    }
    running_.push_back(Run{again->trial(), false, false, 0, 0});
    return true;
  }

  Study& study_;
  StudyStore* store_;
  std::vector<Run> running_;
  std::map<TrialId, int> attempts_, resubmits_;
  std::vector<Trial> suggested_;
  bool done_ = false;
  bool waiting_ = false;  // the last request answered WAIT and nothing ended since
  int turn_ = 0;
  size_t stored_ = 0;
  uint64_t ticket_ = 0;
  Status error_;
};

class ReplayConformanceTest : public ::testing::TestWithParam<AlgorithmCase> {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("sherpa_replay_conformance_" + GetParam().name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<StudyStore> NewStore() {
    StatusOr<std::unique_ptr<StudyStore>> store =
        StudyStore::Open((dir_ / ("study_" + std::to_string(++stores_) + ".db")).string(), true);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // How many events the whole study stores.
  size_t TotalEvents() {
    StatusOr<std::unique_ptr<Study>> study = MakeStudy(GetParam());
    EXPECT_TRUE(study.ok()) << study.status();
    if (!study.ok()) return 0;
    Driver driver(**study, nullptr);
    while (driver.Step()) {
    }
    EXPECT_TRUE(driver.error().ok()) << driver.error();
    return driver.stored();
  }

  fs::path dir_;
  int stores_ = 0;
};

struct Resumed {
  std::unique_ptr<Study> study;
  ReplayOutcome outcome;
};

// What `sherpa resume` does: a fresh study from the same spec and seed, and
// the stored events replayed into it.
void ResumeFrom(const AlgorithmCase& c, StudyStore& store, Resumed* resumed) {
  StatusOr<std::vector<StoredEvent>> events = store.LoadEvents();
  ASSERT_TRUE(events.ok()) << events.status();
  StatusOr<std::unique_ptr<Study>> study = MakeStudy(c);
  ASSERT_TRUE(study.ok()) << study.status();
  resumed->study = std::move(study).value();
  StatusOr<ReplayOutcome> outcome = Replay(*events, *resumed->study);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  resumed->outcome = std::move(outcome).value();
}

void ExpectSameRecord(const TrialRecord& want, const TrialRecord& got) {
  EXPECT_EQ(got.trial().parameters, want.trial().parameters) << "trial " << want.id();
  EXPECT_EQ(got.status(), want.status()) << "trial " << want.id();
  ASSERT_EQ(got.observations().size(), want.observations().size()) << "trial " << want.id();
  for (size_t i = 0; i < want.observations().size(); ++i) {
    EXPECT_EQ(got.observations()[i].iteration, want.observations()[i].iteration);
    EXPECT_EQ(got.observations()[i].objective, want.observations()[i].objective);
  }
}

// `original` (driven by `before`) crashed; `resumed` was rebuilt from what
// it had stored. Checks what was rebuilt, then runs the interrupted trials
// to their end in both and compares what the two studies do next.
void ExpectResumedStudyContinuesAsTheOriginal(Study& original, Driver& before, Resumed& resumed,
                                              const std::string& where) {
  SCOPED_TRACE(where);
  // The finished trials are as they were; the running ones are unfinished.
  std::set<TrialId> running;
  for (const Run& run : before.running()) running.insert(run.trial.id);
  std::set<TrialId> unfinished;
  for (const Trial& trial : resumed.outcome.unfinished) {
    unfinished.insert(trial.id);
    const TrialRecord* record = original.results().Find(trial.id);
    ASSERT_NE(record, nullptr) << "trial " << trial.id;
    EXPECT_EQ(trial.parameters, record->trial().parameters) << "trial " << trial.id;
    // The partial reports are left out: the new attempt reports them again.
    EXPECT_TRUE(resumed.study->results().Find(trial.id)->observations().empty());
  }
  EXPECT_EQ(unfinished, running) << "the trials running at the crash";
  ASSERT_EQ(resumed.study->results().trials().size(), original.results().trials().size());
  for (const TrialRecord& record : original.results().trials()) {
    if (running.count(record.id())) continue;
    const TrialRecord* rebuilt = resumed.study->results().Find(record.id());
    ASSERT_NE(rebuilt, nullptr) << "trial " << record.id();
    ExpectSameRecord(record, *rebuilt);
  }

  // The interrupted trials run to their end in both: the original's go on
  // from their last report, the resumed study's start again.
  Driver after(*resumed.study, nullptr);
  after.Resume(resumed.outcome);
  ASSERT_TRUE(before.FinishRunning()) << before.error();
  ASSERT_TRUE(after.FinishRunning()) << after.error();
  for (const TrialRecord& record : original.results().trials()) {
    const TrialRecord* rebuilt = resumed.study->results().Find(record.id());
    ASSERT_NE(rebuilt, nullptr) << "trial " << record.id();
    ExpectSameRecord(record, *rebuilt);
  }

  // From here on the two studies must do the same.
  Driver original_next(original, nullptr), resumed_next(*resumed.study, nullptr);
  for (Driver* driver : {&original_next, &resumed_next}) {
    while (driver->suggested().size() < kNextSuggestions && driver->Step()) {
    }
  }
  EXPECT_EQ(resumed_next.error(), original_next.error());
  EXPECT_EQ(resumed_next.done(), original_next.done());
  ASSERT_EQ(resumed_next.suggested().size(), original_next.suggested().size());
  for (size_t i = 0; i < original_next.suggested().size(); ++i) {
    const Trial& want = original_next.suggested()[i];
    const Trial& got = resumed_next.suggested()[i];
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.parameters, want.parameters) << "suggestion " << i + 1 << " after the crash";
  }
}

// Crash points: early (trials created, not all started), several through
// the study (with PBT's populations of 5 to 10 and three workers, most fall
// inside a generation and all while trials run), and the last event.
std::vector<size_t> CrashPoints(size_t total) {
  std::set<size_t> points = {1, 2, 5};
  for (size_t sixth = 1; sixth < 6; ++sixth) points.insert(total * sixth / 6);
  points.insert(total - 1);
  std::vector<size_t> out;
  for (size_t k : points) {
    if (k >= 1 && k < total) out.push_back(k);
  }
  return out;
}

TEST_P(ReplayConformanceTest, StudyRebuiltFromStorageContinuesAsIfNothingHappened) {
  const AlgorithmCase& c = GetParam();
  const size_t total = TotalEvents();
  ASSERT_GT(total, 20u);
  for (size_t crash : CrashPoints(total)) {
    const std::string where =
        "crash after event " + std::to_string(crash) + " of " + std::to_string(total);
    std::unique_ptr<StudyStore> store = NewStore();
    ASSERT_NE(store, nullptr);
    StatusOr<std::unique_ptr<Study>> original = MakeStudy(c);
    ASSERT_TRUE(original.ok()) << original.status();
    Driver before(**original, store.get());
    ASSERT_TRUE(before.StepUntilStored(crash)) << where << ": " << before.error();
    ASSERT_TRUE(before.Sync().ok());

    Resumed resumed;
    ASSERT_NO_FATAL_FAILURE(ResumeFrom(c, *store, &resumed)) << where;
    ASSERT_NO_FATAL_FAILURE(
        ExpectResumedStudyContinuesAsTheOriginal(**original, before, resumed, where));
  }
}

// A resumed study that crashes again: its log now holds restarted attempts
// and the partial reports of the attempts that crashed.
TEST_P(ReplayConformanceTest, StudyResumedTwiceContinuesAsIfNothingHappened) {
  const AlgorithmCase& c = GetParam();
  const size_t total = TotalEvents();
  ASSERT_GT(total, 20u);
  for (const auto& [first, second] :
       std::vector<std::pair<size_t, size_t>>{{total / 3, total / 4}, {total / 2, 4}}) {
    const std::string where = "crashes after event " + std::to_string(first) + " and " +
                              std::to_string(second) + " events later, of " + std::to_string(total);
    std::unique_ptr<StudyStore> store = NewStore();
    ASSERT_NE(store, nullptr);
    StatusOr<std::unique_ptr<Study>> original = MakeStudy(c);
    ASSERT_TRUE(original.ok()) << original.status();
    Driver before(**original, store.get());
    ASSERT_TRUE(before.StepUntilStored(first)) << where << ": " << before.error();
    ASSERT_TRUE(before.Sync().ok());

    Resumed once;
    ASSERT_NO_FATAL_FAILURE(ResumeFrom(c, *store, &once)) << where;
    Driver between(*once.study, store.get());
    between.Resume(once.outcome);
    if (!between.StepUntilStored(second)) {
      ASSERT_TRUE(between.error().ok()) << where << ": " << between.error();
      continue;  // the study ended before the second crash
    }
    ASSERT_TRUE(between.Sync().ok());

    Resumed twice;
    ASSERT_NO_FATAL_FAILURE(ResumeFrom(c, *store, &twice)) << where;
    ASSERT_NO_FATAL_FAILURE(
        ExpectResumedStudyContinuesAsTheOriginal(*once.study, between, twice, where));
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltIns, ReplayConformanceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<AlgorithmCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sherpa::runner
