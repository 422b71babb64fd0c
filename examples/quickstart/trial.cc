// A SHERPA trial program for Population Based Training, in C++: trial.py
// with sherpa::Client.
//
// `sherpa run study_cpp.yaml` starts this program once per trial. It trains a
// tiny neural network (2 inputs, 8 tanh units, 1 sigmoid output) with
// minibatch SGD on a synthetic "two moons" data set, kEpochs epochs per PBT
// generation. Generation 1 starts from random weights; later generations load
// the weights of the trial named by `load_from` and train on with their own
// (perturbed) lr and batch_size. Each epoch's validation accuracy is
// reported, the epoch count continuing across generations; the weights are
// saved under `save_to` for the next generation.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sherpa/client.h"

namespace {

constexpr int kEpochs = 3;  // per generation
constexpr int kHidden = 8;
constexpr int kNumWeights = kHidden * 2 + kHidden + kHidden + 1;  // W1, b1, W2, b2

struct Point {
  double x, y;
  int label;
};

// Our own uniform and normal draws: std::normal_distribution differs
// between standard libraries, and the data set should not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(engine_() >> 11) * 0x1.0p-53;
  }
  double Gauss(double sigma) {  // Box-Muller
    const double u = 1.0 - Uniform(0.0, 1.0);
    return sigma * std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * Uniform(0, 1));
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

// Two interleaving half circles: not linearly separable, so the hidden layer
// has something to learn. The seed is fixed: every trial sees the same data.
std::vector<Point> TwoMoons(int n, uint64_t seed, double noise = 0.15) {
  Rng rng(seed);
  std::vector<Point> points;
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    const double t = rng.Uniform(0.0, std::numbers::pi);
    double x = label == 0 ? std::cos(t) : 1.0 - std::cos(t);
    double y = label == 0 ? std::sin(t) : 0.5 - std::sin(t);
    x += rng.Gauss(noise);
    y += rng.Gauss(noise);
    points.push_back({x, y, label});
  }
  return points;
}

const std::vector<Point>& Train() {
  static const std::vector<Point> data = TwoMoons(200, 1);
  return data;
}
const std::vector<Point>& Validation() {
  static const std::vector<Point> data = TwoMoons(200, 2);
  return data;
}

std::vector<double> InitialWeights(uint64_t seed) {
  Rng rng(seed);
  std::vector<double> w(kNumWeights, 0.0);
  for (int k = 0; k < 2 * kHidden; ++k) w[k] = rng.Gauss(1.0 / std::sqrt(2.0));
  for (int j = 0; j < kHidden; ++j) w[3 * kHidden + j] = rng.Gauss(1.0 / std::sqrt(kHidden));
  return w;
}

// Fills `hidden` and returns the output probability.
double Forward(const std::vector<double>& w, const Point& p, double* hidden) {
  double z = w[kNumWeights - 1];
  for (int j = 0; j < kHidden; ++j) {
    hidden[j] = std::tanh(w[2 * j] * p.x + w[2 * j + 1] * p.y + w[2 * kHidden + j]);
    z += w[3 * kHidden + j] * hidden[j];
  }
  z = std::clamp(z, -30.0, 30.0);  // keeps exp() finite for a diverging lr
  return 1.0 / (1.0 + std::exp(-z));
}

// One epoch of minibatch SGD on the cross-entropy loss.
void TrainEpoch(std::vector<double>& w, double lr, int batch_size, Rng& rng) {
  const std::vector<Point>& data = Train();
  std::vector<size_t> order(data.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng.engine());
  double hidden[kHidden];
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    std::vector<double> grad(kNumWeights, 0.0);
    for (size_t b = start; b < end; ++b) {
      const Point& p = data[order[b]];
      const double d_out = Forward(w, p, hidden) - p.label;
      for (int j = 0; j < kHidden; ++j) {
        grad[3 * kHidden + j] += d_out * hidden[j];
        const double d_hidden = d_out * w[3 * kHidden + j] * (1.0 - hidden[j] * hidden[j]);
        grad[2 * j] += d_hidden * p.x;
        grad[2 * j + 1] += d_hidden * p.y;
        grad[2 * kHidden + j] += d_hidden;
      }
      grad[kNumWeights - 1] += d_out;
    }
    const double step = lr / static_cast<double>(end - start);
    for (int k = 0; k < kNumWeights; ++k) w[k] -= step * grad[k];
  }
}

// Returns {accuracy, mean cross-entropy} on the validation set.
std::pair<double, double> Evaluate(const std::vector<double>& w) {
  int correct = 0;
  double loss = 0;
  double hidden[kHidden];
  for (const Point& p : Validation()) {
    const double prob = std::clamp(Forward(w, p, hidden), 1e-12, 1.0 - 1e-12);
    correct += (prob >= 0.5) == (p.label == 1);
    loss -= p.label == 1 ? std::log(prob) : std::log(1.0 - prob);
  }
  const auto n = static_cast<double>(Validation().size());
  return {correct / n, loss / n};
}

