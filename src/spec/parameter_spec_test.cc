#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/json_tree.h"

#include "sherpa/parameter.h"
#include "sherpa/spec.h"
#include "sherpa/status.h"
#include "sherpa/value.h"

namespace sherpa {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

void ExpectSameSpace(const ParameterSpace& got, const ParameterSpace& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("parameter " + want[i].name());
    EXPECT_EQ(got[i].name(), want[i].name());
    EXPECT_EQ(got[i].type(), want[i].type());
    EXPECT_EQ(got[i].scale(), want[i].scale());
    // Value equality includes the type: 1 != 1.0 != "1".
    EXPECT_EQ(got[i].range(), want[i].range());
  }
}

ParameterSpace MakeSpace(std::vector<Parameter> parameters) {
  StatusOr<ParameterSpace> space = ParameterSpace::Create(std::move(parameters));
  EXPECT_TRUE(space.ok()) << space.status();
  return space.ok() ? *space : ParameterSpace();
}

// The error message of a parse that must fail.
std::string JsonError(std::string_view text) {
  StatusOr<ParameterSpace> space = ParseParametersJson(text);
  EXPECT_FALSE(space.ok()) << "parsed: " << text;
  if (space.ok()) return "";
  EXPECT_EQ(space.status().code(), StatusCode::kInvalidArgument) << space.status();
  return space.status().message();
}

std::string YamlError(std::string_view text) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(text);
  EXPECT_FALSE(space.ok()) << "parsed: " << text;
  if (space.ok()) return "";
  EXPECT_EQ(space.status().code(), StatusCode::kInvalidArgument) << space.status();
  return space.status().message();
}

constexpr char kExampleYaml[] = R"(
- {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
- {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}
- {name: activation, type: choice, range: [relu, tanh]}
- {name: layers, type: discrete, range: [1, 8]}
)";

ParameterSpace ExampleSpace() {
  return MakeSpace({Continuous("lr", {1e-4, 0.1}, Scale::kLog),
                    Ordinal("batch_size", {16, 32, 64, 128}),
                    Choice("activation", {"relu", "tanh"}), Discrete("layers", {1, 8})});
}

// ---------------------------------------------------------------------------
// Reading JSON

TEST(ParseParametersJsonTest, ReadsEveryKindWithItsTypes) {
  StatusOr<ParameterSpace> space = ParseParametersJson(R"([
    {"name": "lr", "type": "continuous", "range": [0.0001, 0.1], "scale": "log"},
    {"name": "momentum", "type": "continuous", "range": [0, 1]},
    {"name": "layers", "type": "discrete", "range": [1, 8]},
    {"name": "activation", "type": "choice", "range": ["relu", "tanh"], "scale": "linear"},
    {"name": "batch_size", "type": "ordinal", "range": [16, 32, 64]},
    {"name": "dropout", "type": "ordinal", "range": [0.1, 0.25, 0.5]}
  ])");
  ASSERT_TRUE(space.ok()) << space.status();
  ASSERT_EQ(space->size(), 6u);

  const Parameter& lr = (*space)[0];
  EXPECT_EQ(lr.name(), "lr");
  EXPECT_EQ(lr.type(), ParameterType::kContinuous);
  EXPECT_EQ(lr.scale(), Scale::kLog);
  EXPECT_EQ(lr.range(), (std::vector<Value>{0.0001, 0.1}));

  // Integer bounds of a continuous parameter become doubles.
  const Parameter& momentum = (*space)[1];
  EXPECT_EQ(momentum.scale(), Scale::kLinear);
  ASSERT_EQ(momentum.range().size(), 2u);
  EXPECT_TRUE(momentum.range()[0].is_double());
  EXPECT_TRUE(momentum.range()[1].is_double());

  const Parameter& layers = (*space)[2];
  EXPECT_EQ(layers.type(), ParameterType::kDiscrete);
  EXPECT_EQ(layers.range(), (std::vector<Value>{1, 8}));
  EXPECT_TRUE(layers.range()[0].is_int());

  const Parameter& activation = (*space)[3];
  EXPECT_EQ(activation.type(), ParameterType::kChoice);
  EXPECT_EQ(activation.range(), (std::vector<Value>{"relu", "tanh"}));

  const Parameter& batch = (*space)[4];
  EXPECT_EQ(batch.type(), ParameterType::kOrdinal);
  EXPECT_EQ(batch.range(), (std::vector<Value>{16, 32, 64}));
  EXPECT_EQ(batch.value_type(), Value::Type::kInt);

  EXPECT_EQ((*space)[5].value_type(), Value::Type::kDouble);
}

