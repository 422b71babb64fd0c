// The Algorithm contract (sherpa/algorithm.h), checked for every built-in
// algorithm through sherpa::Study:
//   * suggestions lie inside the space and carry only the space's names plus
//     the algorithm's documented bookkeeping keys;
//   * one seed reproduces the sequence of suggestions, another seed changes it;
//   * DONE arrives under a finite budget and is final;
//   * WAIT only while a trial is running;
//   * failing and stopped trials never crash an algorithm.

#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "algorithms/algorithm_cases.h"
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

using conformance::AlgorithmCase;
using conformance::Cases;
using conformance::ConformanceSpace;
using conformance::Objective;

// How the driver ends each trial.
using EndPolicy = std::function<TrialStatus(const Trial&, Study&)>;

TrialStatus CompleteAll(const Trial& trial, Study& study) {
  EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
  EXPECT_THAT(study.add_observation(trial, 2, Objective(trial) / 2), IsOk());
  return TrialStatus::kCompleted;
}

// Every third trial crashes before reporting, every fifth is stopped after
// reporting, the rest complete.
TrialStatus SomeFail(const Trial& trial, Study& study) {
  if (trial.id % 3 == 0) return TrialStatus::kFailed;
  EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
  return trial.id % 5 == 0 ? TrialStatus::kStopped : TrialStatus::kCompleted;
}

TrialStatus AllFail(const Trial& trial, Study& study) {
  if (trial.id % 2 == 0) {
    EXPECT_THAT(study.add_observation(trial, 1, Objective(trial)), IsOk());
    return TrialStatus::kStopped;
  }
  return TrialStatus::kFailed;
}

struct RunResult {
  std::vector<Trial> trials;  // in hand-out order
  bool done = false;
  Status error;  // the non-OK status that ended the run, if any
};

// Drives a study until DONE, an error, or `budget` suggestions. With
// `batch`, every suggestion the algorithm gives is taken before any trial
// ends (as a parallel runner with unlimited workers would); the running
// trials then end in reverse order. Otherwise each trial ends before the
// next request, and WAIT would be a deadlock.
void Drive(const AlgorithmCase& c, uint64_t seed, const EndPolicy& end, bool batch,
           RunResult* result, int budget = 2000) {
  const ParameterSpace& space = ConformanceSpace();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, c.make(space));
  EXPECT_EQ(algorithm->name(), c.sherpa_name);
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, seed);
  std::vector<Trial> running;
  for (int step = 0; step < budget; ++step) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    if (!suggestion.ok()) {
      result->error = suggestion.status();
      return;
    }
    if (suggestion->is_done()) {
      result->done = true;
      // DONE is final, also once the running trials end.
      for (const Trial& trial : running) {
        const TrialStatus status = end(trial, study);
        ASSERT_THAT(study.finalize(trial, status), IsOk());
      }
      for (int k = 0; k < 3; ++k) {
        StatusOr<Suggestion> again = study.get_suggestion();
        ASSERT_THAT(again, IsOk());
        EXPECT_TRUE(again->is_done()) << "DONE must be final";
      }
      return;
    }
    if (suggestion->is_wait()) {
      ASSERT_FALSE(running.empty()) << "WAIT with no trial running would never end";
      while (!running.empty()) {
        const Trial trial = running.back();
        running.pop_back();
        const TrialStatus status = end(trial, study);
        ASSERT_THAT(study.finalize(trial, status), IsOk());
      }
      continue;
    }
    const Trial& trial = suggestion->trial();
    result->trials.push_back(trial);
    if (batch) {
      running.push_back(trial);
    } else {
      const TrialStatus status = end(trial, study);
      ASSERT_THAT(study.finalize(trial, status), IsOk());
    }
  }
}

std::vector<ParameterValues> ParametersOf(const RunResult& run) {
  std::vector<ParameterValues> out;
  for (const Trial& trial : run.trials) out.push_back(trial.parameters);
  return out;
}

class AlgorithmConformanceTest : public ::testing::TestWithParam<AlgorithmCase> {};

