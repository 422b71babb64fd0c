// Bayesian optimization with a Gaussian process and expected improvement,
// replacing SHERPA's GPyOpt wrapper (which broke with numpy >= 1.24).
//
// State is what the algorithm handed out (to know which trials are still
// running) and the COMPLETED trials' (point, last objective), appended in
// on_trial_end. The GP is refitted only when new data arrived since the
// last fit; running trials enter as fantasies on every suggestion.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "algorithms/gaussian_process.h"

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// Maps parameter values to points of [0, 1]^d and back. Every value has
// exactly one encoding, and Snap() moves any point of the box to the
// encoding of the nearest valid configuration, so the acquisition is only
// ever evaluated where a trial could run.
class SpaceEncoding {
 public:
  explicit SpaceEncoding(const ParameterSpace& space) {
    for (const Parameter& p : space) {
      Block block{&p, dimensions_, 1, false};
      if (p.type() == ParameterType::kChoice) block.width = static_cast<int>(p.range().size());
      block.log = p.is_numeric_range() && p.scale() == Scale::kLog;
      dimensions_ += block.width;
      blocks_.push_back(block);
    }
  }

  int dimensions() const { return dimensions_; }

  // nullopt if a parameter is missing or outside its range (e.g. a trial
  // queued by hand with other values).
  std::optional<Eigen::VectorXd> Encode(const ParameterValues& values) const {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(dimensions_);
    for (const Block& b : blocks_) {
      auto it = values.find(b.parameter->name());
      if (it == values.end() || !b.parameter->Contains(it->second)) return std::nullopt;
      const Parameter& p = *b.parameter;
      switch (p.type()) {
        case ParameterType::kContinuous:
        case ParameterType::kDiscrete:
          x[b.column] = ToUnit(p, b.log, it->second.as_number());
          break;
        case ParameterType::kOrdinal:
          x[b.column] = OrdinalUnit(IndexOf(p, it->second), p.range().size());
          break;
        case ParameterType::kChoice:
          x[b.column + static_cast<int>(IndexOf(p, it->second))] = 1.0;
          break;
      }
    }
    return x;
  }

  ParameterValues Decode(const Eigen::VectorXd& x) const {
    ParameterValues values;
    for (const Block& b : blocks_) {
      const Parameter& p = *b.parameter;
      const double u = std::clamp(x[b.column], 0.0, 1.0);
      Value value;
      switch (p.type()) {
        case ParameterType::kContinuous:
          value = std::clamp(FromUnit(p, b.log, u), p.lower(), p.upper());
          break;
        case ParameterType::kDiscrete:
          value = std::clamp<int64_t>(std::llround(FromUnit(p, b.log, u)), p.range()[0].as_int(),
                                      p.range()[1].as_int());
          break;
        case ParameterType::kOrdinal: {
          const auto last = static_cast<double>(p.range().size() - 1);
          value = p.range()[static_cast<size_t>(std::llround(u * last))];
          break;
        }
        case ParameterType::kChoice: {
          Eigen::Index best = 0;
          x.segment(b.column, b.width).maxCoeff(&best);
          value = p.range()[static_cast<size_t>(best)];
          break;
        }
      }
      values.emplace(p.name(), std::move(value));
    }
    return values;
  }

  Eigen::VectorXd Snap(const Eigen::VectorXd& x) const { return *Encode(Decode(x)); }

  // A random step from `x`: Gaussian with `scale` on ordered coordinates,
  // and each Choice switched to a random value with probability 1/blocks.
  Eigen::VectorXd Neighbour(const Eigen::VectorXd& x, double scale, Rng& rng) const {
    Eigen::VectorXd y = x;
    std::normal_distribution<double> step(0.0, scale);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double switch_probability = 1.0 / static_cast<double>(blocks_.size());
    for (const Block& b : blocks_) {
      if (b.parameter->type() == ParameterType::kChoice) {
        if (unit(rng) < switch_probability) {
          y.segment(b.column, b.width).setZero();
          const int pick = std::uniform_int_distribution<int>(0, b.width - 1)(rng);
          y[b.column + pick] = 1.0;
        }
      } else {
        y[b.column] = std::clamp(y[b.column] + step(rng), 0.0, 1.0);
      }
    }
    return Snap(y);
  }