TEST(ParseParametersJsonTest, KeepsStringNumbersAsStrings) {
  StatusOr<ParameterSpace> space =
      ParseParametersJson(R"([{"name": "n", "type": "ordinal", "range": ["1", "2"]}])");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ((*space)[0].range(), (std::vector<Value>{"1", "2"}));
}

TEST(ParseParametersJsonTest, DiscreteAcceptsIntegralDoubles) {
  StatusOr<ParameterSpace> space =
      ParseParametersJson(R"([{"name": "k", "type": "discrete", "range": [2.0, 10]}])");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ((*space)[0].range(), (std::vector<Value>{2, 10}));
  EXPECT_TRUE((*space)[0].range()[0].is_int());
}

TEST(ParseParametersJsonTest, MixedIntegersAndDoublesInAListAreDoubles) {
  StatusOr<ParameterSpace> space =
      ParseParametersJson(R"([{"name": "c", "type": "choice", "range": [1, 2.5]}])");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ((*space)[0].range(), (std::vector<Value>{1.0, 2.5}));
}

TEST(ParseParametersJsonTest, ReadsTheMappingFormInWrittenOrder) {
  StatusOr<ParameterSpace> space = ParseParametersJson(R"({
    "zeta": {"type": "choice", "range": ["a", "b"]},
    "alpha": {"type": "continuous", "range": [0.5, 1.5]}
  })");
  ASSERT_TRUE(space.ok()) << space.status();
  ASSERT_EQ(space->size(), 2u);
  EXPECT_EQ((*space)[0].name(), "zeta");
  EXPECT_EQ((*space)[1].name(), "alpha");
}

TEST(ParseParametersJsonTest, AcceptsAnEmptyList) {
  StatusOr<ParameterSpace> space = ParseParametersJson("[]");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_TRUE(space->empty());
}

// ---------------------------------------------------------------------------
// Reading YAML

TEST(ParseParametersYamlTest, ReadsTheDocumentedExample) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(kExampleYaml);
  ASSERT_TRUE(space.ok()) << space.status();
  ExpectSameSpace(*space, ExampleSpace());
  EXPECT_TRUE((*space)[0].range()[0].is_double());
  EXPECT_TRUE((*space)[1].range()[0].is_int());
  EXPECT_TRUE((*space)[2].range()[0].is_string());
  EXPECT_TRUE((*space)[3].range()[0].is_int());
}

TEST(ParseParametersYamlTest, ReadsBlockStyle) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(R"(
- name: lr
  type: continuous
  range:
    - 0.001
    - 1
  scale: log
- name: optimizer
  type: choice
  range: [adam, sgd]
)");
  ASSERT_TRUE(space.ok()) << space.status();
  ExpectSameSpace(*space, MakeSpace({Continuous("lr", {0.001, 1.0}, Scale::kLog),
                                     Choice("optimizer", {"adam", "sgd"})}));
}

