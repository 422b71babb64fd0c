// A Fashion-MNIST trial program in C++ with libtorch: the MLP of SHERPA's
// PBT benchmark (784-512-512-10, ReLU, dropout after each hidden layer,
// softmax cross-entropy, SGD with momentum and Keras' learning-rate decay).
//
// Started by `sherpa run` (see pbt.yaml and random.yaml), it
//   1. fetches its trial with sherpa::Client: learning_rate, decay,
//      momentum, dropout, batch_size, and under PBT load_from and save_to;
//   2. builds the model, or loads model, optimizer state, epoch count and
//      architecture from the checkpoint of `load_from` and then applies its
//      own hyperparameters (libtorch restores neither lr nor momentum);
//   3. trains --epochs epochs, reporting test accuracy (the objective) and
//      test loss (context) after each; iterations continue across PBT
//      generations because the epoch count travels in the checkpoint;
//   4. saves everything under `save_to`.
//
//   fmnist_trial --epochs 2 --train-subset 10000      # under `sherpa run`
//   fmnist_trial --param learning_rate=0.05 --param momentum=0.9
//       --param dropout=0.2 --param batch_size=64 --param save_to=a   # alone
//
// Learning-rate decay is Keras' SGD `decay`, which the benchmark used:
// before every update, lr_t = learning_rate / (1 + decay * t), where t is
// the number of updates the model has had since it was created (across
// generations: t is stored in the checkpoint). A child that changes
// `learning_rate` or `decay` continues from its parent's t.
//
// Each report carries `weights_crc` (CRC-32 of all parameters after that
// epoch) and the first one `loaded_crc` (of the parameters just loaded), so
// that results.csv shows that a child starts exactly where its parent ended.
//
// Only this file includes <torch/torch.h> (15-30 s per translation unit).
#include <dlfcn.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "sherpa/client.h"

namespace {

namespace fs = std::filesystem;

// Exit codes a study can tell apart in the trial's log.
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitBadCheckpoint = 3;

constexpr int64_t kImageSide = 28;
constexpr int64_t kInputs = kImageSide * kImageSide;
constexpr int64_t kClasses = 10;
// Written into every checkpoint, so that a checkpoint of another program (the
// Python trial writes torch.save pickles) is refused by name.
constexpr char kCheckpointFormat[] = "sherpa-fashion-mnist-cpp/1";

// Errors the program reports and exits on; which exit code is the caller's
// choice.
struct TrialError : std::runtime_error {
  TrialError(int exit_code_, const std::string& what)
      : std::runtime_error(what), exit_code(exit_code_) {}
  int exit_code;
};

// ---------------------------------------------------------------- data

// Reads `limit` items (0 = all) of a gzip'd IDX file straight from the .gz:
// big-endian int32 magic (0x0801 labels, 0x0803 images), then one int32 per
// dimension, then uint8 data.
struct IdxData {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};

IdxData ReadIdxGz(const fs::path& path, int expected_rank, int64_t limit) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw TrialError(kExitError, "cannot open " + path.string() +
                                     " (install dataset-fashion-mnist or pass --data-dir)");
  }
  gzbuffer(file, 1 << 20);
  auto read_exact = [&](void* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
      const int got = gzread(file, static_cast<char*>(out) + done, chunk);
      if (got <= 0) {
        gzclose(file);
        throw TrialError(kExitError, path.string() + ": truncated or not gzip'd IDX data");
      }
      done += static_cast<size_t>(got);
    }
  };
  auto read_be32 = [&] {
    unsigned char b[4];
    read_exact(b, 4);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  };
  const uint32_t magic = read_be32();
  if (magic != 0x0800u + static_cast<uint32_t>(expected_rank)) {
    gzclose(file);
    throw TrialError(kExitError,
                     path.string() + ": not an IDX file of rank " + std::to_string(expected_rank));
  }
  IdxData data;
  for (int d = 0; d < expected_rank; ++d) data.dims.push_back(read_be32());
  if (limit > 0) data.dims[0] = std::min(data.dims[0], limit);
  int64_t size = 1;
  for (int64_t d : data.dims) size *= d;
  data.bytes.resize(static_cast<size_t>(size));
  read_exact(data.bytes.data(), data.bytes.size());
  gzclose(file);
  return data;
}

