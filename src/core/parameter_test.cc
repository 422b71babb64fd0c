#include "sherpa/parameter.h"

#include <cmath>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The message of the error ParameterSpace::Create returns for `p`.
std::string ErrorFor(Parameter p) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create({std::move(p)});
  EXPECT_FALSE(space.ok());
  if (space.ok()) return "";
  EXPECT_EQ(space.status().code(), StatusCode::kInvalidArgument);
  return space.status().message();
}

TEST(ParameterTest, ContinuousSamplesDoublesInsideItsRange) {
  Parameter p = Continuous("dropout", {0.1, 0.5});
  ASSERT_TRUE(p.Validate().ok());
  Rng rng(1);
  double lo = 1, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    Value v = p.Sample(rng);
    ASSERT_TRUE(v.is_double());
    ASSERT_TRUE(p.Contains(v));
    lo = std::min(lo, v.as_number());
    hi = std::max(hi, v.as_number());
  }
  EXPECT_LT(lo, 0.11);
  EXPECT_GT(hi, 0.49);
}

TEST(ParameterTest, LogScaleSpreadsSamplesEvenlyOverDecades) {
  Parameter p = Continuous("lr", {1e-5, 1e-1}, Scale::kLog);
  Rng rng(2);
  int per_decade[4] = {0, 0, 0, 0};
  const int n = 8000;
  for (int i = 0; i < n; ++i) {
    const double v = p.Sample(rng).as_number();
    ASSERT_GE(v, 1e-5);
    ASSERT_LE(v, 1e-1);
    ++per_decade[std::min(3, static_cast<int>(std::floor(std::log10(v) + 5)))];
  }
  // Uniform in log space: each of the four decades gets about a quarter.
  for (int count : per_decade) EXPECT_NEAR(count, n / 4, n / 20);
}

TEST(ParameterTest, DiscreteSamplesIntegersWithBothBoundsReachable) {
  Parameter p = Discrete("layers", {1, 4});
  Rng rng(3);
  std::set<int64_t> seen;
  for (int i = 0; i < 500; ++i) {
    Value v = p.Sample(rng);
    ASSERT_TRUE(v.is_int());
    seen.insert(v.as_int());
  }
  EXPECT_EQ(seen, (std::set<int64_t>{1, 2, 3, 4}));  // SHERPA never drew 4
}

TEST(ParameterTest, LogDiscreteStaysIntegerAndReachesUpperBound) {
  Parameter p = Discrete("units", {1, 1000}, Scale::kLog);
  ASSERT_TRUE(p.Validate().ok());
  Rng rng(4);
  int small = 0;
  int64_t max_seen = 0;
  for (int i = 0; i < 4000; ++i) {
    Value v = p.Sample(rng);
    ASSERT_TRUE(v.is_int());
    ASSERT_TRUE(p.Contains(v));
    if (v.as_int() < 10) ++small;
    max_seen = std::max(max_seen, v.as_int());
  }
  EXPECT_NEAR(small, 4000 / 3, 200);  // one decade of three
  EXPECT_GT(max_seen, 900);
}

TEST(ParameterTest, ChoiceAndOrdinalSampleEveryValueWithItsType) {
  Parameter choice = Choice("activation", {"relu", "tanh", "sigmoid"});
  Parameter ordinal = Ordinal("batch_size", {16, 32, 64});
  Rng rng(5);
  std::set<Value> seen_choice, seen_ordinal;
  for (int i = 0; i < 300; ++i) {
    seen_choice.insert(choice.Sample(rng));
    seen_ordinal.insert(ordinal.Sample(rng));
  }
  EXPECT_EQ(seen_choice, (std::set<Value>{"relu", "tanh", "sigmoid"}));
  EXPECT_EQ(seen_ordinal, (std::set<Value>{16, 32, 64}));
  EXPECT_EQ(ordinal.value_type(), Value::Type::kInt);
  EXPECT_EQ(choice.value_type(), Value::Type::kString);
}

TEST(ParameterTest, ListsMixingIntegersAndDoublesHoldDoubles) {
  Parameter p = Ordinal("momentum", {0, 0.5, 0.9});
  ASSERT_TRUE(p.Validate().ok());
  EXPECT_EQ(p.value_type(), Value::Type::kDouble);
  EXPECT_TRUE(p.Contains(Value(0.0)));
  EXPECT_FALSE(p.Contains(Value(0)));
}

