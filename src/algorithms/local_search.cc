// SHERPA's LocalSearch: a hill climb that changes one parameter at a time,
// driven by the study's generator.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

class LocalSearchAlgorithm final : public Algorithm {
 public:
  LocalSearchAlgorithm(const ParameterSpace& space, LocalSearchOptions options)
      : space_(space), options_(std::move(options)), center_(options_.seed_configuration) {}

  std::string_view name() const override { return "LocalSearch"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (repeats_left_ > 0) {
      --repeats_left_;
      return HandOut(context);
    }
    if (tried_.empty()) return Start(options_.seed_configuration, context);

    // Every untried neighbour is listed before anything is drawn, so an
    // exhausted center answers WAIT or DONE without touching the generator.
    std::vector<std::vector<Value>> untried(space_.size());
    size_t eligible = 0;
    for (size_t i = 0; i < space_.size(); ++i) {
      ParameterValues neighbour = center_;
      Value& slot = neighbour[space_[i].name()];
      for (Value& value : Neighbours(space_[i], center_.find(space_[i].name())->second)) {
        slot = value;
        if (!tried_.count(neighbour)) untried[i].push_back(std::move(value));
      }
      if (!untried[i].empty()) ++eligible;
    }
    if (eligible == 0) return running_ > 0 ? Suggestion::Wait() : Suggestion::Done();

    // SHERPA walks the parameters in random order and takes the first with an
    // untried neighbour, then that parameter's values in random order: the
    // same as a uniform pick among the eligible parameters, then among their
    // untried neighbours.
    size_t pick = std::uniform_int_distribution<size_t>(0, eligible - 1)(context.rng);
    size_t i = 0;
    for (;; ++i) {
      if (untried[i].empty()) continue;
      if (pick == 0) break;
      --pick;
    }
    const std::vector<Value>& values = untried[i];
    ParameterValues next = center_;
    next[space_[i].name()] =
        values[std::uniform_int_distribution<size_t>(0, values.size() - 1)(context.rng)];
    return Start(std::move(next), context);
  }

  void on_trial_end(const TrialRecord& trial) override {
    if (!ours_.count(trial.id())) return;
    --running_;
    if (trial.status() != TrialStatus::kCompleted || trial.last() == nullptr) return;
    const double objective = trial.last()->objective;
    // Strictly better: on a tie the trial that ended first stays the center,
    // as SHERPA's first-row idxmin/idxmax picks it.
    if (best_objective_.has_value() &&
        !(lower_is_better_ ? objective < *best_objective_ : objective > *best_objective_)) {
      return;
    }
    best_objective_ = objective;
    for (auto& [name, value] : center_) value = trial.trial().parameters.find(name)->second;
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    if (ours_.count(trial.id())) ++running_;
  }

 private:
  // Hands out a configuration for the first of its repeat_trials times.
  StatusOr<Suggestion> Start(ParameterValues configuration, const SuggestContext& context) {
    tried_.insert(configuration);
    current_ = std::move(configuration);
    repeats_left_ = options_.repeat_trials - 1;
    return HandOut(context);
  }

  StatusOr<Suggestion> HandOut(const SuggestContext& context) {
    lower_is_better_ = context.results.lower_is_better();
    ours_.insert(context.next_trial_id);
    ++running_;
    return Suggestion::Of(Trial{0, current_});
  }

  // The values one step from `value`, in a fixed order, without `value`.
  std::vector<Value> Neighbours(const Parameter& p, const Value& value) const {
    std::vector<Value> out;
    auto add = [&](Value v) {
      if (v != value && std::find(out.begin(), out.end(), v) == out.end()) {
        out.push_back(std::move(v));
      }
    };
    switch (p.type()) {
      case ParameterType::kContinuous:
        for (double f : options_.perturbation_factors) {
          add(std::clamp(value.as_number() * f, p.lower(), p.upper()));
        }
        break;
      case ParameterType::kDiscrete:
        for (double f : options_.perturbation_factors) add(ScaleInteger(value.as_int(), f, p));
        break;
      case ParameterType::kOrdinal: {
        const std::vector<Value>& list = p.range();
        const auto index =
            static_cast<size_t>(std::find(list.begin(), list.end(), value) - list.begin());
        if (index > 0) add(list[index - 1]);
        if (index + 1 < list.size()) add(list[index + 1]);
        break;
      }
      case ParameterType::kChoice:
        for (const Value& v : p.range()) add(v);
        break;
    }
    return out;
  }

