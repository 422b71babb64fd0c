// The PBT paper's toy example (Jaderberg et al. 2017, Fig. 2): PBT tunes the
// surrogate's weights h = (h0, h1) while theta trains, and is compared with
// random search given the same number of gradient steps. See toy_problem.h
// for the exact setup.
//
//   toy_pbt                          # the paper's setup, seed 0
//   toy_pbt --seed 3 --exploit truncation --csv results.csv
//   toy_pbt --check                  # exit 1 unless PBT >= 1.19 and beats random search
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "toy_pbt/toy_problem.h"

namespace {

// The paper's bar for "found the optimum" on this budget.
constexpr double kTargetQ = 1.19;

}  // namespace

int main(int argc, char** argv) {
  toy_pbt::ToyOptions options;
  std::string exploit = "top-third";
  std::string csv_path;
  bool check = false;
  bool quiet = false;

  CLI::App app{"PBT toy example (Jaderberg et al. 2017, Fig. 2) against random search"};
  app.add_option("--seed", options.seed, "Seed of both studies")->capture_default_str();
  app.add_option("--population", options.population,
                 "PBT population; also the number of random-search trials")
      ->capture_default_str();
  app.add_option("--generations", options.generations, "PBT generations")->capture_default_str();
  app.add_option("--steps", options.steps, "Gradient steps per PBT trial (one generation)")
      ->capture_default_str();
  app.add_option("--lr", options.lr, "Learning rate of gradient ascent")->capture_default_str();
  app.add_option("--exploit", exploit, "PBT exploit rule")
      ->check(CLI::IsMember({"top-third", "truncation"}))
      ->capture_default_str();
  app.add_option("--csv", csv_path, "Write PBT's results table (SHERPA's results.csv) here");
  app.add_flag("--check", check, "Exit 1 unless PBT reaches Q >= 1.19 and beats random search");
  app.add_flag("--quiet", quiet, "Print the summary line only");
  CLI11_PARSE(app, argc, argv);
  options.exploit =
      exploit == "truncation" ? sherpa::PbtExploit::kTruncation : sherpa::PbtExploit::kTopThird;

  sherpa::StatusOr<toy_pbt::ToyRun> pbt = toy_pbt::RunToyPbt(options);
  if (!pbt.ok()) {
    std::cerr << "toy_pbt: PBT: " << pbt.status() << "\n";
    return 2;
  }
  sherpa::StatusOr<toy_pbt::ToyRun> random = toy_pbt::RunToyRandomSearch(options);
  if (!random.ok()) {
    std::cerr << "toy_pbt: random search: " << random.status() << "\n";
    return 2;
  }

  if (!csv_path.empty()) {
    std::ofstream out(csv_path);
    pbt->study.results().WriteCsv(out);
    out.close();
    if (!out) {
      std::cerr << "toy_pbt: could not write " << csv_path << "\n";
      return 2;
    }
  }

  const double pbt_best = pbt->best_q.back();
  const double random_best = random->best_q.back();
  if (!quiet) {
    std::printf(
        "PBT (%s exploit): population %lld, %lld generations of %lld steps at lr %g, seed %llu\n"
        "Random search: %lld trials of %lld steps each, side by side\n"
        "Best true Q so far, both methods having spent the same number of gradient steps:\n"
        "%5s %8s %10s %10s\n",
        exploit.c_str(), static_cast<long long>(options.population),
        static_cast<long long>(options.generations), static_cast<long long>(options.steps),
        options.lr, static_cast<unsigned long long>(options.seed),
        static_cast<long long>(options.population),
        static_cast<long long>(options.generations * options.steps), "gen", "steps", "PBT",
        "random");
    for (size_t g = 0; g < pbt->best_q.size(); ++g) {
      const auto generation = static_cast<long long>(g + 1);
      std::printf("%5lld %8lld %10.6f %10.6f\n", generation,
                  generation * options.population * options.steps, pbt->best_q[g],
                  random->best_q[g]);
    }
  }
  std::printf(
      "PBT best Q = %.4f (h = (1, 1) throughout would reach %.4f); random search best Q = %.4f\n",
      pbt_best, toy_pbt::BestPossibleQ(options), random_best);

  if (check) {
    bool ok = true;
    if (!(pbt_best >= kTargetQ)) {
      std::fprintf(stderr, "check failed: PBT best Q %.6f < %.2f\n", pbt_best, kTargetQ);
      ok = false;
    }
    if (!(pbt_best > random_best)) {
      std::fprintf(stderr, "check failed: PBT best Q %.6f does not beat random search's %.6f\n",
                   pbt_best, random_best);
      ok = false;
    }
    if (!ok) return 1;
  }
  return 0;
}
