// Tests of SuccessiveHalving (sherpa/algorithms.h), driven through
// sherpa::Study as a user would drive it. Expected promotions are computed by
// a brute-force statement of SHERPA's rule (sort each rung, take the top
// 1/eta, skip the promoted ones), never from recorded outputs.

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

using ::testing::HasSubstr;

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

const ParameterSpace& Space() {
  static const ParameterSpace* space = new ParameterSpace(
      MakeSpace({Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 8}),
                 Choice("activation", {"relu", "tanh"})}));
  return *space;
}

SuccessiveHalvingOptions Options(int64_t r, int64_t R, int64_t eta, int64_t s,
                                 int64_t max_finished_configs) {
  SuccessiveHalvingOptions options;
  options.r = r;
  options.R = R;
  options.eta = eta;
  options.s = s;
  options.max_finished_configs = max_finished_configs;
  return options;
}

std::unique_ptr<Study> MakeStudy(const SuccessiveHalvingOptions& options, bool lower_is_better,
                                 uint64_t seed = 1) {
  StatusOr<std::unique_ptr<Algorithm>> algorithm = SuccessiveHalving(Space(), options);
  if (!algorithm.ok()) {
    ADD_FAILURE() << algorithm.status();
    return nullptr;
  }
  return std::make_unique<Study>(Space(), std::move(algorithm).value(), lower_is_better, nullptr,
                                 seed);
}

int64_t IntKey(const Trial& trial, std::string_view key) {
  auto it = trial.parameters.find(key);
  if (it == trial.parameters.end() || !it->second.is_int()) {
    ADD_FAILURE() << "trial " << trial.id << ": '" << key << "' is missing or not an int";
    return -1;
  }
  return it->second.as_int();
}

std::string StringKey(const Trial& trial, std::string_view key) {
  auto it = trial.parameters.find(key);
  if (it == trial.parameters.end() || !it->second.is_string()) {
    ADD_FAILURE() << "trial " << trial.id << ": '" << key << "' is missing or not a string";
    return "<missing>";
  }
  return it->second.as_string();
}

ParameterValues Hyperparameters(const Trial& trial) {
  ParameterValues out;
  for (const Parameter& p : Space()) out.emplace(p.name(), trial.parameters.at(p.name()));
  return out;
}

// A distinct, scrambled objective per trial id, so ranks are not id order.
double Golden(TrialId id) { return std::fmod(static_cast<double>(id) * 0.6180339887498949, 1.0); }

Trial Next(Study& study) {
  StatusOr<Suggestion> suggestion = study.get_suggestion();
  EXPECT_THAT(suggestion, IsOk());
  if (!suggestion.ok() || !suggestion->is_trial()) {
    ADD_FAILURE() << "expected a trial";
    return Trial{};
  }
  return suggestion->trial();
}

Suggestion::Kind KindOfNext(Study& study) {
  StatusOr<Suggestion> suggestion = study.get_suggestion();
  EXPECT_THAT(suggestion, IsOk());
  return suggestion.ok() ? suggestion->kind() : Suggestion::Kind::kDone;
}

void Complete(Study& study, const Trial& trial, double objective) {
  ASSERT_THAT(study.add_observation(trial, 1, objective), IsOk());
  ASSERT_THAT(study.finalize(trial), IsOk());
}

// ---------------------------------------------------------------------------
// The rule, stated by brute force over everything handed out so far.

struct Handed {
  Trial trial;
  int64_t rung = 0;
  TrialStatus status = TrialStatus::kIntermediate;
  std::optional<double> last_objective;
  bool promoted = false;
};

class Model {
 public:
  Model(int64_t eta, int64_t top_rung, bool lower_is_better)
      : eta_(eta), top_rung_(top_rung), lower_(lower_is_better) {}