TEST(ParameterTest, ContainsChecksTypeAndRange) {
  Parameter c = Continuous("x", {0, 1});
  EXPECT_TRUE(c.Contains(0.0));
  EXPECT_TRUE(c.Contains(1.0));
  EXPECT_FALSE(c.Contains(1.5));
  EXPECT_FALSE(c.Contains(1));  // an int is not a value of a continuous parameter
  Parameter d = Discrete("n", {1, 3});
  EXPECT_TRUE(d.Contains(3));
  EXPECT_FALSE(d.Contains(2.0));
}

TEST(ParameterRefusalTest, EmptyName) {
  EXPECT_THAT(ErrorFor(Continuous("", {0, 1})), HasSubstr("empty name"));
}

TEST(ParameterRefusalTest, LowerBoundNotBelowUpperBound) {
  EXPECT_THAT(ErrorFor(Continuous("lr", {1, 1})),
              AllOf(HasSubstr("'lr'"), HasSubstr("lower bound must be below upper bound")));
  EXPECT_THAT(ErrorFor(Discrete("layers", {5, 2})), HasSubstr("'layers'"));
}

TEST(ParameterRefusalTest, NonFiniteBounds) {
  EXPECT_THAT(ErrorFor(Continuous("x", {0, INFINITY})), HasSubstr("finite"));
  EXPECT_THAT(ErrorFor(Continuous("x", {NAN, 1})), HasSubstr("finite"));
}

TEST(ParameterRefusalTest, LogScaleWithBoundAtOrBelowZero) {
  EXPECT_THAT(ErrorFor(Continuous("lr", {0, 1}, Scale::kLog)),
              AllOf(HasSubstr("'lr'"), HasSubstr("log scale needs bounds > 0")));
  EXPECT_THAT(ErrorFor(Discrete("units", {-1, 10}, Scale::kLog)), HasSubstr("'units'"));
}

TEST(ParameterRefusalTest, EmptyLists) {
  EXPECT_THAT(ErrorFor(Choice("act", {})), AllOf(HasSubstr("'act'"), HasSubstr("at least one")));
  EXPECT_THAT(ErrorFor(Ordinal("bs", {})), HasSubstr("'bs'"));
}

TEST(ParameterRefusalTest, ListsMixingStringsAndNumbers) {
  EXPECT_THAT(ErrorFor(Choice("act", {"relu", 1})),
              AllOf(HasSubstr("'act'"), HasSubstr("mix strings and numbers")));
  EXPECT_THAT(ErrorFor(Ordinal("bs", {16, "32"})), HasSubstr("mix strings and numbers"));
}

TEST(ParameterRefusalTest, RepeatedListValues) {
  EXPECT_THAT(ErrorFor(Ordinal("bs", {16, 32, 16})), HasSubstr("appears twice"));
}

TEST(ParameterSpaceTest, RefusesDuplicateNames) {
  StatusOr<ParameterSpace> space =
      ParameterSpace::Create({Continuous("lr", {0, 1}), Discrete("lr", {1, 2})});
  ASSERT_FALSE(space.ok());
  EXPECT_THAT(space.status().message(), AllOf(HasSubstr("'lr'"), HasSubstr("twice")));
}

TEST(ParameterSpaceTest, FindsParametersAndSamplesEachOnce) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(
      {Continuous("lr", {1e-3, 1e-1}, Scale::kLog), Choice("act", {"relu", "tanh"})});
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->size(), 2u);
  ASSERT_NE(space->Find("act"), nullptr);
  EXPECT_EQ(space->Find("act")->type(), ParameterType::kChoice);
  EXPECT_EQ(space->Find("missing"), nullptr);
  Rng rng(6);
  ParameterValues values = space->Sample(rng);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_TRUE(space->Find("lr")->Contains(values["lr"]));
  EXPECT_TRUE(space->Find("act")->Contains(values["act"]));
}

TEST(ParameterSpaceTest, SameSeedSameSamples) {
  auto space = ParameterSpace::Create({Continuous("a", {0, 1}), Discrete("b", {0, 100})});
  ASSERT_TRUE(space.ok());
  Rng r1(42), r2(42), r3(43);
  ParameterValues first = space->Sample(r1);
  EXPECT_EQ(first, space->Sample(r2));
  EXPECT_NE(first, space->Sample(r3));
}

}  // namespace
}  // namespace sherpa
