// SHERPA's Chain: algorithms one after the other on one study, e.g. a few
// hand-picked configurations (Iterate), then a search seeded by them.
#include <string>
#include <utility>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

class ChainAlgorithm final : public Algorithm {
 public:
  explicit ChainAlgorithm(std::vector<std::unique_ptr<Algorithm>> algorithms)
      : algorithms_(std::move(algorithms)) {}

  std::string_view name() const override { return "Chain"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    // The move to the next algorithm is committed only with a trial: a
    // suggestion that ends in WAIT must leave the chain as it was, because
    // resume replays no WAITs. Asking a finished algorithm again is
    // harmless, since DONE is final.
    for (size_t i = current_; i < algorithms_.size(); ++i) {
      SHERPA_ASSIGN_OR_RETURN(Suggestion suggestion, algorithms_[i]->suggest(context));
      if (suggestion.is_done()) continue;
      if (suggestion.is_trial()) current_ = i;
      return suggestion;
    }
    current_ = algorithms_.size();
    return Suggestion::Done();
  }

  void on_trial_end(const TrialRecord& trial) override {
    for (auto& algorithm : algorithms_) algorithm->on_trial_end(trial);
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    for (auto& algorithm : algorithms_) algorithm->on_trial_reopened(trial);
  }

 private:
  std::vector<std::unique_ptr<Algorithm>> algorithms_;
  size_t current_ = 0;  // the first algorithm that has not answered DONE
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> Chain(std::vector<std::unique_ptr<Algorithm>> algorithms) {
  if (algorithms.empty()) {
    return InvalidArgumentError("Chain: algorithms must list at least one algorithm");
  }
  for (size_t i = 0; i < algorithms.size(); ++i) {
    if (algorithms[i] == nullptr) {
      return InvalidArgumentError("Chain: algorithms[" + std::to_string(i) + "] is missing");
    }
  }
  return std::unique_ptr<Algorithm>(std::make_unique<ChainAlgorithm>(std::move(algorithms)));
}

}  // namespace sherpa