TEST_P(AlgorithmConformanceTest, SuggestionsLieInsideTheSpaceWithOnlyDocumentedKeys) {
  const AlgorithmCase& c = GetParam();
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(c, 1, CompleteAll, batch, &run));
    ASSERT_THAT(run.error, IsOk());
    ASSERT_FALSE(run.trials.empty());
    for (const Trial& trial : run.trials) {
      for (const Parameter& parameter : ConformanceSpace()) {
        auto it = trial.parameters.find(parameter.name());
        ASSERT_NE(it, trial.parameters.end())
            << "trial " << trial.id << " lacks '" << parameter.name() << "'";
        EXPECT_TRUE(parameter.Contains(it->second))
            << "trial " << trial.id << ": " << parameter.name() << " = " << it->second;
      }
      for (const auto& [name, value] : trial.parameters) {
        EXPECT_TRUE(ConformanceSpace().Find(name) != nullptr || c.bookkeeping_keys.count(name))
            << "trial " << trial.id << " carries an undocumented key '" << name << "'";
      }
      for (const std::string& key : c.bookkeeping_keys) {
        if (c.keys_on_some_trials_only) break;
        EXPECT_EQ(trial.parameters.count(key), 1u) << "trial " << trial.id << " lacks " << key;
      }
    }
  }
}

TEST_P(AlgorithmConformanceTest, TrialIdsCountFromOneInHandOutOrder) {
  RunResult run;
  ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 1, CompleteAll, false, &run));
  for (size_t i = 0; i < run.trials.size(); ++i) {
    EXPECT_EQ(run.trials[i].id, static_cast<TrialId>(i + 1));
  }
}

TEST_P(AlgorithmConformanceTest, SameSeedGivesTheSameSuggestions) {
  for (bool batch : {false, true}) {
    RunResult first, second;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 77, SomeFail, batch, &first));
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 77, SomeFail, batch, &second));
    ASSERT_FALSE(first.trials.empty());
    EXPECT_EQ(ParametersOf(first), ParametersOf(second)) << (batch ? "batch" : "sequential");
  }
}

TEST_P(AlgorithmConformanceTest, DifferentSeedsGiveDifferentSuggestions) {
  const AlgorithmCase& c = GetParam();
  RunResult first, second;
  ASSERT_NO_FATAL_FAILURE(Drive(c, 77, CompleteAll, false, &first));
  ASSERT_NO_FATAL_FAILURE(Drive(c, 78, CompleteAll, false, &second));
  if (c.randomized) {
    EXPECT_NE(ParametersOf(first), ParametersOf(second));
  } else {
    EXPECT_EQ(ParametersOf(first), ParametersOf(second)) << "a deterministic algorithm";
  }
}

TEST_P(AlgorithmConformanceTest, AnswersDoneUnderAFiniteBudgetAndStaysDone) {
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 3, CompleteAll, batch, &run));
    ASSERT_THAT(run.error, IsOk());
    EXPECT_TRUE(run.done) << (batch ? "batch" : "sequential") << ": no DONE after "
                          << run.trials.size() << " trials";
  }
}

TEST_P(AlgorithmConformanceTest, SurvivesFailedAndStoppedTrials) {
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(GetParam(), 5, SomeFail, batch, &run));
    EXPECT_THAT(run.error, IsOk()) << (batch ? "batch" : "sequential");
    EXPECT_TRUE(run.done) << (batch ? "batch" : "sequential");
  }
}

TEST_P(AlgorithmConformanceTest, SurvivesEveryTrialFailing) {
  const AlgorithmCase& c = GetParam();
  for (bool batch : {false, true}) {
    RunResult run;
    ASSERT_NO_FATAL_FAILURE(Drive(c, 5, AllFail, batch, &run));
    if (run.error.ok()) {
      EXPECT_TRUE(run.done);
    } else {
      EXPECT_TRUE(c.may_refuse_when_all_fail) << run.error;
      EXPECT_EQ(run.error.code(), StatusCode::kFailedPrecondition) << run.error;
      EXPECT_FALSE(run.error.message().empty());
    }
  }
}

