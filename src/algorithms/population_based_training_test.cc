// Tests of PopulationBasedTraining (sherpa/algorithms.h), driven through
// sherpa::Study as a user would drive it. Expectations are derived from the
// rules in the header, never from recorded random outputs.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Status helpers.

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const Status& status = StatusOf(arg);
  if (status.code() != code) {
    *result_listener << "status is " << status;
    return false;
  }
  *result_listener << "status is " << status << ", message ";
  return ::testing::ExplainMatchResult(message_matcher, status.message(), result_listener);
}

// ---------------------------------------------------------------------------
// Trial helpers.

const std::set<std::string> kBookkeepingKeys = {"load_from", "save_to", "lineage", "generation"};

const Value* Get(const Trial& trial, std::string_view key) {
  auto it = trial.parameters.find(key);
  return it == trial.parameters.end() ? nullptr : &it->second;
}

std::string StringKey(const Trial& trial, std::string_view key) {
  const Value* value = Get(trial, key);
  if (value == nullptr) {
    ADD_FAILURE() << "trial " << trial.id << " has no '" << key << "'";
    return "<missing>";
  }
  if (!value->is_string()) {
    ADD_FAILURE() << "trial " << trial.id << ": '" << key << "' is " << *value << ", not a string";
    return "<not a string>";
  }
  return value->as_string();
}

int64_t GenerationOf(const Trial& trial) {
  const Value* value = Get(trial, kGenerationKey);
  if (value == nullptr || !value->is_int()) {
    ADD_FAILURE() << "trial " << trial.id << ": 'generation' is missing or not an int";
    return -1;
  }
  return value->as_int();
}

// The study's parameters of a trial, without PBT's bookkeeping keys.
ParameterValues Hyperparameters(const Trial& trial) {
  ParameterValues out;
  for (const auto& [name, value] : trial.parameters) {
    if (!kBookkeepingKeys.count(name)) out.emplace(name, value);
  }
  return out;
}

// A distinct, scrambled objective per trial id: the rank order is not the id
// order, so a test cannot pass by accident of ids.
double Golden(TrialId id) { return std::fmod(static_cast<double>(id) * 0.6180339887498949, 1.0); }

bool Near(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({1.0, std::abs(a), std::abs(b)});
}

// ---------------------------------------------------------------------------
// A record of what a PBT study handed out and how each trial ended.

struct Member {
  Trial trial;
  int64_t position = 0;  // index within its generation, in hand-out order
  TrialStatus status = TrialStatus::kIntermediate;
  std::optional<double> last_objective;
};

class History {
 public:
  void Add(const Trial& trial) {
    const int64_t generation = GenerationOf(trial);
    std::vector<TrialId>& ids = generations_[generation];
    members_[trial.id] =
        Member{trial, static_cast<int64_t>(ids.size()), TrialStatus::kIntermediate, std::nullopt};
    ids.push_back(trial.id);
    const std::string save_to = StringKey(trial, kSaveToKey);
    EXPECT_TRUE(by_save_to_.emplace(save_to, trial.id).second)
        << "save_to '" << save_to << "' handed out twice";
  }
  void Finish(TrialId id, TrialStatus status, std::optional<double> last_objective) {
    members_.at(id).status = status;
    members_.at(id).last_objective = last_objective;
  }
  const Member* Find(TrialId id) const {
    auto it = members_.find(id);
    return it == members_.end() ? nullptr : &it->second;
  }
  const Member* ParentOf(const Trial& child) const {
    auto it = by_save_to_.find(StringKey(child, kLoadFromKey));
    return it == by_save_to_.end() ? nullptr : Find(it->second);
  }
  // Members of generation g in hand-out order.
  std::vector<const Member*> Generation(int64_t g) const {
    std::vector<const Member*> out;
    auto it = generations_.find(g);
    if (it == generations_.end()) return out;
    for (TrialId id : it->second) out.push_back(Find(id));
    return out;
  }
  // COMPLETED members of generation g, best first (by last objective).
  std::vector<const Member*> Ranked(int64_t g, bool lower_is_better) const {
    std::vector<const Member*> out;
    for (const Member* m : Generation(g)) {
      if (m->status == TrialStatus::kCompleted && m->last_objective) out.push_back(m);
    }
    std::sort(out.begin(), out.end(), [&](const Member* a, const Member* b) {
      return lower_is_better ? *a->last_objective < *b->last_objective
                             : *a->last_objective > *b->last_objective;
    });
    return out;
  }
  int64_t num_generations() const { return static_cast<int64_t>(generations_.size()); }
  std::vector<Trial> AllTrials() const {
    std::vector<Trial> out;
    for (const auto& [id, member] : members_) out.push_back(member.trial);
    return out;
  }

 private:
  std::map<TrialId, Member> members_;
  std::map<int64_t, std::vector<TrialId>> generations_;
  std::map<std::string, TrialId> by_save_to_;
};

// How a trial ends: its objectives at iterations 1, 2, ... and its status.
struct Outcome {
  std::vector<double> objectives;
  TrialStatus status = TrialStatus::kCompleted;
};
using Policy = std::function<Outcome(const Trial& trial, int64_t position)>;

Policy ObjectiveIs(std::function<double(const Trial&)> objective) {
  return [objective](const Trial& trial, int64_t) { return Outcome{{objective(trial)}}; };
}

// Hands out one whole generation (every member before any report, as a
// parallel runner would), then reports and finalizes each member.
void RunGeneration(Study& study, int64_t population, const Policy& policy, History& history) {
  std::vector<Trial> batch;
  for (int64_t i = 0; i < population; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial()) << "member " << i << " of a generation was not handed out";
    batch.push_back(suggestion->trial());
    history.Add(batch.back());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const Outcome outcome = policy(batch[i], static_cast<int64_t>(i));
    for (size_t k = 0; k < outcome.objectives.size(); ++k) {
      ASSERT_THAT(
          study.add_observation(batch[i], static_cast<int64_t>(k) + 1, outcome.objectives[k]),
          IsOk());
    }
    ASSERT_THAT(study.finalize(batch[i], outcome.status), IsOk());
    history.Finish(batch[i].id, outcome.status,
                   outcome.objectives.empty() ? std::nullopt
                                              : std::optional<double>(outcome.objectives.back()));
  }
}

