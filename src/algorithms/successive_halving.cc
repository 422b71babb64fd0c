// Asynchronous successive halving (Li et al. 2018) with SHERPA's arguments.
// Each rung keeps its COMPLETED trials in rank order together with the rank
// that marks its top 1/eta, so finding the trial to promote costs O(log n)
// per rung instead of SHERPA's sort of the whole results table.
#include <iterator>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// A COMPLETED trial of a rung. `key` is its objective, negated when higher is
// better, so that smaller keys always rank first.
struct Ranked {
  double key;
  TrialId id;
  friend bool operator<(const Ranked& a, const Ranked& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.id < b.id;
  }
};

// The COMPLETED trials of one rung below the top.
class Rung {
 public:
  explicit Rung(size_t eta) : eta_(eta) {}

  void Add(Ranked trial) {
    const size_t top_before = completed_.size() / eta_;
    completed_.insert(trial);
    unpromoted_.insert(trial);
    // Keep `last_promotable_` at rank top - 1: a trial inserted above it
    // pushes it down one rank, and the top grows by one every eta trials.
    if (top_before > 0 && trial < *last_promotable_) --last_promotable_;
    if (completed_.size() / eta_ > top_before) {
      last_promotable_ = top_before == 0 ? completed_.begin() : std::next(last_promotable_);
    }
  }

  // The best trial in the top floor(n / eta) that was not promoted yet, if
  // any. Every trial ranked above the best unpromoted one was promoted, so it
  // is the only candidate.
  const Ranked* Promotable() const {
    if (completed_.size() / eta_ == 0 || unpromoted_.empty()) return nullptr;
    const Ranked& best = *unpromoted_.begin();
    return *last_promotable_ < best ? nullptr : &best;
  }

  void MarkPromoted(const Ranked& trial) { unpromoted_.erase(trial); }

 private:
  size_t eta_;
  std::set<Ranked> completed_;
  std::set<Ranked> unpromoted_;
  std::set<Ranked>::const_iterator last_promotable_;  // valid once completed_.size() >= eta_
};

class SuccessiveHalvingAlgorithm final : public Algorithm {
 public:
  SuccessiveHalvingAlgorithm(const ParameterSpace& space, SuccessiveHalvingOptions options,
                             int64_t top_rung)
      : options_(options), space_(space), top_rung_(top_rung) {
    for (int64_t k = 0; k < top_rung_; ++k) rungs_.emplace_back(static_cast<size_t>(options_.eta));
    int64_t resource = options_.r;
    for (int64_t i = 0; i < options_.s; ++i) resource *= options_.eta;
    resource_.push_back(resource);
    for (int64_t k = 1; k <= top_rung_; ++k) resource_.push_back(resource *= options_.eta);
  }

  std::string_view name() const override { return "SuccessiveHalving"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    const int64_t enough = options_.max_finished_configs;
    if (enough > 0 && completed_in_top_ >= enough) return Suggestion::Done();
    if (options_.max_num_trials > 0 && handed_out_ >= options_.max_num_trials) {
      return Suggestion::Done();
    }
    // Checked before anything changes: a WAIT must leave no trace.
    if (enough > 0 && completed_in_top_ + running_in_top_ >= enough) return Suggestion::Wait();

    lower_is_better_ = context.results.lower_is_better();
    Trial trial;
    int64_t rung = 0;
    std::string load_from;
    for (int64_t k = top_rung_ - 1; k >= 0 && rung == 0; --k) {
      Rung& candidates = rungs_[static_cast<size_t>(k)];
      const Ranked* promotable = candidates.Promotable();
      if (promotable == nullptr) continue;
      const TrialRecord& parent = *context.results.Find(promotable->id);
      for (const Parameter& p : space_) {
        trial.parameters.emplace(p.name(), parent.trial().parameters.find(p.name())->second);
      }
      load_from = parent.trial().parameters.find(kSaveToKey)->second.as_string();
      candidates.MarkPromoted(*promotable);
      rung = k + 1;
    }
    if (rung == 0) trial.parameters = context.space.Sample(context.rng);

    trial.parameters[std::string(kResourceKey)] = resource_[static_cast<size_t>(rung)];
    trial.parameters[std::string(kRungKey)] = rung;
    trial.parameters[std::string(kLoadFromKey)] = load_from;
    trial.parameters[std::string(kSaveToKey)] = std::to_string(context.next_trial_id);
    rung_of_[context.next_trial_id] = rung;
    ++handed_out_;
    if (rung == top_rung_) ++running_in_top_;
    return Suggestion::Of(std::move(trial));
  }