TEST_P(AlgorithmConformanceTest, EmptySpaceYieldsOnlyBookkeepingKeys) {
  const AlgorithmCase& c = GetParam();
  const ParameterSpace empty;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> algorithm, c.make(empty));
  Study study(empty, std::move(algorithm), true, nullptr, 1);
  for (int step = 0; step < 50; ++step) {
    StatusOr<Suggestion> suggestion = study.get_suggestion();
    ASSERT_THAT(suggestion, IsOk());
    if (suggestion->is_done()) break;
    ASSERT_TRUE(suggestion->is_trial());
    const Trial& trial = suggestion->trial();
    for (const auto& [name, value] : trial.parameters) {
      EXPECT_EQ(c.bookkeeping_keys.count(name), 1u) << "unexpected key " << name;
    }
    ASSERT_THAT(study.add_observation(trial, 1, static_cast<double>(step % 7)), IsOk());
    ASSERT_THAT(study.finalize(trial), IsOk());
  }
}

// Runs a study on `workers` parallel slots: the slots are filled while the
// algorithm gives trials, then the oldest running trial ends. With
// `extra_calls`, every WAIT is followed by that many more requests at once,
// as a runner polling more often would make; they must all be WAIT too.
void DriveWithWorkers(std::unique_ptr<Algorithm> algorithm, uint64_t seed, int workers,
                      int extra_calls, std::vector<Trial>* handed_out, int* waits) {
  const ParameterSpace& space = ConformanceSpace();
  Study study(space, std::move(algorithm), /*lower_is_better=*/true, nullptr, seed);
  std::deque<Trial> running;
  bool done = false;
  for (int step = 0; step < 5000 && !(done && running.empty()); ++step) {
    while (!done && static_cast<int>(running.size()) < workers) {
      StatusOr<Suggestion> s = study.get_suggestion();
      ASSERT_THAT(s, IsOk());
      if (s->is_done()) {
        done = true;
      } else if (s->is_wait()) {
        ++*waits;
        for (int k = 0; k < extra_calls; ++k) {
          StatusOr<Suggestion> again = study.get_suggestion();
          ASSERT_THAT(again, IsOk());
          ASSERT_TRUE(again->is_wait()) << "nothing ended since the WAIT";
        }
        break;
      } else {
        handed_out->push_back(s->trial());
        running.push_back(s->trial());
      }
    }
    if (running.empty()) continue;
    const Trial trial = running.front();
    running.pop_front();
    // Some trials fail, so wrappers see every kind of end.
    const TrialStatus status = SomeFail(trial, study);
    ASSERT_THAT(study.finalize(trial, status), IsOk());
  }
  EXPECT_TRUE(done && running.empty()) << "the study did not finish";
}

// `sherpa resume` replays the logged trials and ends, but no WAIT answers:
// an algorithm must be a function of the calls that returned trials. Extra
// WAIT-answering requests in one run must not change what comes after. The
// algorithm runs bare and inside Repeat(wait_for_completion), which WAITs
// even around algorithms that never do.
TEST_P(AlgorithmConformanceTest, ExtraWaitAnsweringRequestsChangeNothing) {
  const AlgorithmCase& c = GetParam();
  for (bool wrapped : {false, true}) {
    auto make = [&]() -> StatusOr<std::unique_ptr<Algorithm>> {
      SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, c.make(ConformanceSpace()));
      if (!wrapped) return algorithm;
      return Repeat(std::move(algorithm), RepeatOptions{2, true, false});
    };
    std::vector<Trial> plain, polled;
    int plain_waits = 0, polled_waits = 0;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> first, make());
    ASSERT_NO_FATAL_FAILURE(DriveWithWorkers(std::move(first), 13, 4, 0, &plain, &plain_waits));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> second, make());
    ASSERT_NO_FATAL_FAILURE(DriveWithWorkers(std::move(second), 13, 4, 3, &polled, &polled_waits));
    ASSERT_FALSE(plain.empty());
    if (wrapped) {
      EXPECT_GT(plain_waits, 0) << "the test must exercise WAIT";
    }
    EXPECT_EQ(plain_waits, polled_waits) << (wrapped ? "wrapped" : "bare");
    ASSERT_EQ(plain.size(), polled.size()) << (wrapped ? "wrapped" : "bare");
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_EQ(plain[i].id, polled[i].id);
      EXPECT_EQ(plain[i].parameters, polled[i].parameters)
          << (wrapped ? "wrapped" : "bare") << ", trial " << plain[i].id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltIns, AlgorithmConformanceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<AlgorithmCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sherpa