TEST(ParseParametersYamlTest, TypesPlainScalarsLikeYaml12) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(R"(
- {name: numbers, type: ordinal, range: [1e-3, 1.0e-4, .5, -0.1, 2., +0.25, 1E2]}
- {name: ints, type: ordinal, range: [-3, +4, 0x10, 0o17, 9223372036854775807, -9223372036854775808]}
- {name: words, type: choice, range: [relu, y, n, inf, nan, 1a, "1", '2.5', "true", "null"]}
)");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ((*space)[0].range(), (std::vector<Value>{1e-3, 1.0e-4, 0.5, -0.1, 2.0, 0.25, 100.0}));
  EXPECT_EQ((*space)[1].range(),
            (std::vector<Value>{-3, 4, 16, 15, std::numeric_limits<int64_t>::max(),
                                std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ((*space)[2].range(),
            (std::vector<Value>{"relu", "y", "n", "inf", "nan", "1a", "1", "2.5", "true", "null"}));
}

TEST(ParseParametersYamlTest, ExplicitTagsSelectTheType) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(
      "- {name: t, type: ordinal, range: [!!str 1, !!str 2]}\n"
      "- {name: f, type: ordinal, range: [!!float 1, 2.5]}\n");
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ((*space)[0].range(), (std::vector<Value>{"1", "2"}));
  EXPECT_EQ((*space)[1].range(), (std::vector<Value>{1.0, 2.5}));
}

TEST(ParseParametersYamlTest, ReadsTheMappingFormInWrittenOrder) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(R"(
lr: {type: continuous, range: [1.0e-4, 0.1], scale: log}
activation: {type: choice, range: [relu, tanh], name: activation}
batch_size:
  type: ordinal
  range: [16, 32]
)");
  ASSERT_TRUE(space.ok()) << space.status();
  ExpectSameSpace(
      *space, MakeSpace({Continuous("lr", {1e-4, 0.1}, Scale::kLog),
                         Choice("activation", {"relu", "tanh"}), Ordinal("batch_size", {16, 32})}));
}

TEST(ParseParametersYamlTest, AcceptsJsonText) {
  StatusOr<ParameterSpace> space = ParseParametersYaml(
      R"([{"name": "lr", "type": "continuous", "range": [0.0001, 0.1], "scale": "log"},
          {"name": "n", "type": "ordinal", "range": ["1", "2"]}])");
  ASSERT_TRUE(space.ok()) << space.status();
  ExpectSameSpace(
      *space, MakeSpace({Continuous("lr", {1e-4, 0.1}, Scale::kLog), Ordinal("n", {"1", "2"})}));
}

// ---------------------------------------------------------------------------
// Writing and round trips

TEST(ParametersToTextTest, WritesOneParameterPerLine) {
  EXPECT_EQ(ParametersToYaml(ExampleSpace()),
            "- {name: lr, type: continuous, range: [0.0001, 0.1], scale: log}\n"
            "- {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}\n"
            "- {name: activation, type: choice, range: [relu, tanh]}\n"
            "- {name: layers, type: discrete, range: [1, 8], scale: linear}\n");
  EXPECT_EQ(ParametersToJson(ExampleSpace()),
            "[\n"
            "  {\"name\": \"lr\", \"type\": \"continuous\", \"range\": [0.0001, 0.1], "
            "\"scale\": \"log\"},\n"
            "  {\"name\": \"batch_size\", \"type\": \"ordinal\", \"range\": [16, 32, 64, 128]},\n"
            "  {\"name\": \"activation\", \"type\": \"choice\", \"range\": [\"relu\", \"tanh\"]},\n"
            "  {\"name\": \"layers\", \"type\": \"discrete\", \"range\": [1, 8], "
            "\"scale\": \"linear\"}\n"
            "]\n");
}

TEST(ParametersToTextTest, WritesAnEmptySpaceAsAnEmptyList) {
  EXPECT_EQ(ParametersToJson(ParameterSpace()), "[]\n");
  EXPECT_EQ(ParametersToYaml(ParameterSpace()), "[]\n");
  StatusOr<ParameterSpace> from_yaml = ParseParametersYaml(ParametersToYaml(ParameterSpace()));
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  EXPECT_TRUE(from_yaml->empty());
}

