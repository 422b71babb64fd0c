// -----------------------------------------------------------------------------
// File: study_spec.h
// -----------------------------------------------------------------------------
//
// A study spec file (YAML or JSON) describes a whole runner study, with the
// names SHERPA users know:
//
//   parameters:
//     - {name: lr, type: continuous, range: [1.0e-4, 0.1], scale: log}
//     - {name: batch_size, type: ordinal, range: [16, 32, 64, 128]}
//   algorithm:
//     name: PopulationBasedTraining  # or RandomSearch, GridSearch, SuccessiveHalving, LocalSearch
//     population_size: 20
//     num_generations: 5
//     parameter_range: {lr: [1.0e-7, 1.0], batch_size: [16, 32, 64, 128]}
//   lower_is_better: false
//   command: python3 trial.py
//   max_concurrent: 4
//   output_dir: output                   # default: output_<timestamp>
//   scheduler: local                     # or {name: local, resources: [0, 1]},
//                                        # {name: slurm, submit_options: "--gres=gpu:1"}
//   stopping_rule: {name: MedianStoppingRule, min_iterations: 2}
//   seed: 1
//
// Every mistake is found before anything runs and reported with the path of
// the field and what was expected, e.g.
//   "study.yaml: algorithm.population_size: expected an integer >= 3, got string 'ten'".
// docs/study_spec.md lists every field.

#ifndef SHERPA_STUDY_SPEC_H_
#define SHERPA_STUDY_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sherpa/algorithms.h"
#include "sherpa/runner.h"
#include "sherpa/status.h"

namespace sherpa {

// Command-line values that replace the file's.
struct SpecOverrides {
  std::optional<std::string> command;
  std::optional<int64_t> max_concurrent;
  std::optional<int64_t> prestart;
  std::optional<std::string> output_dir;
  std::optional<uint64_t> seed;
  std::optional<std::string> host;
  std::optional<int> port;
  // "local", "slurm" or "sge"; keeps the spec's scheduler settings only if
  // the spec names the same scheduler.
  std::optional<std::string> scheduler;
};

// Parses `text` (YAML or JSON; `origin` names it in messages) and builds the
// options `optimize` needs: parameters, algorithm, stopping rule, scheduler.
// `options.spec_json` holds the spec with the overrides applied, so `sherpa
// resume` rebuilds the same study.
StatusOr<OptimizeOptions> LoadStudySpec(std::string_view text, std::string_view origin,
                                        const SpecOverrides& overrides = {});

// Reads the file at `path` and calls LoadStudySpec.
StatusOr<OptimizeOptions> LoadStudySpecFile(const std::string& path,
                                            const SpecOverrides& overrides = {});

enum class SpecFormat { kYaml, kJson };

// The spec `sherpa replay` writes: a study that trains one model from
// scratch along `schedule` with PopulationBasedTrainingReplay. It copies
// parameters, lower_is_better, command, scheduler, trial_timeout and the
// resubmission settings from `study_spec` (a study's stored spec, JSON as
// OptimizeOptions::spec_json holds it), sets max_concurrent 1 and leaves out
// output_dir and seed. The result loads with LoadStudySpec; errors if
// `study_spec` is not a valid spec or the schedule does not fit it.
StatusOr<std::string> PbtReplaySpec(std::string_view study_spec,
                                    const std::vector<PbtScheduleStep>& schedule,
                                    SpecFormat format);

}  // namespace sherpa

#endif  // SHERPA_STUDY_SPEC_H_