void RunGenerations(Study& study, int64_t population, int64_t generations, const Policy& policy,
                    History& history) {
  for (int64_t g = 0; g < generations; ++g) {
    ASSERT_NO_FATAL_FAILURE(RunGeneration(study, population, policy, history))
        << "generation " << g + 1;
  }
}

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

PopulationBasedTrainingOptions Options(int64_t population, int64_t generations) {
  PopulationBasedTrainingOptions options;
  options.population_size = population;
  options.num_generations = generations;
  return options;
}

// Runs a whole PBT study and returns its history.
void RunPbt(const ParameterSpace& space, const PopulationBasedTrainingOptions& options,
            bool lower_is_better, uint64_t seed, int64_t generations, const Policy& policy,
            History& history) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, options));
  Study study(space, std::move(algorithm), lower_is_better, nullptr, seed);
  ASSERT_NO_FATAL_FAILURE(
      RunGenerations(study, options.population_size, generations, policy, history));
}

// The value of continuous parameter `name` of a trial (must be a double).
double DoubleOf(const Trial& trial, std::string_view name) {
  const Value* value = Get(trial, name);
  if (value == nullptr || !value->is_double()) {
    ADD_FAILURE() << "trial " << trial.id << ": '" << name << "' is missing or not a double";
    return std::nan("");
  }
  return value->as_number();
}

int64_t IntOf(const Trial& trial, std::string_view name) {
  const Value* value = Get(trial, name);
  if (value == nullptr || !value->is_int()) {
    ADD_FAILURE() << "trial " << trial.id << ": '" << name << "' is missing or not an int";
    return 0;
  }
  return value->as_int();
}

// The factor that turns `parent` into `child` after clipping to [lo, hi], if
// one of `factors` does.
std::optional<double> ContinuousFactor(double parent, double child,
                                       const std::vector<double>& factors, double lo, double hi) {
  for (double f : factors) {
    if (Near(std::clamp(parent * f, lo, hi), child)) return f;
  }
  return std::nullopt;
}

// True if some factor turns integer `parent` into `child`: the product,
// rounded either way, moved by at least one when f != 1, clipped to [lo, hi].
bool IsDiscretePerturbation(int64_t parent, int64_t child, const std::vector<double>& factors,
                            int64_t lo, int64_t hi) {
  for (double f : factors) {
    int64_t a = parent;
    int64_t b = parent;
    const double product = static_cast<double>(parent) * f;
    if (f > 1.0) {
      a = parent + 1;
      b = std::max(parent + 1, static_cast<int64_t>(std::ceil(product)));
    } else if (f < 1.0) {
      a = std::min(parent - 1, static_cast<int64_t>(std::floor(product)));
      b = parent - 1;
    }
    a = std::clamp(a, lo, hi);
    b = std::clamp(b, lo, hi);
    if (child >= a && child <= b) return true;
  }
  return false;
}

const std::vector<double> kDefaultFactors = {0.8, 1.0, 1.2};

// ---------------------------------------------------------------------------
// Generation 1.

TEST(PopulationBasedTrainingTest, FirstGenerationIsSampledWithEmptyLineage) {
  const ParameterSpace space =
      MakeSpace({Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 8}),
                 Choice("activation", {"relu", "tanh"}), Ordinal("batch_size", {16, 32, 64, 128})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(6, 2)));
  EXPECT_EQ(algorithm->name(), "PopulationBasedTraining");
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, /*seed=*/3);

  std::set<ParameterValues> distinct;
  for (int64_t i = 1; i <= 6; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    const Trial& trial = suggestion->trial();
    EXPECT_EQ(trial.id, i);
    EXPECT_EQ(StringKey(trial, kLoadFromKey), "");
    EXPECT_EQ(StringKey(trial, kSaveToKey), std::to_string(trial.id));
    EXPECT_EQ(StringKey(trial, kLineageKey), "");
    const Value* generation = Get(trial, kGenerationKey);
    ASSERT_NE(generation, nullptr);
    EXPECT_TRUE(generation->is_int());
    EXPECT_EQ(*generation, Value(1));
    EXPECT_EQ(trial.parameters.size(), space.size() + kBookkeepingKeys.size());
    for (const Parameter& parameter : space) {
      const Value* value = Get(trial, parameter.name());
      ASSERT_NE(value, nullptr) << parameter.name();
      EXPECT_TRUE(parameter.Contains(*value)) << parameter.name() << " = " << *value;
    }
    distinct.insert(Hyperparameters(trial));
  }
  EXPECT_GT(distinct.size(), 1u) << "generation 1 should be sampled, not one configuration";
}

TEST(PopulationBasedTrainingTest, WorksOnAnEmptySpace) {
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(ParameterSpace(), Options(3, 2), true, 1, 2,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  for (const Trial& trial : history.AllTrials()) {
    EXPECT_EQ(trial.parameters.size(), kBookkeepingKeys.size());
  }
}

// ---------------------------------------------------------------------------
// Exploit: top third (the default).

class PbtTopThirdTest : public ::testing::TestWithParam<bool> {};

TEST_P(PbtTopThirdTest, ParentsAreDrawnUniformlyFromTheTopThirdOfThePreviousGeneration) {
  const bool lower_is_better = GetParam();
  constexpr int64_t kPopulation = 30;
  constexpr int64_t kGenerations = 4;
  constexpr size_t kTop = kPopulation / 3;
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  std::vector<int64_t> rank_count(kPopulation, 0);
  int64_t draws = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    History history;
    ASSERT_NO_FATAL_FAILURE(
        RunPbt(space, Options(kPopulation, kGenerations), lower_is_better, seed, kGenerations,
               ObjectiveIs([](const Trial& t) { return Golden(t.id); }), history));
    for (int64_t g = 2; g <= kGenerations; ++g) {
      const std::vector<const Member*> ranked = history.Ranked(g - 1, lower_is_better);
      ASSERT_EQ(ranked.size(), static_cast<size_t>(kPopulation));
      for (const Member* child : history.Generation(g)) {
        const Member* parent = history.ParentOf(child->trial);
        ASSERT_NE(parent, nullptr) << "trial " << child->trial.id << " has no known parent";
        const size_t rank =
            static_cast<size_t>(std::find(ranked.begin(), ranked.end(), parent) - ranked.begin());
        ASSERT_LT(rank, ranked.size())
            << "parent of trial " << child->trial.id << " is not in generation " << g - 1;
        EXPECT_LT(rank, kTop) << "seed " << seed << ": trial " << child->trial.id
                              << " descends from rank " << rank << " of generation " << g - 1;
        ++rank_count[rank];
        ++draws;
      }
    }
  }
  // Drawn with replacement, uniformly: every top-third rank is a parent about
  // draws/10 times (720 draws: 72 each, sd ~8.5).
  const double expected = static_cast<double>(draws) / static_cast<double>(kTop);
  double chi_square = 0;
  for (size_t rank = 0; rank < kTop; ++rank) {
    EXPECT_GE(static_cast<double>(rank_count[rank]), expected / 2) << "rank " << rank;
    const double diff = static_cast<double>(rank_count[rank]) - expected;
    chi_square += diff * diff / expected;
  }
  EXPECT_LT(chi_square, 35.0) << "9 degrees of freedom; p < 1e-4";
}