 private:
  struct Block {
    const Parameter* parameter;
    int column;
    int width;
    bool log;
  };

  static double ToUnit(const Parameter& p, bool log, double v) {
    if (log)
      return (std::log(v) - std::log(p.lower())) / (std::log(p.upper()) - std::log(p.lower()));
    return (v - p.lower()) / (p.upper() - p.lower());
  }
  static double FromUnit(const Parameter& p, bool log, double u) {
    if (log) return std::exp(std::log(p.lower()) + u * (std::log(p.upper()) - std::log(p.lower())));
    return p.lower() + u * (p.upper() - p.lower());
  }
  static size_t IndexOf(const Parameter& p, const Value& v) {
    return static_cast<size_t>(std::find(p.range().begin(), p.range().end(), v) -
                               p.range().begin());
  }
  static double OrdinalUnit(size_t index, size_t size) {
    return size > 1 ? static_cast<double>(index) / static_cast<double>(size - 1) : 0.0;
  }

  std::vector<Block> blocks_;
  int dimensions_ = 0;
};

// The acquisition's search budget: enough for the low-dimensional spaces of
// hyperparameter tuning, cheap next to a trial.
constexpr int kRandomCandidates = 1000;
constexpr int kCandidatesNearData = 100;  // around the best observed points
constexpr int kRefinedCandidates = 5;
constexpr int kRefinementSteps = 30;

class BayesianOptimizationAlgorithm final : public Algorithm {
 public:
  BayesianOptimizationAlgorithm(const ParameterSpace& space, BayesianOptimizationOptions options)
      : options_(std::move(options)), space_(space), encoding_(space_) {
    num_initial_ =
        options_.num_initial_data_points.value_or(static_cast<int64_t>(space.size()) + 1);
    num_initial_ =
        std::max<int64_t>(num_initial_, static_cast<int64_t>(options_.initial_data_points.size()));
  }

  std::string_view name() const override { return "BayesianOptimization"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    if (options_.max_num_trials > 0 && handed_out_ >= options_.max_num_trials) {
      return Suggestion::Done();
    }
    Trial trial;
    const auto position = static_cast<size_t>(handed_out_);
    if (position < options_.initial_data_points.size()) {
      trial.parameters = options_.initial_data_points[position];
    } else if (handed_out_ < num_initial_ || completed_.size() < 2 || encoding_.dimensions() == 0) {
      trial.parameters = context.space.Sample(context.rng);
    } else {
      SHERPA_ASSIGN_OR_RETURN(trial.parameters, ModelSuggestion(context));
    }
    ++handed_out_;
    if (std::optional<Eigen::VectorXd> x = encoding_.Encode(trial.parameters)) {
      running_[context.next_trial_id] = *x;
      handed_out_points_[context.next_trial_id] = std::move(*x);
    }
    return Suggestion::Of(std::move(trial));
  }

  void on_trial_end(const TrialRecord& trial) override {
    running_.erase(trial.id());
    if (trial.status() != TrialStatus::kCompleted || trial.last() == nullptr) return;
    std::optional<Eigen::VectorXd> x = encoding_.Encode(trial.trial().parameters);
    if (!x) return;
    completed_.push_back({std::move(*x), trial.last()->objective});
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    if (auto it = handed_out_points_.find(trial.id()); it != handed_out_points_.end()) {
      running_[trial.id()] = it->second;
    }
  }

 private:
  struct DataPoint {
    Eigen::VectorXd x;
    double objective;  // the last observation, as reported
  };

