#include "sherpa/study_spec.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sherpa/study.h"

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

TEST(StudySpecTest, GeneticIterateRepeatAndChainWithSherpasArgumentNames) {
  const std::string base = R"(parameters:
  - {name: lr, type: continuous, range: [1.0e-4, 1.0], scale: log}
  - {name: layers, type: discrete, range: [1, 4]}
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> genetic = LoadStudySpec(
      base + "algorithm: {name: Genetic, mutation_rate: 0.2, max_num_trials: 50}\n", "s.yaml");
  ASSERT_TRUE(genetic.ok()) << genetic.status();
  EXPECT_EQ(genetic->algorithm->name(), "Genetic");
  ASSERT_TRUE(LoadStudySpec(base + "algorithm: Genetic\n", "s.yaml").ok());

  StatusOr<OptimizeOptions> chain = LoadStudySpec(base + R"(algorithm:
  name: Chain
  algorithms:
    - name: Iterate
      hp_iter:
        - {lr: 0.01, layers: 2}
        - {lr: 1, layers: 4}
    - name: Repeat
      algorithm: {name: Genetic, mutation_rate: 0.3}
      num_times: 3
      wait_for_completion: true
      agg: true
    - RandomSearch
)",
                                                  "s.yaml");
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->algorithm->name(), "Chain");
  // The stored spec (JSON) rebuilds the same nested algorithm for resume.
  StatusOr<OptimizeOptions> again = LoadStudySpec(chain->spec_json, "study.db");
  ASSERT_TRUE(again.ok()) << again.status();
  // The Iterate configurations come out first, in order (1 is taken as 1.0
  // for the continuous lr).
  Study study(chain->parameters, std::move(chain->algorithm), true);
  StatusOr<Suggestion> first = study.get_suggestion();
  ASSERT_TRUE(first.ok() && first->is_trial());
  EXPECT_EQ(first->trial().parameters, (ParameterValues{{"lr", 0.01}, {"layers", 2}}));
  StatusOr<Suggestion> second = study.get_suggestion();
  ASSERT_TRUE(second.ok() && second->is_trial());
  EXPECT_EQ(second->trial().parameters, (ParameterValues{{"lr", 1.0}, {"layers", 4}}));
}

TEST(StudySpecTest, MistakesInNestedAlgorithmsNameTheirPath) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(
      ErrorOf(base + "algorithm: {name: Chain, algorithms: [RandomSearch, {name: Genetc}]}\n"),
      HasSubstr("algorithm.algorithms[1].name: unknown 'Genetc'; did you mean 'Genetic'?"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Chain, algorithms: []}\n"),
              HasSubstr("algorithm.algorithms: expected a non-empty list of algorithms"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Chain}\n"),
              HasSubstr("algorithm.algorithms is missing"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Repeat, algorithm: {name: Chain, algorithms: "
                             "[{name: Genetic, mutation_rate: 2}]}}\n"),
              HasSubstr("algorithm.algorithm.algorithms[0]: Genetic: mutation_rate must be in "
                        "[0, 1], got 2"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Repeat, algorithm: RandomSearch, num_times: 0}\n"),
              HasSubstr("algorithm.num_times: expected an integer >= 1, got integer 0"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Repeat, algorithm: RandomSearch, agg: 1}\n"),
              HasSubstr("algorithm.agg: expected true or false"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Repeat, times: 3}\n"),
              HasSubstr("algorithm: unknown key 'times'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Repeat}\n"),
              HasSubstr("algorithm.algorithm is missing"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Iterate, hp_iter: [{x: 0.5}, {x: [1]}]}\n"),
              HasSubstr("algorithm.hp_iter[1].x: expected a number or a string"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Iterate, hp_iter: [{x: 0.5}, {x: 2}]}\n"),
              HasSubstr("algorithm: Iterate: hp_iter[1]['x'] = 2"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Iterate, hp_iter: [{y: 0.5}]}\n"),
              HasSubstr("hp_iter[0] sets 'y', which is not a parameter of the study"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Iterate, hp_iter: [3]}\n"),
              HasSubstr("algorithm.hp_iter[0]: expected a mapping from parameter to value"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: Genetic, mutation_rate: high}\n"),
              HasSubstr("algorithm.mutation_rate: expected a number"));
}

