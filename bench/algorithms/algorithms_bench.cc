// algorithms_bench: the algorithms against each other at equal budget, on
// simulated training problems, in simulated time (see README.md).
//
// Each run drives one sherpa::Study in-process: `workers` slots, each trial
// lasting (steps it trains) x (a speed factor drawn per trial in [1, spread]),
// and a discrete-event loop that hands the next suggestion to the slot that
// frees first. The budget is a number of training steps, the same for every
// algorithm: `budget_runs` full-length training runs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "algorithms/problems.h"

#include "sherpa/algorithms.h"
#include "sherpa/study.h"

namespace algorithms_bench {
namespace {

using sherpa::Algorithm;
using sherpa::StatusOr;

// What an algorithm entry may size itself by.
struct Plan {
  int64_t budget_runs;  // full-length training runs the budget pays for
  int64_t generations;  // PBT generations that make one full-length lineage
  int64_t workers;
};

using MakeAlgorithm =
    std::function<StatusOr<std::unique_ptr<Algorithm>>(const sherpa::ParameterSpace&, const Plan&)>;

// The steps a trial trains from its load_from checkpoint (or from scratch).
using TrialSteps = std::function<int64_t(const sherpa::Trial&, const Problem&)>;

// Population-based algorithms mark their trials with load_from: a trial is
// one generation. Anything else trains a full run from scratch.
int64_t DefaultTrialSteps(const sherpa::Trial& trial, const Problem& problem) {
  return trial.parameters.count(sherpa::kLoadFromKey) ? problem.segment_steps : problem.full_steps;
}

struct AlgorithmEntry {
  std::string label;
  MakeAlgorithm make;
  TrialSteps trial_steps = DefaultTrialSteps;
};

sherpa::PopulationBasedTrainingOptions Pbt(const Plan& plan, sherpa::PbtExploit exploit) {
  sherpa::PopulationBasedTrainingOptions o;
  // Equal budget: budget_runs lineages, each as long as one full run.
  o.population_size = plan.budget_runs;
  o.num_generations = plan.generations;
  o.exploit = exploit;
  return o;
}

// The registry: one line per algorithm (labels without commas: they are
// CSV fields). Algorithms added later (e.g.
// SuccessiveHalving with a TrialSteps that reads `resource`, asynchronous
// PBT, PB2) go here.
std::vector<AlgorithmEntry> Registry() {
  return {
      {"RandomSearch", [](const sherpa::ParameterSpace&,
                          const Plan& p) { return sherpa::RandomSearch(p.budget_runs); }},
      {"GridSearch",
       [](const sherpa::ParameterSpace&, const Plan& p) {
         // The finest grid that fits the budget in two dimensions.
         auto points = static_cast<int64_t>(std::sqrt(static_cast<double>(p.budget_runs)));
         return sherpa::GridSearch(std::max<int64_t>(points, 1));
       }},
      {"PBT(top_third)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, Pbt(p, sherpa::PbtExploit::kTopThird));
       }},
      {"PBT(truncation)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, Pbt(p, sherpa::PbtExploit::kTruncation));
       }},
      {"Genetic", [](const sherpa::ParameterSpace&,
                     const Plan& p) { return sherpa::Genetic(0.1, p.budget_runs); }},
      {"Repeat(Genetic x2 agg)",
       [](const sherpa::ParameterSpace&, const Plan& p) -> StatusOr<std::unique_ptr<Algorithm>> {
         SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> inner,
                                 sherpa::Genetic(0.1, p.budget_runs / 2));
         return sherpa::Repeat(std::move(inner), sherpa::RepeatOptions{2, false, true});
       }},
      {"Chain(Iterate+Genetic)",
       [](const sherpa::ParameterSpace& s, const Plan& p) -> StatusOr<std::unique_ptr<Algorithm>> {
         // The middle of the box first, as a user's default configuration.
         sherpa::ParameterValues middle;
         for (const sherpa::Parameter& parameter : s) {
           middle[parameter.name()] = (parameter.lower() + parameter.upper()) / 2;
         }
         std::vector<std::unique_ptr<Algorithm>> chain;
         SHERPA_ASSIGN_OR_RETURN(chain.emplace_back(), sherpa::Iterate(s, {middle}));
         SHERPA_ASSIGN_OR_RETURN(chain.emplace_back(), sherpa::Genetic(0.1, p.budget_runs - 1));
         return sherpa::Chain(std::move(chain));
       }},
  };
}

// A generator for the trainer's own randomness (speed, observation noise),
// separate from the study's, keyed by (seed, trial id) so that it does not
// depend on the order of events.
sherpa::Rng TrialRng(uint64_t seed, sherpa::TrialId id, uint64_t stream) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(id), static_cast<uint32_t>(stream)};
  return sherpa::Rng(seq);
}

