// Tests of LocalSearch (sherpa/algorithms.h), driven through sherpa::Study as
// a user would drive it. Expected neighbours follow from the rules in the
// header, never from recorded random outputs.

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

#include "sherpa/algorithm.h"
#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"
#include "sherpa/study.h"
#include "sherpa/trial.h"
#include "sherpa/value.h"

namespace sherpa {
namespace {

using ::testing::HasSubstr;

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

// One parameter of each kind, two of them on a bound of their range.
const ParameterSpace& Space() {
  static const ParameterSpace* space = new ParameterSpace(MakeSpace({
      Continuous("x", {0.0, 10.0}),
      Continuous("edge", {0.0, 10.0}),
      Discrete("n", {1, 10}),
      Discrete("low", {1, 5}),
      Ordinal("batch", {16, 32, 64}),
      Ordinal("first", {"a", "b", "c"}),
      Choice("act", {"relu", "tanh", "sigmoid"}),
  }));
  return *space;
}

ParameterValues Seed() {
  return {{"x", 5.0},    {"edge", 9.0},  {"n", 2},       {"low", 1},
          {"batch", 32}, {"first", "a"}, {"act", "relu"}};
}

std::unique_ptr<Study> MakeStudy(LocalSearchOptions options, bool lower_is_better = true,
                                 uint64_t seed = 1, const ParameterSpace& space = Space()) {
  StatusOr<std::unique_ptr<Algorithm>> algorithm = LocalSearch(space, std::move(options));
  if (!algorithm.ok()) {
    ADD_FAILURE() << algorithm.status();
    return nullptr;
  }
  return std::make_unique<Study>(space, std::move(algorithm).value(), lower_is_better, nullptr,
                                 seed);
}

LocalSearchOptions WithSeed(ParameterValues seed) {
  LocalSearchOptions options;
  options.seed_configuration = std::move(seed);
  return options;
}

Suggestion Ask(Study& study) {
  StatusOr<Suggestion> suggestion = study.get_suggestion();
  EXPECT_THAT(suggestion, IsOk());
  return suggestion.ok() ? std::move(suggestion).value() : Suggestion::Done();
}

void Complete(Study& study, const Trial& trial, double objective) {
  ASSERT_THAT(study.add_observation(trial, 1, objective), IsOk());
  ASSERT_THAT(study.finalize(trial), IsOk());
}

// The parameters in which two configurations differ.
std::vector<std::string> Differences(const ParameterValues& a, const ParameterValues& b) {
  std::vector<std::string> out;
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != value) out.push_back(name);
  }
  return out;
}

// ---------------------------------------------------------------------------

TEST(LocalSearchTest, WhileNothingCompletesEveryNeighbourOfTheSeedIsTriedOnceThenDone) {
  std::unique_ptr<Study> study = MakeStudy(WithSeed(Seed()));
  ASSERT_NE(study, nullptr);
  Suggestion first = Ask(*study);
  ASSERT_TRUE(first.is_trial());
  EXPECT_EQ(first.trial().parameters, Seed());
  ASSERT_THAT(study->finalize(first.trial(), TrialStatus::kFailed), IsOk());

  // Each kind's rule, from the seed (factors 0.8 and 1.2):
  const std::map<std::string, std::set<Value>> expected = {
      {"x", {4.0, 6.0}},
      {"edge", {7.2, 10.0}},         // 10.8 clipped
      {"n", {1, 3}},                 // 1.6 and 2.4 round to 2; an integer still moves
      {"low", {2}},                  // 1 * 0.8 would leave the range
      {"batch", {16, 64}},           // one step each way
      {"first", {"b"}},              // no step below the first value
      {"act", {"tanh", "sigmoid"}},  // every other choice
  };
  std::map<std::string, std::set<Value>> seen;
  for (int i = 0; i < 100; ++i) {
    Suggestion next = Ask(*study);
    if (next.is_done()) break;
    ASSERT_TRUE(next.is_trial()) << "WAIT with nothing running";
    const Trial& trial = next.trial();
    const std::vector<std::string> changed = Differences(trial.parameters, Seed());
    ASSERT_EQ(changed.size(), 1u) << "one parameter at a time";
    const Value& value = trial.parameters.at(changed[0]);
    EXPECT_TRUE(seen[changed[0]].insert(value).second) << changed[0] << " = " << value << " twice";
    EXPECT_EQ(value.type(), Seed().at(changed[0]).type()) << changed[0] << " changed type";
    // Nothing completes: the center stays the seed.
    ASSERT_THAT(study->add_observation(trial, 1, -1.0), IsOk());
    ASSERT_THAT(study->finalize(trial, TrialStatus::kStopped), IsOk());
  }
  EXPECT_EQ(seen, expected);
  EXPECT_TRUE(Ask(*study).is_done());
}

