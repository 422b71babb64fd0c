// Population Based Training (Jaderberg et al. 2017) as SHERPA documents it,
// without SHERPA's crashes: generations are explicit, a barrier makes late
// members wait instead of ranking a half-finished generation, and failed
// members are never parents. All state is indexed by generation, so a
// suggestion costs the same in generation 2 and in generation 2,000.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "algorithms/pbt_internal.h"

#include "sherpa/algorithms.h"

namespace sherpa {
namespace pbt_internal {

Explorer::Explorer(const ParameterSpace& space, const PopulationBasedTrainingOptions& options)
    : space_(space),
      perturbation_factors_(options.perturbation_factors),
      resample_probability_(options.resample_probability) {
  for (const Parameter& p : space_) {
    PerturbRule rule{&p, 0, 0, {}};
    auto range = options.parameter_range.find(p.name());
    const bool has_range = range != options.parameter_range.end();
    if (p.is_numeric_range()) {
      rule.lo = has_range ? range->second[0].as_number() : p.lower();
      rule.hi = has_range ? range->second[1].as_number() : p.upper();
    } else {
      rule.list = has_range ? range->second : p.range();
    }
    rules_.push_back(std::move(rule));
  }
}

ParameterValues Explorer::TunedValuesOf(const ParameterValues& parent) const {
  ParameterValues tuned;
  for (const PerturbRule& rule : rules_) {
    const std::string& key = rule.parameter->name();
    tuned.emplace_hint(tuned.end(), key, parent.find(key)->second);
  }
  return tuned;
}

void Explorer::Explore(ParameterValues& values, Rng& rng) const {
  for (const PerturbRule& rule : rules_) {
    const Parameter& p = *rule.parameter;
    Value& value = values[p.name()];
    if (resample_probability_ > 0 && std::bernoulli_distribution(resample_probability_)(rng)) {
      value = p.Sample(rng);
      continue;
    }
    switch (p.type()) {
      case ParameterType::kContinuous:
        value = std::clamp(value.as_number() * Factor(rng), rule.lo, rule.hi);
        break;
      case ParameterType::kDiscrete:
        value = PerturbInteger(value.as_int(), Factor(rng), rule);
        break;
      case ParameterType::kOrdinal:
        value = StepOrdinal(value, rule.list, rng);
        break;
      case ParameterType::kChoice:
        value = rule.list[std::uniform_int_distribution<size_t>(0, rule.list.size() - 1)(rng)];
        break;
    }
  }
}

double Explorer::Factor(Rng& rng) const {
  return perturbation_factors_[std::uniform_int_distribution<size_t>(
      0, perturbation_factors_.size() - 1)(rng)];
}

// Rounds v * factor, but moves at least one step when factor != 1: SHERPA
// truncated, so 1, 2 and 4 times 1.2 never grew.
int64_t Explorer::PerturbInteger(int64_t v, double factor, const PerturbRule& rule) {
  auto moved = static_cast<int64_t>(std::llround(static_cast<double>(v) * factor));
  if (factor > 1 && moved <= v) moved = v + 1;
  if (factor < 1 && moved >= v) moved = v - 1;
  const auto lo = static_cast<int64_t>(std::ceil(rule.lo));
  const auto hi = static_cast<int64_t>(std::floor(rule.hi));
  return std::clamp(moved, lo, hi);
}

// One step down, none, or one step up the list, clipped at its ends.
Value Explorer::StepOrdinal(const Value& current, const std::vector<Value>& list, Rng& rng) {
  size_t index = 0;
  auto exact = std::find(list.begin(), list.end(), current);
  if (exact != list.end()) {
    index = static_cast<size_t>(exact - list.begin());
  } else if (current.is_number()) {
    // parameter_range may list other numbers than the parameter: start
    // from the nearest.
    double nearest = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < list.size(); ++i) {
      const double d = std::abs(list[i].as_number() - current.as_number());
      if (d < nearest) nearest = d, index = i;
    }
  }
  const int shift = std::uniform_int_distribution<int>(-1, 1)(rng);
  const auto last = static_cast<int64_t>(list.size()) - 1;
  return list[static_cast<size_t>(
      std::clamp<int64_t>(static_cast<int64_t>(index) + shift, 0, last))];
}

const std::string& BookkeepingString(const TrialRecord& trial, std::string_view key) {
  return trial.trial().parameters.find(key)->second.as_string();
}

}  // namespace pbt_internal

namespace {

using pbt_internal::BookkeepingString;

class PbtAlgorithm final : public Algorithm {
 public:
  PbtAlgorithm(const ParameterSpace& space, PopulationBasedTrainingOptions options,
               std::unique_ptr<pbt_internal::ExploreHook> hook)
      : options_(std::move(options)), explorer_(space, options_), hook_(std::move(hook)) {}

