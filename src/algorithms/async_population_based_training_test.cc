// Tests of asynchronous PopulationBasedTraining (mode kAsynchronous in
// sherpa/algorithms.h), driven through sherpa::Study with trials ending in a
// shuffled order, as a runner with `concurrency` slots would see them. The
// expected decisions come from the test's own model of the population, built
// from what the study handed out and how each interval ended.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
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

using ::testing::HasSubstr;

// A distinct, scrambled objective per trial id.
double Golden(TrialId id) { return std::fmod(static_cast<double>(id) * 0.6180339887498949, 1.0); }

bool Near(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({1.0, std::abs(a), std::abs(b)});
}

const std::string& Str(const Trial& trial, std::string_view key) {
  return trial.parameters.at(std::string(key)).as_string();
}
int64_t Int(const Trial& trial, std::string_view key) {
  return trial.parameters.at(std::string(key)).as_int();
}
double X(const Trial& trial) { return trial.parameters.at("x").as_number(); }

const ParameterSpace& Space() {
  static const ParameterSpace* space =
      new ParameterSpace(*ParameterSpace::Create({Continuous("x", {0.01, 100.0})}));
  return *space;
}

PopulationBasedTrainingOptions AsyncOptions(int64_t population, int64_t intervals,
                                            PbtSelection selection = PbtSelection::kTruncation) {
  PopulationBasedTrainingOptions options;
  options.mode = PbtMode::kAsynchronous;
  options.population_size = population;
  options.num_generations = intervals;
  options.selection = selection;
  // No "keep" factor, so a copy is always visibly explored.
  options.perturbation_factors = {0.8, 1.2};
  return options;
}

// How an interval ends.
struct Outcome {
  std::vector<double> objectives;  // reported at iterations 1, 2, ...
  TrialStatus status = TrialStatus::kCompleted;
};
Outcome CompletesWithGolden(const Trial& trial) { return {{Golden(trial.id)}}; }

// The test's model of the population.
struct MemberModel {
  int64_t intervals = 0;
  bool running = false;
  bool last_failed = false;
  std::optional<TrialId> checkpoint;  // the last COMPLETED interval that reported
  double score = 0;
};

struct Population {
  bool lower_is_better = true;
  double quantile_fraction = 0.25;
  int64_t max_intervals = 0;
  std::vector<MemberModel> members;
  std::map<TrialId, Trial> trials;
  std::map<TrialId, TrialStatus> ended;
  std::map<TrialId, bool> reported;

  // Slots with a score, best first (ties: the earlier trial).
  std::vector<size_t> Ranked() const {
    std::vector<size_t> out;
    for (size_t s = 0; s < members.size(); ++s) {
      if (members[s].checkpoint) out.push_back(s);
    }
    std::sort(out.begin(), out.end(), [&](size_t a, size_t b) {
      const MemberModel& ma = members[a];
      const MemberModel& mb = members[b];
      if (ma.score != mb.score) return lower_is_better ? ma.score < mb.score : ma.score > mb.score;
      return *ma.checkpoint < *mb.checkpoint;
    });
    return out;
  }
  size_t Quantile(size_t n) const {
    const auto q = static_cast<size_t>(std::ceil(static_cast<double>(n) * quantile_fraction));
    return std::min(q, n / 2);
  }
  bool Idle(size_t slot) const {
    return !members[slot].running &&
           (max_intervals == 0 || members[slot].intervals < max_intervals);
  }
};

using Check = std::function<void(const Trial& trial, const Population& before)>;

struct Simulation {
  PopulationBasedTrainingOptions options;
  bool lower_is_better = true;
  uint64_t seed = 1;
  size_t concurrency = 4;
  int max_trials = 500;
  uint64_t order_seed = 2;  // which running trial ends next
  std::function<Outcome(const Trial&)> outcome = CompletesWithGolden;
  Check check;
  int extra_polls = 0;  // extra suggest calls whenever every slot is busy
};

struct SimulationResult {
  std::vector<Trial> trials;
  bool done = false;
  bool done_while_running = false;
};