// At every step, the suggestion is an untried neighbour of the best COMPLETED
// trial so far (by last observation), whatever order trials end in.
TEST(LocalSearchTest, MovesToTheBestCompletedTrialAndNeverRepeatsAConfiguration) {
  for (bool lower_is_better : {true, false}) {
    std::unique_ptr<Study> study = MakeStudy(WithSeed(Seed()), lower_is_better, 3);
    ASSERT_NE(study, nullptr);
    // A smooth objective with its optimum inside the space, so the center
    // keeps moving; higher-is-better flips its sign.
    auto objective = [&](const ParameterValues& p) {
      const double loss = std::abs(p.at("x").as_number() - 2.3) +
                          std::abs(p.at("n").as_number() - 7) + (p.at("act") == "tanh" ? 0 : 1);
      return lower_is_better ? loss : -loss;
    };
    std::optional<double> best;
    ParameterValues center = Seed();
    std::set<ParameterValues> tried;
    std::vector<Trial> running;
    int moves = 0;
    for (int step = 0; step < 400; ++step) {
      Suggestion next = Ask(*study);
      if (next.is_done()) break;
      if (next.is_trial()) {
        const Trial& trial = next.trial();
        EXPECT_TRUE(tried.insert(trial.parameters).second) << "trial " << trial.id << " repeats";
        if (step > 0) {
          EXPECT_EQ(Differences(trial.parameters, center).size(), 1u)
              << "trial " << trial.id << " is not a neighbour of the best completed trial";
        }
        running.push_back(trial);
        if (running.size() < 3) continue;
      } else {
        ASSERT_FALSE(running.empty()) << "WAIT with nothing running";
      }
      // End the newest; some trials fail after a tempting report.
      const Trial trial = running.back();
      running.pop_back();
      if (trial.id % 10 == 7) {
        ASSERT_THAT(study->add_observation(trial, 1, lower_is_better ? -1e9 : 1e9), IsOk());
        ASSERT_THAT(study->finalize(trial, TrialStatus::kFailed), IsOk());
        continue;
      }
      const double value = objective(trial.parameters);
      ASSERT_THAT(study->add_observation(trial, 1, -value), IsOk());  // not the last one
      ASSERT_THAT(study->add_observation(trial, 2, value), IsOk());
      ASSERT_THAT(study->finalize(trial), IsOk());
      if (!best || (lower_is_better ? value < *best : value > *best)) {
        best = value;
        center = trial.parameters;
        ++moves;
      }
    }
    EXPECT_GT(moves, 5) << "the search should have moved";
    EXPECT_TRUE(Ask(*study).is_done()) << "the loop ends only at DONE";
    EXPECT_EQ(center.at("act"), Value("tanh"));
  }
}