struct RunOutcome {
  double final_best = 0;                 // best noise-free objective of any reported state
  std::optional<double> time_to_target;  // simulated time the study first knew a state >= target
  double wall_time = 0;                  // simulated time the last trial ended
  double busy_fraction = 0;              // worker time spent training / (workers * wall_time)
  int64_t steps = 0;                     // training steps spent
  int64_t trials = 0;
};

struct Report {
  int64_t iteration;
  double observed;
  double true_objective;
};

struct Running {
  double end;
  sherpa::Trial trial;
  std::vector<Report> reports;
  Model model;  // the state it saves
  double duration;
};

struct LaterEnd {
  bool operator()(const Running& a, const Running& b) const {
    return a.end != b.end ? a.end > b.end : a.trial.id > b.trial.id;
  }
};

StatusOr<RunOutcome> RunOne(const Problem& problem, const AlgorithmEntry& entry, uint64_t seed,
                            int64_t budget_runs, int64_t workers, double spread) {
  const Plan plan{budget_runs, problem.full_steps / problem.segment_steps, workers};
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, entry.make(problem.space, plan));
  sherpa::Study study(problem.space, std::move(algorithm), problem.lower_is_better, nullptr, seed);
  const int64_t budget = budget_runs * problem.full_steps;

  std::unordered_map<std::string, Model> checkpoints;
  std::priority_queue<Running, std::vector<Running>, LaterEnd> running;
  RunOutcome out;
  out.final_best = problem.lower_is_better ? std::numeric_limits<double>::infinity()
                                           : -std::numeric_limits<double>::infinity();
  double now = 0, busy = 0;
  bool done = false;
  while (true) {
    while (!done && static_cast<int64_t>(running.size()) < workers) {
      SHERPA_ASSIGN_OR_RETURN(sherpa::Suggestion suggestion, study.get_suggestion());
      if (suggestion.is_done()) done = true;
      if (!suggestion.is_trial()) break;
      sherpa::Trial trial = std::move(suggestion).trial();
      const int64_t steps = entry.trial_steps(trial, problem);
      if (out.steps + steps > budget) {
        // The budget is spent: this trial never runs.
        SHERPA_RETURN_IF_ERROR(study.finalize(trial, sherpa::TrialStatus::kStopped));
        done = true;
        break;
      }
      Model model = problem.initial;
      if (auto from = trial.parameters.find(sherpa::kLoadFromKey);
          from != trial.parameters.end() && !from->second.as_string().empty()) {
        auto checkpoint = checkpoints.find(from->second.as_string());
        if (checkpoint == checkpoints.end()) {
          return sherpa::InternalError(entry.label + ": trial " + std::to_string(trial.id) +
                                       " loads '" + from->second.as_string() +
                                       "', which no ended trial saved");
        }
        model = checkpoint->second;
      }
      sherpa::Rng noise = TrialRng(seed, trial.id, 1);
      Running r;
      for (int64_t done_steps = 0; done_steps < steps; done_steps += problem.report_every) {
        const int64_t chunk = std::min(problem.report_every, steps - done_steps);
        problem.train(model, trial.parameters, chunk);
        const double truth = problem.true_objective(model, trial.parameters);
        r.reports.push_back({model.steps, problem.noisy(truth, noise), truth});
      }
      sherpa::Rng speed_rng = TrialRng(seed, trial.id, 2);
      const double speed = std::uniform_real_distribution<double>(1.0, spread)(speed_rng);
      r.duration = static_cast<double>(steps) * speed;
      r.end = now + r.duration;
      r.trial = std::move(trial);
      r.model = std::move(model);
      out.steps += steps;
      ++out.trials;
      running.push(std::move(r));
    }
    if (running.empty()) {
      if (done) break;
      return sherpa::InternalError(entry.label + " answered WAIT with no trial running");
    }
    Running ended = running.top();
    running.pop();
    now = ended.end;
    busy += ended.duration;
    for (const Report& report : ended.reports) {
      SHERPA_RETURN_IF_ERROR(study.add_observation(ended.trial, report.iteration, report.observed));
      if (problem.Better(report.true_objective, out.final_best)) {
        out.final_best = report.true_objective;
      }
    }
    if (!out.time_to_target && !problem.Better(problem.target, out.final_best)) {
      out.time_to_target = now;
    }
    if (auto to = ended.trial.parameters.find(sherpa::kSaveToKey);
        to != ended.trial.parameters.end()) {
      checkpoints[to->second.as_string()] = ended.model;
    }
    SHERPA_RETURN_IF_ERROR(study.finalize(ended.trial));
  }
  out.wall_time = now;
  out.busy_fraction = now > 0 ? busy / (static_cast<double>(workers) * now) : 0;
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Fixed(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

// Enough digits to tell the algorithms apart on every problem.
std::string Short(double v) {
  std::ostringstream os;
  os << std::setprecision(4) << v;
  return os.str();
}

}  // namespace
}  // namespace algorithms_bench

