#include "algorithms/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace sherpa::gp {
namespace {

constexpr double kSqrt5 = 2.23606797749979;
// A gain of the log likelihood below this ends a gradient-ascent run.
constexpr double kConvergedGain = 1e-4;

// The hyperparameters as one vector for the optimizer: log length scales,
// log signal variance, log noise variance, then eps if there is a time
// column. Logs make the scale-like parameters equally easy to move.
struct Packing {
  int num_length_scales;
  bool time;
  int size() const { return num_length_scales + 2 + (time ? 1 : 0); }

  Eigen::VectorXd Pack(const Hyperparameters& h) const {
    Eigen::VectorXd theta(size());
    theta.head(num_length_scales) = h.length_scales.array().log();
    theta[num_length_scales] = std::log(h.signal_variance);
    theta[num_length_scales + 1] = std::log(h.noise_variance);
    if (time) theta[num_length_scales + 2] = h.time_decay;
    return theta;
  }
  Hyperparameters Unpack(const Eigen::VectorXd& theta) const {
    Hyperparameters h;
    h.length_scales = theta.head(num_length_scales).array().exp();
    h.signal_variance = std::exp(theta[num_length_scales]);
    h.noise_variance = std::exp(theta[num_length_scales + 1]);
    h.time_decay = time ? theta[num_length_scales + 2] : 0.0;
    return h;
  }
  void Bounds(const FitOptions& o, Eigen::VectorXd* lo, Eigen::VectorXd* hi) const {
    lo->resize(size());
    hi->resize(size());
    lo->head(num_length_scales).setConstant(std::log(o.min_length_scale));
    hi->head(num_length_scales).setConstant(std::log(o.max_length_scale));
    (*lo)[num_length_scales] = std::log(o.min_signal_variance);
    (*hi)[num_length_scales] = std::log(o.max_signal_variance);
    (*lo)[num_length_scales + 1] = std::log(o.min_noise_variance);
    (*hi)[num_length_scales + 1] = std::log(o.max_noise_variance);
    if (time) {
      (*lo)[num_length_scales + 2] = o.min_time_decay;
      (*hi)[num_length_scales + 2] = o.max_time_decay;
    }
  }
};

// The kernel between two rows, without noise. If `shape_derivative` is
// given it receives the factor c with d k / d log l_j = c (x_j - x'_j)^2 / l_j^2.
double KernelValue(const FitOptions& options, const Hyperparameters& h,
                   const Eigen::Ref<const Eigen::RowVectorXd>& a,
                   const Eigen::Ref<const Eigen::RowVectorXd>& b,
                   double* shape_derivative = nullptr) {
  const int offset = options.time_column ? 1 : 0;
  double r2 = 0;
  for (int j = 0; j < h.length_scales.size(); ++j) {
    const double d = (a[j + offset] - b[j + offset]) / h.length_scales[j];
    r2 += d * d;
  }
  double time_factor = 1.0;
  if (options.time_column) time_factor = std::pow(1.0 - h.time_decay, std::abs(a[0] - b[0]) / 2);
  double shape, derivative;
  if (options.kernel == KernelKind::kMatern52) {
    const double r = std::sqrt(r2);
    const double e = std::exp(-kSqrt5 * r);
    shape = (1 + kSqrt5 * r + 5.0 / 3.0 * r2) * e;
    // d shape / d log l_j = (5/3) (1 + sqrt5 r) e^(-sqrt5 r) * d_j^2 / l_j^2
    derivative = 5.0 / 3.0 * (1 + kSqrt5 * r) * e;
  } else {
    shape = std::exp(-r2 / 2);
    derivative = shape;
  }
  if (shape_derivative) *shape_derivative = h.signal_variance * time_factor * derivative;
  return h.signal_variance * time_factor * shape;
}

Eigen::MatrixXd KernelMatrix(const FitOptions& options, const Hyperparameters& h,
                             const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd k(a.rows(), b.rows());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index j = 0; j < b.rows(); ++j)
      k(i, j) = KernelValue(options, h, a.row(i), b.row(j));
  }
  return k;
}

// Factorizes k + noise I, adding jitter until it is positive definite.
bool FactorizeWithJitter(Eigen::MatrixXd k, double noise, Eigen::LLT<Eigen::MatrixXd>* llt) {
  const double scale = std::max(1e-12, k.diagonal().mean());
  double jitter = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    Eigen::MatrixXd with_noise = k;
    with_noise.diagonal().array() += noise + jitter;
    llt->compute(with_noise);
    if (llt->info() == Eigen::Success) return true;
    jitter = jitter == 0 ? 1e-10 * scale : jitter * 10;
  }
  return false;
}