  std::string_view name() const override {
    return hook_ ? hook_->algorithm_name() : "PopulationBasedTraining";
  }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    const auto population = static_cast<size_t>(options_.population_size);
    if (generations_.empty()) generations_.emplace_back();
    if (generations_.back().members.size() == population) {
      const auto finished_generation = static_cast<int64_t>(generations_.size());
      if (options_.num_generations > 0 && finished_generation >= options_.num_generations) {
        return Suggestion::Done();
      }
      // The barrier: ranking needs every member of the generation.
      if (generations_.back().unfinished > 0) return Suggestion::Wait();
      SHERPA_RETURN_IF_ERROR(RankGeneration(context.results));
      generations_.emplace_back();
    }

    const auto generation = static_cast<int64_t>(generations_.size());
    const size_t position = generations_.back().members.size();
    Trial trial;
    if (generation == 1) {
      trial.parameters = context.space.Sample(context.rng);
      trial.parameters[std::string(kLoadFromKey)] = "";
      trial.parameters[std::string(kLineageKey)] = "";
    } else {
      const TrialRecord& parent = *context.results.Find(PickParent(position, context.rng));
      trial.parameters = explorer_.TunedValuesOf(parent.trial().parameters);
      const bool continues_unchanged =
          options_.exploit == PbtExploit::kTruncation && position < survivors_;
      if (!continues_unchanged) {
        explorer_.Explore(trial.parameters, context.rng);
        if (hook_)
          SHERPA_RETURN_IF_ERROR(hook_->Explore(generation, trial.parameters, context.rng));
      }
      const std::string parent_save_to = BookkeepingString(parent, kSaveToKey);
      trial.parameters[std::string(kLoadFromKey)] = parent_save_to;
      trial.parameters[std::string(kLineageKey)] =
          BookkeepingString(parent, kLineageKey) + parent_save_to + ",";
    }
    trial.parameters[std::string(kSaveToKey)] = std::to_string(context.next_trial_id);
    trial.parameters[std::string(kGenerationKey)] = generation;

    Generation& current = generations_.back();
    current.members.push_back(context.next_trial_id);
    ++current.unfinished;
    generation_of_[context.next_trial_id] = generations_.size() - 1;
    return Suggestion::Of(std::move(trial));
  }

  void on_trial_end(const TrialRecord& trial) override {
    if (auto it = generation_of_.find(trial.id()); it != generation_of_.end()) {
      --generations_[it->second].unfinished;
    }
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    if (auto it = generation_of_.find(trial.id()); it != generation_of_.end()) {
      ++generations_[it->second].unfinished;
    }
  }

 private:
  struct Generation {
    std::vector<TrialId> members;  // in hand-out order
    int64_t unfinished = 0;
  };

  // Ranks the last generation's COMPLETED members by the objective of their
  // last observation: that is the state they saved, so it is what a child
  // loads. (SHERPA ranked by the best objective ever seen, which the saved
  // checkpoint need not have.)
  Status RankGeneration(const Results& results) {
    ranked_.clear();
    size_t failed = 0, stopped = 0;
    for (TrialId id : generations_.back().members) {
      const TrialRecord& member = *results.Find(id);
      if (member.status() == TrialStatus::kCompleted && member.last() != nullptr) {
        ranked_.push_back({member.last()->objective, id});
      } else if (member.status() == TrialStatus::kStopped) {
        ++stopped;
      } else {
        ++failed;
      }
    }
    if (ranked_.empty()) {
      std::ostringstream os;
      os << name() << ": no member of generation " << generations_.size()
         << " completed with a result (" << failed << " failed or never reported, " << stopped
         << " stopped), so there is no parent for generation " << generations_.size() + 1
         << "; see the trials' output for the cause";
      return FailedPreconditionError(os.str());
    }
    const bool lower = results.lower_is_better();
    std::stable_sort(ranked_.begin(), ranked_.end(), [lower](const Ranked& a, const Ranked& b) {
      if (a.objective != b.objective)
        return lower ? a.objective < b.objective : a.objective > b.objective;
      return a.id < b.id;
    });
    const size_t n = ranked_.size();
    if (options_.exploit == PbtExploit::kTopThird) {
      top_ = std::max<size_t>(1, n / 3);
      survivors_ = 0;
    } else {
      top_ = std::max<size_t>(1, n / 5);
      survivors_ = (4 * n + 4) / 5;  // ceil(0.8 n) in integers
    }
    if (hook_)
      hook_->OnGenerationRanked(static_cast<int64_t>(generations_.size()), ranked_, results);
    return OkStatus();
  }

  TrialId PickParent(size_t position, Rng& rng) const {
    if (position < survivors_) return ranked_[position].id;
    return ranked_[std::uniform_int_distribution<size_t>(0, top_ - 1)(rng)].id;
  }

  using Ranked = pbt_internal::RankedMember;

  PopulationBasedTrainingOptions options_;
  pbt_internal::Explorer explorer_;
  std::unique_ptr<pbt_internal::ExploreHook> hook_;  // null: PBT's explore step only
  std::vector<Generation> generations_;
  std::unordered_map<TrialId, size_t> generation_of_;  // trial id -> index into generations_
  std::vector<Ranked> ranked_;                         // the previous generation, best first
  size_t top_ = 0;                                     // parents are drawn from ranked_[0, top_)
  size_t survivors_ = 0;                               // truncation: ranks continuing unchanged
};

