// Population Based Bandits (Parker-Holder, Nguyen and Roberts, NeurIPS
// 2020): PBT whose explore step asks a time-varying GP bandit for the
// Continuous and Discrete hyperparameters. Everything else is PBT's own code
// (pbt_internal.h), so lineage, load_from/save_to and
// the barrier behave exactly as in PopulationBasedTraining.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "algorithms/gaussian_process.h"
#include "algorithms/pbt_internal.h"

#include "sherpa/algorithms.h"

namespace sherpa {
namespace {

// One hyperparameter the bandit chooses, mapped to [0, 1] within its bounds.
struct BanditParameter {
  const Parameter* parameter;
  double lo, hi;  // parameter_range or the own range
  bool log;       // in log space (a log scale with lo > 0)

  double ToUnit(double v) const {
    const double u =
        log ? (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo)) : (v - lo) / (hi - lo);
    return std::clamp(u, 0.0, 1.0);
  }
  Value FromUnit(double u) const {
    const double v =
        log ? std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))) : lo + u * (hi - lo);
    if (parameter->type() == ParameterType::kDiscrete) {
      return std::clamp<int64_t>(std::llround(v), static_cast<int64_t>(std::ceil(lo)),
                                 static_cast<int64_t>(std::floor(hi)));
    }
    return std::clamp(v, lo, hi);
  }
};

// The acquisition's search budget over [0, 1]^d.
constexpr int kRandomCandidates = 500;
constexpr int kRefinedCandidates = 5;
constexpr int kRefinementSteps = 30;

class Pb2Explorer final : public pbt_internal::ExploreHook {
 public:
  Pb2Explorer(const ParameterSpace& space, const PB2Options& options)
      : space_(space), max_data_points_(static_cast<size_t>(options.max_data_points)) {
    for (const Parameter& p : space_) {
      if (!p.is_numeric_range()) continue;
      BanditParameter b{&p, p.lower(), p.upper(), false};
      if (auto range = options.pbt.parameter_range.find(p.name());
          range != options.pbt.parameter_range.end()) {
        b.lo = range->second[0].as_number();
        b.hi = range->second[1].as_number();
      }
      b.log = p.scale() == Scale::kLog && b.lo > 0;
      bandit_.push_back(b);
    }
  }

  std::string_view algorithm_name() const override { return "PB2"; }

  void OnGenerationRanked(int64_t generation, const std::vector<pbt_internal::RankedMember>& ranked,
                          const Results& results) override {
    const bool lower = results.lower_is_better();
    for (const pbt_internal::RankedMember& member : ranked) {
      const TrialRecord& record = *results.Find(member.id);
      const ParameterValues& values = record.trial().parameters;
      const std::string& load_from = values.find(kLoadFromKey)->second.as_string();
      if (load_from.empty()) continue;  // generation 1: no starting point to compare with
      TrialId parent_id = 0;
      std::from_chars(load_from.data(), load_from.data() + load_from.size(), parent_id);
      const TrialRecord* parent = results.Find(parent_id);
      if (parent == nullptr || parent->status() != TrialStatus::kCompleted ||
          parent->last() == nullptr) {
        continue;
      }
      const double change = member.objective - parent->last()->objective;
      DataPoint point{static_cast<double>(generation), Eigen::VectorXd(bandit_.size()),
                      lower ? -change : change};
      for (size_t j = 0; j < bandit_.size(); ++j) {
        point.x[static_cast<Eigen::Index>(j)] =
            bandit_[j].ToUnit(values.find(bandit_[j].parameter->name())->second.as_number());
      }
      data_.push_back(std::move(point));
    }
    if (data_.size() > max_data_points_) {
      data_.erase(data_.begin(), data_.end() - static_cast<std::ptrdiff_t>(max_data_points_));
    }
    Refit();
    pending_.clear();
    next_generation_ = generation + 1;
  }

  Status Explore(int64_t generation, ParameterValues& values, Rng& rng) override {
    // Without a model, PBT's perturbation (already applied) stands.
    if (!model_ || bandit_.empty() || generation != next_generation_) return OkStatus();
    const Eigen::VectorXd chosen = MaximizeUcb(rng);
    for (size_t j = 0; j < bandit_.size(); ++j) {
      values[bandit_[j].parameter->name()] =
          bandit_[j].FromUnit(chosen[static_cast<Eigen::Index>(j)]);
    }
    // What will actually run, rounding included, is what later members of
    // this generation must avoid.
    Eigen::VectorXd ran(static_cast<Eigen::Index>(bandit_.size()));
    for (size_t j = 0; j < bandit_.size(); ++j) {
      ran[static_cast<Eigen::Index>(j)] =
          bandit_[j].ToUnit(values[bandit_[j].parameter->name()].as_number());
    }
    pending_.push_back(std::move(ran));
    return OkStatus();
  }

 private:
  struct DataPoint {
    double generation;
    Eigen::VectorXd x;  // bandit parameters in [0, 1]
    double reward;      // change of the objective over the generation; larger is better
  };

