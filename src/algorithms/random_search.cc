#include <string>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

class RandomSearchAlgorithm final : public Algorithm {
 public:
  explicit RandomSearchAlgorithm(int64_t max_num_trials) : max_num_trials_(max_num_trials) {}

  std::string_view name() const override { return "RandomSearch"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (max_num_trials_ > 0 && suggested_ >= max_num_trials_) return Suggestion::Done();
    ++suggested_;
    return Suggestion::Of(Trial{0, context.space.Sample(context.rng)});
  }

 private:
  int64_t max_num_trials_;
  int64_t suggested_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> RandomSearch(int64_t max_num_trials) {
  if (max_num_trials < 0) {
    return InvalidArgumentError("RandomSearch: max_num_trials must be >= 0 (0: no limit), got " +
                                std::to_string(max_num_trials));
  }
  return std::unique_ptr<Algorithm>(std::make_unique<RandomSearchAlgorithm>(max_num_trials));
}

}  // namespace sherpa