// The log marginal likelihood of z and, if `gradient`, its gradient with
// respect to the packed hyperparameters. -inf if K cannot be factorized.
double LogMarginalLikelihood(const FitOptions& options, const Packing& packing,
                             const Eigen::MatrixXd& x, const Eigen::VectorXd& z,
                             const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) {
  const Hyperparameters h = packing.Unpack(theta);
  const Eigen::Index n = x.rows();
  // One pass over the pairs for K and, for the gradient, the factor that
  // turns (x_p - x'_p)^2 / l_p^2 into d k / d log l_p.
  Eigen::MatrixXd k(n, n), shape_derivative;
  if (gradient) shape_derivative.resize(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      double derivative = 0;
      k(i, j) = k(j, i) = KernelValue(options, h, x.row(i), x.row(j), &derivative);
      if (gradient) shape_derivative(i, j) = shape_derivative(j, i) = derivative;
    }
  }
  Eigen::LLT<Eigen::MatrixXd> llt;
  if (!FactorizeWithJitter(k, h.noise_variance, &llt)) return -INFINITY;
  const Eigen::VectorXd alpha = llt.solve(z);
  const Eigen::MatrixXd l = llt.matrixL();
  const double lml = -0.5 * z.dot(alpha) - l.diagonal().array().log().sum() -
                     0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
  if (!gradient) return lml;

  // d lml / d theta_p = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_p); both
  // matrices are symmetric, so each off-diagonal pair counts twice.
  const Eigen::MatrixXd w = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
  gradient->setZero(packing.size());
  const int nl = packing.num_length_scales;
  const int offset = options.time_column ? 1 : 0;
  const double decay_factor = packing.time ? -1.0 / (2 * (1.0 - h.time_decay)) : 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    (*gradient)[nl] += w(i, i) * k(i, i);
    for (Eigen::Index j = 0; j < i; ++j) {
      const double wij = 2 * w(i, j);
      for (int p = 0; p < nl; ++p) {
        const double d = (x(i, p + offset) - x(j, p + offset)) / h.length_scales[p];
        (*gradient)[p] += wij * shape_derivative(i, j) * d * d;
      }
      (*gradient)[nl] += wij * k(i, j);
      if (packing.time) {
        (*gradient)[nl + 2] += wij * k(i, j) * std::abs(x(i, 0) - x(j, 0)) * decay_factor;
      }
    }
  }
  (*gradient)[nl + 1] = w.trace() * h.noise_variance;
  *gradient *= 0.5;
  return lml;
}

// Projected gradient ascent with an adaptive step: grows after a success,
// halves after a failure.
Eigen::VectorXd Maximize(const FitOptions& options, const Packing& packing,
                         const Eigen::MatrixXd& x, const Eigen::VectorXd& z, Eigen::VectorXd theta,
                         double* best_value) {
  Eigen::VectorXd lo, hi;
  packing.Bounds(options, &lo, &hi);
  theta = theta.cwiseMax(lo).cwiseMin(hi);
  Eigen::VectorXd gradient;
  double value = LogMarginalLikelihood(options, packing, x, z, theta, &gradient);
  double step = 0.1;
  for (int iteration = 0; iteration < options.max_iterations && std::isfinite(value); ++iteration) {
    const double norm = gradient.norm();
    if (norm < 1e-8) break;
    bool improved = false;
    while (step > 1e-6) {
      // A step of length `step` along the gradient, then back into the box.
      const Eigen::VectorXd next = (theta + step * gradient / norm).cwiseMax(lo).cwiseMin(hi);
      Eigen::VectorXd next_gradient;
      const double next_value = LogMarginalLikelihood(options, packing, x, z, next, &next_gradient);
      if (next_value > value) {
        // Converged when a step gains next to nothing.
        improved = next_value - value > kConvergedGain;
        theta = next;
        value = next_value;
        gradient = next_gradient;
        step *= 1.5;
        break;
      }
      step *= 0.5;
    }
    if (!improved) break;
  }
  *best_value = value;
  return theta;
}

Status CheckData(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const FitOptions& options) {
  if (x.rows() == 0) return InvalidArgumentError("GaussianProcess: no data");
  if (x.rows() != y.size()) {
    return InvalidArgumentError("GaussianProcess: " + std::to_string(x.rows()) + " inputs but " +
                                std::to_string(y.size()) + " targets");
  }
  if (options.time_column && x.cols() < 1) {
    return InvalidArgumentError("GaussianProcess: a time column needs at least one column");
  }
  if (!x.allFinite() || !y.allFinite()) {
    return InvalidArgumentError("GaussianProcess: inputs and targets must be finite");
  }
  return OkStatus();
}

}  // namespace

