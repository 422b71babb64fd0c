// Tests of PB2 (sherpa/algorithms.h), driven through sherpa::Study. PB2 is
// PBT with a model-based explore step: the bookkeeping tests check that it
// hands out exactly what PopulationBasedTraining would, the bandit tests
// check what the GP adds.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
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
using ::testing::StartsWith;

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  EXPECT_TRUE(space.ok()) << space.status();
  return space.ok() ? std::move(space).value() : ParameterSpace();
}

PB2Options Options(int64_t population, int64_t generations) {
  PB2Options o;
  o.pbt.population_size = population;
  o.pbt.num_generations = generations;
  return o;
}

const std::string& StringKey(const Trial& trial, std::string_view key) {
  return trial.parameters.find(key)->second.as_string();
}
int64_t GenerationOf(const Trial& trial) {
  return trial.parameters.find(kGenerationKey)->second.as_int();
}
double Number(const Trial& trial, std::string_view key) {
  return trial.parameters.find(key)->second.as_number();
}

// Every trial handed out, by id, and the generations in hand-out order.
struct Pb2Run {
  std::map<TrialId, Trial> trials;
  std::map<int64_t, std::vector<TrialId>> generations;
  std::map<TrialId, double> objective;
};

// Runs whole generations (every member is handed out before any ends, then
// they end in reverse order) until DONE. `train` gets the trial and the
// objective its parent ended with (none in generation 1) and returns its own.
using Train = std::function<double(const Trial&, std::optional<double>)>;

void RunPb2(const ParameterSpace& space, PB2Options options, bool lower_is_better, uint64_t seed,
            const Train& train, Pb2Run* run) {
  StatusOr<std::unique_ptr<Algorithm>> algorithm = PB2(space, std::move(options));
  ASSERT_TRUE(algorithm.ok()) << algorithm.status();
  ASSERT_EQ((*algorithm)->name(), "PB2");
  Study study(space, std::move(algorithm).value(), lower_is_better, nullptr, seed);
  std::vector<Trial> running;
  for (int step = 0; step < 10000; ++step) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok()) << s.status();
    if (s->is_done()) return;
    if (s->is_trial()) {
      const Trial& trial = s->trial();
      run->trials[trial.id] = trial;
      run->generations[GenerationOf(trial)].push_back(trial.id);
      running.push_back(trial);
      continue;
    }
    ASSERT_FALSE(running.empty()) << "WAIT with nothing running";
    while (!running.empty()) {
      const Trial trial = running.back();
      running.pop_back();
      std::optional<double> parent;
      const std::string& load_from = StringKey(trial, kLoadFromKey);
      if (!load_from.empty()) parent = run->objective.at(std::stoll(load_from));
      const double objective = train(trial, parent);
      run->objective[trial.id] = objective;
      ASSERT_TRUE(study.add_observation(trial, GenerationOf(trial), objective).ok());
      ASSERT_TRUE(study.finalize(trial).ok());
    }
  }
  FAIL() << "no DONE";
}

// The toy problem's shape in one line per generation: the objective grows
// by more the larger h0 and h1 are, so the best hyperparameters sit at the
// upper bounds.
double Improve(const Trial& trial, std::optional<double> parent) {
  return parent.value_or(0.0) + Number(trial, "h0") + 0.5 * Number(trial, "h1");
}

TEST(PB2Test, ChildrenLoadTheirParentsCheckpointsFromTheTopThirdAsInPbt) {
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0}),
                 Ordinal("batch_size", {16, 32, 64})});
  Pb2Run run;
  ASSERT_NO_FATAL_FAILURE(
      RunPb2(space, Options(6, 5), /*lower_is_better=*/false, 3, Improve, &run));
  ASSERT_EQ(run.generations.size(), 5u);
  for (const auto& [generation, ids] : run.generations) {
    ASSERT_EQ(ids.size(), 6u);
    // The top third of the previous generation (2 of 6), by objective.
    std::vector<TrialId> previous =
        generation > 1 ? run.generations.at(generation - 1) : std::vector<TrialId>();
    std::stable_sort(previous.begin(), previous.end(), [&](TrialId a, TrialId b) {
      return run.objective.at(a) > run.objective.at(b);
    });
    for (TrialId id : ids) {
      const Trial& trial = run.trials.at(id);
      EXPECT_EQ(StringKey(trial, kSaveToKey), std::to_string(id));
      if (generation == 1) {
        EXPECT_EQ(StringKey(trial, kLoadFromKey), "");
        EXPECT_EQ(StringKey(trial, kLineageKey), "");
        continue;
      }
      const TrialId parent_id = std::stoll(StringKey(trial, kLoadFromKey));
      EXPECT_TRUE(parent_id == previous[0] || parent_id == previous[1])
          << "trial " << id << " loads " << parent_id << ", not from the top third";
      const Trial& parent = run.trials.at(parent_id);
      EXPECT_EQ(StringKey(trial, kLineageKey),
                StringKey(parent, kLineageKey) + StringKey(parent, kSaveToKey) + ",");
    }
  }
}