  // The id of the trial SHERPA's rule promotes next, or nullopt for a new
  // configuration in rung 0.
  std::optional<TrialId> ExpectedParent() const {
    for (int64_t k = top_rung_ - 1; k >= 0; --k) {
      std::vector<const Handed*> completed;
      for (const auto& [id, h] : handed_) {
        if (h.rung == k && h.status == TrialStatus::kCompleted && h.last_objective) {
          completed.push_back(&h);
        }
      }
      std::sort(completed.begin(), completed.end(), [&](const Handed* a, const Handed* b) {
        if (*a->last_objective != *b->last_objective) {
          return lower_ ? *a->last_objective < *b->last_objective
                        : *a->last_objective > *b->last_objective;
        }
        return a->trial.id < b->trial.id;
      });
      const size_t top = completed.size() / static_cast<size_t>(eta_);
      for (size_t i = 0; i < top; ++i) {
        if (!completed[i]->promoted) return completed[i]->trial.id;
      }
    }
    return std::nullopt;
  }

  void Add(const Trial& trial, std::optional<TrialId> parent) {
    handed_[trial.id] =
        Handed{trial, IntKey(trial, kRungKey), TrialStatus::kIntermediate, std::nullopt, false};
    if (parent) handed_.at(*parent).promoted = true;
  }
  void End(TrialId id, TrialStatus status, std::optional<double> last) {
    handed_.at(id).status = status;
    handed_.at(id).last_objective = last;
  }
  const Handed& Get(TrialId id) const { return handed_.at(id); }
  int64_t CompletedInTopRung() const {
    int64_t n = 0;
    for (const auto& [id, h] : handed_) {
      n += h.rung == top_rung_ && h.status == TrialStatus::kCompleted && h.last_objective;
    }
    return n;
  }
  int64_t RunningInTopRung() const {
    int64_t n = 0;
    for (const auto& [id, h] : handed_) {
      n += h.rung == top_rung_ && h.status == TrialStatus::kIntermediate;
    }
    return n;
  }

 private:
  int64_t eta_, top_rung_;
  bool lower_;
  std::map<TrialId, Handed> handed_;
};

// How a trial ends, scrambled by id: about 10% crash before reporting, 10%
// are stopped after reporting a very good objective, 5% complete without
// reporting; the rest complete with a scrambled objective.
struct Ending {
  TrialStatus status;
  std::optional<double> objective;
};
Ending MixedEnding(TrialId id) {
  const double u = Golden(id * 7);
  if (u < 0.10) return {TrialStatus::kFailed, std::nullopt};
  if (u < 0.20) return {TrialStatus::kStopped, -1e9};
  if (u < 0.25) return {TrialStatus::kCompleted, std::nullopt};
  return {TrialStatus::kCompleted, Golden(id)};
}

// Runs a study with `workers` trials running at once, ending them out of
// hand-out order, and checks every suggestion against the model.
void RunAgainstModel(const SuccessiveHalvingOptions& options, int64_t top_rung,
                     bool lower_is_better, size_t workers, std::map<int64_t, int64_t>* resources,
                     int64_t* trials_handed_out) {
  std::unique_ptr<Study> study = MakeStudy(options, lower_is_better, 11);
  ASSERT_NE(study, nullptr);
  Model model(options.eta, top_rung, lower_is_better);
  std::vector<Trial> running;
  int64_t handed = 0;
  for (int step = 0; step < 5000; ++step) {
    const std::optional<TrialId> parent = model.ExpectedParent();
    StatusOr<Suggestion> suggestion = study->get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    if (suggestion->is_done()) {
      EXPECT_GE(model.CompletedInTopRung(), options.max_finished_configs);
      *trials_handed_out = handed;
      return;
    }
    EXPECT_LT(model.CompletedInTopRung(), options.max_finished_configs)
        << "not DONE although the top rung has enough COMPLETED trials";
    // Trials running in the top rung could end the study: no new work then.
    EXPECT_EQ(suggestion->is_wait(), model.CompletedInTopRung() + model.RunningInTopRung() >=
                                         options.max_finished_configs);
    if (suggestion->is_trial()) {
      const Trial& trial = suggestion->trial();
      ++handed;
      const int64_t rung = IntKey(trial, kRungKey);
      EXPECT_EQ(StringKey(trial, kSaveToKey), std::to_string(trial.id));
      if (parent) {
        const Handed& p = model.Get(*parent);
        EXPECT_EQ(rung, p.rung + 1) << "trial " << trial.id;
        EXPECT_EQ(StringKey(trial, kLoadFromKey), StringKey(p.trial, kSaveToKey))
            << "trial " << trial.id << " should continue trial " << *parent;
        EXPECT_EQ(Hyperparameters(trial), Hyperparameters(p.trial)) << "trial " << trial.id;
      } else {
        EXPECT_EQ(rung, 0) << "trial " << trial.id << ": nothing was promotable";
        EXPECT_EQ(StringKey(trial, kLoadFromKey), "") << "trial " << trial.id;
      }
      EXPECT_LE(rung, top_rung);
      (*resources)[rung] = IntKey(trial, kResourceKey);
      model.Add(trial, parent);
      running.push_back(trial);
      if (running.size() < workers) continue;
    } else {
      ASSERT_FALSE(running.empty()) << "WAIT with nothing running";
    }
    // End one running trial, not always the oldest.
    const size_t index = static_cast<size_t>(step) * 7 % running.size();
    const Trial trial = running[index];
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(index));
    const Ending ending = MixedEnding(trial.id);
    if (ending.objective) {
      ASSERT_THAT(study->add_observation(trial, 1, 100.0), IsOk());  // not the last: ignored
      ASSERT_THAT(study->add_observation(trial, 2, *ending.objective), IsOk());
    }
    ASSERT_THAT(study->finalize(trial, ending.status), IsOk());
    model.End(trial.id, ending.status,
              ending.status == TrialStatus::kCompleted ? ending.objective : std::nullopt);
  }
  FAIL() << "no DONE after 5000 steps";
}

