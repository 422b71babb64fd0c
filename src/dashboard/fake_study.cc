// Writes a synthetic Population Based Training study straight into a
// study.db, through the same StudyStore the runner uses, for the dashboard's
// load tests: a 10,000-trial study takes seconds instead of the hours real
// trial processes would.
//
//   sherpa_fake_study OUTPUT_DIR [--population 50] [--generations 200]
//                     [--iterations 10] [--running 0] [--seed 1]
//
// Each member trains `iterations` iterations per generation, continuing its
// parent's iteration count; the objective (lower is better) improves with
// the iterations and depends on lr and momentum, so a lineage that finds
// good values wins. The last `running` members of the last generation are
// left RUNNING. Prints the number of trials and observations written.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "storage/study_store.h"

namespace {

using sherpa::Observation;
using sherpa::ParameterValues;
using sherpa::Trial;
using sherpa::TrialId;
using sherpa::TrialStatus;
using sherpa::Value;
using sherpa::storage::EventKind;
using sherpa::storage::StoredEvent;

constexpr char kSpec[] = R"({"name":"fake PBT study","parameters":[
 {"name":"lr","type":"continuous","range":[1e-4,1.0],"scale":"log"},
 {"name":"momentum","type":"continuous","range":[0.5,0.99]},
 {"name":"batch_size","type":"ordinal","range":[16,32,64,128]},
 {"name":"optimizer","type":"choice","range":["sgd","adam"]}],
 "algorithm":{"name":"PopulationBasedTraining","population_size":50},
 "lower_is_better":true,"command":"true"})";

struct Member {
  TrialId id = 0;
  double lr = 0, momentum = 0;
  int64_t batch_size = 0;
  std::string optimizer, lineage;
  int64_t iteration = 0;  // where it stopped training
  double loss = 0;
};

int Usage() {
  std::fprintf(stderr,
               "usage: sherpa_fake_study OUTPUT_DIR [--population N] [--generations N] "
               "[--iterations N] [--running N] [--seed N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string dir = argv[1];
  long population = 50, generations = 200, iterations = 10, running = 0, seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (flag == "--population") {
      population = value;
    } else if (flag == "--generations") {
      generations = value;
    } else if (flag == "--iterations") {
      iterations = value;
    } else if (flag == "--running") {
      running = value;
    } else if (flag == "--seed") {
      seed = value;
    } else {
      return Usage();
    }
  }
  if (population < 5 || generations < 1 || iterations < 1) return Usage();

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string db = (std::filesystem::path(dir) / "study.db").string();
  auto store = sherpa::storage::StudyStore::Open(db, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  sherpa::storage::StudyStore& s = **store;
  (void)s.PutMeta("spec", kSpec);
  (void)s.PutMeta("lower_is_better", "true");
  (void)s.PutMeta("seed", std::to_string(seed));
  (void)s.PutMeta("command", "true");

  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int64_t sizes[] = {16, 32, 64, 128};
  double at = 1.7e9;
  TrialId next_id = 1;
  size_t observations = 0;
  uint64_t last = 0;

  std::vector<Member> previous;
  for (long g = 1; g <= generations; ++g) {
    std::vector<Member> current;
    for (long k = 0; k < population; ++k) {
      Member m;
      m.id = next_id++;
      std::string load_from;
      if (g == 1) {
        m.lr = std::pow(10.0, -4.0 + 4.0 * unit(rng));
        m.momentum = 0.5 + 0.49 * unit(rng);
        m.batch_size = sizes[rng() % 4];
        m.optimizer = rng() % 2 ? "adam" : "sgd";
        m.loss = 2.0 + unit(rng);
      } else {
        // Truncation: the top fifth's copies replace the bottom fifth.
        const long top = population / 5;
        const bool replaced = k >= population - top;
        const Member& parent = previous[replaced ? rng() % top : k];
        m = parent;
        m.id = next_id - 1;
        load_from = std::to_string(parent.id);
        m.lineage = parent.lineage + std::to_string(parent.id) + ",";
        if (replaced) {
          const double factors[] = {0.8, 1.2};
          m.lr = std::clamp(parent.lr * factors[rng() % 2], 1e-4, 1.0);
          m.momentum = std::clamp(parent.momentum * factors[rng() % 2], 0.5, 0.99);
          if (rng() % 3 == 0) m.batch_size = sizes[rng() % 4];
        }
      }
      ParameterValues p{{"lr", Value(m.lr)},
                        {"momentum", Value(m.momentum)},
                        {"batch_size", Value(m.batch_size)},
                        {"optimizer", Value(m.optimizer)},
                        {"load_from", Value(load_from)},
                        {"save_to", Value(std::to_string(m.id))},
                        {"lineage", Value(m.lineage)},
                        {"generation", Value(static_cast<int64_t>(g))}};
      StoredEvent created;
      created.kind = EventKind::kTrialCreated;
      created.trial_id = m.id;
      created.at = at;
      created.trial = Trial{m.id, p};
      s.Append(std::move(created));
      StoredEvent started;
      started.kind = EventKind::kTrialStarted;
      started.trial_id = m.id;
      started.attempt = 1;
      started.at = at;
      started.job_id = std::to_string(10000 + m.id);
      s.Append(std::move(started));

      const bool still_running = g == generations && k >= population - running;
      // The best learning rate is near 0.01, the best momentum near 0.9.
      const double quality = std::pow(std::log10(m.lr) + 2.0, 2) * 0.05 +
                             std::pow(m.momentum - 0.9, 2) + (m.optimizer == "adam" ? 0 : 0.02);
      const long steps = still_running ? iterations / 2 : iterations;
      for (long i = 0; i < steps; ++i) {
        ++m.iteration;
        // Always improving, faster for better hyperparameters, never below 0.
        m.loss *= 1.0 - 0.08 / (1.0 + 5.0 * quality) + 0.004 * (unit(rng) - 0.5);
        at += 0.05;
        StoredEvent obs;
        obs.kind = EventKind::kObservation;
        obs.trial_id = m.id;
        obs.attempt = 1;
        obs.at = at;
        obs.observation = Observation{m.iteration, m.loss, {{"accuracy", Value(1.0 - m.loss / 3)}}};
        s.Append(std::move(obs));
        ++observations;
      }
      if (!still_running) {
        StoredEvent ended;
        ended.kind = EventKind::kTrialEnded;
        ended.trial_id = m.id;
        ended.attempt = 1;
        ended.at = at;
        ended.status = TrialStatus::kCompleted;
        last = s.Append(std::move(ended));
      }
      current.push_back(m);
    }
    // The next generation ranks this one by its last loss.
    std::sort(current.begin(), current.end(),
              [](const Member& a, const Member& b) { return a.loss < b.loss; });
    previous = std::move(current);
  }
  if (last > 0) {
    sherpa::Status durable = s.WaitDurable(last);
    if (!durable.ok()) {
      std::fprintf(stderr, "%s\n", durable.ToString().c_str());
      return 1;
    }
  }
  store->reset();  // the writer commits whatever is still queued
  std::printf("%lld trials, %zu observations in %s\n", static_cast<long long>(next_id - 1),
              observations, db.c_str());
  return 0;
}