  void Refit() {
    model_.reset();
    if (data_.size() < 2 || bandit_.empty()) return;
    const auto n = static_cast<Eigen::Index>(data_.size());
    const auto d = static_cast<Eigen::Index>(bandit_.size());
    Eigen::MatrixXd x(n, d + 1);
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const DataPoint& point = data_[static_cast<size_t>(i)];
      x(i, 0) = point.generation;
      x.row(i).tail(d) = point.x.transpose();
      y[i] = point.reward;
    }
    gp::FitOptions fit;
    fit.kernel = gp::KernelKind::kSquaredExponential;
    fit.time_column = true;
    if (hyperparameters_) fit.warm_start = *hyperparameters_;
    StatusOr<gp::GaussianProcess> model = gp::GaussianProcess::Fit(x, y, fit);
    // A failed fit (numerically hopeless data) leaves PBT's perturbation.
    if (!model.ok()) return;
    hyperparameters_ = model->hyperparameters();
    model_ = std::move(model).value();
  }

  // Rows (time, x) for points at the next generation.
  Eigen::MatrixXd AtNextGeneration(const Eigen::MatrixXd& points) const {
    Eigen::MatrixXd rows(points.rows(), points.cols() + 1);
    rows.col(0).setConstant(static_cast<double>(next_generation_));
    rows.rightCols(points.cols()) = points;
    return rows;
  }

  // GP-UCB with GP-BUCB's batch rule: the mean comes from the data, the
  // standard deviation from the data plus this generation's earlier choices.
  Eigen::VectorXd MaximizeUcb(Rng& rng) const {
    const gp::GaussianProcess* variance_model = &*model_;
    std::optional<gp::GaussianProcess> with_pending;
    if (!pending_.empty()) {
      Eigen::MatrixXd pending(static_cast<Eigen::Index>(pending_.size()),
                              static_cast<Eigen::Index>(bandit_.size()));
      for (size_t i = 0; i < pending_.size(); ++i) {
        pending.row(static_cast<Eigen::Index>(i)) = pending_[i].transpose();
      }
      const Eigen::MatrixXd rows = AtNextGeneration(pending);
      Eigen::VectorXd mean, variance;
      model_->PredictRows(rows, &mean, &variance);
      // The labels do not change the variance; the mean keeps it harmless.
      StatusOr<gp::GaussianProcess> conditioned = model_->Condition(rows, mean);
      if (conditioned.ok()) {
        with_pending = std::move(conditioned).value();
        variance_model = &*with_pending;
      }
    }
    const double beta =
        0.2 + std::max(0.0, std::log(0.4 * static_cast<double>(model_->num_points())));
    const double kappa = std::sqrt(beta);
    auto ucb = [&](const Eigen::MatrixXd& points) {
      const Eigen::MatrixXd rows = AtNextGeneration(points);
      Eigen::VectorXd mean, variance, ignored;
      model_->PredictRows(rows, &mean, &ignored);
      variance_model->PredictRows(rows, &ignored, &variance);
      return Eigen::VectorXd(mean.array() + kappa * variance.array().sqrt());
    };

    const auto d = static_cast<Eigen::Index>(bandit_.size());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Eigen::MatrixXd candidates(kRandomCandidates, d);
    for (Eigen::Index i = 0; i < candidates.rows(); ++i) {
      for (Eigen::Index j = 0; j < d; ++j) candidates(i, j) = unit(rng);
    }
    const Eigen::VectorXd scores = ucb(candidates);
    std::vector<Eigen::Index> order(static_cast<size_t>(candidates.rows()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<Eigen::Index>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return scores[a] > scores[b]; });

    // Refine the best few by a clipped random walk; clipping lets it reach
    // the bounds, where UCB's optimum often is.
    std::normal_distribution<double> step(0.0, 1.0);
    Eigen::VectorXd best = candidates.row(order[0]).transpose();
    double best_score = scores[order[0]];
    for (int k = 0; k < kRefinedCandidates; ++k) {
      Eigen::VectorXd point = candidates.row(order[static_cast<size_t>(k)]).transpose();
      double score = scores[order[static_cast<size_t>(k)]];
      double scale = 0.1;
      for (int s = 0; s < kRefinementSteps; ++s) {
        Eigen::VectorXd next = point;
        for (Eigen::Index j = 0; j < d; ++j) {
          next[j] = std::clamp(next[j] + scale * step(rng), 0.0, 1.0);
        }
        const double next_score = ucb(next.transpose())[0];
        if (next_score > score) {
          point = std::move(next);
          score = next_score;
        } else {
          scale = std::max(0.005, scale * 0.7);
        }
      }
      if (score > best_score) best = point, best_score = score;
    }
    return best;
  }

  ParameterSpace space_;  // bandit_ points into it
  size_t max_data_points_;
  std::vector<BanditParameter> bandit_;
  std::vector<DataPoint> data_;  // oldest first
  std::optional<gp::Hyperparameters> hyperparameters_;
  std::optional<gp::GaussianProcess> model_;  // fitted on data_; null: too little data
  int64_t next_generation_ = 0;               // the generation model_ chooses for
  std::vector<Eigen::VectorXd> pending_;      // chosen earlier in next_generation_
};

}  // namespace

StatusOr<std::unique_ptr<Algorithm>> PB2(const ParameterSpace& space, PB2Options options) {
  SHERPA_RETURN_IF_ERROR(pbt_internal::ValidatePbtOptions(space, options.pbt, "PB2"));
  if (options.pbt.mode != PbtMode::kGenerational) {
    return InvalidArgumentError("PB2: mode must be generational (the bandit models generations)");
  }
  if (options.pbt.resample_probability != 0) {
    return InvalidArgumentError(
        "PB2: resample_probability must be 0 (the bandit chooses new values), got " +
        Value(options.pbt.resample_probability).ToString());
  }
  if (options.max_data_points < 10) {
    return InvalidArgumentError("PB2: max_data_points must be at least 10, got " +
                                std::to_string(options.max_data_points));
  }
  auto explorer = std::make_unique<Pb2Explorer>(space, options);
  return pbt_internal::MakePopulationBasedTraining(space, std::move(options.pbt),
                                                   std::move(explorer));
}

}  // namespace sherpa