// ---------------------------------------------------------------------------

TEST(SuccessiveHalvingTest, DefaultsAreSherpasAndGiveRungsWithResourcesOneThreeNine) {
  SuccessiveHalvingOptions defaults;
  EXPECT_EQ(defaults.r, 1);
  EXPECT_EQ(defaults.R, 9);
  EXPECT_EQ(defaults.eta, 3);
  EXPECT_EQ(defaults.s, 0);
  EXPECT_EQ(defaults.max_finished_configs, 50);
  EXPECT_EQ(defaults.max_num_trials, 0);
  defaults.max_finished_configs = 10;  // keeps the brute-force model quick
  std::map<int64_t, int64_t> resources;
  int64_t handed = 0;
  ASSERT_NO_FATAL_FAILURE(RunAgainstModel(defaults, 2, true, 1, &resources, &handed));
  EXPECT_EQ(resources, (std::map<int64_t, int64_t>{{0, 1}, {1, 3}, {2, 9}}));
}

// Promotion, rung 0, FAILED/STOPPED and DONE checked at every step, with
// trials ending in and out of order, both directions, several geometries.
struct Geometry {
  int64_t r, R, eta, s, top_rung;
  std::map<int64_t, int64_t> resources;
};

TEST(SuccessiveHalvingTest, EverySuggestionFollowsTheRule) {
  const std::vector<Geometry> geometries = {
      {1, 9, 3, 0, 2, {{0, 1}, {1, 3}, {2, 9}}},
      // K = floor(log_3(100 / 2)) = 3, minus s = 1: rungs 0..2 from 2 * 3^1.
      {2, 100, 3, 1, 2, {{0, 6}, {1, 18}, {2, 54}}},
      // log(243) / log(3) is 4.999... in floating point; K must still be 5.
      {1, 243, 3, 2, 3, {{0, 9}, {1, 27}, {2, 81}, {3, 243}}},
      {1, 8, 2, 0, 3, {{0, 1}, {1, 2}, {2, 4}, {3, 8}}},
      {5, 5, 4, 0, 0, {{0, 5}}},  // a single rung: random search
  };
  for (const Geometry& g : geometries) {
    for (bool lower_is_better : {true, false}) {
      for (size_t workers : {size_t{1}, size_t{4}}) {
        SCOPED_TRACE("r=" + std::to_string(g.r) + " R=" + std::to_string(g.R) +
                     " eta=" + std::to_string(g.eta) + " s=" + std::to_string(g.s) +
                     (lower_is_better ? " lower" : " higher") +
                     " workers=" + std::to_string(workers));
        std::map<int64_t, int64_t> resources;
        int64_t handed = 0;
        ASSERT_NO_FATAL_FAILURE(RunAgainstModel(Options(g.r, g.R, g.eta, g.s, 4), g.top_rung,
                                                lower_is_better, workers, &resources, &handed));
        EXPECT_EQ(resources, g.resources) << "every rung is used, with r * eta^(s + k)";
      }
    }
  }
}