// Runs the study; checks the rules every asynchronous PBT trial obeys
// (bookkeeping keys, lineage, load_from naming a COMPLETED interval that
// reported), then `sim.check`.
void Simulate(const Simulation& sim, SimulationResult* result) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(Space(), sim.options));
  Study study(Space(), std::move(algorithm), sim.lower_is_better, nullptr, sim.seed);
  Population pop;
  pop.lower_is_better = sim.lower_is_better;
  pop.quantile_fraction = sim.options.quantile_fraction;
  pop.max_intervals = sim.options.num_generations;
  pop.members.resize(static_cast<size_t>(sim.options.population_size));
  std::map<std::string, TrialId> by_save_to;
  std::vector<Trial> running;
  Rng order(sim.order_seed);

  while (static_cast<int>(result->trials.size()) < sim.max_trials) {
    while (running.size() < sim.concurrency) {
      ASSERT_OK_AND_ASSIGN(Suggestion suggestion, study.get_suggestion());
      if (suggestion.is_done()) {
        result->done = true;
        result->done_while_running = !running.empty();
        break;
      }
      if (suggestion.is_wait()) {
        ASSERT_FALSE(running.empty()) << "WAIT with nothing running";
        break;
      }
      const Trial& trial = suggestion.trial();
      const int64_t slot = Int(trial, kMemberKey);
      ASSERT_GE(slot, 0);
      ASSERT_LT(slot, sim.options.population_size);
      const MemberModel& member = pop.members[static_cast<size_t>(slot)];
      EXPECT_FALSE(member.running) << "trial " << trial.id << ": member " << slot << " is busy";
      EXPECT_EQ(Int(trial, kGenerationKey), member.intervals + 1) << "trial " << trial.id;
      EXPECT_EQ(Str(trial, kSaveToKey), std::to_string(trial.id));
      const std::string& load_from = Str(trial, kLoadFromKey);
      if (load_from.empty()) {
        EXPECT_EQ(Str(trial, kLineageKey), "");
      } else {
        ASSERT_EQ(by_save_to.count(load_from), 1u)
            << "trial " << trial.id << " loads " << load_from << ", which no trial saved";
        const TrialId parent = by_save_to.at(load_from);
        EXPECT_EQ(pop.ended.count(parent) ? pop.ended.at(parent) : TrialStatus::kIntermediate,
                  TrialStatus::kCompleted)
            << "trial " << trial.id << " loads trial " << parent << ", which did not complete";
        EXPECT_TRUE(pop.reported[parent]) << "trial " << parent << " never reported";
        EXPECT_EQ(Str(trial, kLineageKey),
                  Str(pop.trials.at(parent), kLineageKey) + load_from + ",");
      }
      if (sim.check) sim.check(trial, pop);
      by_save_to[Str(trial, kSaveToKey)] = trial.id;
      pop.trials[trial.id] = trial;
      MemberModel& m = pop.members[static_cast<size_t>(slot)];
      ++m.intervals;
      m.running = true;
      result->trials.push_back(trial);
      running.push_back(trial);
      if (running.size() == sim.concurrency) {
        for (int poll = 0; poll < sim.extra_polls; ++poll) {
          ASSERT_OK_AND_ASSIGN(Suggestion extra, study.get_suggestion());
          ASSERT_FALSE(extra.is_trial()) << "every slot is busy";
        }
      }
    }
    if (result->done || running.empty()) break;
    const size_t pick = std::uniform_int_distribution<size_t>(0, running.size() - 1)(order);
    const Trial trial = running[pick];
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(pick));
    const Outcome outcome = sim.outcome(trial);
    for (size_t i = 0; i < outcome.objectives.size(); ++i) {
      ASSERT_THAT(study.add_observation(trial, static_cast<int64_t>(i) + 1, outcome.objectives[i]),
                  IsOk());
    }
    ASSERT_THAT(study.finalize(trial, outcome.status), IsOk());
    pop.ended[trial.id] = outcome.status;
    pop.reported[trial.id] = !outcome.objectives.empty();
    MemberModel& m = pop.members[static_cast<size_t>(Int(trial, kMemberKey))];
    m.running = false;
    m.last_failed = outcome.status != TrialStatus::kCompleted || outcome.objectives.empty();
    if (!m.last_failed) {
      m.checkpoint = trial.id;
      m.score = outcome.objectives.back();
    }
  }
}

// The trial a child loaded, in the model.
const Trial* LoadedTrial(const Trial& child, const Population& pop) {
  const std::string& load_from = Str(child, kLoadFromKey);
  if (load_from.empty()) return nullptr;
  return &pop.trials.at(std::stoll(load_from));
}