// Drives the built algorithm for a few trials: the spec's arguments must reach
// it, not only pass validation.
std::vector<Trial> FirstTrials(OptimizeOptions& o, int count) {
  Study study(std::move(o.parameters), std::move(o.algorithm), o.lower_is_better, nullptr, 1);
  std::vector<Trial> out;
  for (int i = 0; i < count; ++i) {
    StatusOr<Suggestion> s = study.get_suggestion();
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok() || !s->is_trial()) break;
    out.push_back(s->trial());
    EXPECT_TRUE(study.add_observation(s->trial(), 1, static_cast<double>(i)).ok());
    EXPECT_TRUE(study.finalize(s->trial()).ok());
  }
  return out;
}

TEST(StudySpecTest, SuccessiveHalvingWithSherpasArguments) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> o =
      LoadStudySpec(base +
                        "algorithm: {name: SuccessiveHalving, r: 2, R: 18, eta: 3, s: 1, "
                        "max_finished_configs: 5, max_num_trials: 100}\n",
                    "s.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->algorithm->name(), "SuccessiveHalving");
  const std::vector<Trial> trials = FirstTrials(*o, 4);
  ASSERT_EQ(trials.size(), 4u);
  // r * eta^s = 6 in rung 0; three completed, so the fourth is promoted.
  EXPECT_EQ(trials[0].parameters.at("resource"), Value(6));
  EXPECT_EQ(trials[3].parameters.at("rung"), Value(1));
  EXPECT_EQ(trials[3].parameters.at("resource"), Value(18));
  EXPECT_EQ(trials[3].parameters.at("load_from"), Value("1"));

  o = LoadStudySpec(base + "algorithm: SuccessiveHalving\n", "s.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(FirstTrials(*o, 1).at(0).parameters.at("resource"), Value(1));
  o = LoadStudySpec(base + "algorithm: {name: SuccessiveHalving, max_finished_configs: null}\n",
                    "s.yaml");
  ASSERT_TRUE(o.ok()) << o.status();

  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, eta: 1}\n"),
              HasSubstr("algorithm.eta: expected an integer >= 2, got integer 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, r: 0.5}\n"),
              HasSubstr("algorithm.r: expected an integer >= 1, got number 0.5"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, s: -1}\n"),
              HasSubstr("algorithm.s: expected an integer >= 0"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, max_finished_configs: 0}\n"),
              HasSubstr("algorithm.max_finished_configs: expected an integer >= 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, R: 9, s: 3}\n"),
              HasSubstr("algorithm: SuccessiveHalving: s must be in [0, floor(log_eta(R / r))]"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, r: 10}\n"),
              HasSubstr("R (the maximum resource) must be >= r"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: SuccessiveHalving, etta: 2}\n"),
              HasSubstr("did you mean 'eta'?"));
  EXPECT_THAT(ErrorOf(base + "algorithm: SuccessiveHalvin\n"),
              HasSubstr("did you mean 'SuccessiveHalving'?"));
}

