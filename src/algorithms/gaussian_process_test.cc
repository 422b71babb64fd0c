// Tests of the internal Gaussian-process module (gaussian_process.h): what
// BayesianOptimization and PB2 rely on.

#include "algorithms/gaussian_process.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace sherpa::gp {
namespace {

Eigen::MatrixXd Column(const Eigen::VectorXd& v) { return v; }

// n evenly spaced points in [0, 1].
Eigen::VectorXd Grid(int n) { return Eigen::VectorXd::LinSpaced(n, 0.0, 1.0); }

double Smooth(double x) { return std::sin(2 * std::numbers::pi * x) + 0.5 * x; }

TEST(GaussianProcessTest, InterpolatesItsTrainingPointsWhenNoiseIsTiny) {
  const Eigen::VectorXd x = Grid(8);
  const Eigen::VectorXd y = x.unaryExpr(&Smooth);
  FitOptions options;
  options.max_noise_variance = 1e-6;  // the noise floor: exact data
  auto gp = GaussianProcess::Fit(Column(x), y, options);
  ASSERT_TRUE(gp.ok()) << gp.status();
  for (int i = 0; i < x.size(); ++i) {
    const Prediction p = gp->Predict(Eigen::VectorXd::Constant(1, x[i]));
    EXPECT_NEAR(p.mean, y[i], 1e-3) << "at x = " << x[i];
    EXPECT_LT(p.variance, 1e-3) << "at x = " << x[i];
  }
}

TEST(GaussianProcessTest, PosteriorVarianceShrinksNearData) {
  const Eigen::VectorXd x = (Eigen::VectorXd(3) << 0.1, 0.15, 0.2).finished();
  const Eigen::VectorXd y = x.unaryExpr(&Smooth);
  auto gp = GaussianProcess::Fit(Column(x), y, FitOptions());
  ASSERT_TRUE(gp.ok()) << gp.status();
  double previous = -1;
  // Moving away from the data, the variance never falls.
  for (double at : {0.15, 0.3, 0.5, 0.8, 1.0}) {
    const double variance = gp->Predict(Eigen::VectorXd::Constant(1, at)).variance;
    EXPECT_GE(variance, previous - 1e-12) << "at x = " << at;
    previous = variance;
  }
  EXPECT_LT(gp->Predict(Eigen::VectorXd::Constant(1, 0.15)).variance,
            0.1 * gp->Predict(Eigen::VectorXd::Constant(1, 0.9)).variance);
}

TEST(GaussianProcessTest, ConditioningOnAPendingPointShrinksItsVariance) {
  const Eigen::VectorXd x = Grid(5);
  const Eigen::VectorXd y = x.unaryExpr(&Smooth);
  auto gp = GaussianProcess::Fit(Column(x), y, FitOptions());
  ASSERT_TRUE(gp.ok()) << gp.status();
  const Eigen::VectorXd pending = Eigen::VectorXd::Constant(1, 0.6);
  const Prediction before = gp->Predict(pending);
  auto conditioned = gp->Condition(pending.transpose(), Eigen::VectorXd::Constant(1, before.mean));
  ASSERT_TRUE(conditioned.ok()) << conditioned.status();
  const Prediction after = conditioned->Predict(pending);
  EXPECT_NEAR(after.mean, before.mean, 1e-6 + 1e-3 * std::abs(before.mean));
  EXPECT_LT(after.variance, 0.1 * before.variance);
  EXPECT_EQ(conditioned->hyperparameters().length_scales, gp->hyperparameters().length_scales);
}

TEST(GaussianProcessTest, RecoversASmoothOneDimensionalFunction) {
  for (KernelKind kernel : {KernelKind::kMatern52, KernelKind::kSquaredExponential}) {
    const Eigen::VectorXd x = Grid(15);
    const Eigen::VectorXd y = x.unaryExpr(&Smooth);
    FitOptions options;
    options.kernel = kernel;
    auto gp = GaussianProcess::Fit(Column(x), y, options);
    ASSERT_TRUE(gp.ok()) << gp.status();
    double worst = 0;
    for (double at = 0.0; at <= 1.0; at += 0.01) {
      worst = std::max(worst,
                       std::abs(gp->Predict(Eigen::VectorXd::Constant(1, at)).mean - Smooth(at)));
    }
    // The function spans about 2.5; between points 1/14 apart the error stays small.
    EXPECT_LT(worst, 0.05) << (kernel == KernelKind::kMatern52 ? "Matern" : "SE");
  }
}

TEST(GaussianProcessTest, LikelihoodFitPicksALengthScaleThatMatchesTheFunction) {
  // Slow and fast variants of one shape: the fitted length scale should
  // follow the wavelength.
  auto fitted_length_scale = [](double frequency) {
    const Eigen::VectorXd x = Grid(30);
    const Eigen::VectorXd y = x.unaryExpr([&](double v) { return std::sin(frequency * v); });
    auto gp = GaussianProcess::Fit(Column(x), y, FitOptions());
    EXPECT_TRUE(gp.ok()) << gp.status();
    return gp.ok() ? gp->hyperparameters().length_scales[0] : 0.0;
  };
  const double slow = fitted_length_scale(2.0);
  const double fast = fitted_length_scale(12.0);
  EXPECT_GT(slow, 2 * fast);
  // One wavelength of sin(12 x) is about 0.5: a sensible scale is a fraction of it.
  EXPECT_GT(fast, 0.03);
  EXPECT_LT(fast, 0.5);
}

TEST(GaussianProcessTest, ArdGivesAnIrrelevantInputALongLengthScale) {
  Eigen::MatrixXd x(40, 2);
  Eigen::VectorXd y(40);
  for (int i = 0; i < 40; ++i) {
    // A deterministic scatter over [0, 1]^2.
    x(i, 0) = std::fmod(i * 0.618034, 1.0);
    x(i, 1) = std::fmod(i * 0.414214, 1.0);
    y[i] = Smooth(x(i, 0));  // ignores x1
  }
  auto gp = GaussianProcess::Fit(x, y, FitOptions());
  ASSERT_TRUE(gp.ok()) << gp.status();
  EXPECT_GT(gp->hyperparameters().length_scales[1], 3 * gp->hyperparameters().length_scales[0]);
}

TEST(GaussianProcessTest, TimeDecayForgetsOldDataThatDisagrees) {
  // The same input gave 1 long ago and 0 recently: a time-varying model
  // predicts the recent value for now.
  Eigen::MatrixXd x(12, 2);
  Eigen::VectorXd y(12);
  for (int i = 0; i < 12; ++i) {
    x(i, 0) = i;  // time
    x(i, 1) = 0.5 + 0.01 * (i % 3);
    y[i] = i < 6 ? 1.0 : 0.0;
  }
  FitOptions options;
  options.kernel = KernelKind::kSquaredExponential;
  options.time_column = true;
  auto gp = GaussianProcess::Fit(x, y, options);
  ASSERT_TRUE(gp.ok()) << gp.status();
  EXPECT_GT(gp->hyperparameters().time_decay, 0.0);
  const Prediction now = gp->Predict((Eigen::VectorXd(2) << 12, 0.5).finished());
  EXPECT_LT(now.mean, 0.3);
}

TEST(GaussianProcessTest, RefusesEmptyOrMismatchedData) {
  EXPECT_FALSE(GaussianProcess::Fit(Eigen::MatrixXd(0, 1), Eigen::VectorXd(0), FitOptions()).ok());
  EXPECT_FALSE(
      GaussianProcess::Fit(Eigen::MatrixXd::Zero(3, 1), Eigen::VectorXd::Zero(2), FitOptions())
          .ok());
  Eigen::VectorXd y = Eigen::VectorXd::Zero(2);
  y[0] = NAN;
  EXPECT_FALSE(GaussianProcess::Fit(Eigen::MatrixXd::Zero(2, 1), y, FitOptions()).ok());
}

TEST(GaussianProcessTest, ConstantTargetsAreFine) {
  auto gp = GaussianProcess::Fit(Column(Grid(4)), Eigen::VectorXd::Constant(4, 3.0), FitOptions());
  ASSERT_TRUE(gp.ok()) << gp.status();
  EXPECT_NEAR(gp->Predict(Eigen::VectorXd::Constant(1, 0.3)).mean, 3.0, 1e-6);
}

TEST(GaussianProcessTest, ExpectedImprovementIsLargerForBetterMeansAndMoreUncertainty) {
  EXPECT_GT(ExpectedImprovement(0.0, 1.0, 1.0), ExpectedImprovement(0.5, 1.0, 1.0));
  EXPECT_GT(ExpectedImprovement(1.0, 1.0, 1.0), ExpectedImprovement(1.0, 0.1, 1.0));
  EXPECT_DOUBLE_EQ(ExpectedImprovement(2.0, 0.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(ExpectedImprovement(0.25, 0.0, 1.0), 0.75);
  // At the incumbent EI is sigma * phi(0).
  EXPECT_NEAR(ExpectedImprovement(1.0, 4.0, 1.0), 2.0 * NormalPdf(0), 1e-12);
}

}  // namespace
}  // namespace sherpa::gp
