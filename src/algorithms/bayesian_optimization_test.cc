// Tests of BayesianOptimization (sherpa/algorithms.h), driven through
// sherpa::Study. Statistical claims use fixed seeds and several of them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  EXPECT_TRUE(space.ok()) << space.status();
  return space.ok() ? std::move(space).value() : ParameterSpace();
}

std::unique_ptr<Algorithm> MakeBo(const ParameterSpace& space, BayesianOptimizationOptions o) {
  StatusOr<std::unique_ptr<Algorithm>> algorithm = BayesianOptimization(space, std::move(o));
  EXPECT_TRUE(algorithm.ok()) << algorithm.status();
  return algorithm.ok() ? std::move(algorithm).value() : nullptr;
}

double Number(const Trial& trial, const std::string& key) {
  return trial.parameters.at(key).as_number();
}

// A smooth function of a log-scale, a discrete and a linear parameter,
// minimal (0) at lr = 10^-2.5, units = 40, x = 0.7.
const ParameterSpace& MixedSpace() {
  static const ParameterSpace* space = new ParameterSpace(MakeSpace({
      Continuous("lr", {1e-4, 1.0}, Scale::kLog),
      Discrete("units", {1, 64}),
      Continuous("x", {-2.0, 2.0}),
  }));
  return *space;
}

double MixedLoss(const Trial& trial) {
  const double a = std::log10(Number(trial, "lr")) + 2.5;
  const double b = (Number(trial, "units") - 40) / 20;
  const double c = Number(trial, "x") - 0.7;
  return a * a + b * b + c * c;
}

// Runs `budget` trials one after the other and returns the best objective.
double BestAfter(std::unique_ptr<Algorithm> algorithm, const ParameterSpace& space, int budget,
                 uint64_t seed, const std::function<double(const Trial&)>& objective,
                 bool lower_is_better = true) {
  Study study(space, std::move(algorithm), lower_is_better, nullptr, seed);
  for (int i = 0; i < budget; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok() || !s->is_trial()) break;
    const Trial& trial = s->trial();
    for (const Parameter& p : space) {
      EXPECT_TRUE(p.Contains(trial.parameters.at(p.name())))
          << p.name() << " = " << trial.parameters.at(p.name());
    }
    EXPECT_TRUE(study.add_observation(trial, 1, objective(trial)).ok());
    EXPECT_TRUE(study.finalize(trial).ok());
  }
  return study.get_best_result()->objective;
}

TEST(BayesianOptimizationTest, BeatsRandomSearchOnASmoothFunctionAtEqualBudget) {
  constexpr int kBudget = 30;
  constexpr int kSeeds = 8;
  int wins = 0;
  double bo_total = 0, random_total = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const double bo = BestAfter(MakeBo(MixedSpace(), {}), MixedSpace(), kBudget, seed, MixedLoss);
    const double random = BestAfter(*RandomSearch(kBudget), MixedSpace(), kBudget, seed, MixedLoss);
    wins += bo < random;
    bo_total += bo;
    random_total += random;
  }
  EXPECT_GE(wins, kSeeds - 1) << "BO won on " << wins << " of " << kSeeds << " seeds";
  EXPECT_LT(bo_total, 0.3 * random_total)
      << "mean best: BO " << bo_total / kSeeds << ", random " << random_total / kSeeds;
}

TEST(BayesianOptimizationTest, MaximizesWhenHigherIsBetter) {
  auto gain = [](const Trial& trial) { return -MixedLoss(trial); };
  double worst = -std::numeric_limits<double>::infinity();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const double best = BestAfter(MakeBo(MixedSpace(), {}), MixedSpace(), 30, seed, gain,
                                  /*lower_is_better=*/false);
    worst = std::max(worst, -best);
  }
  EXPECT_LT(worst, 0.1) << "the best loss of the worst seed";
}

