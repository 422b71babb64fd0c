// SHERPA's Genetic: steady-state crossover of two parents from the top third
// of the completed trials, with per-parameter mutation by resampling.
//
// The ranking is kept as a sorted vector fed by on_trial_end, so a
// suggestion costs O(parameters) plus the insertion of the trials that ended
// since the last one, instead of SHERPA's sort of the whole results table.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// SHERPA samples at random until this many trials have finished.
constexpr size_t kMinimumPopulation = 10;

class GeneticAlgorithm final : public Algorithm {
 public:
  GeneticAlgorithm(double mutation_rate, int64_t max_num_trials)
      : mutation_rate_(mutation_rate), max_num_trials_(max_num_trials) {}

  std::string_view name() const override { return "Genetic"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (max_num_trials_ > 0 && suggested_ >= max_num_trials_) return Suggestion::Done();
    RankEndedTrials(context.results);
    ++suggested_;
    if (ranked_.size() < kMinimumPopulation) {
      return Suggestion::Of(Trial{0, context.space.Sample(context.rng)});
    }
    const size_t top = std::max<size_t>(1, ranked_.size() / 3);
    std::uniform_int_distribution<size_t> pick(0, top - 1);
    const TrialRecord& first = *context.results.Find(ranked_[pick(context.rng)].id);
    const TrialRecord& second = *context.results.Find(ranked_[pick(context.rng)].id);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double from_first = mutation_rate_ + (1.0 - mutation_rate_) / 2;
    Trial child;
    for (const Parameter& p : context.space) {
      const double u = unit(context.rng);
      const TrialRecord& parent = u < from_first ? first : second;
      const ParameterValues& inherited = parent.trial().parameters;
      auto value = inherited.find(p.name());
      // A parent this algorithm did not suggest may lack the parameter or
      // hold a value outside the space: mutate instead of inheriting it.
      if (u < mutation_rate_ || value == inherited.end() || !p.Contains(value->second)) {
        child.parameters.emplace(p.name(), p.Sample(context.rng));
      } else {
        child.parameters.emplace(p.name(), value->second);
      }
    }
    return Suggestion::Of(std::move(child));
  }

  void on_trial_end(const TrialRecord& trial) override {
    if (trial.status() != TrialStatus::kCompleted || trial.last() == nullptr) return;
    // The direction is known only from the results handed to suggest, so
    // ranking waits until then.
    ended_.push_back({trial.last()->objective, trial.id()});
  }

 private:
  struct Ranked {
    double objective;
    TrialId id;
  };

  // Moves the trials that completed since the last suggestion into the
  // ranking, best first (ties: lower id first, so the order does not depend
  // on the order trials ended in).
  void RankEndedTrials(const Results& results) {
    const bool lower = results.lower_is_better();
    auto better = [lower](const Ranked& a, const Ranked& b) {
      if (a.objective != b.objective) {
        return lower ? a.objective < b.objective : a.objective > b.objective;
      }
      return a.id < b.id;
    };
    for (const Ranked& r : ended_) {
      ranked_.insert(std::upper_bound(ranked_.begin(), ranked_.end(), r, better), r);
    }
    ended_.clear();
  }

  double mutation_rate_;
  int64_t max_num_trials_;
  int64_t suggested_ = 0;
  std::vector<Ranked> ranked_;  // COMPLETED trials with a result, best first
  std::vector<Ranked> ended_;   // completed since the last suggestion
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> Genetic(double mutation_rate, int64_t max_num_trials) {
  if (!(mutation_rate >= 0 && mutation_rate <= 1)) {
    return InvalidArgumentError("Genetic: mutation_rate must be in [0, 1], got " +
                                Value(mutation_rate).ToString());
  }
  if (max_num_trials < 0) {
    return InvalidArgumentError("Genetic: max_num_trials must be >= 0 (0: no limit), got " +
                                std::to_string(max_num_trials));
  }
  return std::unique_ptr<Algorithm>(
      std::make_unique<GeneticAlgorithm>(mutation_rate, max_num_trials));
}

}  // namespace sherpa