TEST(LocalSearchTest, RepeatsEachConfigurationRepeatTrialsTimes) {
  LocalSearchOptions options = WithSeed(Seed());
  options.repeat_trials = 3;
  std::unique_ptr<Study> study = MakeStudy(options);
  ASSERT_NE(study, nullptr);
  std::vector<ParameterValues> handed;
  for (int i = 0; i < 200; ++i) {
    Suggestion next = Ask(*study);
    if (next.is_done()) break;
    ASSERT_TRUE(next.is_trial());
    handed.push_back(next.trial().parameters);
    Complete(*study, next.trial(), static_cast<double>(i % 5));
  }
  ASSERT_GE(handed.size(), 9u);
  ASSERT_EQ(handed.size() % 3, 0u);
  EXPECT_EQ(handed[0], Seed());
  std::set<ParameterValues> distinct;
  for (size_t i = 0; i < handed.size(); i += 3) {
    EXPECT_EQ(handed[i], handed[i + 1]);
    EXPECT_EQ(handed[i], handed[i + 2]);
    EXPECT_TRUE(distinct.insert(handed[i]).second) << "configuration " << i / 3 << " again";
  }
}

TEST(LocalSearchTest, WaitsWhenExhaustedWhileARunningTrialMayMoveTheCenter) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 10.0})});
  std::unique_ptr<Study> study = MakeStudy(WithSeed({{"x", 1.0}}), true, 1, space);
  ASSERT_NE(study, nullptr);
  std::map<double, Trial> by_x;
  for (int i = 0; i < 3; ++i) {
    Suggestion next = Ask(*study);
    ASSERT_TRUE(next.is_trial());
    by_x[next.trial().parameters.at("x").as_number()] = next.trial();
  }
  ASSERT_EQ(by_x.size(), 3u);  // 1.0 and its neighbours 0.8 and 1.2
  EXPECT_TRUE(Ask(*study).is_wait());
  Complete(*study, by_x.at(1.0), 5.0);
  Complete(*study, by_x.at(0.8), 6.0);
  EXPECT_TRUE(Ask(*study).is_wait()) << "x = 1.2 is still running";
  Complete(*study, by_x.at(1.2), 4.0);
  // SHERPA had ended the study at the first exhaustion; 1.2 is the new center.
  Suggestion next = Ask(*study);
  ASSERT_TRUE(next.is_trial());
  const double x = next.trial().parameters.at("x").as_number();
  EXPECT_TRUE(std::abs(x - 1.2 * 0.8) < 1e-12 || std::abs(x - 1.2 * 1.2) < 1e-12) << x;
  ASSERT_THAT(study->finalize(next.trial(), TrialStatus::kFailed), IsOk());
  next = Ask(*study);
  ASSERT_TRUE(next.is_trial());
  ASSERT_THAT(study->finalize(next.trial(), TrialStatus::kFailed), IsOk());
  EXPECT_TRUE(Ask(*study).is_done()) << "exhausted and nothing running";
}

std::vector<ParameterValues> RunSequence(uint64_t seed) {
  std::unique_ptr<Study> study = MakeStudy(WithSeed(Seed()), true, seed);
  std::vector<ParameterValues> out;
  if (study == nullptr) return out;
  for (int i = 0; i < 12; ++i) {
    Suggestion next = Ask(*study);
    if (!next.is_trial()) break;
    out.push_back(next.trial().parameters);
    EXPECT_THAT(study->finalize(next.trial(), TrialStatus::kFailed), IsOk());
  }
  return out;
}

TEST(LocalSearchTest, TheStudysSeedAloneDecidesTheOrder) {
  const std::vector<ParameterValues> first = RunSequence(5);
  ASSERT_EQ(first.size(), 12u);
  EXPECT_EQ(RunSequence(5), first);
  // SHERPA drew from Python's own generator; here another study seed must
  // give another order (12 neighbours: the same order by chance is ~1e-9).
  EXPECT_NE(RunSequence(6), first);
}

// `sherpa resume` replays the logged trials through a fresh study; WAITs are
// not logged, so they must not change what comes next.
struct WaitRun {
  std::vector<Trial> handed;
  int waits = 0;
  size_t handed_after_a_wait = 0;
};