// True if `child` is an explored copy of `parent`: x times 0.8 or 1.2,
// clipped to the range.
bool IsExploredCopy(const Trial& child, const Trial& parent) {
  for (double f : {0.8, 1.2}) {
    if (Near(X(child), std::clamp(X(parent) * f, 0.01, 100.0))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------

TEST(AsyncPbtTest, FirstIntervalsAreFreshSamplesInSlotOrder) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(Space(), AsyncOptions(4, 3)));
  Study study(Space(), std::move(algorithm), true, nullptr, 3);
  for (int64_t slot = 0; slot < 4; ++slot) {
    ASSERT_OK_AND_ASSIGN(Suggestion s, study.get_suggestion());
    ASSERT_TRUE(s.is_trial());
    EXPECT_EQ(Int(s.trial(), kMemberKey), slot);
    EXPECT_EQ(Int(s.trial(), kGenerationKey), 1);
    EXPECT_EQ(Str(s.trial(), kLoadFromKey), "");
    EXPECT_EQ(Str(s.trial(), kLineageKey), "");
    EXPECT_EQ(Str(s.trial(), kSaveToKey), std::to_string(s.trial().id));
  }
  ASSERT_OK_AND_ASSIGN(Suggestion s, study.get_suggestion());
  EXPECT_TRUE(s.is_wait()) << "all four members run";
}

TEST(AsyncPbtTest, NoBarrierAFinishedMemberGoesOnWhileOthersRun) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(Space(), AsyncOptions(4, 3)));
  Study study(Space(), std::move(algorithm), true, nullptr, 3);
  std::vector<Trial> first;
  for (int i = 0; i < 4; ++i) first.push_back(study.get_suggestion()->trial());
  ASSERT_THAT(study.add_observation(first[2], 1, 0.5), IsOk());
  ASSERT_THAT(study.finalize(first[2]), IsOk());
  ASSERT_OK_AND_ASSIGN(Suggestion next, study.get_suggestion());
  ASSERT_TRUE(next.is_trial()) << "members 0, 1 and 3 still run; member 2 must not wait for them";
  EXPECT_EQ(Int(next.trial(), kMemberKey), 2);
  EXPECT_EQ(Int(next.trial(), kGenerationKey), 2);
  // The only ranked member is not in a bottom quantile of one: it continues.
  EXPECT_EQ(Str(next.trial(), kLoadFromKey), std::to_string(first[2].id));
  EXPECT_EQ(X(next.trial()), X(first[2]));
}

TEST(AsyncPbtTest, TheLeastTrainedIdleMemberGoesNext) {
  Simulation sim;
  sim.options = AsyncOptions(7, 6);
  sim.concurrency = 3;
  int checked = 0;
  sim.check = [&](const Trial& trial, const Population& pop) {
    int64_t fewest = INT64_MAX;
    for (size_t s = 0; s < pop.members.size(); ++s) {
      if (pop.Idle(s)) fewest = std::min(fewest, pop.members[s].intervals);
    }
    EXPECT_EQ(Int(trial, kGenerationKey) - 1, fewest) << "trial " << trial.id;
    ++checked;
  };
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  EXPECT_TRUE(result.done);
  EXPECT_EQ(checked, 42);
}

// Truncation: bottom-quantile members copy a top-quantile member, drawn
// uniformly; all others continue their own checkpoint unchanged.
class AsyncTruncationTest : public ::testing::TestWithParam<std::tuple<size_t, bool>> {};