struct Split {
  torch::Tensor images;  // float [n, 784] in [0, 1], as the benchmark's x / 255
  torch::Tensor labels;  // int64 [n]
};

Split LoadSplit(const fs::path& dir, const std::string& prefix, int64_t limit) {
  IdxData images = ReadIdxGz(dir / (prefix + "-images-idx3-ubyte.gz"), 3, limit);
  IdxData labels = ReadIdxGz(dir / (prefix + "-labels-idx1-ubyte.gz"), 1, limit);
  if (images.dims[1] != kImageSide || images.dims[2] != kImageSide ||
      images.dims[0] != labels.dims[0]) {
    throw TrialError(kExitError, dir.string() + ": " + prefix + " images and labels do not match");
  }
  const int64_t n = images.dims[0];
  Split split;
  split.images = torch::from_blob(images.bytes.data(), {n, kInputs}, torch::kUInt8)
                     .to(torch::kFloat32)
                     .div_(255.0);
  split.labels = torch::from_blob(labels.bytes.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return split;
}

// ---------------------------------------------------------------- model

struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t hidden, double dropout_rate)
      : fc1(register_module("fc1", torch::nn::Linear(kInputs, hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, hidden))),
        fc3(register_module("fc3", torch::nn::Linear(hidden, kClasses))),
        dropout(dropout_rate) {
    // Keras' defaults, which the benchmark ran with: Glorot-uniform weights,
    // zero biases. (PyTorch's default init would change the early epochs.)
    for (torch::nn::Linear* layer : {&fc1, &fc2, &fc3}) {
      torch::nn::init::xavier_uniform_((*layer)->weight);
      torch::nn::init::zeros_((*layer)->bias);
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::dropout(torch::relu(fc1(x)), dropout, is_training());
    x = torch::dropout(torch::relu(fc2(x)), dropout, is_training());
    return fc3(x);  // logits: cross_entropy applies the softmax
  }

  // The layer widths; a checkpoint must match them exactly.
  std::vector<int64_t> architecture() const {
    return {kInputs, fc1->options.out_features(), fc2->options.out_features(), kClasses};
  }

  torch::nn::Linear fc1, fc2, fc3;
  double dropout;  // a hyperparameter, not part of the architecture
};
TORCH_MODULE(Mlp);

std::string ArchitectureName(const std::vector<int64_t>& sizes) {
  std::string name;
  for (int64_t s : sizes) name += (name.empty() ? "" : "-") + std::to_string(s);
  return name;
}

// CRC-32 of all parameters in registration order (fc1.weight, fc1.bias,
// ...), over their float32 bytes; trial.py computes the same.
std::string WeightsCrc(const Mlp& model) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const torch::Tensor& p : model->parameters()) {
    torch::Tensor t = p.detach().contiguous();
    crc = crc32(crc, static_cast<const Bytef*>(t.data_ptr()),
                static_cast<uInt>(t.numel() * static_cast<int64_t>(sizeof(float))));
  }
  char text[16];
  std::snprintf(text, sizeof text, "%08lx", crc);
  return std::string("crc32:") + text;
}

// ---------------------------------------------------------------- hyperparameters

struct Hyperparameters {
  double learning_rate = 0;
  double decay = 0;
  double momentum = 0;
  double dropout = 0;
  int64_t batch_size = 0;
  std::string load_from, save_to;
};

double NumberParam(const sherpa::ParameterValues& p, const std::string& name,
                   std::optional<double> fallback = std::nullopt) {
  auto it = p.find(name);
  if (it == p.end() || !it->second.is_number()) {
    if (fallback) return *fallback;
    throw TrialError(kExitUsage, "the trial has no numeric parameter '" + name +
                                     "'; the study must define learning_rate, momentum, "
                                     "dropout and batch_size (decay is optional)");
  }
  return it->second.as_number();
}

