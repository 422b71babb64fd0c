#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// The grid values of one parameter, endpoints included.
std::vector<Value> GridValues(const Parameter& p, int64_t num_points) {
  if (!p.is_numeric_range()) return p.range();
  const double lo = p.lower(), hi = p.upper();
  const bool log = p.scale() == Scale::kLog;
  const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
  std::vector<Value> values;
  for (int64_t i = 0; i < num_points; ++i) {
    double x = num_points == 1
                   ? a
                   : a + (b - a) * static_cast<double>(i) / static_cast<double>(num_points - 1);
    if (log) x = std::pow(10.0, x);
    // Exact endpoints: 10^log10(1e-4) is not always 1e-4 in floating point.
    if (i == 0) x = lo;
    if (i == num_points - 1 && num_points > 1) x = hi;
    if (p.type() == ParameterType::kDiscrete) {
      const Value v(static_cast<int64_t>(std::llround(x)));
      if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
    } else {
      values.emplace_back(x);
    }
  }
  return values;
}

class GridSearchAlgorithm final : public Algorithm {
 public:
  explicit GridSearchAlgorithm(int64_t num_grid_points) : num_grid_points_(num_grid_points) {}

  std::string_view name() const override { return "GridSearch"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (!built_) Build(context.space);
    if (exhausted_) return Suggestion::Done();
    Trial trial;
    for (size_t i = 0; i < names_.size(); ++i) {
      trial.parameters.emplace(names_[i], grid_[i][position_[i]]);
    }
    Advance();
    return Suggestion::Of(std::move(trial));
  }

 private:
  void Build(const ParameterSpace& space) {
    built_ = true;
    std::vector<const Parameter*> params;
    for (const Parameter& p : space) params.push_back(&p);
    // SHERPA's grid (sklearn's ParameterGrid) varies parameters in name order.
    std::sort(params.begin(), params.end(),
              [](const Parameter* a, const Parameter* b) { return a->name() < b->name(); });
    for (const Parameter* p : params) {
      names_.push_back(p->name());
      grid_.push_back(GridValues(*p, num_grid_points_));
    }
    position_.assign(names_.size(), 0);
  }

  // Odometer step, the last parameter fastest.
  void Advance() {
    for (size_t i = position_.size(); i-- > 0;) {
      if (++position_[i] < grid_[i].size()) return;
      position_[i] = 0;
    }
    exhausted_ = true;
  }

  int64_t num_grid_points_;
  bool built_ = false;
  bool exhausted_ = false;
  std::vector<std::string> names_;
  std::vector<std::vector<Value>> grid_;
  std::vector<size_t> position_;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> GridSearch(int64_t num_grid_points) {
  if (num_grid_points < 1) {
    return InvalidArgumentError("GridSearch: num_grid_points must be >= 1, got " +
                                std::to_string(num_grid_points));
  }
  return std::unique_ptr<Algorithm>(std::make_unique<GridSearchAlgorithm>(num_grid_points));
}

}  // namespace sherpa