TEST_P(AsyncTruncationTest, BottomCopiesTopUniformlyAndTheRestContinue) {
  const auto [concurrency, lower_is_better] = GetParam();
  Simulation sim;
  sim.options = AsyncOptions(8, 0);  // no limit: max_trials ends it
  sim.lower_is_better = lower_is_better;
  sim.concurrency = concurrency;
  sim.max_trials = 4000;
  int continued = 0, copied = 0;
  std::vector<int> donor_rank(2, 0);  // copies while the quantile holds two members
  sim.check = [&](const Trial& trial, const Population& pop) {
    const MemberModel& member = pop.members[static_cast<size_t>(Int(trial, kMemberKey))];
    if (member.intervals == 0) return;
    ASSERT_FALSE(member.last_failed);  // nothing fails here
    const std::vector<size_t> ranked = pop.Ranked();
    const size_t n = ranked.size();
    const size_t q = pop.Quantile(n);
    const auto position = static_cast<size_t>(
        std::find(ranked.begin(), ranked.end(), Int(trial, kMemberKey)) - ranked.begin());
    ASSERT_LT(position, n);
    const Trial* loaded = LoadedTrial(trial, pop);
    ASSERT_NE(loaded, nullptr);
    if (position < n - q) {
      ++continued;
      EXPECT_EQ(loaded->id, *member.checkpoint) << "trial " << trial.id << " must continue";
      EXPECT_EQ(X(trial), X(*loaded));
      return;
    }
    ++copied;
    std::vector<TrialId> top;
    for (size_t r = 0; r < q; ++r) top.push_back(*pop.members[ranked[r]].checkpoint);
    auto at = std::find(top.begin(), top.end(), loaded->id);
    ASSERT_NE(at, top.end()) << "trial " << trial.id << " (rank " << position << " of " << n
                             << ") copied trial " << loaded->id << ", not a top-" << q << " one";
    EXPECT_TRUE(IsExploredCopy(trial, *loaded)) << X(trial) << " from " << X(*loaded);
    if (q == 2) ++donor_rank[static_cast<size_t>(at - top.begin())];
  };
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  EXPECT_GT(continued, 1000);
  EXPECT_GT(copied, 400);
  // Uniform over the two top members: Binomial(N, 1/2) within 4 sigma.
  const double n = donor_rank[0] + donor_rank[1];
  ASSERT_GT(n, 400);
  EXPECT_LT(std::abs(donor_rank[0] - n / 2), 4 * std::sqrt(n / 4))
      << donor_rank[0] << " vs " << donor_rank[1];
}

INSTANTIATE_TEST_SUITE_P(ConcurrencyAndDirection, AsyncTruncationTest,
                         ::testing::Combine(::testing::Values(size_t{3}, size_t{8}),
                                            ::testing::Bool()));

TEST(AsyncPbtTest, TournamentCopiesOnlyStrictlyBetterMembersAtTheRateOfABinaryTournament) {
  // With every member ranked and distinct scores, the member at rank p of n
  // (0 = best) meets a better one with probability p / (n - 1).
  Simulation sim;
  sim.options = AsyncOptions(5, 0, PbtSelection::kTournament);
  sim.concurrency = 5;
  sim.max_trials = 6000;
  std::vector<int> decisions(5, 0), copies(5, 0);
  sim.check = [&](const Trial& trial, const Population& pop) {
    const MemberModel& member = pop.members[static_cast<size_t>(Int(trial, kMemberKey))];
    if (member.intervals == 0) return;
    const Trial* loaded = LoadedTrial(trial, pop);
    ASSERT_NE(loaded, nullptr);
    const std::vector<size_t> ranked = pop.Ranked();
    const auto position = static_cast<size_t>(
        std::find(ranked.begin(), ranked.end(), Int(trial, kMemberKey)) - ranked.begin());
    const bool copy = loaded->id != *member.checkpoint;
    if (copy) {
      const double donor_score = Golden(loaded->id);  // its only report
      EXPECT_TRUE(donor_score < member.score) << "trial " << trial.id << " copied a worse member";
      EXPECT_TRUE(IsExploredCopy(trial, *loaded));
    } else {
      EXPECT_EQ(X(trial), X(*loaded));
    }
    if (ranked.size() == 5) {
      ++decisions[position];
      copies[position] += copy ? 1 : 0;
    }
  };
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  for (size_t p = 0; p < 5; ++p) {
    const double rate = static_cast<double>(p) / 4;
    const double d = decisions[p];
    ASSERT_GT(d, 500) << "rank " << p;
    EXPECT_LE(std::abs(copies[p] - d * rate), 4 * std::sqrt(d * rate * (1 - rate)) + 1e-9)
        << "rank " << p << ": " << copies[p] << " copies in " << d;
  }
}