  // Indexes into completed_ for the fit: all of them, or the better half
  // and the most recent others when there are more than the cap.
  std::vector<size_t> TrainingSet(bool lower_is_better) const {
    std::vector<size_t> all(completed_.size());
    std::iota(all.begin(), all.end(), 0);
    const auto cap = static_cast<size_t>(options_.max_training_points);
    if (all.size() <= cap) return all;
    std::vector<size_t> by_objective = all;
    std::stable_sort(by_objective.begin(), by_objective.end(), [&](size_t a, size_t b) {
      return lower_is_better ? completed_[a].objective < completed_[b].objective
                             : completed_[a].objective > completed_[b].objective;
    });
    std::vector<bool> chosen(all.size(), false);
    for (size_t i = 0; i < cap / 2; ++i) chosen[by_objective[i]] = true;
    size_t count = cap / 2;
    for (size_t i = all.size(); i-- > 0 && count < cap;) {
      if (!chosen[i]) chosen[i] = true, ++count;
    }
    std::vector<size_t> out;
    for (size_t i = 0; i < all.size(); ++i) {
      if (chosen[i]) out.push_back(i);
    }
    return out;
  }

  // Refits the GP if trials completed since the last fit. The model works
  // on losses (lower is better).
  Status UpdateModel(bool lower_is_better) {
    if (model_ && fitted_on_ == completed_.size()) return OkStatus();
    const std::vector<size_t> rows = TrainingSet(lower_is_better);
    Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), encoding_.dimensions());
    Eigen::VectorXd loss(static_cast<Eigen::Index>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto row = static_cast<Eigen::Index>(i);
      x.row(row) = completed_[rows[i]].x.transpose();
      const double objective = completed_[rows[i]].objective;
      loss[row] = lower_is_better ? objective : -objective;
    }
    gp::FitOptions fit;
    fit.kernel = gp::KernelKind::kMatern52;
    if (model_) fit.warm_start = model_->hyperparameters();
    SHERPA_ASSIGN_OR_RETURN(gp::GaussianProcess model, gp::GaussianProcess::Fit(x, loss, fit));
    model_ = std::move(model);
    best_loss_ = loss.minCoeff();
    worst_loss_ = loss.maxCoeff();
    fitted_on_ = completed_.size();
    return OkStatus();
  }

  StatusOr<ParameterValues> ModelSuggestion(const SuggestContext& context) {
    Status updated = UpdateModel(context.results.lower_is_better());
    if (!updated.ok()) return updated.WithContext("BayesianOptimization");
    const gp::GaussianProcess* model = &*model_;

    // Constant liar: each running trial is believed to end at the worse of
    // its predicted loss and the worst loss seen. That leaves no expected
    // improvement near it, so a batch spreads out. (Lying with the best loss
    // was tried: EI then still peaked right beside a running trial.)
    std::optional<gp::GaussianProcess> with_liars;
    if (!running_.empty()) {
      Eigen::MatrixXd pending(static_cast<Eigen::Index>(running_.size()), encoding_.dimensions());
      Eigen::Index row = 0;
      for (const auto& [id, x] : running_) pending.row(row++) = x.transpose();
      Eigen::VectorXd mean, variance;
      model->PredictRows(pending, &mean, &variance);
      const Eigen::VectorXd lies = mean.cwiseMax(worst_loss_);
      StatusOr<gp::GaussianProcess> conditioned = model->Condition(pending, lies);
      if (!conditioned.ok()) return conditioned.status().WithContext("BayesianOptimization");
      with_liars = std::move(conditioned).value();
      model = &*with_liars;
    }

    const double xi = 0.01 * model->y_scale();
    auto acquisition = [&](const Eigen::MatrixXd& points) {
      Eigen::VectorXd mean, variance;
      model->PredictRows(points, &mean, &variance);
      Eigen::VectorXd ei(points.rows());
      for (Eigen::Index i = 0; i < points.rows(); ++i) {
        ei[i] = gp::ExpectedImprovement(mean[i], variance[i], best_loss_, xi);
      }
      return ei;
    };

    // Candidates: random configurations, and neighbours of the best data.
    const int d = encoding_.dimensions();
    Eigen::MatrixXd candidates(kRandomCandidates + kCandidatesNearData, d);
    for (int i = 0; i < kRandomCandidates; ++i) {
      candidates.row(i) = encoding_.Encode(context.space.Sample(context.rng))->transpose();
    }
    std::vector<size_t> best_data(completed_.size());
    std::iota(best_data.begin(), best_data.end(), 0);
    const bool lower = context.results.lower_is_better();
    std::stable_sort(best_data.begin(), best_data.end(), [&](size_t a, size_t b) {
      return lower ? completed_[a].objective < completed_[b].objective
                   : completed_[a].objective > completed_[b].objective;
    });
    const size_t num_seeds = std::min<size_t>(5, best_data.size());
    for (int i = 0; i < kCandidatesNearData; ++i) {
      const Eigen::VectorXd& seed = completed_[best_data[static_cast<size_t>(i) % num_seeds]].x;
      candidates.row(kRandomCandidates + i) = encoding_.Neighbour(seed, 0.05, context.rng);
    }
    const Eigen::VectorXd scores = acquisition(candidates);

    // Local refinement of the best few: a random walk that keeps
    // improvements and narrows its steps.
    std::vector<Eigen::Index> order(static_cast<size_t>(candidates.rows()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return scores[a] > scores[b]; });
    Eigen::VectorXd best_point = candidates.row(order[0]).transpose();
    double best_score = scores[order[0]];
    for (int k = 0; k < kRefinedCandidates && k < static_cast<int>(order.size()); ++k) {
      Eigen::VectorXd point = candidates.row(order[static_cast<size_t>(k)]).transpose();
      double score = scores[order[static_cast<size_t>(k)]];
      double scale = 0.05;
      for (int step = 0; step < kRefinementSteps; ++step) {
        const Eigen::VectorXd next = encoding_.Neighbour(point, scale, context.rng);
        const double next_score = acquisition(next.transpose())[0];
        if (next_score > score) {
          point = next;
          score = next_score;
        } else {
          scale = std::max(0.005, scale * 0.7);
        }
      }
      if (score > best_score) best_point = point, best_score = score;
    }
    return encoding_.Decode(best_point);
  }

  BayesianOptimizationOptions options_;
  ParameterSpace space_;  // encoding_ points into it
  SpaceEncoding encoding_;
  int64_t num_initial_ = 0;
  int64_t handed_out_ = 0;
  std::vector<DataPoint> completed_;                      // in on_trial_end order
  std::map<TrialId, Eigen::VectorXd> running_;            // ordered: fantasies in id order
  std::map<TrialId, Eigen::VectorXd> handed_out_points_;  // for reopened trials
  std::optional<gp::GaussianProcess> model_;
  size_t fitted_on_ = 0;  // completed_.size() at the last fit
  double best_loss_ = 0;  // of the training set
  double worst_loss_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> BayesianOptimization(const ParameterSpace& space,
                                                          BayesianOptimizationOptions options) {
  const std::string name = "BayesianOptimization: ";
  if (options.max_num_trials < 0) {
    return InvalidArgumentError(name + "max_num_trials must be >= 0 (0: no limit), got " +
                                std::to_string(options.max_num_trials));
  }
  if (options.num_initial_data_points && *options.num_initial_data_points < 1) {
    return InvalidArgumentError(name + "num_initial_data_points must be at least 1, got " +
                                std::to_string(*options.num_initial_data_points));
  }
  if (options.max_training_points < 10) {
    return InvalidArgumentError(name + "max_training_points must be at least 10, got " +
                                std::to_string(options.max_training_points));
  }
  for (size_t i = 0; i < options.initial_data_points.size(); ++i) {
    const ParameterValues& point = options.initial_data_points[i];
    const std::string where = name + "initial_data_points[" + std::to_string(i) + "]";
    for (const Parameter& p : space) {
      auto it = point.find(p.name());
      if (it == point.end()) {
        return InvalidArgumentError(where + " gives no value for parameter '" + p.name() + "'");
      }
      if (!p.Contains(it->second)) {
        return InvalidArgumentError(where + "['" + p.name() + "'] = " + it->second.ToString() +
                                    " is not a " + std::string(ParameterTypeName(p.type())) +
                                    " value inside the parameter's range");
      }
    }
    for (const auto& [key, value] : point) {
      if (space.Find(key) == nullptr) {
        return InvalidArgumentError(where + " names '" + key +
                                    "', which is not a parameter of the study");
      }
    }
  }
  return std::unique_ptr<Algorithm>(
      std::make_unique<BayesianOptimizationAlgorithm>(space, std::move(options)));
}

}  // namespace sherpa
