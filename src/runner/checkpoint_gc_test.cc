#include "runner/checkpoint_gc.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "sherpa/algorithms.h"
#include "sherpa/study.h"

namespace sherpa::runner {
namespace {

namespace fs = std::filesystem;

class CheckpointGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("gc_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Save(const std::string& name) {
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "model.pt") << "weights";
    std::ofstream(dir_ / (name + ".meta")) << "meta";
  }
  size_t CountCheckpoints() const {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) n += entry.is_directory();
    return n;
  }
  // The best trial's checkpoint and every one of its lineage are on disk.
  // Returns how many that is.
  size_t ExpectBestChainOnDisk(const Study& study) const {
    std::optional<BestResult> best = study.get_best_result();
    EXPECT_TRUE(best.has_value());
    if (!best) return 0;
    EXPECT_TRUE(fs::exists(dir_ / best->parameters.at("save_to").as_string()));
    size_t n = 1;
    const std::string lineage = best->parameters.at("lineage").as_string();
    for (size_t start = 0, comma; (comma = lineage.find(',', start)) != std::string::npos;
         start = comma + 1, ++n) {
      EXPECT_TRUE(fs::exists(dir_ / lineage.substr(start, comma - start)));
    }
    return n;
  }
  fs::path dir_;
};

TEST_F(CheckpointGcTest, DiskStaysBoundedAndLiveLineagesSurvive) {
  const ParameterSpace space = *ParameterSpace::Create({Continuous("x", {0.1, 1.0})});
  PopulationBasedTrainingOptions o;
  o.population_size = 6;
  o.num_generations = 12;
  Study study(space, *PopulationBasedTraining(space, o), /*lower_is_better=*/false, nullptr, 11);
  CheckpointCollector gc(dir_.string());
  size_t most = 0;
  for (;;) {
    Suggestion s = *study.get_suggestion();
    if (!s.is_trial()) break;
    const Trial& t = s.trial();
    gc.OnTrialCreated(t);
    // A child can load its parent's checkpoint: the collector must not have
    // deleted it.
    const std::string load_from = t.parameters.at("load_from").as_string();
    if (!load_from.empty()) {
      EXPECT_TRUE(fs::exists(dir_ / load_from)) << "trial " << t.id;
    }
    Save(t.parameters.at("save_to").as_string());
    ASSERT_TRUE(study.add_observation(t, 1, t.parameters.at("x").as_number()).ok());
    ASSERT_TRUE(study.finalize(t).ok());
    gc.Collect(study.results());
    most = std::max(most, CountCheckpoints());
  }
  EXPECT_EQ(study.results().num_trials(), 72u);
  // About two generations (12) plus a thin trunk of shared ancestors, never
  // all 72.
  EXPECT_LE(most, 2u * 6u + 12u);
  ExpectBestChainOnDisk(study);
  // Done: the last generation's models and the best trial's chain stay.
  gc.Finish(study.results());
  const size_t chain = ExpectBestChainOnDisk(study);
  EXPECT_LE(CountCheckpoints(), 6u + chain);
  for (const TrialRecord& record : study.results().trials()) {
    if (record.trial().parameters.at("generation").as_int() == 12) {
      EXPECT_TRUE(fs::exists(dir_ / record.trial().parameters.at("save_to").as_string()));
    }
  }
}