TEST(SuccessiveHalvingTest, PromotesTheBestOfEtaCompletedTrialsWithItsParameters) {
  for (bool lower_is_better : {true, false}) {
    std::unique_ptr<Study> study = MakeStudy(Options(1, 9, 3, 0, 50), lower_is_better);
    ASSERT_NE(study, nullptr);
    std::vector<Trial> rung0;
    for (double objective : {0.5, 0.2, 0.9}) {
      rung0.push_back(Next(*study));
      EXPECT_EQ(IntKey(rung0.back(), kRungKey), 0);
      EXPECT_EQ(IntKey(rung0.back(), kResourceKey), 1);
      EXPECT_EQ(StringKey(rung0.back(), kLoadFromKey), "");
      Complete(*study, rung0.back(), objective);
    }
    const Trial& best = lower_is_better ? rung0[1] : rung0[2];
    const Trial promoted = Next(*study);
    EXPECT_EQ(promoted.id, 4);
    EXPECT_EQ(IntKey(promoted, kRungKey), 1);
    EXPECT_EQ(IntKey(promoted, kResourceKey), 3);
    EXPECT_EQ(StringKey(promoted, kLoadFromKey), std::to_string(best.id));
    EXPECT_EQ(StringKey(promoted, kSaveToKey), "4");
    EXPECT_EQ(Hyperparameters(promoted), Hyperparameters(best));
    // The best was promoted once; with 3 completed the top third holds only
    // it, so the next trial is a new configuration.
    const Trial fresh = Next(*study);
    EXPECT_EQ(IntKey(fresh, kRungKey), 0);
    EXPECT_EQ(StringKey(fresh, kLoadFromKey), "");
  }
}

TEST(SuccessiveHalvingTest, FailedAndStoppedTrialsAreNeverPromoted) {
  std::unique_ptr<Study> study = MakeStudy(Options(1, 9, 3, 0, 50), true);
  ASSERT_NE(study, nullptr);
  const Trial failed = Next(*study);
  const Trial stopped = Next(*study);
  const Trial good = Next(*study);
  ASSERT_THAT(study->add_observation(failed, 1, -100.0), IsOk());
  ASSERT_THAT(study->finalize(failed, TrialStatus::kFailed), IsOk());
  ASSERT_THAT(study->add_observation(stopped, 1, -50.0), IsOk());
  ASSERT_THAT(study->finalize(stopped, TrialStatus::kStopped), IsOk());
  Complete(*study, good, 1.0);
  // One COMPLETED trial in rung 0: no top third yet.
  Trial next = Next(*study);
  EXPECT_EQ(IntKey(next, kRungKey), 0);
  Complete(*study, next, 2.0);
  next = Next(*study);
  EXPECT_EQ(IntKey(next, kRungKey), 0);
  Complete(*study, next, 3.0);
  // Three COMPLETED: the best of them, not the better FAILED or STOPPED ones.
  next = Next(*study);
  EXPECT_EQ(IntKey(next, kRungKey), 1);
  EXPECT_EQ(StringKey(next, kLoadFromKey), std::to_string(good.id));
}

TEST(SuccessiveHalvingTest, RanksByTheLastObservationNotTheBest) {
  std::unique_ptr<Study> study = MakeStudy(Options(1, 3, 3, 0, 50), true);
  ASSERT_NE(study, nullptr);
  const Trial a = Next(*study), b = Next(*study), c = Next(*study);
  // a was best at iteration 1 but its checkpoint holds iteration 2.
  ASSERT_THAT(study->add_observation(a, 1, 0.1), IsOk());
  ASSERT_THAT(study->add_observation(a, 2, 0.9), IsOk());
  ASSERT_THAT(study->finalize(a), IsOk());
  Complete(*study, b, 0.5);
  Complete(*study, c, 0.7);
  EXPECT_EQ(StringKey(Next(*study), kLoadFromKey), std::to_string(b.id));
}

