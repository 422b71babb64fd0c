// Tests of Chain (sherpa/algorithms.h), driven through sherpa::Study.

#include <memory>
#include <set>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

ParameterSpace Space() { return MakeSpace({Continuous("x", {0.0, 1.0})}); }

std::unique_ptr<Algorithm> Must(StatusOr<std::unique_ptr<Algorithm>> algorithm) {
  EXPECT_TRUE(algorithm.ok()) << algorithm.status();
  return algorithm.ok() ? std::move(algorithm).value() : nullptr;
}

std::unique_ptr<Algorithm> MakeChain(std::vector<std::unique_ptr<Algorithm>> algorithms) {
  return Must(Chain(std::move(algorithms)));
}

template <typename... A>
std::vector<std::unique_ptr<Algorithm>> List(A... algorithms) {
  std::vector<std::unique_ptr<Algorithm>> list;
  (list.push_back(std::move(algorithms)), ...);
  return list;
}

Suggestion Ask(Study& study) {
  StatusOr<Suggestion> s = study.get_suggestion();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(s).value() : Suggestion::Done();
}

// Records the trial ends it hears; suggests `count` trials (x = 0.5), and
// answers WAIT while `*wait`.
struct Heard {
  std::vector<TrialId> ended;
  int asked = 0;
};
class Listener final : public Algorithm {
 public:
  Listener(Heard* heard, int count, const bool* wait = nullptr)
      : heard_(heard), count_(count), wait_(wait) {}
  std::string_view name() const override { return "Listener"; }
  StatusOr<Suggestion> suggest(const SuggestContext&) override {
    ++heard_->asked;
    if (wait_ != nullptr && *wait_) return Suggestion::Wait();
    if (given_ == count_) return Suggestion::Done();
    ++given_;
    return Suggestion::Of(Trial{0, {{"x", 0.5}}});
  }
  void on_trial_end(const TrialRecord& trial) override { heard_->ended.push_back(trial.id()); }

 private:
  Heard* heard_;
  int count_;
  const bool* wait_;
  int given_ = 0;
};

TEST(ChainTest, RunsTheAlgorithmsInOrderAndMovesOnWhenOneAnswersDone) {
  const std::vector<ParameterValues> first = {{{"x", 0.25}}, {{"x", 0.75}}};
  std::unique_ptr<Algorithm> chain =
      MakeChain(List(Must(Iterate(Space(), first)), Must(RandomSearch(3)),
                     Must(Iterate(Space(), {{{"x", 1.0}}}))));
  EXPECT_EQ(chain->name(), "Chain");
  Study study(Space(), std::move(chain), true, nullptr, 4);
  std::vector<Trial> trials;
  for (Suggestion s = Ask(study); s.is_trial(); s = Ask(study)) trials.push_back(s.trial());
  ASSERT_EQ(trials.size(), 6u);
  for (size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].id, static_cast<TrialId>(i + 1));
  EXPECT_EQ(trials[0].parameters, first[0]);
  EXPECT_EQ(trials[1].parameters, first[1]);
  for (size_t i = 2; i < 5; ++i) {
    const double x = trials[i].parameters.at("x").as_number();
    EXPECT_TRUE(x != 0.25 && x != 0.75 && x != 1.0) << "a random sample";
  }
  EXPECT_EQ(trials[5].parameters.at("x").as_number(), 1.0);
  EXPECT_TRUE(Ask(study).is_done());
  EXPECT_TRUE(Ask(study).is_done());
}

TEST(ChainTest, ALaterAlgorithmLearnsFromTheTrialsOfTheEarlierOnes) {
  // Twelve hand-picked configurations, x = 0.0 .. 0.55, objective x: the top
  // third are 0.0, 0.05, 0.1, 0.15. Genetic without mutation must breed only
  // from those.
  std::vector<ParameterValues> picked;
  for (int i = 0; i < 12; ++i) picked.push_back({{"x", 0.05 * i}});
  Study study(Space(), MakeChain(List(Must(Iterate(Space(), picked)), Must(Genetic(0.0, 50)))),
              true, nullptr, 2);
  std::set<double> top = {picked[0].at("x").as_number(), picked[1].at("x").as_number(),
                          picked[2].at("x").as_number(), picked[3].at("x").as_number()};
  for (int i = 0; i < 12; ++i) {
    Trial t = Ask(study).trial();
    ASSERT_TRUE(study.add_observation(t, 1, t.parameters.at("x").as_number()).ok());
    ASSERT_TRUE(study.finalize(t).ok());
  }
  for (int i = 0; i < 50; ++i) {
    Suggestion s = Ask(study);
    ASSERT_TRUE(s.is_trial());
    EXPECT_EQ(top.count(s.trial().parameters.at("x").as_number()), 1u);
  }
  EXPECT_TRUE(Ask(study).is_done());
}

TEST(ChainTest, EveryAlgorithmHearsEveryTrialEnd) {
  Heard a, b;
  Study study(Space(),
              MakeChain(List(std::make_unique<Listener>(&a, 1), std::make_unique<Listener>(&b, 1))),
              true);
  Trial first = Ask(study).trial();
  Trial second = Ask(study).trial();
  EXPECT_TRUE(Ask(study).is_done());
  ASSERT_TRUE(study.finalize(second, TrialStatus::kFailed).ok());
  ASSERT_TRUE(study.finalize(first, TrialStatus::kFailed).ok());
  EXPECT_THAT(a.ended, ElementsAre(2, 1));
  EXPECT_THAT(b.ended, ElementsAre(2, 1));
}

TEST(ChainTest, AWaitPassesThroughAndDoesNotMoveTheChainOn) {
  Heard a, b;
  bool b_waits = true;
  Study study(Space(),
              MakeChain(List(std::make_unique<Listener>(&a, 1),
                             std::make_unique<Listener>(&b, 1, &b_waits))),
              true);
  ASSERT_TRUE(Ask(study).is_trial());
  EXPECT_TRUE(Ask(study).is_wait());
  EXPECT_TRUE(Ask(study).is_wait());
  // Each call asked the first algorithm again (it answers DONE forever), so
  // the hand-over happens with the call that gets a trial.
  EXPECT_EQ(a.asked, 3);
  b_waits = false;
  ASSERT_TRUE(Ask(study).is_trial());
  EXPECT_EQ(a.asked, 4);
  EXPECT_TRUE(Ask(study).is_done());
  EXPECT_EQ(a.asked, 4) << "past the first algorithm for good";
}

TEST(ChainTest, RefusesAnEmptyListOrAMissingAlgorithm) {
  StatusOr<std::unique_ptr<Algorithm>> empty = Chain({});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("algorithms must list at least one"));
  std::vector<std::unique_ptr<Algorithm>> with_null = List(Must(RandomSearch(1)));
  with_null.push_back(nullptr);
  StatusOr<std::unique_ptr<Algorithm>> missing = Chain(std::move(with_null));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("Chain: algorithms[1] is missing"));
}

}  // namespace
}  // namespace sherpa