  // Rounds v * factor but moves at least one step when factor != 1, as PBT
  // does: SHERPA truncated, so 2 * 1.2 stayed 2 and small integers never grew.
  static int64_t ScaleInteger(int64_t v, double factor, const Parameter& p) {
    auto moved = static_cast<int64_t>(std::llround(static_cast<double>(v) * factor));
    if (factor > 1 && moved <= v) moved = v + 1;
    if (factor < 1 && moved >= v) moved = v - 1;
    return std::clamp(moved, static_cast<int64_t>(p.lower()), static_cast<int64_t>(p.upper()));
  }

  ParameterSpace space_;
  LocalSearchOptions options_;
  ParameterValues center_;                // the best COMPLETED configuration, or the seed
  std::optional<double> best_objective_;  // the center's, once a trial completed
  std::set<ParameterValues> tried_;       // every configuration handed out
  ParameterValues current_;               // the configuration being repeated
  int64_t repeats_left_ = 0;
  std::unordered_set<TrialId> ours_;
  int64_t running_ = 0;  // our trials handed out and not ended
  // Set by the first suggestion, which precedes every end of our trials.
  bool lower_is_better_ = true;
};

std::string Describe(const Parameter& p) {
  std::string out = std::string(ParameterTypeName(p.type()));
  if (p.is_numeric_range())
    return out + " [" + p.range()[0].ToString() + ", " + p.range()[1].ToString() + "]";
  out += " of";
  for (size_t i = 0; i < p.range().size(); ++i) {
    out += (i ? ", " : " ") + p.range()[i].ToString();
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> LocalSearch(const ParameterSpace& space,
                                                 LocalSearchOptions options) {
  const std::string name = "LocalSearch: ";
  ParameterValues& seed = options.seed_configuration;
  for (const Parameter& p : space) {
    auto it = seed.find(p.name());
    if (it == seed.end()) {
      return InvalidArgumentError(name + "seed_configuration has no value for parameter '" +
                                  p.name() + "'; give every parameter a starting value");
    }
    if (p.type() == ParameterType::kContinuous && it->second.is_int()) {
      it->second = Value(it->second.as_number());
    }
    if (!p.Contains(it->second)) {
      return InvalidArgumentError(name + "seed_configuration['" + p.name() +
                                  "'] = " + it->second.ToString() + " (" +
                                  TypeName(it->second.type()) + ") is not a value of parameter '" +
                                  p.name() + "', " + Describe(p));
    }
  }
  for (const auto& [key, value] : seed) {
    if (!space.Find(key)) {
      return InvalidArgumentError(name + "seed_configuration names '" + key +
                                  "', which is not a parameter of the study");
    }
  }
  if (options.perturbation_factors.empty()) {
    return InvalidArgumentError(name + "perturbation_factors must not be empty");
  }
  for (double f : options.perturbation_factors) {
    if (!std::isfinite(f) || f <= 0) {
      return InvalidArgumentError(name + "perturbation_factors must be positive numbers, got " +
                                  Value(f).ToString());
    }
  }
  if (options.repeat_trials < 1) {
    return InvalidArgumentError(name + "repeat_trials must be >= 1, got " +
                                std::to_string(options.repeat_trials));
  }
  return std::unique_ptr<Algorithm>(
      std::make_unique<LocalSearchAlgorithm>(space, std::move(options)));
}

}  // namespace sherpa