TEST(SuccessiveHalvingTest, DoneOnceEnoughTrialsCompletedInTheTopRung) {
  std::unique_ptr<Study> study = MakeStudy(Options(1, 3, 3, 0, 2), true);
  ASSERT_NE(study, nullptr);
  int64_t completed_in_top = 0;
  for (int i = 0; i < 100 && completed_in_top < 2; ++i) {
    const Trial trial = Next(*study);
    Complete(*study, trial, Golden(trial.id));
    completed_in_top += IntKey(trial, kRungKey) == 1;
  }
  ASSERT_EQ(completed_in_top, 2);
  EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kDone);
}

TEST(SuccessiveHalvingTest, WaitsWhileTheTopRungCanStillFinishTheStudyAndResumesWhenItFails) {
  std::unique_ptr<Study> study = MakeStudy(Options(1, 3, 3, 0, 1), true);
  ASSERT_NE(study, nullptr);
  for (double objective : {0.3, 0.1, 0.2}) Complete(*study, Next(*study), objective);
  const Trial top = Next(*study);
  ASSERT_EQ(IntKey(top, kRungKey), 1);
  // If `top` completes, the study is over: new work would be thrown away.
  EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kWait);
  EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kWait);
  ASSERT_THAT(study->finalize(top, TrialStatus::kFailed), IsOk());
  // Rung 0's top third (trial 2) was promoted already: a new configuration.
  const Trial fresh = Next(*study);
  EXPECT_EQ(IntKey(fresh, kRungKey), 0);
  EXPECT_EQ(fresh.id, 5);
  Complete(*study, fresh, 0.05);
  // Four COMPLETED in rung 0: the top one is now trial 5, not yet promoted.
  const Trial second = Next(*study);
  EXPECT_EQ(IntKey(second, kRungKey), 1);
  EXPECT_EQ(StringKey(second, kLoadFromKey), "5");
  Complete(*study, second, 0.01);
  EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kDone);
}

TEST(SuccessiveHalvingTest, SaveToIsTheTrialIdAlsoAfterTrialsQueuedByTheUser) {
  std::unique_ptr<Study> study = MakeStudy(Options(1, 9, 3, 0, 50), true);
  ASSERT_NE(study, nullptr);
  for (int i = 0; i < 12; ++i) {
    if (i % 4 == 1) {
      // A trial the user queues takes an id the algorithm never saw.
      ASSERT_THAT(study->add_trial(Trial{0, {{"lr", 0.01}, {"layers", 2}, {"activation", "relu"}}}),
                  IsOk());
      const Trial queued = Next(*study);
      Complete(*study, queued, -1.0);  // the best objective, but not ASHA's trial
      continue;
    }
    const Trial trial = Next(*study);
    EXPECT_EQ(StringKey(trial, kSaveToKey), std::to_string(trial.id));
    if (IntKey(trial, kRungKey) > 0) {
      const TrialRecord* parent = study->results().Find(std::stoll(StringKey(trial, kLoadFromKey)));
      ASSERT_NE(parent, nullptr);
      EXPECT_EQ(parent->trial().parameters.count(std::string(kRungKey)), 1u)
          << "only ASHA's own trials are promoted";
    }
    Complete(*study, trial, Golden(trial.id));
  }
}

TEST(SuccessiveHalvingTest, MaxNumTrialsEndsAStudyWhoseTrialsAllFail) {
  SuccessiveHalvingOptions options;
  options.max_num_trials = 7;
  std::unique_ptr<Study> study = MakeStudy(options, true);
  ASSERT_NE(study, nullptr);
  for (int i = 0; i < 7; ++i) {
    ASSERT_THAT(study->finalize(Next(*study), TrialStatus::kFailed), IsOk());
  }
  EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kDone);
}

// `sherpa resume` replays the logged trials through a fresh study; WAITs are
// not logged, so they must not change what comes next.
struct WaitRun {
  std::vector<Trial> handed;
  int waits = 0;
  // Sampled trials (rung 0, drawn from the generator) after the first WAIT.
  int sampled_after_a_wait = 0;
};