Hyperparameters ReadHyperparameters(const sherpa::ParameterValues& p) {
  Hyperparameters h;
  h.learning_rate = NumberParam(p, "learning_rate");
  // Optional, as in the benchmark's script.
  h.decay = NumberParam(p, "decay", 0.0);
  h.momentum = NumberParam(p, "momentum");
  h.dropout = NumberParam(p, "dropout");
  h.batch_size = static_cast<int64_t>(NumberParam(p, "batch_size"));
  if (!(h.learning_rate > 0) || h.decay < 0 || h.momentum < 0 || h.dropout < 0 || h.dropout >= 1 ||
      h.batch_size < 1) {
    throw TrialError(kExitUsage,
                     "hyperparameters out of range: learning_rate > 0, decay >= 0, "
                     "momentum >= 0, 0 <= dropout < 1, batch_size >= 1");
  }
  // Random search and grid search have no load_from/save_to: nothing to load
  // and nothing anyone will load.
  if (auto it = p.find("load_from"); it != p.end() && it->second.is_string()) {
    h.load_from = it->second.as_string();
  }
  if (auto it = p.find("save_to"); it != p.end() && it->second.is_string()) {
    h.save_to = it->second.as_string();
  }
  return h;
}

torch::optim::SGDOptions& SgdOptions(torch::optim::SGD& optimizer) {
  return static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[0].options());
}

// ---------------------------------------------------------------- checkpoints

struct TrainingState {
  int64_t epoch = 0;       // epochs trained since the model was created
  int64_t iterations = 0;  // SGD updates since then (Keras' `iterations`)
  std::string loaded_crc;  // empty for a fresh model
};

void SaveCheckpoint(const fs::path& path, const Mlp& model, torch::optim::SGD& optimizer,
                    const Hyperparameters& h, const TrainingState& state) {
  torch::serialize::OutputArchive root, model_archive, optimizer_archive;
  model->save(model_archive);
  optimizer.save(optimizer_archive);
  root.write("model", model_archive);
  root.write("optimizer", optimizer_archive);
  root.write("meta/format", c10::IValue(std::string(kCheckpointFormat)));
  root.write("meta/architecture", torch::tensor(model->architecture(), torch::kInt64));
  root.write("meta/epoch", c10::IValue(state.epoch));
  root.write("meta/iterations", c10::IValue(state.iterations));
  root.write("meta/weights_crc", c10::IValue(WeightsCrc(model)));
  // The hyperparameters this state was trained with, for whoever inspects
  // the checkpoint; a loading trial applies its own.
  root.write("meta/learning_rate", c10::IValue(h.learning_rate));
  root.write("meta/decay", c10::IValue(h.decay));
  root.write("meta/momentum", c10::IValue(h.momentum));
  root.write("meta/dropout", c10::IValue(h.dropout));
  root.write("meta/batch_size", c10::IValue(h.batch_size));
  // Written aside and renamed, so that a trial killed while saving never
  // leaves a half checkpoint for a child (or a resumed study) to load.
  fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp";
  root.save_to(tmp.string());
  fs::rename(tmp, path);
}