// Values that a careless writer would turn into another type or break.
ParameterSpace TrickySpace() {
  return MakeSpace({
      Continuous("whole", {1.0, 2.0}),
      Continuous("tiny", {1e-300, 0.1}, Scale::kLog),
      Continuous("big", {-1e20, 3.0000000000000004}),
      Continuous("subnormal", {5e-324, 1e-310}),
      Discrete("counts", {-5, std::numeric_limits<int64_t>::max()}),
      Discrete("log counts", {1, 1024}, Scale::kLog),
      Ordinal("digits", {"1", "2", "10"}),
      Ordinal("doubles", {0.1, 1.0, 10.0}),
      Choice("words", {"true",
                       "false",
                       "yes",
                       "no",
                       "on",
                       "off",
                       "null",
                       "~",
                       "",
                       "y",
                       "N",
                       "1e3",
                       ".5",
                       "0x10",
                       "-",
                       "a b",
                       "x: y",
                       "#tag",
                       "[list]",
                       "{map}",
                       "quote\"back\\slash",
                       "new\nline\ttab",
                       "\x7f\x01",
                       "caf\xc3\xa9",
                       "- dash",
                       "relu",
                       "snake_case",
                       "path/to.file"}),
      Choice("name with spaces: and colon", {1, 2}),
  });
}

TEST(ParametersToTextTest, JsonRoundTripKeepsValuesAndTypes) {
  const ParameterSpace space = TrickySpace();
  const std::string json = ParametersToJson(space);
  StatusOr<ParameterSpace> back = ParseParametersJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  ExpectSameSpace(*back, space);
  // Writing again gives the same text: nothing drifts over repeated saves.
  EXPECT_EQ(ParametersToJson(*back), json);
}

TEST(ParametersToTextTest, YamlRoundTripKeepsValuesAndTypes) {
  const ParameterSpace space = TrickySpace();
  const std::string yaml = ParametersToYaml(space);
  StatusOr<ParameterSpace> back = ParseParametersYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
  ExpectSameSpace(*back, space);
  EXPECT_EQ(ParametersToYaml(*back), yaml);
}

TEST(ParametersToTextTest, YamlQuotesStringsThatWouldReadAsOtherTypes) {
  const std::string yaml =
      ParametersToYaml(MakeSpace({Ordinal("n", {"1", "2"}), Choice("b", {"yes", "relu"})}));
  EXPECT_THAT(yaml, HasSubstr("range: [\"1\", \"2\"]"));
  EXPECT_THAT(yaml, HasSubstr("range: [\"yes\", relu]"));
}

TEST(ParametersToTextTest, YamlOutputOfJsonInputRoundTrips) {
  StatusOr<ParameterSpace> from_json = ParseParametersJson(ParametersToJson(TrickySpace()));
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  StatusOr<ParameterSpace> from_yaml = ParseParametersYaml(ParametersToYaml(*from_json));
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  ExpectSameSpace(*from_yaml, TrickySpace());
}

// ---------------------------------------------------------------------------
// Refusals: each names where the problem is and what it is.

TEST(ParseParametersErrorTest, RootMustBeAListOrMapping) {
  EXPECT_THAT(JsonError(R"("lr")"), AllOf(HasSubstr("parameters: expected a list of parameters"),
                                          HasSubstr("got string 'lr'")));
  EXPECT_THAT(YamlError("42"), HasSubstr("parameters: expected a list of parameters"));
  EXPECT_THAT(YamlError(""), HasSubstr("got nothing"));
  EXPECT_THAT(YamlError("# only a comment\n"), HasSubstr("got nothing"));
}

TEST(ParseParametersErrorTest, ASingleParameterMappingGetsAHint) {
  EXPECT_THAT(YamlError("{name: lr, type: continuous, range: [0, 1]}"),
              AllOf(HasSubstr("single parameter"), HasSubstr("list item")));
}

TEST(ParseParametersErrorTest, EntryMustBeAMapping) {
  EXPECT_THAT(YamlError("- {name: a, type: choice, range: [x]}\n- lr\n"),
              AllOf(HasSubstr("parameters[1]: expected a mapping"), HasSubstr("string 'lr'")));
  EXPECT_THAT(YamlError("lr: [0, 1]\n"),
              AllOf(HasSubstr("parameters.lr: expected a mapping"), HasSubstr("a list")));
}