// Hands out up to three trials at a time (fewer when the answer is WAIT),
// then ends all of them; the first three trials of the top rung fail, so the
// study WAITs, resumes and samples again several times before it is DONE.
WaitRun RunWithExtraWaits(int extra_waits) {
  WaitRun run;
  std::unique_ptr<Study> study = MakeStudy(Options(1, 3, 3, 0, 1), true, 21);
  if (study == nullptr) return run;
  std::vector<Trial> running;
  int top_failures = 0;
  for (int step = 0; step < 200; ++step) {
    StatusOr<Suggestion> suggestion = study->get_suggestion();
    EXPECT_THAT(suggestion, IsOk());
    if (!suggestion.ok() || suggestion->is_done()) break;
    if (suggestion->is_trial()) {
      run.handed.push_back(suggestion->trial());
      running.push_back(suggestion->trial());
      run.sampled_after_a_wait += run.waits > 0 && IntKey(suggestion->trial(), kRungKey) == 0;
      if (running.size() < 3) continue;
    } else {
      ++run.waits;
      for (int i = 0; i < extra_waits; ++i) {
        EXPECT_EQ(KindOfNext(*study), Suggestion::Kind::kWait);
      }
    }
    for (const Trial& trial : running) {
      if (IntKey(trial, kRungKey) == 1 && top_failures < 3) {
        ++top_failures;
        EXPECT_THAT(study->finalize(trial, TrialStatus::kFailed), IsOk());
      } else {
        EXPECT_THAT(study->add_observation(trial, 1, Golden(trial.id)), IsOk());
        EXPECT_THAT(study->finalize(trial), IsOk());
      }
    }
    running.clear();
  }
  return run;
}

TEST(SuccessiveHalvingTest, WaitAnswersChangeNothing) {
  const WaitRun plain = RunWithExtraWaits(0);
  const WaitRun extra = RunWithExtraWaits(3);
  ASSERT_GT(plain.waits, 0) << "the scenario must reach WAIT";
  ASSERT_GT(plain.sampled_after_a_wait, 0) << "and draw from the generator after it";
  ASSERT_EQ(plain.waits, extra.waits);
  ASSERT_EQ(plain.handed.size(), extra.handed.size());
  for (size_t i = 0; i < plain.handed.size(); ++i) {
    EXPECT_EQ(plain.handed[i].id, extra.handed[i].id);
    EXPECT_EQ(plain.handed[i].parameters, extra.handed[i].parameters)
        << "trial " << plain.handed[i].id;
  }
}

TEST(SuccessiveHalvingTest, RefusesBadOptionsNamingThem) {
  auto error = [](const SuccessiveHalvingOptions& options, const ParameterSpace& space = Space()) {
    StatusOr<std::unique_ptr<Algorithm>> algorithm = SuccessiveHalving(space, options);
    EXPECT_FALSE(algorithm.ok());
    if (algorithm.ok()) return std::string();
    EXPECT_EQ(algorithm.status().code(), StatusCode::kInvalidArgument);
    return algorithm.status().message();
  };
  EXPECT_THAT(error(Options(0, 9, 3, 0, 50)), HasSubstr("r (the minimum resource) must be >= 1"));
  EXPECT_THAT(error(Options(10, 9, 3, 0, 50)), HasSubstr("R (the maximum resource) must be >= r"));
  EXPECT_THAT(error(Options(1, 9, 1, 0, 50)), HasSubstr("eta must be >= 2, got 1"));
  EXPECT_THAT(error(Options(1, 9, 3, 3, 50)),
              HasSubstr("s must be in [0, floor(log_eta(R / r))] = [0, 2]"));
  EXPECT_THAT(error(Options(1, 9, 3, -1, 50)), HasSubstr("s must be in"));
  EXPECT_THAT(error(Options(1, 9, 3, 0, -1)), HasSubstr("max_finished_configs must be >= 0"));
  SuccessiveHalvingOptions negative_budget;
  negative_budget.max_num_trials = -1;
  EXPECT_THAT(error(negative_budget), HasSubstr("max_num_trials must be >= 0"));
  EXPECT_THAT(error({}, MakeSpace({Discrete("rung", {0, 3})})),
              HasSubstr("a parameter is named 'rung'"));
  EXPECT_THAT(SuccessiveHalving(Space(), Options(1, 9, 3, 2, 0)), IsOk());
}

}  // namespace
}  // namespace sherpa