INSTANTIATE_TEST_SUITE_P(Directions, PbtTopThirdTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "LowerIsBetter" : "HigherIsBetter";
                         });

// ---------------------------------------------------------------------------
// Lineage.

class PbtLineageTest : public ::testing::TestWithParam<PbtExploit> {};

TEST_P(PbtLineageTest, ChildrenChainTheirParentsCheckpoints) {
  const ParameterSpace space =
      MakeSpace({Continuous("x", {0.0, 1.0}), Ordinal("batch_size", {16, 32, 64})});
  PopulationBasedTrainingOptions options = Options(10, 4);
  options.exploit = GetParam();
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 5, 4,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  for (int64_t g = 2; g <= 4; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Trial& trial = child->trial;
      EXPECT_EQ(StringKey(trial, kSaveToKey), std::to_string(trial.id));
      const Member* parent = history.ParentOf(trial);
      ASSERT_NE(parent, nullptr) << "load_from of trial " << trial.id << " names no trial";
      EXPECT_EQ(GenerationOf(parent->trial), g - 1);
      EXPECT_EQ(StringKey(trial, kLoadFromKey), StringKey(parent->trial, kSaveToKey));
      EXPECT_EQ(StringKey(trial, kLineageKey),
                StringKey(parent->trial, kLineageKey) + StringKey(parent->trial, kSaveToKey) + ",");
      // The lineage lists one ancestor per earlier generation, oldest first.
      const std::string lineage = StringKey(trial, kLineageKey);
      int64_t ancestor_generation = 1;
      size_t start = 0;
      while (start < lineage.size()) {
        const size_t comma = lineage.find(',', start);
        ASSERT_NE(comma, std::string::npos) << lineage;
        const TrialId ancestor = std::stoll(lineage.substr(start, comma - start));
        const Member* member = history.Find(ancestor);
        ASSERT_NE(member, nullptr) << lineage;
        EXPECT_EQ(GenerationOf(member->trial), ancestor_generation) << lineage;
        ++ancestor_generation;
        start = comma + 1;
      }
      EXPECT_EQ(ancestor_generation, g) << lineage;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Exploits, PbtLineageTest,
                         ::testing::Values(PbtExploit::kTopThird, PbtExploit::kTruncation),
                         [](const ::testing::TestParamInfo<PbtExploit>& param_info) {
                           return param_info.param == PbtExploit::kTopThird ? "TopThird"
                                                                            : "Truncation";
                         });

// ---------------------------------------------------------------------------
// Explore: perturbation.

TEST(PopulationBasedTrainingTest, ContinuousValuesAreScaledByAFactorAndClippedToParameterRange) {
  // SHERPA's test: range [0, 1], parameter_range [0, 1.2]. The objective
  // favours large values, so the population drifts past the initial range.
  const ParameterSpace space =
      MakeSpace({Continuous("a", {0.0, 1.0}), Continuous("lr", {1e-4, 1e-1}, Scale::kLog)});
  PopulationBasedTrainingOptions options = Options(12, 7);
  options.parameter_range = {{"a", {0.0, 1.2}}};
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, /*lower_is_better=*/true, 11, 7,
                                 ObjectiveIs([](const Trial& t) { return -DoubleOf(t, "a"); }),
                                 history));
  std::set<double> factors_seen;
  double max_a = 0;
  for (int64_t g = 2; g <= 7; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const double a = DoubleOf(child->trial, "a");
      const double parent_a = DoubleOf(parent->trial, "a");
      const std::optional<double> factor = ContinuousFactor(parent_a, a, kDefaultFactors, 0.0, 1.2);
      EXPECT_TRUE(factor.has_value()) << "a: parent " << parent_a << " -> child " << a;
      if (factor && parent_a * 1.2 < 1.2 && parent_a > 0) factors_seen.insert(*factor);
      EXPECT_GE(a, 0.0);
      EXPECT_LE(a, 1.2);
      max_a = std::max(max_a, a);

      const double lr = DoubleOf(child->trial, "lr");
      const double parent_lr = DoubleOf(parent->trial, "lr");
      EXPECT_TRUE(ContinuousFactor(parent_lr, lr, kDefaultFactors, 1e-4, 1e-1).has_value())
          << "lr: parent " << parent_lr << " -> child " << lr;
      EXPECT_TRUE(space.Find("lr")->Contains(child->trial.parameters.at("lr")));
    }
  }
  EXPECT_GT(max_a, 1.0) << "parameter_range [0, 1.2] lets values leave the initial range";
  EXPECT_THAT(factors_seen, ElementsAre(0.8, 1.0, 1.2)) << "default factors are 0.8, 1.0, 1.2";
}

TEST(PopulationBasedTrainingTest, ContinuousValuesAreClippedToTheirOwnRangeWithoutParameterRange) {
  const ParameterSpace space = MakeSpace({Continuous("a", {0.0, 1.0})});
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, Options(12, 6), /*lower_is_better=*/false, 12, 6,
                                 ObjectiveIs([](const Trial& t) { return DoubleOf(t, "a"); }),
                                 history));
  int64_t at_upper_bound = 0;
  for (int64_t g = 2; g <= 6; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const double a = DoubleOf(child->trial, "a");
      const double parent_a = DoubleOf(parent->trial, "a");
      EXPECT_TRUE(ContinuousFactor(parent_a, a, kDefaultFactors, 0.0, 1.0).has_value())
          << "parent " << parent_a << " -> child " << a;
      EXPECT_LE(a, 1.0);
      if (a == 1.0) ++at_upper_bound;
    }
  }
  EXPECT_GT(at_upper_bound, 0) << "values favoured upwards should be clipped at 1.0";
}