TEST(BayesianOptimizationTest, FindsTheBestChoiceAndOrdinalValues) {
  const ParameterSpace space = MakeSpace({
      Continuous("x", {0.0, 1.0}),
      Choice("activation", {"relu", "tanh", "sigmoid"}),
      Ordinal("batch_size", {16, 32, 64, 128, 256}),
  });
  auto loss = [](const Trial& trial) {
    const double x = Number(trial, "x") - 0.3;
    const double activation = trial.parameters.at("activation").as_string() == "tanh" ? 0.0 : 1.0;
    const double batch = std::abs(std::log2(Number(trial, "batch_size")) - 6);  // best: 64
    return x * x + activation + 0.3 * batch;
  };
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    BayesianOptimizationOptions o;
    Study study(space, MakeBo(space, o), true, nullptr, seed);
    for (int i = 0; i < 25; ++i) {
      StatusOr<Suggestion> s = study.get_suggestion();
      ASSERT_TRUE(s.ok() && s->is_trial());
      for (const Parameter& p : space) {
        ASSERT_TRUE(p.Contains(s->trial().parameters.at(p.name())));
      }
      ASSERT_TRUE(study.add_observation(s->trial(), 1, loss(s->trial())).ok());
      ASSERT_TRUE(study.finalize(s->trial()).ok());
    }
    const BestResult best = *study.get_best_result();
    EXPECT_EQ(best.parameters.at("activation"), Value("tanh")) << "seed " << seed;
    EXPECT_EQ(best.parameters.at("batch_size"), Value(64)) << "seed " << seed;
    EXPECT_LT(best.objective, 0.01) << "seed " << seed;
  }
}

// Distance in the unit box the model works in.
double UnitDistance(const Trial& a, const Trial& b) {
  const double lr = (std::log(Number(a, "lr")) - std::log(Number(b, "lr"))) / std::log(1e4);
  const double units = (Number(a, "units") - Number(b, "units")) / 63;
  const double x = (Number(a, "x") - Number(b, "x")) / 4;
  return std::sqrt(lr * lr + units * units + x * x);
}

TEST(BayesianOptimizationTest, ParallelSuggestionsSpreadOut) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    BayesianOptimizationOptions o;
    Study study(MixedSpace(), MakeBo(MixedSpace(), o), true, nullptr, seed);
    for (int i = 0; i < 15; ++i) {
      StatusOr<Suggestion> s = study.get_suggestion();
      ASSERT_TRUE(s.ok() && s->is_trial());
      ASSERT_TRUE(study.add_observation(s->trial(), 1, MixedLoss(s->trial())).ok());
      ASSERT_TRUE(study.finalize(s->trial()).ok());
    }
    // Four workers ask at once: none of the four has ended.
    std::vector<Trial> batch;
    for (int i = 0; i < 4; ++i) {
      StatusOr<Suggestion> s = study.get_suggestion();
      ASSERT_TRUE(s.ok() && s->is_trial());
      batch.push_back(s->trial());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        EXPECT_GT(UnitDistance(batch[i], batch[j]), 0.03)
            << "seed " << seed << ": suggestions " << j << " and " << i << " nearly coincide";
      }
    }
  }
}

// Runs `budget` trials in rounds of `workers`: every round is suggested
// before any of its trials ends, as on a runner with that many workers.
double BestInBatches(std::unique_ptr<Algorithm> algorithm, int budget, int workers, uint64_t seed) {
  Study study(MixedSpace(), std::move(algorithm), true, nullptr, seed);
  for (int round = 0; round < budget / workers; ++round) {
    std::vector<Trial> batch;
    for (int i = 0; i < workers; ++i) {
      StatusOr<Suggestion> s = study.get_suggestion();
      EXPECT_TRUE(s.ok() && s->is_trial());
      if (s.ok() && s->is_trial()) batch.push_back(s->trial());
    }
    for (const Trial& trial : batch) {
      EXPECT_TRUE(study.add_observation(trial, 1, MixedLoss(trial)).ok());
      EXPECT_TRUE(study.finalize(trial).ok());
    }
  }
  return study.get_best_result()->objective;
}

TEST(BayesianOptimizationTest, BeatsRandomSearchWithFourParallelWorkers) {
  constexpr int kSeeds = 6;
  int wins = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const double bo = BestInBatches(MakeBo(MixedSpace(), {}), 32, 4, seed);
    const double random = BestInBatches(*RandomSearch(32), 32, 4, seed);
    wins += bo < random;
  }
  EXPECT_GE(wins, kSeeds - 1) << "BO won on " << wins << " of " << kSeeds << " seeds";
}