TEST(AsyncPbtTest, FailedAndStoppedIntervalsRestartFromACopyOfATopMember) {
  Simulation sim;
  sim.options = AsyncOptions(6, 12);
  sim.concurrency = 4;
  sim.outcome = [](const Trial& trial) -> Outcome {
    if (trial.id % 4 == 0) return {{}, TrialStatus::kFailed};  // crashed before reporting
    if (trial.id % 7 == 0) return {{Golden(trial.id)}, TrialStatus::kStopped};
    if (trial.id % 9 == 0) return {{}, TrialStatus::kCompleted};  // completed, never reported
    return {{Golden(trial.id), Golden(trial.id + 1000)}};
  };
  int restarts = 0;
  sim.check = [&](const Trial& trial, const Population& pop) {
    const MemberModel& member = pop.members[static_cast<size_t>(Int(trial, kMemberKey))];
    if (!member.last_failed) return;
    ++restarts;
    const std::vector<size_t> ranked = pop.Ranked();
    const Trial* loaded = LoadedTrial(trial, pop);
    if (ranked.empty()) {
      EXPECT_EQ(loaded, nullptr) << "nothing to copy: a fresh start";
      return;
    }
    ASSERT_NE(loaded, nullptr) << "trial " << trial.id;
    const size_t top = std::max<size_t>(1, pop.Quantile(ranked.size()));
    bool in_top = false;
    for (size_t r = 0; r < top; ++r) in_top |= *pop.members[ranked[r]].checkpoint == loaded->id;
    EXPECT_TRUE(in_top) << "trial " << trial.id << " restarted from trial " << loaded->id;
    EXPECT_TRUE(IsExploredCopy(trial, *loaded));
  };
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  EXPECT_GT(restarts, 15);
  // Failed intervals count: every member ran exactly 12.
  EXPECT_TRUE(result.done);
  EXPECT_EQ(result.trials.size(), 72u);
}

TEST(AsyncPbtTest, WhenEveryIntervalFailsMembersStartAfreshAndTheStudyEnds) {
  Simulation sim;
  sim.options = AsyncOptions(3, 4);
  sim.concurrency = 2;
  sim.outcome = [](const Trial&) { return Outcome{{}, TrialStatus::kFailed}; };
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  EXPECT_TRUE(result.done);
  ASSERT_EQ(result.trials.size(), 12u);
  for (const Trial& trial : result.trials) EXPECT_EQ(Str(trial, kLoadFromKey), "");
}

TEST(AsyncPbtTest, EachMemberRunsNumGenerationsIntervalsThenDone) {
  Simulation sim;
  sim.options = AsyncOptions(5, 3);
  sim.concurrency = 2;
  SimulationResult result;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &result));
  EXPECT_TRUE(result.done);
  std::map<int64_t, std::vector<int64_t>> generations;
  for (const Trial& t : result.trials) {
    generations[Int(t, kMemberKey)].push_back(Int(t, kGenerationKey));
  }
  ASSERT_EQ(generations.size(), 5u);
  for (const auto& [slot, list] : generations) {
    EXPECT_EQ(list, (std::vector<int64_t>{1, 2, 3})) << "member " << slot;
  }
}

TEST(AsyncPbtTest, DoneComesOnceEveryLastIntervalIsHandedOutAndIsFinal) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(Space(), AsyncOptions(2, 1)));
  Study study(Space(), std::move(algorithm), true, nullptr, 1);
  const Trial a = study.get_suggestion()->trial();
  const Trial b = study.get_suggestion()->trial();
  ASSERT_OK_AND_ASSIGN(Suggestion s, study.get_suggestion());
  EXPECT_TRUE(s.is_done()) << "both members have their only interval, though both still run";
  for (const Trial& t : {a, b}) {
    ASSERT_THAT(study.add_observation(t, 1, 1.0), IsOk());
    ASSERT_THAT(study.finalize(t), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(Suggestion again, study.get_suggestion());
  EXPECT_TRUE(again.is_done());
}

TEST(AsyncPbtTest, WaitAnswersChangeNothing) {
  // The runner's resume replays only the trials handed out and ended: polls
  // answered WAIT must neither change the state nor draw from the generator.
  for (PbtSelection selection : {PbtSelection::kTruncation, PbtSelection::kTournament}) {
    Simulation sim;
    sim.options = AsyncOptions(4, 10, selection);
    sim.options.resample_probability = 0.3;
    sim.concurrency = 4;
    sim.outcome = [](const Trial& trial) -> Outcome {
      if (trial.id % 5 == 0) return {{}, TrialStatus::kFailed};
      return {{Golden(trial.id)}};
    };
    SimulationResult quiet, polled;
    ASSERT_NO_FATAL_FAILURE(Simulate(sim, &quiet));
    sim.extra_polls = 3;
    ASSERT_NO_FATAL_FAILURE(Simulate(sim, &polled));
    ASSERT_EQ(quiet.trials.size(), 40u);
    ASSERT_EQ(polled.trials.size(), quiet.trials.size());
    for (size_t i = 0; i < quiet.trials.size(); ++i) {
      EXPECT_EQ(polled.trials[i].parameters, quiet.trials[i].parameters) << "trial " << i + 1;
    }
  }
}

TEST(AsyncPbtTest, SameSeedSameStudyOtherSeedOtherStudy) {
  Simulation sim;
  sim.options = AsyncOptions(6, 5);
  sim.concurrency = 3;
  SimulationResult first, second, other;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &first));
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &second));
  sim.seed = 2;
  ASSERT_NO_FATAL_FAILURE(Simulate(sim, &other));
  ASSERT_EQ(first.trials.size(), second.trials.size());
  for (size_t i = 0; i < first.trials.size(); ++i) {
    EXPECT_EQ(first.trials[i].parameters, second.trials[i].parameters);
  }
  EXPECT_NE(first.trials[0].parameters, other.trials[0].parameters);
}

