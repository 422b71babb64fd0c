// Gaussian-process regression for the model-based algorithms
// (BayesianOptimization, PB2). Internal to the algorithms module.
//
// The model is y = f(x) + noise, f ~ GP(mean of y, k), with an ARD kernel
// (one length scale per input):
//
//   Matern 5/2:        k = s2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r)
//   squared exp.:      k = s2 exp(-r^2 / 2)
//   r^2 = sum_j (x_j - x'_j)^2 / l_j^2
//
// Optionally, column 0 of the inputs is a time (e.g. a PBT generation) and
// the kernel is multiplied by the time-varying factor (1 - eps)^(|t - t'| / 2)
// of TV-GP-UCB (Bogunovic et al. 2016, as used by PB2): old data counts less
// as the objective drifts. The time column is used as given; every other
// column should lie in [0, 1], which the default length-scale bounds assume.
//
// `Fit` standardizes y, then chooses the kernel's hyperparameters (length
// scales, signal variance s2, noise variance and eps) by maximizing the log
// marginal likelihood with projected gradient ascent from a few fixed
// starting points (plus an optional warm start). It draws no random numbers,
// so it is a deterministic function of its inputs. Cholesky factorizations
// get increasing jitter until they succeed.
//
// Cost: O(n^3) per likelihood evaluation and O(n^2) per prediction; callers
// cap n (a few hundred points).
//
// Thread safety: a fitted GaussianProcess is immutable.

#ifndef SHERPA_ALGORITHMS_GAUSSIAN_PROCESS_H_
#define SHERPA_ALGORITHMS_GAUSSIAN_PROCESS_H_

#include <optional>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "sherpa/status.h"

namespace sherpa::gp {

enum class KernelKind { kMatern52, kSquaredExponential };

// The kernel's hyperparameters. Variances refer to standardized y.
struct Hyperparameters {
  Eigen::VectorXd length_scales;  // one per non-time input column
  double signal_variance = 1.0;
  double noise_variance = 1e-4;
  double time_decay = 0.0;  // eps in [0, 1); 0 without a time column
};

struct FitOptions {
  KernelKind kernel = KernelKind::kMatern52;
  // Column 0 of x is a time and gets the (1 - eps)^(|dt|/2) factor.
  bool time_column = false;
  // Box for the fit. The noise floor keeps K well conditioned.
  double min_length_scale = 0.01, max_length_scale = 10.0;
  double min_signal_variance = 0.05, max_signal_variance = 20.0;
  double min_noise_variance = 1e-6, max_noise_variance = 1.0;
  double min_time_decay = 1e-3, max_time_decay = 0.5;  // PB2 caps eps at 0.5
  // Gradient-ascent steps per start.
  int max_iterations = 60;
  // Also start from these (e.g. the previous fit's), if given.
  std::optional<Hyperparameters> warm_start;
};

struct Prediction {
  double mean = 0;      // in the units of y
  double variance = 0;  // of the latent f, in the units of y squared
};

class GaussianProcess {
 public:
  // Fits a GP to n rows of `x` (n x d) and `y` (n). INVALID_ARGUMENT if
  // n == 0, the sizes disagree, or a value is not finite.
  static StatusOr<GaussianProcess> Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                       const FitOptions& options);

  // The same model, hyperparameters and standardization, conditioned on
  // `x` and `y` without refitting the hyperparameters.
  static StatusOr<GaussianProcess> WithHyperparameters(const Eigen::MatrixXd& x,
                                                       const Eigen::VectorXd& y,
                                                       const FitOptions& options,
                                                       const Hyperparameters& hyperparameters);

  // This model conditioned on additional (x, y) rows (fantasies of pending
  // evaluations), keeping hyperparameters and standardization.
  StatusOr<GaussianProcess> Condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) const;

  Prediction Predict(const Eigen::VectorXd& x) const;
  // One prediction per row of `x`; cheaper than row-by-row calls.
  void PredictRows(const Eigen::MatrixXd& x, Eigen::VectorXd* mean,
                   Eigen::VectorXd* variance) const;

  const Hyperparameters& hyperparameters() const { return hyperparameters_; }
  // Of the standardized targets, at the fitted hyperparameters.
  double log_marginal_likelihood() const { return log_marginal_likelihood_; }
  int num_points() const { return static_cast<int>(x_.rows()); }
  // The standardization: y_standardized = (y - y_mean) / y_scale.
  double y_mean() const { return y_mean_; }
  double y_scale() const { return y_scale_; }

 private:
  GaussianProcess() = default;
  // Factorizes K and computes alpha for the current x_, z_ and hyperparameters.
  Status Factorize();

  FitOptions options_;
  Hyperparameters hyperparameters_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd z_;  // standardized y
  double y_mean_ = 0, y_scale_ = 1;
  Eigen::LLT<Eigen::MatrixXd> cholesky_;
  Eigen::VectorXd alpha_;  // K^-1 z
  double log_marginal_likelihood_ = 0;
};

// Standard normal density and distribution function.
double NormalPdf(double z);
double NormalCdf(double z);

// Expected improvement below `best` (minimization) of a prediction with
// `mean` and `variance`; `xi` >= 0 asks for a margin.
double ExpectedImprovement(double mean, double variance, double best, double xi = 0);

}  // namespace sherpa::gp

#endif  // SHERPA_ALGORITHMS_GAUSSIAN_PROCESS_H_
