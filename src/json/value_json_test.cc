#include "json/value_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa::json {
namespace {

using ::testing::HasSubstr;

TEST(ValueJsonTest, TypesSurviveARoundTripThroughText) {
  ParameterValues values{
      {"lr", Value(1.0)}, {"layers", Value(3)}, {"act", Value("relu")}, {"lineage", Value("1,4,")}};
  const std::string text = ToJson(values).dump();
  EXPECT_THAT(text, HasSubstr("\"lr\":1.0"));  // a double keeps its '.'
  EXPECT_THAT(text, HasSubstr("\"layers\":3"));
  StatusOr<Json> parsed = Parse(text);
  ASSERT_TRUE(parsed.ok());
  StatusOr<ParameterValues> back = ValuesFromJson(*parsed, "parameters");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, values);
  EXPECT_TRUE(back->at("lr").is_double());
  EXPECT_TRUE(back->at("layers").is_int());
}

TEST(ValueJsonTest, ObservationFieldsAreCheckedAndNamed) {
  auto parse = [](std::string_view text) { return ObservationFromJson(*Parse(text), ""); };
  StatusOr<Observation> ok = parse(R"({"iteration": 2, "objective": 0.5, "context": {"a": 1}})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->iteration, 2);
  EXPECT_EQ(ok->objective, 0.5);
  EXPECT_EQ(ok->context.at("a"), Value(1));
  EXPECT_TRUE(parse(R"({"iteration": 2.0, "objective": 1})").ok());

  EXPECT_THAT(parse(R"({"objective": 0.5})").status().message(), HasSubstr("iteration is missing"));
  EXPECT_THAT(parse(R"({"iteration": "2", "objective": 0.5})").status().message(),
              HasSubstr("iteration: expected an integer, got a string"));
  EXPECT_THAT(parse(R"({"iteration": 1, "objective": null})").status().message(),
              HasSubstr("objective: expected a number"));
  EXPECT_THAT(
      parse(R"({"iteration": 1, "objective": 1, "context": {"x": [1]}})").status().message(),
      HasSubstr("context.x: expected a number or a string, got a list"));
  EXPECT_THAT(parse(R"({"iteration": 1, "objective": 1, "iter": 3})").status().message(),
              HasSubstr("iter: unknown field"));
  EXPECT_THAT(parse("[1, 2]").status().message(), HasSubstr("expected a JSON object"));
}

TEST(ValueJsonTest, MalformedTextIsAnErrorNotAnException) {
  StatusOr<Json> bad = Parse("{\"iteration\": ");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("malformed JSON"));
  EXPECT_FALSE(Parse("NaN").ok());
}

TEST(ValueJsonTest, TrialRoundTrip) {
  Trial trial{7, {{"save_to", Value("7")}, {"generation", Value(2)}}};
  StatusOr<Trial> back = TrialFromJson(*Parse(ToJson(trial).dump()), "trial");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, 7);
  EXPECT_EQ(back->parameters, trial.parameters);
  EXPECT_THAT(TrialFromJson(Json{{"id", 1}}, "trial").status().message(),
              HasSubstr("trial.parameters is missing"));
}

}  // namespace
}  // namespace sherpa::json
