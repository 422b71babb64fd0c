#include "sherpa/study_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sherpa {
namespace {

using ::testing::HasSubstr;

constexpr char kPbtSpec[] = R"(
parameters:
  - {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
  - {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}
algorithm:
  name: PopulationBasedTraining
  population_size: 10
  num_generations: 4
  parameter_range: {lr: [0, 1], batch_size: [16, 32, 64, 128]}
  exploit: truncation
lower_is_better: false
command: python3 trial.py
max_concurrent: 3
output_dir: out
seed: 7
scheduler: {name: local, resources: [0, 1], cuda_visible_devices: true}
stopping_rule: {name: MedianStoppingRule, min_iterations: 2}
resubmit_failed_trials: true
)";

std::string ErrorOf(std::string_view text, const SpecOverrides& overrides = {}) {
  StatusOr<OptimizeOptions> o = LoadStudySpec(text, "study.yaml", overrides);
  EXPECT_FALSE(o.ok());
  if (o.ok()) return "";
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << o.status();
  return o.status().message();
}

TEST(StudySpecTest, ReadsEveryField) {
  StatusOr<OptimizeOptions> o = LoadStudySpec(kPbtSpec, "study.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->parameters.size(), 2u);
  ASSERT_NE(o->algorithm, nullptr);
  EXPECT_EQ(o->algorithm->name(), "PopulationBasedTraining");
  EXPECT_FALSE(o->lower_is_better);
  EXPECT_EQ(o->command, "python3 trial.py");
  EXPECT_EQ(o->max_concurrent, 3u);
  EXPECT_EQ(o->output_dir, "out");
  EXPECT_EQ(o->seed, 7u);
  EXPECT_EQ(o->scheduler.resources, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(o->scheduler.set_cuda_visible_devices);
  ASSERT_NE(o->stopping_rule, nullptr);
  EXPECT_TRUE(o->resubmit_failed_trials);
  EXPECT_THAT(o->spec_json, HasSubstr("PopulationBasedTraining"));
}

TEST(StudySpecTest, JsonWorksAndTheStoredSpecRebuildsTheSameStudy) {
  StatusOr<OptimizeOptions> first = LoadStudySpec(kPbtSpec, "study.yaml");
  ASSERT_TRUE(first.ok());
  StatusOr<OptimizeOptions> again = LoadStudySpec(first->spec_json, "study.db");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->spec_json, first->spec_json);
  EXPECT_EQ(again->parameters.size(), 2u);
  EXPECT_EQ(again->seed, 7u);
}

TEST(StudySpecTest, CommandLineOverridesWinAndAreKeptForResume) {
  SpecOverrides overrides;
  overrides.max_concurrent = 8;
  overrides.seed = 99;
  overrides.command = "./trial";
  overrides.port = 5000;
  StatusOr<OptimizeOptions> o = LoadStudySpec(kPbtSpec, "study.yaml", overrides);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_concurrent, 8u);
  EXPECT_EQ(o->seed, 99u);
  EXPECT_EQ(o->command, "./trial");
  EXPECT_EQ(o->port, 5000);
  StatusOr<OptimizeOptions> resumed = LoadStudySpec(o->spec_json, "study.db");
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->max_concurrent, 8u);
}

TEST(StudySpecTest, AlgorithmsByNameWithDefaults) {
  const char* base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> random =
      LoadStudySpec(std::string(base) + "algorithm: RandomSearch\n", "s.yaml");
  ASSERT_TRUE(random.ok()) << random.status();
  EXPECT_EQ(random->algorithm->name(), "RandomSearch");
  StatusOr<OptimizeOptions> grid = LoadStudySpec(
      std::string(base) + "algorithm: {name: GridSearch, num_grid_points: 3}\n", "s.yaml");
  ASSERT_TRUE(grid.ok()) << grid.status();
  EXPECT_EQ(grid->algorithm->name(), "GridSearch");
  EXPECT_EQ(grid->max_concurrent, 1u);
}

TEST(StudySpecTest, ClusterSchedulers) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
algorithm: RandomSearch
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> o =
      LoadStudySpec(base +
                        "scheduler: {name: slurm, submit_options: \"--gres=gpu:1 --time=10\", "
                        "environment: env.sh, poll_interval: 0.5, kill_grace: 2}\n",
                    "study.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scheduler.name, "slurm");
  EXPECT_EQ(o->scheduler.submit_options, "--gres=gpu:1 --time=10");
  EXPECT_EQ(o->scheduler.environment, "env.sh");
  EXPECT_EQ(o->scheduler.poll_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(o->scheduler.kill_grace, std::chrono::milliseconds(2000));
  EXPECT_EQ(o->host, "");  // the runner picks this host's name for clusters
  o = LoadStudySpec(base + "scheduler: sge\n", "study.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scheduler.name, "sge");
  EXPECT_EQ(o->scheduler.poll_interval, std::chrono::milliseconds(1000));

  EXPECT_THAT(ErrorOf(base + "scheduler: {name: slurm, resources: [0, 1]}\n"),
              HasSubstr("scheduler.resources: only for the local scheduler; on a cluster ask for "
                        "resources with submit_options"));
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: local, submit_options: -x}\n"),
              HasSubstr("scheduler.submit_options: only for the cluster schedulers"));
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: sge, poll_interval: 0}\n"),
              HasSubstr("scheduler.poll_interval: expected seconds between 0.05 and 3600"));
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: sge, environment: 3}\n"),
              HasSubstr("scheduler.environment: expected a non-empty string"));
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: slurm, submit_option: x}\n"),
              HasSubstr("did you mean 'submit_options'?"));
  EXPECT_THAT(ErrorOf(base + "scheduler: slurn\n"), HasSubstr("did you mean 'slurm'?"));
}