WaitRun RunWithExtraWaits(int extra_waits) {
  WaitRun run;
  std::unique_ptr<Study> study = MakeStudy(WithSeed(Seed()), true, 9);
  if (study == nullptr) return run;
  std::vector<Trial> running;
  for (int step = 0; step < 500; ++step) {
    Suggestion next = Ask(*study);
    if (next.is_done()) break;
    if (next.is_trial()) {
      run.handed.push_back(next.trial());
      running.push_back(next.trial());
      run.handed_after_a_wait += run.waits > 0;
      if (running.size() < 20) continue;
    } else {
      ++run.waits;
      for (int i = 0; i < extra_waits; ++i) EXPECT_TRUE(Ask(*study).is_wait());
    }
    // Every running trial ends; the center moves toward small x and n.
    for (const Trial& trial : running) {
      Complete(*study, trial,
               trial.parameters.at("x").as_number() + trial.parameters.at("n").as_number());
    }
    running.clear();
  }
  return run;
}

TEST(LocalSearchTest, WaitAnswersChangeNothing) {
  const WaitRun plain = RunWithExtraWaits(0);
  const WaitRun extra = RunWithExtraWaits(3);
  ASSERT_GT(plain.waits, 1) << "the scenario must reach WAIT";
  ASSERT_GT(plain.handed_after_a_wait, 2u) << "and draw from the generator after it";
  ASSERT_EQ(plain.waits, extra.waits);
  ASSERT_EQ(plain.handed.size(), extra.handed.size());
  for (size_t i = 0; i < plain.handed.size(); ++i) {
    EXPECT_EQ(plain.handed[i].parameters, extra.handed[i].parameters)
        << "trial " << plain.handed[i].id;
  }
}

TEST(LocalSearchTest, RefusesABadSeedConfigurationNamingTheParameter) {
  auto error = [](ParameterValues seed, LocalSearchOptions options = {}) {
    options.seed_configuration = std::move(seed);
    StatusOr<std::unique_ptr<Algorithm>> algorithm = LocalSearch(Space(), options);
    EXPECT_FALSE(algorithm.ok());
    if (algorithm.ok()) return std::string();
    EXPECT_EQ(algorithm.status().code(), StatusCode::kInvalidArgument);
    return algorithm.status().message();
  };
  ParameterValues missing = Seed();
  missing.erase("batch");
  EXPECT_THAT(error(missing), HasSubstr("seed_configuration has no value for parameter 'batch'"));
  ParameterValues outside = Seed();
  outside["x"] = 11.0;
  EXPECT_THAT(error(outside), HasSubstr("seed_configuration['x'] = 11.0 (double) is not a value "
                                        "of parameter 'x', continuous [0.0, 10.0]"));
  ParameterValues wrong_type = Seed();
  wrong_type["n"] = 2.5;
  EXPECT_THAT(error(wrong_type), HasSubstr("seed_configuration['n'] = 2.5 (double)"));
  ParameterValues not_listed = Seed();
  not_listed["act"] = "gelu";
  EXPECT_THAT(error(not_listed), HasSubstr("'act', choice of relu, tanh, sigmoid"));
  ParameterValues extra = Seed();
  extra["y"] = 1;
  EXPECT_THAT(error(extra), HasSubstr("seed_configuration names 'y', which is not a parameter"));
  LocalSearchOptions no_factors;
  no_factors.perturbation_factors = {};
  EXPECT_THAT(error(Seed(), no_factors), HasSubstr("perturbation_factors must not be empty"));
  LocalSearchOptions negative;
  negative.perturbation_factors = {0.8, -1.0};
  EXPECT_THAT(error(Seed(), negative), HasSubstr("perturbation_factors must be positive"));
  LocalSearchOptions no_repeat;
  no_repeat.repeat_trials = 0;
  EXPECT_THAT(error(Seed(), no_repeat), HasSubstr("repeat_trials must be >= 1, got 0"));

  // An integer for a continuous parameter is a number like any other.
  ParameterValues integer_x = Seed();
  integer_x["x"] = 5;
  std::unique_ptr<Study> study = MakeStudy(WithSeed(integer_x));
  ASSERT_NE(study, nullptr);
  Suggestion first = Ask(*study);
  ASSERT_TRUE(first.is_trial());
  EXPECT_EQ(first.trial().parameters.at("x"), Value(5.0));
}

}  // namespace
}  // namespace sherpa