// Loads `path` into `model` and `optimizer` (built with this program's
// architecture) and returns the training state it holds. A checkpoint of
// another program or architecture is refused before anything is loaded:
// torch::load would silently reshape the model's tensors to the saved ones.
TrainingState LoadCheckpoint(const fs::path& path, Mlp& model, torch::optim::SGD& optimizer) {
  if (!fs::exists(path)) {
    throw TrialError(kExitBadCheckpoint, "load_from: no checkpoint at " + path.string() +
                                             " (did the parent trial save one?)");
  }
  torch::serialize::InputArchive root;
  c10::IValue format;
  try {
    root.load_from(path.string());
    root.read("meta/format", format);
  } catch (const c10::Error&) {
    format = c10::IValue();
  }
  if (!format.isString() || format.toStringRef() != kCheckpointFormat) {
    throw TrialError(kExitBadCheckpoint, "checkpoint " + path.string() +
                                             " was not written by fmnist_trial (C++); expected "
                                             "format '" +
                                             kCheckpointFormat + "'");
  }
  torch::Tensor saved_architecture;
  root.read("meta/architecture", saved_architecture);
  std::vector<int64_t> saved(saved_architecture.data_ptr<int64_t>(),
                             saved_architecture.data_ptr<int64_t>() + saved_architecture.numel());
  if (saved != model->architecture()) {
    throw TrialError(kExitBadCheckpoint,
                     "checkpoint " + path.string() + " holds a " + ArchitectureName(saved) +
                         " MLP, but this trial builds " + ArchitectureName(model->architecture()) +
                         " (--hidden); refusing to load it. Run the whole study with one "
                         "architecture.");
  }
  torch::serialize::InputArchive model_archive, optimizer_archive;
  root.read("model", model_archive);
  root.read("optimizer", optimizer_archive);
  model->load(model_archive);
  optimizer.load(optimizer_archive);

  c10::IValue epoch, iterations, crc;
  root.read("meta/epoch", epoch);
  root.read("meta/iterations", iterations);
  root.read("meta/weights_crc", crc);
  TrainingState state;
  state.epoch = epoch.toInt();
  state.iterations = iterations.toInt();
  state.loaded_crc = WeightsCrc(model);
  if (state.loaded_crc != crc.toStringRef()) {
    throw TrialError(kExitBadCheckpoint, "checkpoint " + path.string() + " is corrupt: weights " +
                                             state.loaded_crc + ", recorded " + crc.toStringRef());
  }
  return state;
}

// ---------------------------------------------------------------- training

struct EpochResult {
  double train_loss = 0;
  double test_accuracy = 0;
  double test_loss = 0;
};

// One epoch of minibatch SGD over a fresh permutation; the last batch may
// be smaller, as in Keras' fit.
double TrainEpoch(Mlp& model, torch::optim::SGD& optimizer, const Split& train,
                  const Hyperparameters& h, TrainingState& state) {
  model->train();
  const int64_t n = train.images.size(0);
  torch::Tensor order = torch::randperm(n, torch::kInt64);
  double loss_sum = 0;
  for (int64_t start = 0; start < n; start += h.batch_size) {
    torch::Tensor index = order.slice(0, start, std::min(n, start + h.batch_size));
    torch::Tensor x = train.images.index_select(0, index);
    torch::Tensor y = train.labels.index_select(0, index);
    SgdOptions(optimizer).lr(h.learning_rate /
                             (1.0 + h.decay * static_cast<double>(state.iterations)));
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model(x), y);
    loss.backward();
    optimizer.step();
    ++state.iterations;
    loss_sum += loss.item<double>() * static_cast<double>(index.size(0));
  }
  return loss_sum / static_cast<double>(n);
}

