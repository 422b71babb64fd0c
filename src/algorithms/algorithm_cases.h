// Test support: every built-in algorithm, configured small enough to finish
// quickly, over a space with every parameter kind and scale.
//
// The algorithm conformance suite (algorithm_conformance_test.cc) and the
// replay conformance suite (runner/replay_conformance_test.cc) both run over
// this one list, so an algorithm added here is checked by both. Built into
// the test-only library `sherpa::algorithm_cases`; no production target
// links it.
#ifndef SHERPA_ALGORITHMS_ALGORITHM_CASES_H_
#define SHERPA_ALGORITHMS_ALGORITHM_CASES_H_

#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "sherpa/algorithm.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::conformance {

struct AlgorithmCase {
  std::string name;         // test-name suffix
  std::string sherpa_name;  // Algorithm::name()
  std::function<StatusOr<std::unique_ptr<Algorithm>>(const ParameterSpace&)> make;
  std::set<std::string> bookkeeping_keys;  // keys documented beyond the space's
  bool randomized = true;                  // false: the seed must not matter
  // May answer FAILED_PRECONDITION when every trial fails (PBT).
  bool may_refuse_when_all_fail = false;
  // The bookkeeping keys are on some trials only (a Chain of PBT and an
  // algorithm without keys).
  bool keys_on_some_trials_only = false;
};

// gtest prints parameters with this (the test names use `name` already).
void PrintTo(const AlgorithmCase& c, std::ostream* os);

// Every parameter kind and scale, numbers and strings.
const ParameterSpace& ConformanceSpace();

// Every built-in algorithm, some in several configurations, each with a
// finite budget.
std::vector<AlgorithmCase> Cases();

// A deterministic objective of the hyperparameters (so one seed gives one
// study), with a small id term against ties.
double Objective(const Trial& trial);

}  // namespace sherpa::conformance

#endif  // SHERPA_ALGORITHMS_ALGORITHM_CASES_H_
