// The PBT paper's toy problem (examples/toy_pbt) as a trial program for the
// real runner: processes, the HTTP trial API and checkpoint files instead of
// the in-process study and an in-memory map. Training and the true objective
// are toy_pbt's own functions, so with the same seed the runner's study and
// the in-process one can be compared number for number (bench/quality).
//
//   PBT (toy_pbt.yaml):   toy_trial --steps 4           one generation: load
//                         theta from load_from, train, save to save_to, report
//                         Q once with iteration = generation
//   random search:        toy_trial --steps 4 --generations 40
//                         train from the start, reporting Q after every
//                         `steps` steps with iteration 1..generations
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "toy_pbt/toy_problem.h"

#include "sherpa/client.h"

namespace {

// Hex floats round-trip exactly, so a child starts from exactly the theta
// its parent saved, as in the in-process example.
bool SaveTheta(const std::string& path, const toy_pbt::Theta& theta) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const bool written = std::fprintf(f, "%a %a\n", theta[0], theta[1]) > 0;
  return std::fclose(f) == 0 && written && std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool LoadTheta(const std::string& path, toy_pbt::Theta& theta) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return false;
  const bool read = std::fscanf(f, "%la %la", &theta[0], &theta[1]) == 2;
  std::fclose(f);
  return read;
}

int Fail(const std::string& message) {
  std::cerr << "toy_trial: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 4;
  int64_t generations = 0;
  double lr = 0.01;
  CLI::App app{"PBT toy problem (Jaderberg et al. 2017, Fig. 2) as a trial for `sherpa run`"};
  app.add_option("--steps", steps, "Gradient steps per generation")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--generations", generations,
                 "Random search: train this many generations in one trial (0: PBT, one)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lr", lr, "Learning rate of gradient ascent")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sherpa::StatusOr<sherpa::Client> client = sherpa::Client::FromEnvironment();
  if (!client.ok()) return Fail(client.status().ToString());
  sherpa::StatusOr<sherpa::Trial> trial = client->get_trial();
  if (!trial.ok()) return Fail(trial.status().ToString());
  const sherpa::ParameterValues& p = trial->parameters;
  auto number = [&](const char* name) {
    auto it = p.find(name);
    return it == p.end() ? 0.0 : it->second.as_number();
  };
  auto text = [&](std::string_view name) {
    auto it = p.find(name);
    return it == p.end() || !it->second.is_string() ? std::string() : it->second.as_string();
  };
  const double h0 = number("h0"), h1 = number("h1");

  toy_pbt::Theta theta = toy_pbt::kThetaStart;
  auto report = [&](int64_t iteration) {
    const sherpa::Context context = {{"theta0", theta[0]}, {"theta1", theta[1]}};
    return client->send_metrics(*trial, iteration, toy_pbt::TrueObjective(theta), context).status();
  };

  if (generations > 0) {
    for (int64_t g = 1; g <= generations; ++g) {
      theta = toy_pbt::Train(theta, h0, h1, steps, lr);
      if (sherpa::Status s = report(g); !s.ok()) return Fail(s.ToString());
    }
    return 0;
  }

  if (const std::string load_from = text(sherpa::kLoadFromKey); !load_from.empty()) {
    if (!LoadTheta(client->checkpoint_path(load_from), theta)) {
      return Fail("cannot read checkpoint " + client->checkpoint_path(load_from));
    }
  }
  theta = toy_pbt::Train(theta, h0, h1, steps, lr);
  if (const std::string save_to = text(sherpa::kSaveToKey); !save_to.empty()) {
    if (!SaveTheta(client->checkpoint_path(save_to), theta)) {
      return Fail("cannot write checkpoint " + client->checkpoint_path(save_to));
    }
  }
  const auto generation = static_cast<int64_t>(number("generation"));
  if (sherpa::Status s = report(generation < 1 ? 1 : generation); !s.ok()) {
    return Fail(s.ToString());
  }
  return 0;
}