int main(int argc, char** argv) {
  using namespace algorithms_bench;
  CLI::App app{"SHERPA algorithms at equal budget on simulated training problems"};
  int64_t seeds = 5, budget_runs = 40, workers = 10;
  double spread = 3.0;
  std::string csv_path = "algorithms_bench.csv";
  std::vector<std::string> only_algorithms, only_problems;
  app.add_option("--seeds", seeds, "Seeds per algorithm and problem (1..seeds)")
      ->capture_default_str();
  app.add_option("--budget-runs", budget_runs,
                 "Budget: this many full-length training runs' worth of steps")
      ->capture_default_str();
  app.add_option("--workers", workers, "Trials running at once (max_concurrent)")
      ->capture_default_str();
  app.add_option("--spread", spread,
                 "Trial speed factors are drawn uniformly in [1, spread]: 3 makes durations "
                 "vary by 3x, 1 makes them equal")
      ->capture_default_str();
  app.add_option("--csv", csv_path, "Per-run results for plot.py")->capture_default_str();
  app.add_option("--algorithm", only_algorithms, "Run only these (registry labels)");
  app.add_option("--problem", only_problems, "Run only these problems");
  CLI11_PARSE(app, argc, argv);
  if (seeds < 1 || budget_runs < 2 || workers < 1 || !(spread >= 1)) {
    std::cerr << "need --seeds >= 1, --budget-runs >= 2, --workers >= 1, --spread >= 1\n";
    return 2;
  }
  auto selected = [](const std::vector<std::string>& only, const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };

  std::ofstream csv(csv_path);
  if (!csv) {
    std::cerr << "cannot write " << csv_path << "\n";
    return 1;
  }
  csv << "problem,algorithm,seed,final_best,time_to_target,wall_time,busy_fraction,steps,trials,"
         "lower_is_better,target\n";
  std::cout << "budget: " << budget_runs << " full runs of steps per study; " << workers
            << " workers; trial speed factors in [1, " << spread << "]; seeds 1.." << seeds << "\n";
  int failures = 0;
  for (const Problem& problem : AllProblems()) {
    if (!selected(only_problems, problem.name)) continue;
    std::cout << "\n"
              << problem.name << ": " << problem.description << " ("
              << (problem.lower_is_better ? "lower" : "higher") << " is better; target "
              << problem.target << ")\n";
    std::cout << std::left << std::setw(24) << "algorithm" << std::setw(32)
              << "final best: median [min..max]" << std::setw(32) << "time to target: median (hit)"
              << "wall time  busy\n";
    for (const AlgorithmEntry& entry : Registry()) {
      if (!selected(only_algorithms, entry.label)) continue;
      std::vector<double> best, hit_times, walls, busy;
      for (int64_t seed = 1; seed <= seeds; ++seed) {
        StatusOr<RunOutcome> run =
            RunOne(problem, entry, static_cast<uint64_t>(seed), budget_runs, workers, spread);
        if (!run.ok()) {
          std::cerr << problem.name << " / " << entry.label << " / seed " << seed << ": "
                    << run.status() << "\n";
          ++failures;
          continue;
        }
        best.push_back(run->final_best);
        walls.push_back(run->wall_time);
        busy.push_back(run->busy_fraction);
        if (run->time_to_target) hit_times.push_back(*run->time_to_target);
        csv << problem.name << ',' << entry.label << ',' << seed << ',' << std::setprecision(10)
            << run->final_best << ','
            << (run->time_to_target ? std::to_string(*run->time_to_target) : "") << ','
            << run->wall_time << ',' << run->busy_fraction << ',' << run->steps << ','
            << run->trials << ',' << (problem.lower_is_better ? 1 : 0) << ',' << problem.target
            << '\n';
      }
      if (best.empty()) continue;
      const auto [lo, hi] = std::minmax_element(best.begin(), best.end());
      // Unreached seeds count as never: the median is over all seeds.
      std::vector<double> times = hit_times;
      times.resize(best.size(), std::numeric_limits<double>::infinity());
      const double median_time = Median(times);
      std::cout << std::left << std::setw(24) << entry.label << std::setw(32)
                << (Short(Median(best)) + " [" + Short(*lo) + ".." + Short(*hi) + "]")
                << std::setw(32)
                << ((std::isinf(median_time) ? std::string("never") : Fixed(median_time, 0)) +
                    " (" + std::to_string(hit_times.size()) + "/" + std::to_string(best.size()) +
                    ")")
                << std::setw(11) << Fixed(Median(walls), 0) << Fixed(Median(busy), 2) << "\n";
    }
  }
  std::cout << "\nper-run results: " << csv_path << " (plot: python3 bench/algorithms/plot.py "
            << csv_path << ")\n";
  return failures == 0 ? 0 : 1;
}