TEST(StudySpecTest, LocalSearchWithSherpasArguments) {
  const std::string base = R"(parameters:
  - {name: lr, type: continuous, range: [0.001, 1]}
  - {name: layers, type: discrete, range: [1, 8]}
  - {name: act, type: choice, range: [relu, tanh]}
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> o = LoadStudySpec(
      base +
          "algorithm: {name: LocalSearch, seed_configuration: {lr: 1, layers: 4, act: tanh}, "
          "perturbation_factors: [0.5, 2], repeat_trials: 2}\n",
      "s.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->algorithm->name(), "LocalSearch");
  const std::vector<Trial> trials = FirstTrials(*o, 3);
  ASSERT_EQ(trials.size(), 3u);
  const ParameterValues seed = {{"lr", 1.0}, {"layers", 4}, {"act", "tanh"}};
  EXPECT_EQ(trials[0].parameters, seed);  // an integer 1 for a continuous parameter is 1.0
  EXPECT_EQ(trials[1].parameters, seed);  // repeat_trials: 2
  EXPECT_NE(trials[2].parameters, seed);

  EXPECT_THAT(ErrorOf(base + "algorithm: LocalSearch\n"),
              HasSubstr("algorithm.seed_configuration is missing"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: [1, 2]}\n"),
              HasSubstr("algorithm.seed_configuration: expected a mapping from parameter name to "
                        "value, got a list"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: {lr: 0.1, "
                             "layers: 9, act: relu}}\n"),
              HasSubstr("algorithm: LocalSearch: seed_configuration['layers'] = 9 (int) is not a "
                        "value of parameter 'layers', discrete [1, 8]"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: {lr: 0.1, "
                             "layers: 2}}\n"),
              HasSubstr("seed_configuration has no value for parameter 'act'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: {lr: [1]}}\n"),
              HasSubstr("algorithm.seed_configuration.lr: expected a number or a string"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: {lr: 0.1, "
                             "layers: 2, act: relu}, repeat_trials: 0}\n"),
              HasSubstr("algorithm.repeat_trials: expected an integer >= 1, got integer 0"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: LocalSearch, seed_configuration: {lr: 0.1, "
                             "layers: 2, act: relu}, perturbation_factors: [0.8, x]}\n"),
              HasSubstr("algorithm.perturbation_factors[1]: expected a number, got string 'x'"));
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

TEST(StudySpecTest, AsynchronousPbtOptions) {
  constexpr char kAsync[] = R"(
parameters: [{name: x, type: continuous, range: [0, 1]}]
algorithm:
  name: PopulationBasedTraining
  mode: asynchronous
  population_size: 3
  num_generations: 2
  quantile_fraction: 0.5
  selection: tournament
lower_is_better: true
command: ./t
)";
  StatusOr<OptimizeOptions> o = LoadStudySpec(kAsync, "study.yaml");
  ASSERT_TRUE(o.ok()) << o.status();
  Study study(o->parameters, std::move(o->algorithm), true);
  // Asynchronous: three members, each tagged with its slot, then WAIT (no
  // generation-sized batch, no barrier).
  for (int64_t slot = 0; slot < 3; ++slot) {
    StatusOr<Suggestion> s = study.get_suggestion();
    ASSERT_TRUE(s.ok() && s->is_trial());
    EXPECT_EQ(s->trial().parameters.at("member"), Value(slot));
  }
  StatusOr<Suggestion> s = study.get_suggestion();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->is_wait());

  // The default mode is generational: no member key.
  StatusOr<OptimizeOptions> generational = LoadStudySpec(kPbtSpec, "study.yaml");
  ASSERT_TRUE(generational.ok());
  Study g(generational->parameters, std::move(generational->algorithm), false);
  EXPECT_EQ(g.get_suggestion()->trial().parameters.count("member"), 0u);
}

TEST(StudySpecTest, AsynchronousPbtMistakesNameTheField) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: async}\n"),
              HasSubstr("algorithm.mode: expected generational or asynchronous, got 'async'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: asynchronous, "
                             "selection: best}\n"),
              HasSubstr("algorithm.selection: expected truncation or tournament, got 'best'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: asynchronous, "
                             "quantile_fraction: 0.7}\n"),
              HasSubstr("algorithm.quantile_fraction: expected a number in (0, 0.5], got number "
                        "0.7"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: asynchronous, "
                             "quantile_fraction: many}\n"),
              HasSubstr("algorithm.quantile_fraction: expected a number"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: asynchronous, "
                             "exploit: truncation}\n"),
              HasSubstr("algorithm.exploit: only for mode generational"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, selection: tournament}\n"),
              HasSubstr("algorithm.selection: only for mode asynchronous"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTraining, mode: asynchronous, "
                             "population_size: 1}\n"),
              HasSubstr("population_size must be at least 2 in asynchronous mode"));
}

TEST(StudySpecTest, ReplaySpecRoundTripsInYamlAndJson) {
  StatusOr<OptimizeOptions> study = LoadStudySpec(kPbtSpec, "study.yaml");
  ASSERT_TRUE(study.ok()) << study.status();
  const std::vector<PbtScheduleStep> schedule = {
      {1, {{"lr", Value(0.01)}, {"batch_size", Value(32)}}},
      {2, {{"lr", Value(0.012)}, {"batch_size", Value(64)}}}};
  for (SpecFormat format : {SpecFormat::kYaml, SpecFormat::kJson}) {
    StatusOr<std::string> text = PbtReplaySpec(study->spec_json, schedule, format);
    ASSERT_TRUE(text.ok()) << text.status();
    if (format == SpecFormat::kYaml) {
      EXPECT_THAT(*text, HasSubstr("name: PopulationBasedTrainingReplay"));
      EXPECT_THAT(*text, HasSubstr("- {generation: 1, parameters: {"));
    }
    StatusOr<OptimizeOptions> replay = LoadStudySpec(*text, "replay.yaml");
    ASSERT_TRUE(replay.ok()) << replay.status() << "\n" << *text;
    EXPECT_EQ(replay->algorithm->name(), "PopulationBasedTrainingReplay");
    EXPECT_EQ(replay->command, study->command);
    EXPECT_EQ(replay->lower_is_better, study->lower_is_better);
    EXPECT_EQ(replay->scheduler.resources, study->scheduler.resources);
    EXPECT_EQ(replay->max_concurrent, 1u);
    EXPECT_EQ(replay->output_dir, "") << "the replay must not write into the study it came from";
    ASSERT_EQ(replay->parameters.size(), study->parameters.size());
    Study run(replay->parameters, std::move(replay->algorithm), replay->lower_is_better);
    for (const PbtScheduleStep& step : schedule) {
      StatusOr<Suggestion> s = run.get_suggestion();
      ASSERT_TRUE(s.ok() && s->is_trial());
      for (const auto& [name, value] : step.parameters) {
        EXPECT_EQ(s->trial().parameters.at(name), value) << name;
      }
      ASSERT_TRUE(run.finalize(s->trial()).ok());
    }
    EXPECT_TRUE(run.get_suggestion()->is_done());
  }
}

TEST(StudySpecTest, ReplayScheduleMistakesNameTheField) {
  const std::string base = R"(parameters: [{name: x, type: continuous, range: [0, 1]}]
lower_is_better: true
command: ./t
)";
  EXPECT_THAT(ErrorOf(base + "algorithm: PopulationBasedTrainingReplay\n"),
              HasSubstr("algorithm.schedule is missing"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTrainingReplay, schedule: 3}\n"),
              HasSubstr("algorithm.schedule: expected a list"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTrainingReplay, schedule: "
                             "[{generation: 1, parameters: {x: fast}}]}\n"),
              HasSubstr("'x' must be a"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTrainingReplay, schedule: "
                             "[{generation: 0, parameters: {x: 1}}]}\n"),
              HasSubstr("algorithm.schedule[0].generation: expected an integer >= 1"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTrainingReplay, schedule: "
                             "[{generation: 1, params: {x: 1}}]}\n"),
              HasSubstr("algorithm.schedule[0]: unknown key 'params'"));
  EXPECT_THAT(ErrorOf(base + "algorithm: {name: PopulationBasedTrainingReplay, schedule: "
                             "[{generation: 2, parameters: {x: 1}}]}\n"),
              HasSubstr("expected generation 1, got 2"));
  // An integer for a continuous parameter is a number.
  StatusOr<OptimizeOptions> ok =
      LoadStudySpec(base +
                        "algorithm: {name: PopulationBasedTrainingReplay, schedule: "
                        "[{generation: 1, parameters: {x: 1}}]}\n",
                    "study.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status();
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
