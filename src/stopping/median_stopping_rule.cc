#include <algorithm>
#include <string>
#include <vector>

#include "sherpa/stopping_rule.h"

namespace sherpa {
namespace {

class MedianRule final : public StoppingRule {
 public:
  MedianRule(int64_t min_iterations, int64_t min_trials)
      : min_iterations_(min_iterations), min_trials_(min_trials) {}

  std::string_view name() const override { return "MedianStoppingRule"; }

  bool should_stop(const TrialRecord& trial, const Results& results) const override {
    const Observation* last = trial.last();
    if (last == nullptr || last->iteration < min_iterations_) return false;
    const int64_t iteration = last->iteration;
    // Only trials that reached the same iteration are compared, each by its
    // best objective up to that iteration; the index avoids a table scan.
    std::vector<double> others;
    for (TrialId id : results.TrialsAtIteration(iteration)) {
      if (id == trial.id()) continue;
      if (std::optional<double> best = results.Find(id)->BestUpTo(iteration)) {
        others.push_back(*best);
      }
    }
    if (others.empty() || static_cast<int64_t>(others.size()) < min_trials_) return false;
    const double median = Median(others);
    const double own = *trial.BestUpTo(iteration);
    return results.Better(median, own);
  }

 private:
  static double Median(std::vector<double>& v) {
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    const double upper = v[mid];
    if (v.size() % 2 == 1) return upper;
    const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) / 2;
  }

  int64_t min_iterations_;
  int64_t min_trials_;
};

}  // namespace

StatusOr<std::unique_ptr<StoppingRule>> MedianStoppingRule(int64_t min_iterations,
                                                           int64_t min_trials) {
  if (min_iterations < 0) {
    return InvalidArgumentError("MedianStoppingRule: min_iterations must be >= 0, got " +
                                std::to_string(min_iterations));
  }
  if (min_trials < 1) {
    return InvalidArgumentError("MedianStoppingRule: min_trials must be >= 1, got " +
                                std::to_string(min_trials));
  }
  return std::unique_ptr<StoppingRule>(std::make_unique<MedianRule>(min_iterations, min_trials));
}

}  // namespace sherpa