TEST(AsyncPbtTest, AResubmittedIntervalKeepsItsMemberBusyAndCountsOnce) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm,
                       PopulationBasedTraining(Space(), AsyncOptions(2, 3)));
  Study study(Space(), std::move(algorithm), true, nullptr, 4);
  const Trial a = study.get_suggestion()->trial();
  const Trial b = study.get_suggestion()->trial();
  ASSERT_THAT(study.finalize(a, TrialStatus::kFailed), IsOk());  // crashed before reporting
  ASSERT_THAT(study.add_trial(a), IsOk());
  ASSERT_OK_AND_ASSIGN(Suggestion rerun, study.get_suggestion());
  ASSERT_TRUE(rerun.is_trial());
  EXPECT_EQ(rerun.trial().id, a.id);
  ASSERT_OK_AND_ASSIGN(Suggestion busy, study.get_suggestion());
  EXPECT_TRUE(busy.is_wait()) << "member 0 runs its first interval again";
  ASSERT_THAT(study.add_observation(a, 1, 0.1), IsOk());
  ASSERT_THAT(study.finalize(a), IsOk());
  ASSERT_OK_AND_ASSIGN(Suggestion next, study.get_suggestion());
  ASSERT_TRUE(next.is_trial());
  EXPECT_EQ(Int(next.trial(), kMemberKey), 0);
  EXPECT_EQ(Int(next.trial(), kGenerationKey), 2);
  EXPECT_EQ(Str(next.trial(), kLoadFromKey), std::to_string(a.id)) << "it completed: it goes on";
  (void)b;
}

TEST(AsyncPbtOptionsTest, RefusesBadAsynchronousOptions) {
  PopulationBasedTrainingOptions small = AsyncOptions(1, 3);
  auto refused = PopulationBasedTraining(Space(), small);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("population_size must be at least 2"));
  for (double q : {0.0, -0.1, 0.51, std::nan("")}) {
    PopulationBasedTrainingOptions options = AsyncOptions(4, 3);
    options.quantile_fraction = q;
    auto bad = PopulationBasedTraining(Space(), options);
    ASSERT_FALSE(bad.ok()) << q;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(bad.status().message(), HasSubstr("quantile_fraction"));
  }
  PopulationBasedTrainingOptions half = AsyncOptions(2, 3);
  half.quantile_fraction = 0.5;
  EXPECT_THAT(PopulationBasedTraining(Space(), half), IsOk());
}

TEST(AsyncPbtOptionsTest, MemberIsReservedOnlyInAsynchronousMode) {
  const ParameterSpace space = *ParameterSpace::Create({Continuous("member", {0.0, 1.0})});
  auto refused = PopulationBasedTraining(space, AsyncOptions(4, 3));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("'member'"));
  PopulationBasedTrainingOptions generational;
  generational.population_size = 4;
  EXPECT_THAT(PopulationBasedTraining(space, generational), IsOk());
}

}  // namespace
}  // namespace sherpa
