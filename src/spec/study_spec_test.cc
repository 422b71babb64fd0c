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

TEST(StudySpecTest, ModelBasedAlgorithms) {
  const char* base = R"(parameters:
  - {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
  - {name: units, type: discrete, range: [8, 64]}
  - {name: act, type: choice, range: [relu, tanh]}
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> bo = LoadStudySpec(std::string(base) + R"(algorithm:
  name: BayesianOptimization
  max_num_trials: 20
  num_initial_data_points: 3
  initial_data_points: [{lr: 0.01, units: 16, act: relu}]
)",
                                               "s.yaml");
  ASSERT_TRUE(bo.ok()) << bo.status();
  EXPECT_EQ(bo->algorithm->name(), "BayesianOptimization");
  EXPECT_EQ(bo->max_concurrent, 1u);

  // SHERPA's name and arguments; its max_concurrent sets the study's unless
  // the study sets it.
  StatusOr<OptimizeOptions> gpyopt = LoadStudySpec(std::string(base) + R"(algorithm:
  name: GPyOpt
  model_type: GP
  acquisition_type: EI
  num_initial_data_points: infer
  max_concurrent: 4
  max_num_trials: null
)",
                                                   "s.yaml");
  ASSERT_TRUE(gpyopt.ok()) << gpyopt.status();
  EXPECT_EQ(gpyopt->algorithm->name(), "BayesianOptimization");
  EXPECT_EQ(gpyopt->max_concurrent, 4u);
  StatusOr<OptimizeOptions> both = LoadStudySpec(
      std::string(base) + "algorithm: {name: GPyOpt, max_concurrent: 4}\nmax_concurrent: 2\n",
      "s.yaml");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->max_concurrent, 2u);

  StatusOr<OptimizeOptions> pb2 = LoadStudySpec(std::string(base) + R"(algorithm:
  name: PB2
  population_size: 4
  num_generations: 10
  hyperparam_bounds: {lr: [1.0e-5, 1], units: [4, 128]}
  max_data_points: 100
)",
                                                "s.yaml");
  ASSERT_TRUE(pb2.ok()) << pb2.status();
  EXPECT_EQ(pb2->algorithm->name(), "PB2");
  StatusOr<OptimizeOptions> pb2_pbt_names = LoadStudySpec(
      std::string(base) +
          "algorithm: {name: PB2, population_size: 5, exploit: truncation, parameter_range: "
          "{lr: [1.0e-5, 1]}}\n",
      "s.yaml");
  ASSERT_TRUE(pb2_pbt_names.ok()) << pb2_pbt_names.status();
}

TEST(StudySpecTest, ModelBasedAlgorithmMistakesNameTheField) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: GPyOpt, model_type: GP_MCMC}\n"),
              HasSubstr("algorithm.model_type: only 'GP' is supported"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: GPyOpt, acquisition_type: LCB}\n"),
              HasSubstr("algorithm.acquisition_type: only 'EI' is supported"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: GPyOpt, num_initial_data_points: some}\n"),
              HasSubstr("algorithm.num_initial_data_points: expected an integer >= 1 or 'infer', "
                        "got string 'some'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: GPyOpt, max_concurrent: 0}\n"),
              HasSubstr("algorithm.max_concurrent: expected an integer >= 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: BayesianOptimization, initial_data_points: [{x: "
                             "2}]}\n"),
              HasSubstr("initial_data_points[0]['x'] = 2.0 is not a continuous value"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: BayesianOptimization, initial_data_points: x}\n"),
              HasSubstr("algorithm.initial_data_points: expected a list of mappings"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: BayesianOptimization, acquisiton_type: EI}\n"),
              HasSubstr("did you mean 'acquisition_type'?"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PB2, population_size: 2}\n"),
              HasSubstr("PB2: population_size must be at least 3"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PB2, hyperparam_bounds: {x: [0, 1]}, "
                             "parameter_range: {x: [0, 1]}}\n"),
              HasSubstr("algorithm.hyperparam_bounds: give hyperparam_bounds or parameter_range"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PB2, hyperparam_bounds: {x: 1}}\n"),
              HasSubstr("algorithm.hyperparam_bounds.x: expected a list"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PB2, resample_probability: 0.2}\n"),
              HasSubstr("PB2: resample_probability must be 0"));
  EXPECT_THAT(ErrorOf(base + "algorithm: PB\n"), HasSubstr("did you mean 'PB2'?"));
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

}  // namespace
}  // namespace sherpa
