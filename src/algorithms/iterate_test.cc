// Tests of Iterate (sherpa/algorithms.h), driven through sherpa::Study.

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
  if (!space.ok()) {
    ADD_FAILURE() << space.status();
    return ParameterSpace();
  }
  return std::move(space).value();
}

ParameterSpace Space() {
  return MakeSpace({Continuous("lr", {1e-4, 1e-1}, Scale::kLog), Discrete("layers", {1, 8}),
                    Choice("activation", {"relu", "tanh"})});
}

TEST(IterateTest, HandsOutTheConfigurationsInOrderThenDone) {
  const std::vector<ParameterValues> hp_iter = {
      {{"lr", 0.01}, {"layers", 2}, {"activation", "relu"}},
      {{"lr", 0.001}, {"layers", 8}, {"activation", "tanh"}},
      {{"lr", 0.01}, {"layers", 2}, {"activation", "relu"}},  // repeats are allowed
  };
  StatusOr<std::unique_ptr<Algorithm>> iterate = Iterate(Space(), hp_iter);
  ASSERT_TRUE(iterate.ok()) << iterate.status();
  EXPECT_EQ((*iterate)->name(), "Iterate");
  Study study(Space(), std::move(iterate).value(), true, nullptr, 1);
  // Handed out without waiting for results, like a parallel runner would.
  for (size_t i = 0; i < hp_iter.size(); ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(s->is_trial());
    EXPECT_EQ(s->trial().id, static_cast<TrialId>(i + 1));
    EXPECT_EQ(s->trial().parameters, hp_iter[i]);
  }
  for (int k = 0; k < 3; ++k) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->is_done());
  }
}

TEST(IterateTest, AnIntegerForAContinuousParameterIsTakenAsANumber) {
  const ParameterSpace space = MakeSpace({Continuous("x", {0.0, 5.0})});
  StatusOr<std::unique_ptr<Algorithm>> iterate = Iterate(space, {{{"x", 2}}});
  ASSERT_TRUE(iterate.ok()) << iterate.status();
  Study study(space, std::move(iterate).value(), true);
  StatusOr<Suggestion> s = study.get_suggestion();
  ASSERT_TRUE(s.ok() && s->is_trial());
  const Value& x = s->trial().parameters.at("x");
  EXPECT_TRUE(x.is_double());
  EXPECT_EQ(x.as_number(), 2.0);
}

std::string ErrorOf(std::vector<ParameterValues> hp_iter) {
  StatusOr<std::unique_ptr<Algorithm>> iterate = Iterate(Space(), std::move(hp_iter));
  EXPECT_FALSE(iterate.ok());
  if (iterate.ok()) return "";
  EXPECT_EQ(iterate.status().code(), StatusCode::kInvalidArgument);
  return iterate.status().message();
}

TEST(IterateTest, RefusesConfigurationsOutsideTheSpaceNamingIndexAndParameter) {
  const ParameterValues good = {{"lr", 0.01}, {"layers", 2}, {"activation", "relu"}};
  EXPECT_THAT(ErrorOf({}), HasSubstr("hp_iter must list at least one configuration"));

  ParameterValues missing = good;
  missing.erase("layers");
  EXPECT_THAT(ErrorOf({good, missing}),
              HasSubstr("Iterate: hp_iter[1] gives no value for parameter 'layers'"));

  ParameterValues unknown = good;
  unknown["momentum"] = 0.9;
  EXPECT_THAT(ErrorOf({unknown}),
              HasSubstr("hp_iter[0] sets 'momentum', which is not a parameter of the study"));

  ParameterValues outside = good;
  outside["lr"] = 0.5;
  EXPECT_THAT(ErrorOf({good, good, outside}), HasSubstr("hp_iter[2]['lr'] = 0.5"));

  ParameterValues wrong_type = good;
  wrong_type["layers"] = 2.5;
  EXPECT_THAT(ErrorOf({wrong_type}), HasSubstr("hp_iter[0]['layers'] = 2.5 (double)"));

  ParameterValues not_listed = good;
  not_listed["activation"] = "gelu";
  EXPECT_THAT(ErrorOf({not_listed}), HasSubstr("expected one of relu tanh"));
}

}  // namespace
}  // namespace sherpa