TEST(PB2Test, TruncationKeepsTheTopEightyPercentUnchanged) {
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0})});
  PB2Options options = Options(10, 4);
  options.pbt.exploit = PbtExploit::kTruncation;
  Pb2Run run;
  ASSERT_NO_FATAL_FAILURE(RunPb2(space, options, false, 5, Improve, &run));
  for (int64_t g = 2; g <= 4; ++g) {
    std::vector<TrialId> previous = run.generations.at(g - 1);
    std::stable_sort(previous.begin(), previous.end(), [&](TrialId a, TrialId b) {
      return run.objective.at(a) > run.objective.at(b);
    });
    const std::vector<TrialId>& ids = run.generations.at(g);
    for (size_t position = 0; position < 8; ++position) {
      const Trial& child = run.trials.at(ids[position]);
      const Trial& parent = run.trials.at(previous[position]);
      EXPECT_EQ(StringKey(child, kLoadFromKey), std::to_string(previous[position]));
      EXPECT_EQ(Number(child, "h0"), Number(parent, "h0"));
      EXPECT_EQ(Number(child, "h1"), Number(parent, "h1"));
    }
  }
}

TEST(PB2Test, BanditValuesStayInsideHyperparamBoundsAndDiscreteStaysInteger) {
  const ParameterSpace space = MakeSpace({
      Continuous("lr", {1e-5, 1.0}, Scale::kLog),
      Discrete("units", {1, 512}),
      Choice("activation", {"relu", "tanh"}),
      Ordinal("batch_size", {16, 32, 64, 128}),
  });
  PB2Options options = Options(5, 8);
  options.pbt.parameter_range = {{"lr", {1e-3, 1e-1}}, {"units", {Value(8), Value(64)}}};
  auto train = [](const Trial& trial, std::optional<double> parent) {
    return parent.value_or(0.0) - std::abs(std::log10(Number(trial, "lr")) + 2) -
           Number(trial, "units") / 64.0;
  };
  Pb2Run run;
  ASSERT_NO_FATAL_FAILURE(RunPb2(space, options, false, 7, train, &run));
  for (const auto& [generation, ids] : run.generations) {
    if (generation == 1) continue;
    for (TrialId id : ids) {
      const Trial& trial = run.trials.at(id);
      EXPECT_GE(Number(trial, "lr"), 1e-3) << "trial " << id;
      EXPECT_LE(Number(trial, "lr"), 1e-1) << "trial " << id;
      ASSERT_TRUE(trial.parameters.at("units").is_int()) << "trial " << id;
      // Generation 2 still has PBT's perturbation (no data yet), which may
      // keep a value from the parent's own range; the bandit's do not.
      if (generation >= 3) {
        EXPECT_GE(Number(trial, "units"), 8) << "trial " << id;
        EXPECT_LE(Number(trial, "units"), 64) << "trial " << id;
      }
      for (const Parameter& p : space) {
        if (!p.is_numeric_range()) {
          EXPECT_TRUE(p.Contains(trial.parameters.at(p.name())));
        }
      }
    }
  }
}

TEST(PB2Test, ChoiceAndOrdinalFallBackToPbtPerturbation) {
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0}),
                 Ordinal("batch_size", {16, 32, 64, 128, 256})});
  Pb2Run run;
  ASSERT_NO_FATAL_FAILURE(RunPb2(space, Options(6, 8), false, 9, Improve, &run));
  const std::vector<Value>& steps = space.Find("batch_size")->range();
  auto index = [&](const Trial& t) {
    return std::find(steps.begin(), steps.end(), t.parameters.at("batch_size")) - steps.begin();
  };
  int moved = 0;
  for (const auto& [id, trial] : run.trials) {
    if (GenerationOf(trial) == 1) continue;
    const Trial& parent = run.trials.at(std::stoll(StringKey(trial, kLoadFromKey)));
    EXPECT_LE(std::abs(index(trial) - index(parent)), 1) << "trial " << id;
    moved += index(trial) != index(parent);
  }
  EXPECT_GT(moved, 0);
}