TEST(PopulationBasedTrainingTest, CustomPerturbationFactorsAreUsed) {
  const ParameterSpace space = MakeSpace({Continuous("a", {1.0, 100.0})});
  PopulationBasedTrainingOptions options = Options(9, 4);
  options.perturbation_factors = {0.5, 2.0};
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 4, 4,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  std::set<double> factors_seen;
  for (int64_t g = 2; g <= 4; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const double a = DoubleOf(child->trial, "a");
      const double parent_a = DoubleOf(parent->trial, "a");
      const std::optional<double> factor =
          ContinuousFactor(parent_a, a, options.perturbation_factors, 1.0, 100.0);
      EXPECT_TRUE(factor.has_value()) << "parent " << parent_a << " -> child " << a;
      if (parent_a >= 2.0 && parent_a <= 50.0) {
        EXPECT_NE(a, parent_a) << "neither 0.5 nor 2.0 keeps an unclipped value";
      }
      if (factor) factors_seen.insert(*factor);
    }
  }
  EXPECT_THAT(factors_seen, ElementsAre(0.5, 2.0));
}

TEST(PopulationBasedTrainingTest, DiscreteValuesStayIntegersAndSmallValuesCanGrow) {
  // SHERPA truncated int(1 * 1.2) == 1, so 1, 2, 3 and 4 could never grow.
  const ParameterSpace space = MakeSpace({Discrete("n", {1, 2}), Discrete("m", {1, 10})});
  PopulationBasedTrainingOptions options = Options(12, 8);
  options.parameter_range = {{"n", {Value(1), Value(60)}}};
  History history;
  ASSERT_NO_FATAL_FAILURE(
      RunPbt(space, options, /*lower_is_better=*/false, 21, 8, ObjectiveIs([](const Trial& t) {
               return static_cast<double>(IntOf(t, "n") + IntOf(t, "m")) + 1e-3 * Golden(t.id);
             }),
             history));
  int64_t max_n = 0;
  std::set<int64_t> grew_from;  // small parents p (1.2p < p+1) that had a child p+1
  for (int64_t g = 2; g <= 8; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const int64_t n = IntOf(child->trial, "n");
      const int64_t parent_n = IntOf(parent->trial, "n");
      EXPECT_TRUE(IsDiscretePerturbation(parent_n, n, kDefaultFactors, 1, 60))
          << "n: parent " << parent_n << " -> child " << n;
      if (parent_n < 5 && n == parent_n + 1) grew_from.insert(parent_n);
      max_n = std::max(max_n, n);

      const int64_t m = IntOf(child->trial, "m");
      const int64_t parent_m = IntOf(parent->trial, "m");
      EXPECT_TRUE(IsDiscretePerturbation(parent_m, m, kDefaultFactors, 1, 10))
          << "m: parent " << parent_m << " -> child " << m;
      EXPECT_GE(m, 1);
      EXPECT_LE(m, 10);
    }
  }
  EXPECT_GT(max_n, 2) << "parameter_range [1, 60] lets n leave its initial range [1, 2]";
  EXPECT_FALSE(grew_from.empty()) << "a small integer times 1.2 must move up by one";
}

TEST(PopulationBasedTrainingTest, OrdinalValuesMoveAtMostOneStepAlongParameterRange) {
  // The seed's example: batch_size starts in {32, 64} and may explore the
  // list [16, 32, 64, 128].
  const std::vector<Value> extended = {16, 32, 64, 128};
  const ParameterSpace space =
      MakeSpace({Ordinal("batch_size", {32, 64}), Ordinal("size", {"s", "m", "l"})});
  PopulationBasedTrainingOptions options = Options(12, 8);
  options.parameter_range = {{"batch_size", extended}};
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 8, 8,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  const std::vector<Value> sizes = {"s", "m", "l"};
  auto index_in = [](const std::vector<Value>& list, const Value& value) {
    return std::find(list.begin(), list.end(), value) - list.begin();
  };
  std::set<Value> batch_sizes_seen;
  std::set<int64_t> steps_seen;
  for (int64_t g = 2; g <= 8; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const Value& batch = child->trial.parameters.at("batch_size");
      const Value& parent_batch = parent->trial.parameters.at("batch_size");
      EXPECT_TRUE(batch.is_int()) << batch;
      const auto i = index_in(extended, batch);
      const auto p = index_in(extended, parent_batch);
      ASSERT_LT(i, 4) << batch << " is not in parameter_range";
      ASSERT_LT(p, 4) << parent_batch << " is not in parameter_range";
      EXPECT_LE(std::abs(i - p), 1) << parent_batch << " -> " << batch;
      batch_sizes_seen.insert(batch);
      if (p > 0 && p < 3) steps_seen.insert(i - p);

      const Value& size = child->trial.parameters.at("size");
      const auto s = index_in(sizes, size);
      ASSERT_LT(s, 3) << size << " is not in the list";
      EXPECT_LE(std::abs(s - index_in(sizes, parent->trial.parameters.at("size"))), 1);
    }
  }
  EXPECT_EQ(batch_sizes_seen.count(16), 1u) << "parameter_range extends the list downwards";
  EXPECT_EQ(batch_sizes_seen.count(128), 1u) << "parameter_range extends the list upwards";
  EXPECT_THAT(steps_seen, ElementsAre(-1, 0, 1)) << "down, stay and up all occur";
}