TEST(ParseParametersErrorTest, MissingKeysAreNamed) {
  EXPECT_THAT(YamlError("- {type: continuous, range: [0, 1]}"),
              HasSubstr("parameters[0]: missing key 'name'"));
  EXPECT_THAT(YamlError("- {name: a, type: choice, range: [x]}\n- {name: lr, range: [0, 1]}"),
              AllOf(HasSubstr("parameters[1] ('lr'): missing key 'type'"),
                    HasSubstr("continuous, discrete, choice, ordinal")));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous}"),
              AllOf(HasSubstr("parameters[0] ('lr'): missing key 'range'"), HasSubstr("[lo, hi]")));
}

TEST(ParseParametersErrorTest, NameMustBeAString) {
  EXPECT_THAT(JsonError(R"([{"name": 3, "type": "choice", "range": ["a"]}])"),
              HasSubstr("parameters[0].name: expected a string, got integer 3"));
}

TEST(ParseParametersErrorTest, EmptyNameIsExplainedWithItsPosition) {
  EXPECT_THAT(YamlError("- {name: '', type: choice, range: [a]}"),
              AllOf(HasSubstr("parameters[0]"), HasSubstr("empty name")));
}

TEST(ParseParametersErrorTest, MappingFormNameMustMatchItsKey) {
  EXPECT_THAT(
      YamlError("lr: {name: rate, type: continuous, range: [0, 1]}"),
      AllOf(HasSubstr("parameters.lr.name"), HasSubstr("'lr'"), HasSubstr("string 'rate'")));
}

TEST(ParseParametersErrorTest, UnknownKeySuggestsTheNearestOne) {
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [1.0e-4, 0.1], scael: log}"),
              AllOf(HasSubstr("parameters[0] ('lr'): unknown key 'scael'"),
                    HasSubstr("did you mean 'scale'?"),
                    HasSubstr("allowed keys: name, type, range, scale")));
  EXPECT_THAT(YamlError("- {name: lr, tpye: continuous, range: [0, 1]}"),
              HasSubstr("unknown key 'tpye'; did you mean 'type'?"));
  // Words from other tuners map to SHERPA's.
  EXPECT_THAT(YamlError("- {name: act, type: choice, values: [a, b]}"),
              HasSubstr("unknown key 'values'; did you mean 'range'?"));
}

TEST(ParseParametersErrorTest, UnknownKeyWithoutACloseMatchListsTheAllowedOnes) {
  const std::string message = YamlError("- {name: lr, type: choice, range: [a], color: red}");
  EXPECT_THAT(message, HasSubstr("unknown key 'color'"));
  EXPECT_THAT(message, Not(HasSubstr("did you mean")));
  EXPECT_THAT(message, HasSubstr("unknown key 'color'; allowed keys: name, type, range, scale"));
}

TEST(ParseParametersErrorTest, UnknownTypeListsTheValidOnes) {
  EXPECT_THAT(YamlError("- {name: a, type: choice, range: [x]}\n"
                        "- {name: lr, type: continous, range: [0, 1]}"),
              AllOf(HasSubstr("parameters[1] ('lr').type: unknown type 'continous'"),
                    HasSubstr("did you mean 'continuous'? "
                              "valid types: continuous, discrete, choice, ordinal")));
  EXPECT_THAT(YamlError("- {name: lr, type: float, range: [0, 1]}"),
              HasSubstr("did you mean 'continuous'?"));
  EXPECT_THAT(YamlError("- {name: lr, type: 7, range: [0, 1]}"),
              AllOf(HasSubstr("parameters[0] ('lr').type"), HasSubstr("got integer 7")));
}

TEST(ParseParametersErrorTest, UnknownScale) {
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [1, 2], scale: exponential}"),
              HasSubstr("parameters[0] ('lr').scale: unknown scale 'exponential'; "
                        "valid scales: linear, log"));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [1, 2], scale: true}"),
              AllOf(HasSubstr("parameters[0] ('lr').scale"), HasSubstr("boolean true")));
}