TEST(PB2Test, TheBanditMovesTowardsTheBestHyperparameters) {
  // The reward grows with h0 and h1; after a few generations PB2's choices
  // sit near the upper bounds, where PBT's +-20% steps would take longer.
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0})});
  double sum = 0;
  int count = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Pb2Run run;
    ASSERT_NO_FATAL_FAILURE(RunPb2(space, Options(4, 10), false, seed, Improve, &run));
    for (int64_t g = 7; g <= 10; ++g) {
      for (TrialId id : run.generations.at(g)) {
        sum += Number(run.trials.at(id), "h0");
        ++count;
      }
    }
  }
  EXPECT_GT(sum / count, 0.8) << "mean h0 of generations 7-10";
}

// GP-BUCB: a member chosen earlier in the generation counts as pending
// (its variance shrinks), so no two members take the same point, and while
// the model is unsure (the first generations the bandit chooses) the
// members spread over the box instead of all taking UCB's one maximum. Once
// the model is confident they cluster near the optimum (about 0.01 apart
// here), as GP-UCB should.
TEST(PB2Test, MembersOfOneGenerationGetDifferentBanditChoices) {
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0})});
  // A reward that does not single out one corner.
  auto train = [](const Trial& trial, std::optional<double> parent) {
    const double a = Number(trial, "h0") - 0.6, b = Number(trial, "h1") - 0.4;
    return parent.value_or(0.0) + 1 - a * a - b * b;
  };
  auto distance = [](const Trial& a, const Trial& b) {
    return std::hypot(Number(a, "h0") - Number(b, "h0"), Number(a, "h1") - Number(b, "h1"));
  };
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Pb2Run run;
    ASSERT_NO_FATAL_FAILURE(RunPb2(space, Options(6, 6), false, seed, train, &run));
    double widest_early_spread = 0;
    for (int64_t g = 3; g <= 6; ++g) {
      const std::vector<TrialId>& ids = run.generations.at(g);
      double sum = 0;
      int pairs = 0;
      for (size_t i = 0; i < ids.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          const double d = distance(run.trials.at(ids[i]), run.trials.at(ids[j]));
          EXPECT_GT(d, 1e-4) << "seed " << seed << ", generation " << g << ": trials " << ids[j]
                             << " and " << ids[i] << " take the same point";
          sum += d;
          ++pairs;
        }
      }
      if (g <= 4) widest_early_spread = std::max(widest_early_spread, sum / pairs);
    }
    EXPECT_GT(widest_early_spread, 0.1)
        << "seed " << seed << ": mean distance between members in generations 3 and 4";
    // And the bandit found the optimum.
    for (TrialId id : run.generations.at(6)) {
      const Trial& trial = run.trials.at(id);
      EXPECT_NEAR(Number(trial, "h0"), 0.6, 0.1) << "seed " << seed;
      EXPECT_NEAR(Number(trial, "h1"), 0.4, 0.1) << "seed " << seed;
    }
  }
}

TEST(PB2Test, LowerIsBetterFlipsTheReward) {
  // The same problem as a loss: PB2 must still push h0 up.
  const ParameterSpace space =
      MakeSpace({Continuous("h0", {0.0, 1.0}), Continuous("h1", {0.0, 1.0})});
  auto loss = [](const Trial& trial, std::optional<double> parent) {
    return -Improve(trial, parent ? std::optional<double>(-*parent) : std::nullopt);
  };
  double sum = 0;
  int count = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    Pb2Run run;
    ASSERT_NO_FATAL_FAILURE(RunPb2(space, Options(4, 10), true, seed, loss, &run));
    for (int64_t g = 7; g <= 10; ++g) {
      for (TrialId id : run.generations.at(g)) sum += Number(run.trials.at(id), "h0"), ++count;
    }
  }
  EXPECT_GT(sum / count, 0.8);
}

TEST(PB2OptionsTest, RefusesBadOptionsWithPb2InTheMessage) {
  const ParameterSpace space = MakeSpace({Continuous("h0", {0.0, 1.0})});
  auto refused = [&](PB2Options o, const std::string& needle) {
    StatusOr<std::unique_ptr<Algorithm>> a = PB2(space, std::move(o));
    ASSERT_FALSE(a.ok()) << needle;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(a.status().message(), StartsWith("PB2: "));
    EXPECT_THAT(a.status().message(), HasSubstr(needle));
  };
  PB2Options o = Options(2, 4);
  refused(o, "population_size");
  o = Options(4, 4);
  o.pbt.resample_probability = 0.25;
  refused(o, "resample_probability");
  o = Options(4, 4);
  o.max_data_points = 5;
  refused(o, "max_data_points");
  o = Options(4, 4);
  o.pbt.parameter_range = {{"h0", {1.0, 0.0}}};
  refused(o, "parameter_range['h0']");
  o = Options(4, 4);
  o.pbt.parameter_range = {{"nope", {0.0, 1.0}}};
  refused(o, "nope");
}

}  // namespace
}  // namespace sherpa