// The checkpoint is a small text file of "key value..." lines, the format
// trial.py and trial.sh write too. Besides the weights it keeps the
// hyperparameters they were trained with, the epoch count, and where its
// starting state came from.
using Checkpoint = std::vector<std::pair<std::string, std::string>>;

std::string Format(double v) {  // shortest text that reads back exactly
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

std::string Join(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += (out.empty() ? "" : " ") + Format(v);
  return out;
}

bool SaveCheckpoint(const std::string& path, const Checkpoint& fields) {
  // Written aside and renamed: a trial killed while saving never leaves a
  // half-written checkpoint for the next generation to load.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# sherpa quickstart checkpoint\n";
    for (const auto& [key, value] : fields) out << key << ' ' << value << '\n';
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

std::map<std::string, std::string> LoadCheckpoint(const std::string& path) {
  std::map<std::string, std::string> fields;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    fields[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return fields;
}

std::vector<double> ParseNumbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  std::string token;
  while (in >> token) out.push_back(std::strtod(token.c_str(), nullptr));
  return out;
}

int Run() {
  sherpa::StatusOr<sherpa::Client> client = sherpa::Client::FromEnvironment();
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 2;
  }
  sherpa::StatusOr<sherpa::Trial> trial = client->get_trial();
  if (!trial.ok()) {
    std::fprintf(stderr, "get_trial: %s\n", trial.status().ToString().c_str());
    return 1;
  }
  const sherpa::ParameterValues& params = trial->parameters;
  const double lr = params.at("lr").as_number();
  const int batch_size = static_cast<int>(params.at("batch_size").as_number());
  const std::string load_from = params.at("load_from").as_string();
  const std::string save_to = params.at("save_to").as_string();

  std::vector<double> weights;
  int64_t iteration = 0;
  Checkpoint origin;  // where the starting state came from
  if (load_from.empty()) {
    weights = InitialWeights(static_cast<uint64_t>(trial->id));
    std::printf("trial %lld: new model, lr=%.4g batch_size=%d\n", static_cast<long long>(trial->id),
                lr, batch_size);
  } else {
    const std::string path = client->checkpoint_path(load_from);
    std::map<std::string, std::string> parent = LoadCheckpoint(path);
    weights = ParseNumbers(parent["weights"]);
    if (weights.size() != kNumWeights) {
      std::fprintf(stderr, "%s: expected %d weights, found %zu\n", path.c_str(), kNumWeights,
                   weights.size());
      return 1;
    }
    iteration = std::strtoll(parent["iteration"].c_str(), nullptr, 10);
    // The parent's hyperparameters are history; this trial trains with its
    // own, which PBT perturbed from them.
    std::printf(
        "trial %lld: continues trial %s at epoch %lld (lr %s -> %.4g, batch_size %s -> %d)\n",
        static_cast<long long>(trial->id), parent["trial"].c_str(),
        static_cast<long long>(iteration), parent["lr"].c_str(), lr, parent["batch_size"].c_str(),
        batch_size);
    origin = {{"loaded_from", load_from},
              {"loaded_iteration", std::to_string(iteration)},
              {"loaded_weights", Join(weights)}};
  }
  std::fflush(stdout);

  Rng rng(static_cast<uint64_t>(trial->id));
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    TrainEpoch(weights, lr, batch_size, rng);
    ++iteration;
    const auto [accuracy, loss] = Evaluate(weights);
    std::printf("epoch %lld: accuracy %.3f loss %.4f\n", static_cast<long long>(iteration),
                accuracy, loss);
    std::fflush(stdout);
    sherpa::StatusOr<bool> stop =
        client->send_metrics(*trial, iteration, accuracy, {{"loss", sherpa::Value(loss)}});
    if (!stop.ok()) {
      std::fprintf(stderr, "send_metrics: %s\n", stop.status().ToString().c_str());
      return 1;
    }
    if (*stop) break;  // the study wants this trial to end: save and leave
  }

  Checkpoint checkpoint = {{"trial", std::to_string(trial->id)},
                           {"iteration", std::to_string(iteration)},
                           {"lr", Format(lr)},
                           {"batch_size", std::to_string(batch_size)},
                           {"weights", Join(weights)}};
  checkpoint.insert(checkpoint.end(), origin.begin(), origin.end());
  if (!SaveCheckpoint(client->checkpoint_path(save_to), checkpoint)) {
    std::fprintf(stderr, "cannot write checkpoint %s\n", save_to.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main() { return Run(); }