TEST(StudySpecTest, SchedulerOverrideKeepsTheSpecsSettingsOnlyForTheSameScheduler) {
  const std::string spec = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
algorithm: RandomSearch
lower_is_better: true
command: ./t
scheduler: {name: slurm, submit_options: --gres=gpu:1}
)";
  SpecOverrides overrides;
  overrides.scheduler = "slurm";
  StatusOr<OptimizeOptions> o = LoadStudySpec(spec, "study.yaml", overrides);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scheduler.submit_options, "--gres=gpu:1");
  overrides.scheduler = "local";
  o = LoadStudySpec(spec, "study.yaml", overrides);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scheduler.name, "local");
  EXPECT_EQ(o->scheduler.submit_options, "");
  EXPECT_THAT(o->spec_json, HasSubstr("\"scheduler\":\"local\""));
}

TEST(StudySpecTest, MistakesNameTheFieldAndWhatWasExpected) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, population_size: ten}\n"),
              HasSubstr("algorithm.population_size: expected an integer >= 1, got string 'ten'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, population_size: 2}\n"),
              HasSubstr("population_size must be at least 3"));
  EXPECT_THAT(ErrorOf(base + "algorithm: PopulationBasedTrainin\n"),
              HasSubstr("did you mean 'PopulationBasedTraining'?"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: RandomSearch, max_trials: 3}\n"),
              HasSubstr("unknown key 'max_trials'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: RandomSearch\nmax_concurent: 2\n"),
              HasSubstr("did you mean 'max_concurrent'?"));
  EXPECT_THAT(ErrorOf(base + "algorithm: RandomSearch\nmax_concurrent: 0\n"),
              HasSubstr("max_concurrent: expected an integer >= 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: RandomSearch\nscheduler: pbs\n"),
              HasSubstr("scheduler.name: unknown 'pbs'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: RandomSearch\nstopping_rule: {name: MedianStoppingRule, "
                             "min_trials: 0}\n"),
              HasSubstr("stopping_rule.min_trials: expected an integer >= 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, exploit: best}\n"),
              HasSubstr("algorithm.exploit: expected top_third or truncation"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, parameter_range: {y: [0, "
                             "1]}}\n"),
              HasSubstr("parameter_range names 'y'"));
  EXPECT_THAT(ErrorOf("parameters: [{name: x, type: continuous, range: [0, 1]}]\nalgorithm: "
                      "RandomSearch\ncommand: ./t\n"),
              HasSubstr("lower_is_better is missing"));
  EXPECT_THAT(ErrorOf(R"(parameters: [{name: x, type: continuous, range: [1, 0]}]
algorithm: RandomSearch
lower_is_better: true
command: ./t
)"),
              HasSubstr("parameter 'x': lower bound must be below upper bound"));
  EXPECT_THAT(ErrorOf("parameters: [\n"), HasSubstr("study.yaml"));
  EXPECT_THAT(ErrorOf("- just\n- a list\n"), HasSubstr("expected a mapping of study fields"));
}

// Found by fuzz/study_spec_yaml_fuzz: yaml-cpp passes bytes that are not
// UTF-8 through, and dumping spec_json then threw out of LoadStudySpec.
TEST(StudySpecTest, TextThatIsNotUtf8IsAnErrorNotACrash) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
algorithm: RandomSearch
lower_is_better: true
)";
  EXPECT_THAT(ErrorOf(base + "command: ./t \xee\x80\n"),
              HasSubstr("line 4, column 10: text that is not UTF-8"));
  EXPECT_THAT(ErrorOf(base + "command: ./t\n\xc0\xaf: 1\n"), HasSubstr("not UTF-8"));  // overlong
  EXPECT_THAT(ErrorOf(base + "command: \"\xed\xa0\x80\"\n"), HasSubstr("not UTF-8"));  // surrogate
  StatusOr<OptimizeOptions> o =
      LoadStudySpec(base + "command: ./t \xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82\n", "s");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "./t \xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82");
  EXPECT_TRUE(LoadStudySpec(o->spec_json, "study.db").ok());
}

// kill_grace * 1000 cast to int64_t overflowed (UBSan, on a hand-made input
// run through fuzz/study_spec_yaml_fuzz); next to it, trial_timeout
// overflowed later, in the runner's steady_clock arithmetic, and
// max_resubmits was narrowed to a negative int.
TEST(StudySpecTest, DurationsAndCountsThatWouldOverflowAreRejected) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
algorithm: RandomSearch
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: local, kill_grace: 1e300}\n"),
              HasSubstr("scheduler.kill_grace: expected seconds from 0 to 31536000 (a year)"));
  EXPECT_THAT(ErrorOf(base + "scheduler: {name: local, kill_grace: .inf}\n"),
              HasSubstr("scheduler.kill_grace"));
  EXPECT_THAT(ErrorOf(base + "trial_timeout: 10000000000\n"),
              HasSubstr("trial_timeout: expected an integer from 0 to 31536000"));
  EXPECT_THAT(ErrorOf(base + "max_resubmits: 4294967295\n"),
              HasSubstr("max_resubmits: expected an integer from 0 to 2147483647"));
  StatusOr<OptimizeOptions> o = LoadStudySpec(
      base + "scheduler: {name: local, kill_grace: 31536000}\ntrial_timeout: 31536000\n", "s");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scheduler.kill_grace, std::chrono::seconds(31536000));
  EXPECT_EQ(o->trial_timeout, std::chrono::seconds(31536000));
}

}  // namespace
}  // namespace sherpa