TEST(ParseParametersErrorTest, LogScaleOnAListIsRefusedButLinearIsAccepted) {
  EXPECT_THAT(YamlError("- {name: bs, type: ordinal, range: [16, 32], scale: log}"),
              AllOf(HasSubstr("parameters[0] ('bs').scale"),
                    HasSubstr("an ordinal parameter has no log scale")));
  EXPECT_TRUE(
      ParseParametersYaml("- {name: bs, type: ordinal, range: [16, 32], scale: linear}").ok());
}

TEST(ParseParametersErrorTest, RangeMustBeAList) {
  EXPECT_THAT(YamlError("- {name: act, type: choice, range: relu}"),
              AllOf(HasSubstr("parameters[0] ('act').range: expected a list of values"),
                    HasSubstr("got string 'relu'")));
  EXPECT_THAT(
      YamlError("- {name: lr, type: continuous, range: {lo: 0, hi: 1}}"),
      AllOf(HasSubstr("parameters[0] ('lr').range: expected [lo, hi]"), HasSubstr("a mapping")));
}

TEST(ParseParametersErrorTest, ContinuousRangeMustBeTwoNumbers) {
  EXPECT_THAT(
      YamlError("- {name: lr, type: continuous, range: [0, 0.5, 1]}"),
      AllOf(HasSubstr("parameters[0] ('lr').range"), HasSubstr("[lo, hi]"), HasSubstr("3 values")));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [0, high]}"),
              HasSubstr("parameters[0] ('lr').range[1]: expected a number, got string 'high'"));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: ['0', 1]}"),
              HasSubstr("range[0]: expected a number, got string '0'"));
}

TEST(ParseParametersErrorTest, DiscreteRangeMustBeTwoIntegers) {
  EXPECT_THAT(YamlError("- {name: layers, type: discrete, range: [1, 8.5]}"),
              AllOf(HasSubstr("parameters[0] ('layers').range[1]"), HasSubstr("integers"),
                    HasSubstr("8.5")));
  EXPECT_THAT(YamlError("- {name: layers, type: discrete, range: [1]}"),
              AllOf(HasSubstr("parameters[0] ('layers').range"), HasSubstr("a list of 1 value")));
  EXPECT_THAT(JsonError(R"([{"name": "k", "type": "discrete", "range": [1, 1e30]}])"),
              AllOf(HasSubstr("range[1]"), HasSubstr("out of the 64-bit integer range")));
}

TEST(ParseParametersErrorTest, BooleansNullAndNestingAreRefusedInLists) {
  EXPECT_THAT(YamlError("- {name: flag, type: choice, range: [true, false]}"),
              AllOf(HasSubstr("parameters[0] ('flag').range[0]"),
                    HasSubstr("booleans are not supported"), HasSubstr("quote")));
  // YAML 1.1 booleans are refused rather than silently read either way.
  EXPECT_THAT(YamlError("- {name: answer, type: choice, range: [maybe, yes, no]}"),
              AllOf(HasSubstr("parameters[0] ('answer').range[1]"),
                    HasSubstr("booleans are not supported")));
  EXPECT_THAT(
      YamlError("- {name: opt, type: choice, range: [a, null]}"),
      AllOf(HasSubstr("parameters[0] ('opt').range[1]"), HasSubstr("null is not supported")));
  EXPECT_THAT(YamlError("- {name: opt, type: ordinal, range: [a, ~]}"),
              HasSubstr("null is not supported"));
  EXPECT_THAT(YamlError("- {name: shape, type: choice, range: [[1, 2], [3, 4]]}"),
              AllOf(HasSubstr("parameters[0] ('shape').range[0]"),
                    HasSubstr("nested lists are not supported")));
  EXPECT_THAT(JsonError(R"([{"name": "m", "type": "ordinal", "range": [{"a": 1}]}])"),
              AllOf(HasSubstr("parameters[0] ('m').range[0]"), HasSubstr("mappings")));
}