TEST(BayesianOptimizationTest, TriesInitialDataPointsFirstThenSamplesThenAnswersDone) {
  const ParameterSpace& space = MixedSpace();
  BayesianOptimizationOptions o;
  o.max_num_trials = 8;
  o.num_initial_data_points = 3;
  o.initial_data_points = {{{"lr", 0.01}, {"units", Value(8)}, {"x", 0.0}},
                           {{"lr", 0.1}, {"units", Value(16)}, {"x", 1.0}}};
  Study study(space, MakeBo(space, o), true, nullptr, 4);
  std::vector<Trial> trials;
  for (int i = 0; i < 8; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial()) << "suggestion " << i;
    trials.push_back(s->trial());
    ASSERT_TRUE(study.add_observation(s->trial(), 1, MixedLoss(s->trial())).ok());
    ASSERT_TRUE(study.finalize(s->trial()).ok());
  }
  EXPECT_EQ(trials[0].parameters, o.initial_data_points[0]);
  EXPECT_EQ(trials[1].parameters, o.initial_data_points[1]);
  for (int i = 0; i < 2; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->is_done());
  }
}

TEST(BayesianOptimizationTest, IgnoresFailedAndStoppedTrials) {
  // Failed trials report wildly good objectives: a model that used them
  // would chase them. The study must still find the optimum of the
  // COMPLETED trials' function.
  Study study(MixedSpace(), MakeBo(MixedSpace(), {}), true, nullptr, 2);
  for (int i = 0; i < 40; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial());
    const Trial& trial = s->trial();
    if (i % 4 == 3) {
      ASSERT_TRUE(study.add_observation(trial, 1, -1000.0 * (1 + Number(trial, "x"))).ok());
      ASSERT_TRUE(
          study.finalize(trial, i % 8 == 3 ? TrialStatus::kFailed : TrialStatus::kStopped).ok());
      continue;
    }
    ASSERT_TRUE(study.add_observation(trial, 1, MixedLoss(trial)).ok());
    ASSERT_TRUE(study.finalize(trial).ok());
  }
  double best_completed = std::numeric_limits<double>::infinity();
  for (const TrialRecord& record : study.results().trials()) {
    if (record.status() == TrialStatus::kCompleted) {
      best_completed = std::min(best_completed, record.last()->objective);
    }
  }
  EXPECT_LT(best_completed, 0.1);
}

TEST(BayesianOptimizationTest, UsesTheLastObservationOfATrial) {
  // Each trial reports a misleading first value and its real value last.
  Study study(MixedSpace(), MakeBo(MixedSpace(), {}), true, nullptr, 3);
  for (int i = 0; i < 30; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial());
    const Trial& trial = s->trial();
    ASSERT_TRUE(study.add_observation(trial, 1, -MixedLoss(trial)).ok());
    ASSERT_TRUE(study.add_observation(trial, 2, MixedLoss(trial)).ok());
    ASSERT_TRUE(study.finalize(trial).ok());
  }
  double best_last = std::numeric_limits<double>::infinity();
  for (const TrialRecord& record : study.results().trials()) {
    best_last = std::min(best_last, record.last()->objective);
  }
  EXPECT_LT(best_last, 0.1);
}

TEST(BayesianOptimizationOptionsTest, RefusesBadOptionsNamingThem) {
  const ParameterSpace& space = MixedSpace();
  auto refused = [&](BayesianOptimizationOptions o, const std::string& needle) {
    StatusOr<std::unique_ptr<Algorithm>> a = BayesianOptimization(space, std::move(o));
    ASSERT_FALSE(a.ok()) << needle;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(a.status().message(), HasSubstr(needle));
  };
  BayesianOptimizationOptions o;
  o.max_num_trials = -1;
  refused(o, "max_num_trials");
  o = {};
  o.num_initial_data_points = 0;
  refused(o, "num_initial_data_points");
  o = {};
  o.max_training_points = 3;
  refused(o, "max_training_points");
  o = {};
  o.initial_data_points = {{{"lr", 0.01}, {"units", Value(8)}}};
  refused(o, "initial_data_points[0] gives no value for parameter 'x'");
  o.initial_data_points = {{{"lr", 5.0}, {"units", Value(8)}, {"x", 0.0}}};
  refused(o, "initial_data_points[0]['lr']");
  o.initial_data_points = {{{"lr", 0.01}, {"units", 8.5}, {"x", 0.0}}};
  refused(o, "initial_data_points[0]['units']");
  o.initial_data_points = {{{"lr", 0.01}, {"units", Value(8)}, {"x", 0.0}, {"y", 1.0}}};
  refused(o, "names 'y'");
}

}  // namespace
}  // namespace sherpa