Status ValidateRange(const Parameter& p, const std::vector<Value>& range, std::string_view name) {
  const std::string where = std::string(name) + "parameter_range['" + p.name() + "']";
  if (p.is_numeric_range()) {
    if (range.size() != 2 || !range[0].is_number() || !range[1].is_number()) {
      return InvalidArgumentError(where + " must be two numbers [lo, hi] for a " +
                                  std::string(ParameterTypeName(p.type())) + " parameter");
    }
    if (!(range[0].as_number() < range[1].as_number())) {
      return InvalidArgumentError(where + ": lo must be below hi");
    }
    if (p.type() == ParameterType::kDiscrete &&
        std::ceil(range[0].as_number()) > std::floor(range[1].as_number())) {
      return InvalidArgumentError(where + " holds no integer");
    }
    return OkStatus();
  }
  if (range.empty()) return InvalidArgumentError(where + " must list at least one value");
  for (const Value& v : range) {
    if (v.type() != p.value_type()) {
      return InvalidArgumentError(where + " must hold values of the parameter's type (" +
                                  TypeName(p.value_type()) + "), got a " + TypeName(v.type()));
    }
  }
  if (p.type() == ParameterType::kOrdinal && p.value_type() == Value::Type::kString) {
    for (const Value& v : p.range()) {
      if (std::find(range.begin(), range.end(), v) == range.end()) {
        return InvalidArgumentError(where + " must contain every value of the parameter; '" +
                                    v.as_string() + "' is missing");
      }
    }
  }
  return OkStatus();
}

}  // namespace

namespace pbt_internal {

Status ValidatePbtOptions(const ParameterSpace& space,
                          const PopulationBasedTrainingOptions& options,
                          std::string_view algorithm_name) {
  const std::string name = std::string(algorithm_name) + ": ";
  const bool asynchronous = options.mode == PbtMode::kAsynchronous;
  const bool top_third = options.exploit == PbtExploit::kTopThird;
  const int64_t minimum = top_third ? 3 : 5;
  if (asynchronous && options.population_size < 2) {
    return InvalidArgumentError(
        name +
        "population_size must be at least 2 in asynchronous mode (a member needs another "
        "to copy), got " +
        std::to_string(options.population_size));
  }
  if (asynchronous && !(options.quantile_fraction > 0 && options.quantile_fraction <= 0.5)) {
    return InvalidArgumentError(name + "quantile_fraction must be in (0, 0.5], got " +
                                Value(options.quantile_fraction).ToString());
  }
  if (!asynchronous && options.population_size < minimum) {
    return InvalidArgumentError(
        name + "population_size must be at least " + std::to_string(minimum) + " for " +
        (top_third ? "the top-third rule (a top third of at least one member)"
                   : "truncation (a top 20% of at least one member)") +
        ", got " + std::to_string(options.population_size));
  }
  if (options.num_generations < 0) {
    return InvalidArgumentError(name + "num_generations must be >= 0 (0: no limit), got " +
                                std::to_string(options.num_generations));
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
  if (!(options.resample_probability >= 0 && options.resample_probability <= 1)) {
    return InvalidArgumentError(name + "resample_probability must be in [0, 1], got " +
                                Value(options.resample_probability).ToString());
  }
  for (std::string_view key : {kLoadFromKey, kSaveToKey, kLineageKey, kGenerationKey, kMemberKey}) {
    if (space.Find(key) && (asynchronous || key != kMemberKey)) {
      return InvalidArgumentError(name + "a parameter is named '" + std::string(key) +
                                  "', which PBT sets itself; rename the parameter");
    }
  }
  for (const auto& [param_name, range] : options.parameter_range) {
    const Parameter* p = space.Find(param_name);
    if (!p) {
      return InvalidArgumentError(name + "parameter_range names '" + param_name +
                                  "', which is not a parameter of the study");
    }
    SHERPA_RETURN_IF_ERROR(ValidateRange(*p, range, name));
  }
  return OkStatus();
}

std::unique_ptr<Algorithm> MakePopulationBasedTraining(const ParameterSpace& space,
                                                       PopulationBasedTrainingOptions options,
                                                       std::unique_ptr<ExploreHook> hook) {
  return std::make_unique<PbtAlgorithm>(space, std::move(options), std::move(hook));
}

}  // namespace pbt_internal

StatusOr<std::unique_ptr<Algorithm>> PopulationBasedTraining(
    const ParameterSpace& space, PopulationBasedTrainingOptions options) {
  SHERPA_RETURN_IF_ERROR(
      pbt_internal::ValidatePbtOptions(space, options, "PopulationBasedTraining"));
  if (options.mode == PbtMode::kAsynchronous) {
    return pbt_internal::MakeAsynchronousPbt(space, std::move(options));
  }
  return pbt_internal::MakePopulationBasedTraining(space, std::move(options), nullptr);
}

}  // namespace sherpa