std::pair<double, double> Evaluate(Mlp& model, const Split& test) {
  torch::NoGradGuard no_grad;
  model->eval();
  const int64_t n = test.images.size(0);
  int64_t correct = 0;
  double loss_sum = 0;
  for (int64_t start = 0; start < n; start += 1000) {
    const int64_t end = std::min(n, start + 1000);
    torch::Tensor logits = model(test.images.slice(0, start, end));
    torch::Tensor y = test.labels.slice(0, start, end);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  return {static_cast<double>(correct) / static_cast<double>(n), loss_sum / static_cast<double>(n)};
}

// A diverged model (learning_rate near 0.5 with momentum near 0.99 does
// that) has a NaN loss, which JSON cannot carry as a number; its accuracy
// stays a valid objective. Sent as text, as the Python client does.
sherpa::Value ContextNumber(double v) {
  if (std::isfinite(v)) return sherpa::Value(v);
  return sherpa::Value(std::string(std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"));
}

// OpenBLAS reads OPENBLAS_NUM_THREADS when it is loaded, before main. If the
// user did not choose, keep it to our thread budget: two trials sharing two
// cores with a BLAS thread pool each would oversubscribe the machine.
void LimitBlasThreads(int threads) {
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
  using SetThreads = void (*)(int);
  if (void* symbol = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
    reinterpret_cast<SetThreads>(symbol)(threads);
  }
}

// ---------------------------------------------------------------- main

struct Options {
  int64_t epochs = 1;
  int64_t train_subset = 0;  // 0: all 60000
  int64_t test_subset = 0;   // 0: all 10000
  std::string data_dir;
  int64_t hidden = 512;
  int threads = 1;
  uint64_t seed = 0;
  // Standalone runs (no runner): parameters and where checkpoints go.
  std::vector<std::string> params;
  std::string checkpoint_dir = "checkpoints";
};

// Where the trial gets its parameters and sends its results: the runner, or
// the command line and stdout when run alone.
class Session {
 public:
  static Session Open(const Options& options) {
    Session session;
    if (!options.params.empty()) {
      session.trial_.id = 1;
      for (const std::string& item : options.params) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
          throw TrialError(kExitUsage, "--param takes name=value, got '" + item + "'");
        }
        const std::string name = item.substr(0, eq), text = item.substr(eq + 1);
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        const bool numeric = !text.empty() && end == text.c_str() + text.size();
        session.trial_.parameters[name] = numeric ? sherpa::Value(number) : sherpa::Value(text);
      }
      session.checkpoint_dir_ = options.checkpoint_dir;
      return session;
    }
    sherpa::StatusOr<sherpa::Client> client = sherpa::Client::FromEnvironment();
    if (!client.ok()) {
      throw TrialError(kExitUsage, client.status().ToString() +
                                       "\nRun this program with `sherpa run` (see pbt.yaml), or "
                                       "alone with --param learning_rate=0.05 --param ...");
    }
    sherpa::StatusOr<sherpa::Trial> trial = client->get_trial();
    if (!trial.ok()) throw TrialError(kExitError, "get_trial: " + trial.status().ToString());
    session.client_.emplace(std::move(*client));
    session.trial_ = std::move(*trial);
    return session;
  }

  const sherpa::Trial& trial() const { return trial_; }

  fs::path checkpoint_path(const std::string& name) const {
    if (client_) return client_->checkpoint_path(name);
    return fs::path(checkpoint_dir_) / name;
  }

  // Returns true when the study asks the trial to stop.
  bool report(int64_t iteration, double objective, const sherpa::Context& context) {
    if (!client_) return false;
    sherpa::StatusOr<bool> stop = client_->send_metrics(trial_, iteration, objective, context);
    if (!stop.ok()) throw TrialError(kExitError, "send_metrics: " + stop.status().ToString());
    return *stop;
  }

 private:
  std::optional<sherpa::Client> client_;
  sherpa::Trial trial_;
  std::string checkpoint_dir_;
};

fs::path DefaultDataDir() {
  // Where Debian's dataset-fashion-mnist puts the files.
  if (const char* env = std::getenv("FASHION_MNIST_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/usr/share/datasets/fashion-mnist";
}

int Run(const Options& options) {
  torch::set_num_threads(options.threads);
  LimitBlasThreads(options.threads);

  Session session = Session::Open(options);
  const sherpa::Trial& trial = session.trial();
  const Hyperparameters h = ReadHyperparameters(trial.parameters);
  // Each trial its own stream, reproducible from the study's seed.
  torch::manual_seed(options.seed + static_cast<uint64_t>(trial.id));

  const fs::path data_dir =
      options.data_dir.empty() ? DefaultDataDir() : fs::path(options.data_dir);
  const Split train = LoadSplit(data_dir, "train", options.train_subset);
  const Split test = LoadSplit(data_dir, "t10k", options.test_subset);

  Mlp model(options.hidden, h.dropout);
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(h.learning_rate).momentum(h.momentum));
  TrainingState state;
  if (!h.load_from.empty()) {
    state = LoadCheckpoint(session.checkpoint_path(h.load_from), model, optimizer);
  }
  // This trial's hyperparameters, whatever the checkpoint was trained with:
  // the optimizer's param-group options are not part of its saved state.
  SgdOptions(optimizer).lr(h.learning_rate).momentum(h.momentum);
  model->dropout = h.dropout;

  const std::string origin = h.load_from.empty()
                                 ? std::string("fresh")
                                 : "loaded " + h.load_from + " at epoch " +
                                       std::to_string(state.epoch) + " " + state.loaded_crc;
  std::printf(
      "trial %lld: %s MLP, %lld train / %lld test images, lr %.4g decay %.3g momentum "
      "%.3f dropout %.3f batch %lld, %s\n",
      static_cast<long long>(trial.id), ArchitectureName(model->architecture()).c_str(),
      static_cast<long long>(train.images.size(0)), static_cast<long long>(test.images.size(0)),
      h.learning_rate, h.decay, h.momentum, h.dropout, static_cast<long long>(h.batch_size),
      origin.c_str());
  std::fflush(stdout);

  for (int64_t e = 0; e < options.epochs; ++e) {
    const auto start = std::chrono::steady_clock::now();
    const double train_loss = TrainEpoch(model, optimizer, train, h, state);
    const auto [accuracy, test_loss] = Evaluate(model, test);
    ++state.epoch;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double lr = SgdOptions(optimizer).lr();
    sherpa::Context context = {{"loss", ContextNumber(test_loss)},
                               {"train_loss", ContextNumber(train_loss)},
                               {"lr", lr},
                               {"epoch_seconds", seconds},
                               {"weights_crc", WeightsCrc(model)}};
    if (e == 0 && !state.loaded_crc.empty()) context["loaded_crc"] = state.loaded_crc;
    std::printf(
        "epoch %lld: test accuracy %.4f, test loss %.4f, train loss %.4f, lr %.4g, %.2f s\n",
        static_cast<long long>(state.epoch), accuracy, test_loss, train_loss, lr, seconds);
    std::fflush(stdout);
    if (session.report(state.epoch, accuracy, context)) {
      std::printf("the study asked this trial to stop\n");
      break;
    }
  }
  if (!h.save_to.empty()) {
    const fs::path path = session.checkpoint_path(h.save_to);
    SaveCheckpoint(path, model, optimizer, h, state);
    std::printf("saved %s (epoch %lld, %s)\n", path.c_str(), static_cast<long long>(state.epoch),
                WeightsCrc(model).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Fashion-MNIST MLP trial (SHERPA's PBT benchmark) for `sherpa run`"};
  app.add_option("--epochs", options.epochs, "Epochs to train in this trial (one generation)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--train-subset", options.train_subset,
                 "Train on the first N training images (0: all 60000)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--test-subset", options.test_subset,
                 "Evaluate on the first N test images (0: all 10000)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--data-dir", options.data_dir,
                 "Folder of the gzip'd IDX files (default: $FASHION_MNIST_DIR, else "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--hidden", options.hidden, "Units in each of the two hidden layers")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Torch (and, unless set, OpenBLAS) threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Added to the trial id to seed torch")
      ->capture_default_str();
  app.add_option("--param", options.params,
                 "Run alone (no runner) with this parameter, name=value; repeat for each");
  app.add_option("--checkpoint-dir", options.checkpoint_dir,
                 "Alone: where load_from/save_to checkpoints live")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    return Run(options);
  } catch (const TrialError& e) {
    std::fprintf(stderr, "fmnist_trial: %s\n", e.what());
    return e.exit_code;
  } catch (const std::exception& e) {
    // c10::Error and filesystem errors: the message is all we can add.
    std::fprintf(stderr, "fmnist_trial: %s\n", e.what());
    return kExitError;
  }
}