TEST(PopulationBasedTrainingTest, ChoiceValuesAreResampled) {
  const std::vector<Value> activations = {"relu", "tanh", "sigmoid"};
  const ParameterSpace space = MakeSpace({Choice("activation", activations)});
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, Options(12, 6), true, 9, 6,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  int64_t children = 0;
  int64_t changed = 0;
  for (int64_t g = 2; g <= 6; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const Value& value = child->trial.parameters.at("activation");
      EXPECT_TRUE(value.is_string());
      EXPECT_TRUE(space[0].Contains(value)) << value;
      ++children;
      if (value != parent->trial.parameters.at("activation")) ++changed;
    }
  }
  // Uniform resampling changes the value with probability 2/3 (40 of 60).
  EXPECT_GE(changed, children / 3) << changed << " of " << children << " children changed";
}

TEST(PopulationBasedTrainingTest, ResampleProbabilityOneDrawsFreshValues) {
  const ParameterSpace space = MakeSpace({Continuous("a", {0.0, 1.0})});
  PopulationBasedTrainingOptions options = Options(12, 5);
  options.resample_probability = 1.0;
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 13, 5,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  int64_t children = 0;
  int64_t fresh = 0;
  for (int64_t g = 2; g <= 5; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      const double a = DoubleOf(child->trial, "a");
      EXPECT_TRUE(space[0].Contains(Value(a))) << a;
      ++children;
      if (!ContinuousFactor(DoubleOf(parent->trial, "a"), a, kDefaultFactors, 0.0, 1.0)) ++fresh;
    }
  }
  EXPECT_GE(fresh, children * 9 / 10) << fresh << " of " << children << " are fresh samples";
}

TEST(PopulationBasedTrainingTest, ResampleProbabilityIsHonoured) {
  const ParameterSpace space = MakeSpace({Continuous("a", {0.0, 1.0})});
  PopulationBasedTrainingOptions options = Options(30, 8);
  options.resample_probability = 0.5;
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 14, 8,
                                 ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  int64_t children = 0;
  int64_t fresh = 0;
  for (int64_t g = 2; g <= 8; ++g) {
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr);
      ++children;
      if (!ContinuousFactor(DoubleOf(parent->trial, "a"), DoubleOf(child->trial, "a"),
                            kDefaultFactors, 0.0, 1.0)) {
        ++fresh;
      }
    }
  }
  // 210 children, about 105 fresh (sd ~7).
  EXPECT_GT(fresh, children * 3 / 10) << fresh << " of " << children;
  EXPECT_LT(fresh, children * 7 / 10) << fresh << " of " << children;
}

// ---------------------------------------------------------------------------
// Exploit: truncation (SHERPA's later rule), mirroring SHERPA's test_pbt.

struct TruncationCase {
  int64_t population;
  bool lower_is_better;
};

class PbtTruncationTest : public ::testing::TestWithParam<TruncationCase> {};

TEST_P(PbtTruncationTest, TopEightyPercentContinueAndTheRestCopyTheTopTwentyPercent) {
  const auto [population, lower_is_better] = GetParam();
  const int64_t num_continue = population * 4 / 5;
  const size_t num_top = static_cast<size_t>(population / 5);
  const ParameterSpace space =
      MakeSpace({Continuous("param_a", {0.0, 1.0}), Ordinal("batch_size", {16, 32, 64, 128}),
                 Choice("activation", {"relu", "tanh"})});
  PopulationBasedTrainingOptions options = Options(population, 3);
  options.exploit = PbtExploit::kTruncation;
  options.parameter_range = {{"param_a", {0.0, 1.2}}};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, options));
  Study study(space, std::move(algorithm), lower_is_better, nullptr, 17);
  History history;
  ASSERT_NO_FATAL_FAILURE(RunGenerations(
      study, population, 3, ObjectiveIs([](const Trial& t) { return Golden(t.id); }), history));

  const std::vector<Value> batch_sizes = {16, 32, 64, 128};
  for (int64_t g = 2; g <= 3; ++g) {
    const std::vector<const Member*> ranked = history.Ranked(g - 1, lower_is_better);
    const std::vector<const Member*> children = history.Generation(g);
    ASSERT_EQ(children.size(), static_cast<size_t>(population));
    for (int64_t j = 0; j < population; ++j) {
      const Trial& child = children[j]->trial;
      const Member* parent = history.ParentOf(child);
      ASSERT_NE(parent, nullptr) << "trial " << child.id;
      if (j < num_continue) {
        EXPECT_EQ(parent, ranked[j])
            << "position " << j << " of generation " << g << " should continue rank " << j;
        EXPECT_EQ(StringKey(child, kLoadFromKey), StringKey(ranked[j]->trial, kSaveToKey));
        EXPECT_EQ(Hyperparameters(child), Hyperparameters(ranked[j]->trial))
            << "position " << j << " is an unchanged copy";
      } else {
        const auto rank = std::find(ranked.begin(), ranked.end(), parent) - ranked.begin();
        EXPECT_LT(static_cast<size_t>(rank), num_top)
            << "position " << j << " copies rank " << rank << ", not the top " << num_top;
        const double a = DoubleOf(child, "param_a");
        const double parent_a = DoubleOf(parent->trial, "param_a");
        EXPECT_TRUE(ContinuousFactor(parent_a, a, kDefaultFactors, 0.0, 1.2).has_value())
            << "parent " << parent_a << " -> child " << a;
        const auto i =
            std::find(batch_sizes.begin(), batch_sizes.end(), child.parameters.at("batch_size")) -
            batch_sizes.begin();
        const auto p = std::find(batch_sizes.begin(), batch_sizes.end(),
                                 parent->trial.parameters.at("batch_size")) -
                       batch_sizes.begin();
        EXPECT_LT(i, 4);
        EXPECT_LE(std::abs(i - p), 1);
      }
    }
  }
  StatusOr<Suggestion> done = study.get_suggestion();
  ASSERT_THAT(done, IsOk());
  EXPECT_TRUE(done->is_done());
}

INSTANTIATE_TEST_SUITE_P(Populations, PbtTruncationTest,
                         ::testing::Values(TruncationCase{20, true}, TruncationCase{20, false},
                                           TruncationCase{10, true}, TruncationCase{5, false}),
                         [](const ::testing::TestParamInfo<TruncationCase>& param_info) {
                           return "Population" + std::to_string(param_info.param.population) +
                                  (param_info.param.lower_is_better ? "LowerIsBetter"
                                                                    : "HigherIsBetter");
                         });