// Asynchronous PBT: no generations, members at different intervals, trials
// ending out of order, some failing (half of those resubmitted). Every
// checkpoint a trial loads, first run or re-run, is still there; disk use
// stays at about one checkpoint per member and per running interval plus
// the chains they descend from.
TEST_F(CheckpointGcTest, AsynchronousPbtKeepsWhatMembersCanLoadAndNothingMore) {
  const ParameterSpace space = *ParameterSpace::Create({Continuous("x", {0.1, 1.0})});
  PopulationBasedTrainingOptions o;
  o.mode = PbtMode::kAsynchronous;
  o.population_size = 6;
  o.num_generations = 40;
  Study study(space, *PopulationBasedTraining(space, o), /*lower_is_better=*/false, nullptr, 3);
  CheckpointCollector gc(dir_.string());
  std::mt19937_64 rng(7);
  std::vector<Trial> running;
  std::set<TrialId> resubmitted;
  size_t most = 0, loads = 0, reruns = 0, failures = 0;
  auto start = [&](const Trial& t) {
    const std::string load_from = t.parameters.at("load_from").as_string();
    if (!load_from.empty()) {
      ++loads;
      EXPECT_TRUE(fs::exists(dir_ / load_from)) << "trial " << t.id << " loads " << load_from;
    }
    running.push_back(t);
  };
  for (;;) {
    while (running.size() < 4) {
      Suggestion s = *study.get_suggestion();
      if (!s.is_trial()) break;
      // A resubmitted trial comes back as a suggestion; the runner tells
      // the collector about new trials only.
      if (!resubmitted.erase(s.trial().id)) gc.OnTrialCreated(s.trial());
      start(s.trial());
    }
    if (running.empty()) break;
    const size_t pick = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
    const Trial t = running[pick];
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(pick));
    if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.15) {
      ++failures;
      ASSERT_TRUE(study.finalize(t, TrialStatus::kFailed).ok());
      if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
        ASSERT_TRUE(study.add_trial(t).ok());  // resubmitted, as the runner does
        resubmitted.insert(t.id);
        ++reruns;
        gc.Collect(study.results());
        continue;
      }
    } else {
      Save(t.parameters.at("save_to").as_string());
      ASSERT_TRUE(study.add_observation(t, 1, t.parameters.at("x").as_number()).ok());
      ASSERT_TRUE(study.finalize(t).ok());
    }
    gc.Collect(study.results());
    most = std::max(most, CountCheckpoints());
  }
  const size_t trials = study.results().num_trials();
  EXPECT_GE(trials, 6u * 40u);
  EXPECT_GT(loads, trials / 2);
  EXPECT_GT(reruns, 3u);
  EXPECT_GT(failures, 6u);
  // Kept: each member's checkpoint and the running intervals' load_from,
  // with the chains they descend from (any of them may become the best).
  // Lineages of members that keep their own line coalesce slowly, so this is
  // more than one trunk, yet far from everything.
  EXPECT_LT(most * 3, trials) << "peak " << most << " of " << trials << " checkpoints";
  ExpectBestChainOnDisk(study);
  // Done: each member's last good checkpoint and the best trial's chain.
  gc.Finish(study.results());
  const size_t chain = ExpectBestChainOnDisk(study);
  EXPECT_LE(CountCheckpoints(), 6u + chain);
}

TEST_F(CheckpointGcTest, RemovesFilesWithExtensionsToo) {
  CheckpointCollector gc(dir_.string());
  Results results(true);
  for (TrialId id = 1; id <= 3; ++id) {
    Trial t{id,
            {{"save_to", Value(std::to_string(id))},
             {"lineage", Value("")},
             {"load_from", Value("")},
             {"generation", Value(id)}}};
    ASSERT_TRUE(results.AddTrial(t).ok());
    gc.OnTrialCreated(t);
    Save(std::to_string(id));
  }
  // Trial 1 (generation 1) can be loaded by no one once generation 3 began
  // and is not the best: it goes, with its ".meta" file.
  ASSERT_TRUE(results.AddObservation(3, {1, 0.1, {}}).ok());
  std::vector<std::string> deleted = gc.Collect(results);
  EXPECT_EQ(deleted, std::vector<std::string>{"1"});
  EXPECT_FALSE(fs::exists(dir_ / "1"));
  EXPECT_FALSE(fs::exists(dir_ / "1.meta"));
  EXPECT_TRUE(fs::exists(dir_ / "2"));
}

TEST_F(CheckpointGcTest, TheBestTrialsCheckpointStaysUntilABetterOneEnds) {
  CheckpointCollector gc(dir_.string());
  Results results(/*lower_is_better=*/false);
  auto add = [&](TrialId id, int64_t generation, double objective) {
    Trial t{id,
            {{"save_to", Value(std::to_string(id))},
             {"lineage", Value("")},
             {"load_from", Value(id > 1 ? std::to_string(id - 1) : "")},
             {"generation", Value(generation)}}};
    ASSERT_TRUE(results.AddTrial(t).ok());
    gc.OnTrialCreated(t);
    Save(std::to_string(id));
    ASSERT_TRUE(results.AddObservation(id, {1, objective, {}}).ok());
    ASSERT_TRUE(results.Finalize(id, TrialStatus::kCompleted).ok());
    gc.Collect(results);
  };
  add(1, 1, 0.9);
  add(2, 2, 0.5);
  add(3, 3, 0.4);
  add(4, 4, 0.3);
  // Generation 2 can be loaded by no one and is not the best; generation 1
  // is the best.
  EXPECT_TRUE(fs::exists(dir_ / "1"));
  EXPECT_FALSE(fs::exists(dir_ / "2"));
  add(5, 5, 0.95);
  EXPECT_FALSE(fs::exists(dir_ / "1"));
  EXPECT_FALSE(fs::exists(dir_ / "3"));
  EXPECT_TRUE(fs::exists(dir_ / "4"));
  EXPECT_TRUE(fs::exists(dir_ / "5"));
}

}  // namespace
}  // namespace sherpa::runner