  void on_trial_end(const TrialRecord& trial) override {
    auto it = rung_of_.find(trial.id());
    if (it == rung_of_.end()) return;  // queued by the user, not ours
    const int64_t rung = it->second;
    if (rung == top_rung_) --running_in_top_;
    // A trial can be reopened only if it never reported, so one that is
    // ranked here never ends a second time.
    if (trial.status() != TrialStatus::kCompleted || trial.last() == nullptr) return;
    if (rung == top_rung_) {
      ++completed_in_top_;
      return;
    }
    const double objective = trial.last()->objective;
    rungs_[static_cast<size_t>(rung)].Add({lower_is_better_ ? objective : -objective, trial.id()});
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    auto it = rung_of_.find(trial.id());
    if (it != rung_of_.end() && it->second == top_rung_) ++running_in_top_;
  }

 private:
  SuccessiveHalvingOptions options_;
  ParameterSpace space_;
  int64_t top_rung_;
  std::vector<int64_t> resource_;  // by rung
  std::vector<Rung> rungs_;        // rungs 0 .. top_rung_ - 1
  std::unordered_map<TrialId, int64_t> rung_of_;
  int64_t handed_out_ = 0;
  int64_t running_in_top_ = 0;
  int64_t completed_in_top_ = 0;
  // Set by the first suggestion, which precedes every end of our trials.
  bool lower_is_better_ = true;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> SuccessiveHalving(const ParameterSpace& space,
                                                       SuccessiveHalvingOptions options) {
  const std::string name = "SuccessiveHalving: ";
  if (options.r < 1) {
    return InvalidArgumentError(name + "r (the minimum resource) must be >= 1, got " +
                                std::to_string(options.r));
  }
  if (options.R < options.r) {
    return InvalidArgumentError(name + "R (the maximum resource) must be >= r = " +
                                std::to_string(options.r) + ", got " + std::to_string(options.R));
  }
  if (options.eta < 2) {
    return InvalidArgumentError(name + "eta must be >= 2, got " + std::to_string(options.eta));
  }
  // K = floor(log_eta(R / r)), in integers; r * eta^K <= R cannot overflow.
  int64_t k_max = 0;
  for (int64_t resource = options.r; resource <= options.R / options.eta; resource *= options.eta) {
    ++k_max;
  }
  if (options.s < 0 || options.s > k_max) {
    return InvalidArgumentError(
        name + "s must be in [0, floor(log_eta(R / r))] = [0, " + std::to_string(k_max) +
        "] for r = " + std::to_string(options.r) + ", R = " + std::to_string(options.R) +
        ", eta = " + std::to_string(options.eta) + ", got " + std::to_string(options.s));
  }
  if (options.max_finished_configs < 0) {
    return InvalidArgumentError(name + "max_finished_configs must be >= 0 (0: no limit), got " +
                                std::to_string(options.max_finished_configs));
  }
  if (options.max_num_trials < 0) {
    return InvalidArgumentError(name + "max_num_trials must be >= 0 (0: no limit), got " +
                                std::to_string(options.max_num_trials));
  }
  for (std::string_view key : {kResourceKey, kRungKey, kLoadFromKey, kSaveToKey}) {
    if (space.Find(key)) {
      return InvalidArgumentError(name + "a parameter is named '" + std::string(key) +
                                  "', which SuccessiveHalving sets itself; rename the parameter");
    }
  }
  return std::unique_ptr<Algorithm>(
      std::make_unique<SuccessiveHalvingAlgorithm>(space, options, k_max - options.s));
}

}  // namespace sherpa