TEST(PopulationBasedTrainingTest, RanksByTheLastObservationNotTheBest) {
  // Trial 1 was once the best (0.0) but its checkpoint holds 10.0, the worst
  // last value. Ranked by last objective it is the bottom 20% and dropped.
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  PopulationBasedTrainingOptions options = Options(5, 2);
  options.exploit = PbtExploit::kTruncation;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, options));
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, 2);
  History history;
  ASSERT_NO_FATAL_FAILURE(RunGeneration(
      study, 5,
      [](const Trial& t, int64_t) {
        if (t.id == 1) return Outcome{{0.0, 10.0}};
        return Outcome{{5.0, static_cast<double>(t.id)}};  // last: 2, 3, 4, 5
      },
      history));
  std::vector<std::string> load_from;
  for (int i = 0; i < 5; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    load_from.push_back(StringKey(suggestion->trial(), kLoadFromKey));
  }
  // Ranks by last objective: 2, 3, 4, 5 continue; the last member copies 2.
  EXPECT_THAT(load_from, ElementsAre("2", "3", "4", "5", "2"));
}

// ---------------------------------------------------------------------------
// The generation barrier.

TEST(PopulationBasedTrainingTest, WaitsForTheLastRunningMemberOfThePreviousGeneration) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(4, 3)));
  Study study(space, std::move(algorithm), true, nullptr, 6);
  std::vector<Trial> generation1;
  for (int i = 0; i < 4; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    generation1.push_back(suggestion->trial());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(study.add_observation(generation1[i], 1, Golden(generation1[i].id)), IsOk());
    ASSERT_THAT(study.finalize(generation1[i]), IsOk());
  }
  for (int poll = 0; poll < 5; ++poll) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    EXPECT_TRUE(suggestion->is_wait()) << "poll " << poll << ": trial 4 is still running";
  }
  EXPECT_EQ(study.results().num_trials(), 4u) << "WAIT must not create trials";

  ASSERT_THAT(study.add_observation(generation1[3], 1, Golden(generation1[3].id)), IsOk());
  ASSERT_THAT(study.finalize(generation1[3]), IsOk());
  StatusOr<Suggestion> next = study.get_suggestion();
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->is_trial());
  EXPECT_EQ(next->trial().id, 5);
  EXPECT_EQ(GenerationOf(next->trial()), 2);
  EXPECT_EQ(StringKey(next->trial(), kSaveToKey), "5");
}

TEST(PopulationBasedTrainingTest, WaitDrawsNothingFromTheGenerator) {
  // Polling more often must not change the study: a runner polls as often as
  // its timing dictates, and one seed should still reproduce the study.
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0}), Choice("c", {"a", "b"})});
  auto run = [&](int extra_polls, std::vector<ParameterValues>* out) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                         PopulationBasedTraining(space, Options(4, 3)));
    Study study(space, std::move(algorithm), true, nullptr, 99);
    for (int g = 0; g < 3; ++g) {
      std::vector<Trial> batch;
      for (int i = 0; i < 4; ++i) {
        StatusOr<Suggestion> suggestion = study.get_suggestion();
        ASSERT_THAT(suggestion, IsOk());
        ASSERT_TRUE(suggestion->is_trial());
        batch.push_back(suggestion->trial());
        out->push_back(batch.back().parameters);
      }
      for (const Trial& trial : batch) {
        for (int poll = 0; poll < extra_polls; ++poll) {
          StatusOr<Suggestion> suggestion = study.get_suggestion();
          ASSERT_THAT(suggestion, IsOk());
          ASSERT_FALSE(suggestion->is_trial());
        }
        ASSERT_THAT(study.add_observation(trial, 1, Golden(trial.id)), IsOk());
        ASSERT_THAT(study.finalize(trial), IsOk());
      }
    }
  };
  std::vector<ParameterValues> quiet;
  std::vector<ParameterValues> polled;
  ASSERT_NO_FATAL_FAILURE(run(0, &quiet));
  ASSERT_NO_FATAL_FAILURE(run(3, &polled));
  EXPECT_EQ(quiet, polled);
}

TEST(PopulationBasedTrainingTest, HandsOutAWholeGenerationAtOnce) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(5, 2)));
  Study study(space, std::move(algorithm), true, nullptr, 7);
  std::vector<Trial> running;
  for (int i = 0; i < 5; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial()) << "member " << i << " of generation 1";
    EXPECT_EQ(GenerationOf(suggestion->trial()), 1);
    running.push_back(suggestion->trial());
  }
  // Members end out of order; generation 2 waits for the last of them.
  for (int i = 4; i >= 0; --i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    EXPECT_TRUE(suggestion->is_wait()) << (i + 1) << " members still running";
    ASSERT_THAT(study.add_observation(running[i], 1, Golden(running[i].id)), IsOk());
    ASSERT_THAT(study.finalize(running[i]), IsOk());
  }
  for (int i = 0; i < 5; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial()) << "member " << i << " of generation 2";
    EXPECT_EQ(GenerationOf(suggestion->trial()), 2);
  }
  StatusOr<Suggestion> after = study.get_suggestion();
  ASSERT_THAT(after, IsOk());
  EXPECT_FALSE(after->is_trial()) << "generation 2 is complete: WAIT or DONE, nothing more";
}

TEST(PopulationBasedTrainingTest, AResubmittedMemberHoldsTheBarrierAgain) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(3, 2)));
  Study study(space, std::move(algorithm), true, nullptr, 8);
  std::vector<Trial> generation1;
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial());
    generation1.push_back(suggestion->trial());
  }
  // Trial 1 crashes before reporting and is resubmitted under its id.
  ASSERT_THAT(study.finalize(generation1[0], TrialStatus::kFailed), IsOk());
  for (int i = 1; i < 3; ++i) {
    ASSERT_THAT(study.add_observation(generation1[i], 1, 0.5 + i), IsOk());
    ASSERT_THAT(study.finalize(generation1[i]), IsOk());
  }
  ASSERT_THAT(study.add_trial(generation1[0]), IsOk());
  StatusOr<Suggestion> rerun = study.get_suggestion();
  ASSERT_THAT(rerun, IsOk());
  ASSERT_TRUE(rerun->is_trial());
  EXPECT_EQ(rerun->trial().id, 1);

  StatusOr<Suggestion> wait = study.get_suggestion();
  ASSERT_THAT(wait, IsOk());
  EXPECT_TRUE(wait->is_wait()) << "trial 1 runs again; generation 2 must wait for it";

  ASSERT_THAT(study.add_observation(rerun->trial(), 1, 0.0), IsOk());  // now the best
  ASSERT_THAT(study.finalize(rerun->trial()), IsOk());
  StatusOr<Suggestion> child = study.get_suggestion();
  ASSERT_THAT(child, IsOk());
  ASSERT_TRUE(child->is_trial());
  EXPECT_EQ(child->trial().id, 4);
  EXPECT_EQ(StringKey(child->trial(), kSaveToKey), "4");
  EXPECT_EQ(GenerationOf(child->trial()), 2);
  // Top third of 3 completed members is the best one: trial 1.
  EXPECT_EQ(StringKey(child->trial(), kLoadFromKey), "1");
}