TEST(ParseParametersErrorTest, SpaceValidationNamesTheEntry) {
  EXPECT_THAT(YamlError("- {name: a, type: choice, range: [x]}\n"
                        "- {name: lr, type: continuous, range: [0, 0.1], scale: log}"),
              AllOf(HasSubstr("parameters[1]"), HasSubstr("'lr'"), HasSubstr("log scale")));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [1, 1]}"),
              AllOf(HasSubstr("parameters[0]"), HasSubstr("lower bound must be below")));
  EXPECT_THAT(YamlError("- {name: act, type: choice, range: []}"),
              AllOf(HasSubstr("parameters[0]"), HasSubstr("at least one value")));
  EXPECT_THAT(YamlError("- {name: act, type: choice, range: [relu, 1]}"),
              HasSubstr("mix strings and numbers"));
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [0, .inf]}"),
              AllOf(HasSubstr("parameters[0]"), HasSubstr("finite")));
  EXPECT_THAT(YamlError("- {name: lr, type: choice, range: [a]}\n"
                        "- {name: lr, type: choice, range: [b]}"),
              AllOf(HasSubstr("parameters"), HasSubstr("'lr' is defined twice")));
}

TEST(ParseParametersErrorTest, IntegersBeyond64BitsAreRefused) {
  EXPECT_THAT(YamlError("- {name: big, type: ordinal, range: [9223372036854775808]}"),
              AllOf(HasSubstr("line 1"), HasSubstr("out of the 64-bit range")));
  EXPECT_THAT(
      JsonError(R"([{"name": "big", "type": "ordinal", "range": [18446744073709551615]}])"),
      AllOf(HasSubstr("parameters[0] ('big').range[0]"), HasSubstr("out of the 64-bit range")));
  EXPECT_THAT(YamlError("- {name: huge, type: ordinal, range: [1e400]}"),
              HasSubstr("out of the range of a double"));
}

TEST(ParseParametersErrorTest, JsonSyntaxErrorGivesLineAndColumn) {
  const std::string message = JsonError("[\n  {\"name\": \"lr\",,}\n]");
  EXPECT_THAT(message, AllOf(HasSubstr("invalid JSON"), HasSubstr("line 2, column")));
  EXPECT_THAT(JsonError(""), HasSubstr("invalid JSON"));
  EXPECT_THAT(JsonError("[] []"), HasSubstr("invalid JSON"));
}

TEST(ParseParametersErrorTest, YamlSyntaxErrorGivesLineAndColumn) {
  EXPECT_THAT(YamlError("- {name: lr, type: continuous, range: [0, 1]}\n"
                        "- {name: x, type: choice, range: [a, b}\n"),
              AllOf(HasSubstr("invalid YAML at line 2, column"), HasSubstr("flow")));
  EXPECT_THAT(YamlError("- name: lr\n  type: continuous\n type: choice\n"),
              HasSubstr("invalid YAML at line 3"));
}

TEST(ParseParametersErrorTest, RepeatedKeysAreRefused) {
  EXPECT_THAT(YamlError("lr: {type: continuous, range: [0, 1]}\n"
                        "lr: {type: choice, range: [a]}\n"),
              AllOf(HasSubstr("line 2, column 1"), HasSubstr("'lr' appears twice")));
  EXPECT_THAT(JsonError(R"([{"name": "lr", "type": "choice", "type": "ordinal", "range": [1]}])"),
              AllOf(HasSubstr("'type' appears twice"), HasSubstr("[0]")));
  EXPECT_THAT(JsonError(R"({"lr": {"type": "choice", "range": [1]}, "lr": {}})"),
              AllOf(HasSubstr("'lr' appears twice"), HasSubstr("top-level")));
}

