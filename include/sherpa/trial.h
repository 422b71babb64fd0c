// -----------------------------------------------------------------------------
// File: trial.h
// -----------------------------------------------------------------------------
//
// A trial is one run of the user's training code with one set of
// hyperparameters. Its `parameters` hold the study's parameters plus whatever
// bookkeeping the algorithm adds; PBT adds `load_from`, `save_to`, `lineage`
// (strings) and `generation` (an integer), exactly as SHERPA does, so trial
// scripts find them where SHERPA's documentation says they are.

#ifndef SHERPA_TRIAL_H_
#define SHERPA_TRIAL_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "sherpa/value.h"

namespace sherpa {

using TrialId = int64_t;

// SHERPA's TrialStatus. kIntermediate marks the rows of observations and a
// trial that has not been finalized yet; the other three are final.
enum class TrialStatus { kIntermediate, kCompleted, kFailed, kStopped };

// "INTERMEDIATE", "COMPLETED", "FAILED", "STOPPED".
std::string_view TrialStatusName(TrialStatus status);
std::optional<TrialStatus> ParseTrialStatus(std::string_view name);

struct Trial {
  TrialId id = 0;
  ParameterValues parameters;
};

// One report of a trial: the objective after `iteration`, plus extra metrics.
struct Observation {
  int64_t iteration = 0;
  double objective = 0;
  Context context;
};

// The keys PBT adds to a trial's parameters.
inline constexpr std::string_view kLoadFromKey = "load_from";
inline constexpr std::string_view kSaveToKey = "save_to";
inline constexpr std::string_view kLineageKey = "lineage";
inline constexpr std::string_view kGenerationKey = "generation";
// Asynchronous PBT also names the population slot a trial trains.
inline constexpr std::string_view kMemberKey = "member";

}  // namespace sherpa

#endif  // SHERPA_TRIAL_H_