// ---------------------------------------------------------------------------
// Failed and stopped members.

class PbtFailureTest : public ::testing::TestWithParam<PbtExploit> {};

TEST_P(PbtFailureTest, FailedAndStoppedMembersAreNeverParents) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  PopulationBasedTrainingOptions options = Options(10, 4);
  options.exploit = GetParam();
  // Positions 0-2 of every generation end badly, with the best objectives of
  // all (-100), so ranking them at all would make them parents.
  const Policy policy = [](const Trial& trial, int64_t position) {
    switch (position) {
      case 0:
        return Outcome{{}, TrialStatus::kFailed};
      case 1:
        return Outcome{{-100.0}, TrialStatus::kFailed};
      case 2:
        return Outcome{{-100.0, -100.5}, TrialStatus::kStopped};
      default:
        return Outcome{{Golden(trial.id)}};
    }
  };
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(space, options, true, 23, 4, policy, history));
  for (int64_t g = 2; g <= 4; ++g) {
    const std::vector<const Member*> ranked = history.Ranked(g - 1, true);
    ASSERT_EQ(ranked.size(), 7u);
    for (const Member* child : history.Generation(g)) {
      const Member* parent = history.ParentOf(child->trial);
      ASSERT_NE(parent, nullptr) << "trial " << child->trial.id;
      EXPECT_EQ(parent->status, TrialStatus::kCompleted)
          << "trial " << child->trial.id << " descends from trial " << parent->trial.id
          << ", which ended " << TrialStatusName(parent->status);
      EXPECT_EQ(GenerationOf(parent->trial), g - 1);
      if (GetParam() == PbtExploit::kTopThird) {
        const auto rank = std::find(ranked.begin(), ranked.end(), parent) - ranked.begin();
        EXPECT_LT(rank, 7 / 3) << "top third of the 7 completed members";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Exploits, PbtFailureTest,
                         ::testing::Values(PbtExploit::kTopThird, PbtExploit::kTruncation),
                         [](const ::testing::TestParamInfo<PbtExploit>& param_info) {
                           return param_info.param == PbtExploit::kTopThird ? "TopThird"
                                                                            : "Truncation";
                         });

TEST(PopulationBasedTrainingTest, AGenerationWithoutCompletedMembersIsAnError) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(3, 3)));
  Study study(space, std::move(algorithm), true, nullptr, 5);
  History history;
  ASSERT_NO_FATAL_FAILURE(
      RunGeneration(study, 3, ObjectiveIs([](const Trial& t) { return Golden(t.id); }), history));
  ASSERT_NO_FATAL_FAILURE(RunGeneration(
      study, 3,
      [](const Trial&, int64_t position) {
        if (position == 0) return Outcome{{}, TrialStatus::kFailed};
        if (position == 1) return Outcome{{1.0}, TrialStatus::kFailed};
        return Outcome{{1.0}, TrialStatus::kStopped};
      },
      history));
  for (int call = 0; call < 2; ++call) {
    EXPECT_THAT(study.get_suggestion(), StatusIs(StatusCode::kFailedPrecondition,
                                                 AllOf(HasSubstr("generation"), HasSubstr("2"))))
        << "call " << call;
  }
}

TEST(PopulationBasedTrainingTest, AWhollyFailedFirstGenerationIsAnError) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(4, 0)));
  Study study(space, std::move(algorithm), true, nullptr, 5);
  History history;
  ASSERT_NO_FATAL_FAILURE(RunGeneration(
      study, 4,
      [](const Trial&, int64_t) {
        return Outcome{{}, TrialStatus::kFailed};
      },
      history));
  EXPECT_THAT(study.get_suggestion(), StatusIs(StatusCode::kFailedPrecondition,
                                               AllOf(HasSubstr("generation"), HasSubstr("1"))));
}

// ---------------------------------------------------------------------------
// Termination and reproducibility.

TEST(PopulationBasedTrainingTest, AnswersDoneAfterNumGenerations) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 1.0})});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(space, Options(4, 3)));
  Study study(space, std::move(algorithm), true, nullptr, 1);
  std::vector<int64_t> generations;
  for (int i = 0; i < 12; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    ASSERT_TRUE(suggestion->is_trial()) << "suggestion " << i;
    const Trial& trial = suggestion->trial();
    generations.push_back(GenerationOf(trial));
    ASSERT_THAT(study.add_observation(trial, 1, Golden(trial.id)), IsOk());
    ASSERT_THAT(study.finalize(trial), IsOk());
  }
  EXPECT_THAT(generations, ElementsAre(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
  for (int i = 0; i < 3; ++i) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    EXPECT_TRUE(suggestion->is_done()) << "call " << i << " after the last generation";
  }
  EXPECT_EQ(study.results().num_trials(), 12u);
}

TEST(PopulationBasedTrainingTest, RunsOnWithoutNumGenerations) {
  History history;
  ASSERT_NO_FATAL_FAILURE(RunPbt(MakeSpace({Continuous("x", {0.0, 1.0})}), Options(3, 0), true, 1,
                                 6, ObjectiveIs([](const Trial& t) { return Golden(t.id); }),
                                 history));
  EXPECT_EQ(history.num_generations(), 6);
}