TEST(ParseParametersErrorTest, MalformedInputNeverThrows) {
  const std::vector<std::string> inputs = {
      "[",
      "]",
      "{",
      "}",
      "- [",
      "- {",
      "*alias",
      "&a [*a]",
      "!!binary abc",
      "? [a]: b",
      "- {name: [a], type: choice, range: [a]}",
      "- {name: a, type: {x: 1}, range: [a]}",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
      std::string(300, '[') + std::string(300, ']'),
      "\x01\x02\xff",
      "%YAML 9.9\n---\n[]",
      "'unterminated",
      "\"unterminated",
      "- !!float abc",
      "a: b\n- c",
      "- a\nb: c"};
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    StatusOr<ParameterSpace> json = ParseParametersJson(input);
    StatusOr<ParameterSpace> yaml = ParseParametersYaml(input);
    EXPECT_FALSE(json.ok());
    if (!yaml.ok()) {
      EXPECT_EQ(yaml.status().code(), StatusCode::kInvalidArgument) << yaml.status();
    }
  }
}

// ---------------------------------------------------------------------------
// The internal helpers other parsers reuse.

TEST(JsonTreeTest, ParametersFromJsonUsesTheCallersPath) {
  StatusOr<spec_internal::Json> tree = spec_internal::YamlToJson(R"(
study:
  parameters:
    - {name: lr, type: continuous, range: [0, 1], sacle: log}
)");
  ASSERT_TRUE(tree.ok()) << tree.status();
  StatusOr<ParameterSpace> space =
      spec_internal::ParametersFromJson((*tree)["study"]["parameters"], "study.parameters");
  ASSERT_FALSE(space.ok());
  EXPECT_THAT(space.status().message(),
              AllOf(HasSubstr("study.parameters[0] ('lr'): unknown key 'sacle'"),
                    HasSubstr("did you mean 'scale'?")));
}

TEST(JsonTreeTest, CheckKeysSuggestsAndLists) {
  StatusOr<spec_internal::Json> tree = spec_internal::ParseJsonTree(R"({"algoritm": "random"})");
  ASSERT_TRUE(tree.ok()) << tree.status();
  constexpr std::string_view kAllowed[] = {"algorithm", "parameters", "max_trials"};
  const Status status = spec_internal::CheckKeys(*tree, "study", kAllowed);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("study: unknown key 'algoritm'; did you mean 'algorithm'?"),
                    HasSubstr("allowed keys: algorithm, parameters, max_trials")));
  EXPECT_TRUE(spec_internal::CheckKeys(spec_internal::Json::object(), "study", kAllowed).ok());
}

TEST(JsonTreeTest, YamlScalarsGetJsonTypes) {
  StatusOr<spec_internal::Json> tree =
      spec_internal::YamlToJson("{i: 3, d: 3.0, s: '3', b: yes, n: ~, e: , t: text}");
  ASSERT_TRUE(tree.ok()) << tree.status();
  const spec_internal::Json& j = *tree;
  EXPECT_TRUE(j["i"].is_number_integer());
  EXPECT_TRUE(j["d"].is_number_float());
  EXPECT_TRUE(j["s"].is_string());
  EXPECT_TRUE(j["b"].is_boolean());
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_TRUE(j["e"].is_null());
  EXPECT_EQ(j["t"], "text");
}

TEST(JsonTreeTest, KeyPathQuotesKeysThatAreNotIdentifiers) {
  EXPECT_EQ(spec_internal::KeyPath("parameters", "lr"), "parameters.lr");
  EXPECT_EQ(spec_internal::KeyPath("", "lr"), "lr");
  EXPECT_EQ(spec_internal::KeyPath("parameters", "a b"), "parameters[\"a b\"]");
}

TEST(JsonTreeTest, NearestNameIgnoresFarWords) {
  constexpr std::string_view kNames[] = {"continuous", "discrete", "choice", "ordinal"};
  EXPECT_EQ(spec_internal::NearestName("Continuous", kNames), "continuous");
  EXPECT_EQ(spec_internal::NearestName("ordnial", kNames), "ordinal");
  EXPECT_EQ(spec_internal::NearestName("banana", kNames), "");
}

}  // namespace
}  // namespace sherpa