StatusOr<GaussianProcess> GaussianProcess::Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                               const FitOptions& options) {
  SHERPA_RETURN_IF_ERROR(CheckData(x, y, options));
  GaussianProcess gp;
  gp.options_ = options;
  gp.x_ = x;
  gp.y_mean_ = y.mean();
  const double variance =
      y.size() > 1 ? (y.array() - gp.y_mean_).square().sum() / static_cast<double>(y.size()) : 0.0;
  gp.y_scale_ = variance > 1e-24 ? std::sqrt(variance) : 1.0;
  gp.z_ = (y.array() - gp.y_mean_) / gp.y_scale_;

  const Packing packing{static_cast<int>(x.cols()) - (options.time_column ? 1 : 0),
                        options.time_column};
  // Fixed starts from short to long length scales: the likelihood often has
  // a "everything is noise" optimum at long scales and a wiggly one at
  // short scales; trying both keeps the fit from getting stuck in either.
  std::vector<Hyperparameters> starts;
  // With a warm start (the previous fit on most of the same data) one fixed
  // start is enough as a guard against a drifted local optimum.
  const bool warm = options.warm_start.has_value() &&
                    options.warm_start->length_scales.size() == packing.num_length_scales;
  const std::vector<double> fixed =
      warm ? std::vector<double>{0.5} : std::vector<double>{0.15, 0.5, 2.0};
  for (double length_scale : fixed) {
    Hyperparameters h;
    h.length_scales = Eigen::VectorXd::Constant(packing.num_length_scales, length_scale);
    h.signal_variance = 1.0;
    h.noise_variance = 1e-3;
    h.time_decay = options.time_column ? 0.1 : 0.0;
    starts.push_back(std::move(h));
  }
  if (warm) starts.push_back(*options.warm_start);
  double best_value = -INFINITY;
  Eigen::VectorXd best_theta = packing.Pack(starts.front());
  for (const Hyperparameters& start : starts) {
    double value = -INFINITY;
    Eigen::VectorXd theta = Maximize(options, packing, x, gp.z_, packing.Pack(start), &value);
    if (value > best_value) best_value = value, best_theta = std::move(theta);
  }
  gp.hyperparameters_ = packing.Unpack(best_theta);
  SHERPA_RETURN_IF_ERROR(gp.Factorize());
  return gp;
}

StatusOr<GaussianProcess> GaussianProcess::WithHyperparameters(
    const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const FitOptions& options,
    const Hyperparameters& hyperparameters) {
  SHERPA_RETURN_IF_ERROR(CheckData(x, y, options));
  GaussianProcess gp;
  gp.options_ = options;
  gp.x_ = x;
  gp.y_mean_ = y.mean();
  const double variance =
      y.size() > 1 ? (y.array() - gp.y_mean_).square().sum() / static_cast<double>(y.size()) : 0.0;
  gp.y_scale_ = variance > 1e-24 ? std::sqrt(variance) : 1.0;
  gp.z_ = (y.array() - gp.y_mean_) / gp.y_scale_;
  gp.hyperparameters_ = hyperparameters;
  SHERPA_RETURN_IF_ERROR(gp.Factorize());
  return gp;
}

StatusOr<GaussianProcess> GaussianProcess::Condition(const Eigen::MatrixXd& x,
                                                     const Eigen::VectorXd& y) const {
  if (x.rows() != y.size() || x.cols() != x_.cols()) {
    return InvalidArgumentError("GaussianProcess::Condition: shapes do not match the model");
  }
  GaussianProcess gp = *this;
  gp.x_.conservativeResize(x_.rows() + x.rows(), Eigen::NoChange);
  gp.x_.bottomRows(x.rows()) = x;
  gp.z_.conservativeResize(z_.size() + y.size());
  gp.z_.tail(y.size()) = (y.array() - y_mean_) / y_scale_;
  SHERPA_RETURN_IF_ERROR(gp.Factorize());
  return gp;
}

Status GaussianProcess::Factorize() {
  const Eigen::MatrixXd k = KernelMatrix(options_, hyperparameters_, x_, x_);
  if (!FactorizeWithJitter(k, hyperparameters_.noise_variance, &cholesky_)) {
    return InternalError("GaussianProcess: the kernel matrix is not positive definite");
  }
  alpha_ = cholesky_.solve(z_);
  const Eigen::MatrixXd l = cholesky_.matrixL();
  log_marginal_likelihood_ = -0.5 * z_.dot(alpha_) - l.diagonal().array().log().sum() -
                             0.5 * static_cast<double>(z_.size()) * std::log(2 * std::numbers::pi);
  return OkStatus();
}

Prediction GaussianProcess::Predict(const Eigen::VectorXd& x) const {
  Eigen::VectorXd mean, variance;
  PredictRows(x.transpose(), &mean, &variance);
  return {mean[0], variance[0]};
}

void GaussianProcess::PredictRows(const Eigen::MatrixXd& x, Eigen::VectorXd* mean,
                                  Eigen::VectorXd* variance) const {
  const Eigen::MatrixXd cross = KernelMatrix(options_, hyperparameters_, x, x_);  // m x n
  *mean = (cross * alpha_).array() * y_scale_ + y_mean_;
  const Eigen::MatrixXd v = cholesky_.matrixL().solve(cross.transpose());  // n x m
  *variance = (hyperparameters_.signal_variance - v.colwise().squaredNorm().transpose().array())
                  .cwiseMax(0.0) *
              (y_scale_ * y_scale_);
}

double NormalPdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi); }

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

double ExpectedImprovement(double mean, double variance, double best, double xi) {
  const double sigma = std::sqrt(std::max(variance, 0.0));
  const double gain = best - mean - xi;
  if (sigma < 1e-12) return std::max(gain, 0.0);
  const double z = gain / sigma;
  return gain * NormalCdf(z) + sigma * NormalPdf(z);
}

}  // namespace sherpa::gp