std::vector<ParameterValues> FullRun(uint64_t seed, PbtExploit exploit) {
  const ParameterSpace space = MakeSpace(
      {Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 8}),
       Choice("activation", {"relu", "tanh", "sigmoid"}), Ordinal("batch_size", {16, 32, 64})});
  PopulationBasedTrainingOptions options = Options(10, 4);
  options.exploit = exploit;
  options.resample_probability = 0.25;
  History history;
  RunPbt(space, options, true, seed, 4, ObjectiveIs([](const Trial& t) {
           return std::log10(DoubleOf(t, "lr")) + static_cast<double>(IntOf(t, "layers"));
         }),
         history);
  std::vector<ParameterValues> out;
  for (const Trial& trial : history.AllTrials()) out.push_back(trial.parameters);
  return out;
}

class PbtSeedTest : public ::testing::TestWithParam<PbtExploit> {};

TEST_P(PbtSeedTest, SameSeedReproducesTheStudyAndOtherSeedsDiffer) {
  const std::vector<ParameterValues> first = FullRun(31, GetParam());
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_EQ(first.size(), 40u);
  EXPECT_EQ(FullRun(31, GetParam()), first);
  EXPECT_NE(FullRun(32, GetParam()), first);
}

INSTANTIATE_TEST_SUITE_P(Exploits, PbtSeedTest,
                         ::testing::Values(PbtExploit::kTopThird, PbtExploit::kTruncation),
                         [](const ::testing::TestParamInfo<PbtExploit>& param_info) {
                           return param_info.param == PbtExploit::kTopThird ? "TopThird"
                                                                            : "Truncation";
                         });

// ---------------------------------------------------------------------------
// Options refused at build.

MATCHER_P(IsRefusedNaming, what, "") {
  return ::testing::ExplainMatchResult(StatusIs(StatusCode::kInvalidArgument, HasSubstr(what)), arg,
                                       result_listener);
}

const ParameterSpace& MixedSpace() {
  static const ParameterSpace* space = new ParameterSpace(
      MakeSpace({Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 8}),
                 Choice("activation", {"relu", "tanh"}), Ordinal("batch_size", {16, 32, 64})}));
  return *space;
}

TEST(PopulationBasedTrainingOptionsTest, RefusesPopulationsTooSmallForTheExploitRule) {
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), Options(2, 3)),
              IsRefusedNaming("population_size"));
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), Options(0, 3)),
              IsRefusedNaming("population_size"));
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), Options(-4, 3)),
              IsRefusedNaming("population_size"));
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), Options(3, 3)), IsOk());

  PopulationBasedTrainingOptions truncation = Options(4, 3);
  truncation.exploit = PbtExploit::kTruncation;
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), truncation),
              IsRefusedNaming("population_size"));
  truncation.population_size = 5;
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), truncation), IsOk());
}

TEST(PopulationBasedTrainingOptionsTest, RefusesNegativeNumGenerations) {
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), Options(6, -1)),
              IsRefusedNaming("num_generations"));
}

TEST(PopulationBasedTrainingOptionsTest, RefusesBadPerturbationFactors) {
  for (const std::vector<double>& factors :
       std::vector<std::vector<double>>{{}, {0.8, 0.0}, {-1.2}, {0.8, 1.2, -0.5}}) {
    PopulationBasedTrainingOptions options = Options(6, 2);
    options.perturbation_factors = factors;
    EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options),
                IsRefusedNaming("perturbation_factors"))
        << ::testing::PrintToString(factors);
  }
}

TEST(PopulationBasedTrainingOptionsTest, RefusesResampleProbabilityOutsideZeroToOne) {
  for (double p : {-0.1, 1.5}) {
    PopulationBasedTrainingOptions options = Options(6, 2);
    options.resample_probability = p;
    EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options),
                IsRefusedNaming("resample_probability"))
        << p;
  }
  for (double p : {0.0, 1.0}) {
    PopulationBasedTrainingOptions options = Options(6, 2);
    options.resample_probability = p;
    EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options), IsOk()) << p;
  }
}

TEST(PopulationBasedTrainingOptionsTest, RefusesParameterRangeForAnUnknownParameter) {
  PopulationBasedTrainingOptions options = Options(6, 2);
  options.parameter_range = {{"dropout", {0.0, 0.5}}};
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options), IsRefusedNaming("dropout"));
}

TEST(PopulationBasedTrainingOptionsTest, RefusesParameterRangesOfTheWrongShape) {
  const std::vector<std::pair<std::string, std::vector<Value>>> bad = {
      {"lr", {1e-1, 1e-4}},              // lo > hi
      {"lr", {1e-2, 1e-2}},              // lo == hi
      {"lr", {"small", "large"}},        // strings for a continuous
      {"lr", {1e-5}},                    // one bound
      {"lr", {1e-5, 1e-3, 1e-1}},        // three bounds
      {"layers", {Value(8), Value(1)}},  // lo > hi
      {"layers", {"few", "many"}},       // strings for a discrete
      {"batch_size", {}},                // an empty list
  };
  for (const auto& [name, range] : bad) {
    PopulationBasedTrainingOptions options = Options(6, 2);
    options.parameter_range = {{name, range}};
    EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options), IsRefusedNaming(name))
        << name << ": " << ::testing::PrintToString(range);
  }
}

TEST(PopulationBasedTrainingOptionsTest, AcceptsWellFormedParameterRanges) {
  PopulationBasedTrainingOptions options = Options(6, 2);
  options.parameter_range = {{"lr", {1e-7, 1.0}},
                             {"layers", {Value(1), Value(32)}},
                             {"batch_size", {8, 16, 32, 64, 128}},
                             {"activation", {"relu", "tanh", "gelu"}}};
  EXPECT_THAT(PopulationBasedTraining(MixedSpace(), options), IsOk());
}

class PbtReservedNameTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(PbtReservedNameTest, RefusesParametersNamedLikeBookkeepingKeys) {
  const std::string name(GetParam());
  const ParameterSpace space = MakeSpace({Continuous("lr", {1e-4, 1e-1}), Discrete(name, {1, 5})});
  EXPECT_THAT(PopulationBasedTraining(space, Options(6, 2)), IsRefusedNaming(name));
}

INSTANTIATE_TEST_SUITE_P(Keys, PbtReservedNameTest,
                         ::testing::Values(kLoadFromKey, kSaveToKey, kLineageKey, kGenerationKey),
                         [](const ::testing::TestParamInfo<std::string_view>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace sherpa
