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
#include "toy_pbt/toy_problem.h"

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
  int64_t pb2_max_data_points;
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

// The middle of the box, as a user's default configuration.
sherpa::ParameterValues Middle(const sherpa::ParameterSpace& space) {
  sherpa::ParameterValues middle;
  for (const sherpa::Parameter& parameter : space) {
    middle[parameter.name()] = (parameter.lower() + parameter.upper()) / 2;
  }
  return middle;
}

// SuccessiveHalving's rungs: resource r * eta^k for k = 0 .. 3 (R = 27 r).
// A trial trains `resource` units on top of the checkpoint it loads, so a
// model that reached the top rung trained 1 + 3 + 9 + 27 = 40 units: one
// full-length run. A unit is full_steps / 40 steps; each rung brings its
// model to round(full_steps * (units so far) / 40) steps, so a top-rung
// lineage is exactly full_steps long however full_steps divides.
constexpr int64_t kAshaEta = 3;
constexpr int64_t kAshaTopResource = 27;
constexpr int64_t kAshaLineageUnits = 40;  // 1 + 3 + 9 + 27

int64_t AshaTrialSteps(const sherpa::Trial& trial, const Problem& problem) {
  const int64_t rung = trial.parameters.find(sherpa::kRungKey)->second.as_int();
  auto units_before = [](int64_t k) {  // 1 + 3 + ... + 3^(k-1)
    int64_t units = 0;
    for (int64_t j = 0, r = 1; j < k; ++j, r *= kAshaEta) units += r;
    return units;
  };
  auto steps_at = [&problem](int64_t units) {
    return static_cast<int64_t>(std::llround(static_cast<double>(problem.full_steps * units) /
                                             static_cast<double>(kAshaLineageUnits)));
  };
  return steps_at(units_before(rung + 1)) - steps_at(units_before(rung));
}

sherpa::PopulationBasedTrainingOptions AsyncPbt(const Plan& plan, sherpa::PbtSelection selection) {
  sherpa::PopulationBasedTrainingOptions o;
  o.mode = sherpa::PbtMode::kAsynchronous;
  // The same population and intervals per member as generational PBT.
  o.population_size = plan.budget_runs;
  o.num_generations = plan.generations;
  o.selection = selection;
  return o;
}

// The registry: one line per algorithm (labels without commas: they are
// CSV fields). README.md documents every setting.
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
      {"BayesianOptimization",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         sherpa::BayesianOptimizationOptions o;
         o.max_num_trials = p.budget_runs;
         return sherpa::BayesianOptimization(s, std::move(o));
       }},
      {"LocalSearch",
       [](const sherpa::ParameterSpace& s, const Plan&) {
         sherpa::LocalSearchOptions o;
         o.seed_configuration = Middle(s);
         return sherpa::LocalSearch(s, std::move(o));
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
         std::vector<std::unique_ptr<Algorithm>> chain;
         SHERPA_ASSIGN_OR_RETURN(chain.emplace_back(), sherpa::Iterate(s, {Middle(s)}));
         SHERPA_ASSIGN_OR_RETURN(chain.emplace_back(), sherpa::Genetic(0.1, p.budget_runs - 1));
         return sherpa::Chain(std::move(chain));
       }},
      {"SuccessiveHalving",
       [](const sherpa::ParameterSpace& s, const Plan&) {
         sherpa::SuccessiveHalvingOptions o;
         o.r = 1;
         o.R = kAshaTopResource;
         o.eta = kAshaEta;
         o.max_finished_configs = 0;  // the budget ends the study
         return sherpa::SuccessiveHalving(s, o);
       },
       AshaTrialSteps},
      {"PBT(top_third)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, Pbt(p, sherpa::PbtExploit::kTopThird));
       }},
      {"PBT(truncation)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, Pbt(p, sherpa::PbtExploit::kTruncation));
       }},
      {"AsyncPBT(truncation)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, AsyncPbt(p, sherpa::PbtSelection::kTruncation));
       }},
      {"AsyncPBT(tournament)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         return sherpa::PopulationBasedTraining(s, AsyncPbt(p, sherpa::PbtSelection::kTournament));
       }},
      {"PB2(top_third)",
       [](const sherpa::ParameterSpace& s, const Plan& p) {
         sherpa::PB2Options o;
         o.pbt = Pbt(p, sherpa::PbtExploit::kTopThird);
         o.max_data_points = p.pb2_max_data_points;
         return sherpa::PB2(s, std::move(o));
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

// How long a trial lasts: steps x a speed factor in [1, spread].
enum class SpeedModel {
  // Drawn afresh for every trial (the default): a trial's duration does not
  // depend on its worker or its configuration.
  kPerTrial,
  // Drawn once per worker and seed: some machines are slower than others,
  // for every trial they run.
  kPerWorker,
};

struct Setup {
  int64_t budget_runs = 40;
  int64_t workers = 10;
  double spread = 3.0;
  SpeedModel speed_model = SpeedModel::kPerTrial;
  // PB2's GP is fitted on at most this many points: 3 generations of a
  // population of 40 (its default, 250, makes the bench 3x slower).
  int64_t pb2_max_data_points = 120;
};

struct RunOutcome {
  double final_best = 0;                 // best noise-free objective of any reported state
  int64_t best_steps = 0;                // steps the model of that state had trained
  double final_best_within_run = 0;      // the same among states of at most full_steps steps
  std::optional<double> time_to_target;  // simulated time the study first knew a state >= target
  double wall_time = 0;                  // simulated time the last trial ended
  double busy_fraction = 0;              // worker time spent training / (workers * wall_time)
  int64_t steps = 0;                     // training steps spent
  int64_t budget = 0;                    // training steps the study was allowed
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
  int64_t worker;
};

struct LaterEnd {
  bool operator()(const Running& a, const Running& b) const {
    return a.end != b.end ? a.end > b.end : a.trial.id > b.trial.id;
  }
};

StatusOr<RunOutcome> RunOne(const Problem& problem, const AlgorithmEntry& entry, uint64_t seed,
                            const Setup& setup) {
  const Plan plan{setup.budget_runs, problem.full_steps / problem.segment_steps, setup.workers,
                  setup.pb2_max_data_points};
  SHERPA_ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, entry.make(problem.space, plan));
  sherpa::Study study(problem.space, std::move(algorithm), problem.lower_is_better, nullptr, seed);
  const int64_t budget = setup.budget_runs * problem.full_steps;

  std::vector<double> worker_speed(static_cast<size_t>(setup.workers), 1.0);
  for (int64_t w = 0; w < setup.workers; ++w) {
    sherpa::Rng rng = TrialRng(seed, static_cast<sherpa::TrialId>(w), 3);
    worker_speed[static_cast<size_t>(w)] =
        std::uniform_real_distribution<double>(1.0, setup.spread)(rng);
  }
  // Free workers, lowest index first.
  std::vector<int64_t> free_workers;
  for (int64_t w = setup.workers - 1; w >= 0; --w) free_workers.push_back(w);

  std::unordered_map<std::string, Model> checkpoints;
  std::priority_queue<Running, std::vector<Running>, LaterEnd> running;
  RunOutcome out;
  out.budget = budget;
  out.final_best = problem.lower_is_better ? std::numeric_limits<double>::infinity()
                                           : -std::numeric_limits<double>::infinity();
  out.final_best_within_run = out.final_best;
  double now = 0, busy = 0;
  bool done = false;
  while (true) {
    while (!done && !free_workers.empty()) {
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
      r.worker = free_workers.back();
      free_workers.pop_back();
      double speed = worker_speed[static_cast<size_t>(r.worker)];
      if (setup.speed_model == SpeedModel::kPerTrial) {
        sherpa::Rng speed_rng = TrialRng(seed, trial.id, 2);
        speed = std::uniform_real_distribution<double>(1.0, setup.spread)(speed_rng);
      }
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
    free_workers.push_back(ended.worker);
    std::sort(free_workers.begin(), free_workers.end(), std::greater<>());
    for (const Report& report : ended.reports) {
      SHERPA_RETURN_IF_ERROR(study.add_observation(ended.trial, report.iteration, report.observed));
      if (problem.Better(report.true_objective, out.final_best)) {
        out.final_best = report.true_objective;
        out.best_steps = report.iteration;
      }
      if (report.iteration <= problem.full_steps &&
          problem.Better(report.true_objective, out.final_best_within_run)) {
        out.final_best_within_run = report.true_objective;
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
  out.busy_fraction = now > 0 ? busy / (static_cast<double>(setup.workers) * now) : 0;
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

std::string Range(const std::vector<double>& v, std::string (*format)(double)) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return format(Median(v)) + " [" + format(*lo) + ".." + format(*hi) + "]";
}

std::string Whole(double v) { return Fixed(v, 0); }

// "median (hit/seeds)"; seeds that never reached the target count as never,
// so the median is "never" when more than half missed.
std::string TimeToTarget(const std::vector<RunOutcome>& runs) {
  std::vector<double> times;
  int hits = 0;
  for (const RunOutcome& run : runs) {
    times.push_back(run.time_to_target.value_or(std::numeric_limits<double>::infinity()));
    hits += run.time_to_target.has_value();
  }
  const double median = Median(times);
  return (std::isinf(median) ? std::string("never") : Fixed(median, 0)) + " (" +
         std::to_string(hits) + "/" + std::to_string(runs.size()) + ")";
}

struct Csv {
  std::ofstream out;
  void Header() {
    out << "section,problem,algorithm,seed,population,workers,final_best,time_to_target,wall_time,"
           "busy_fraction,steps,budget_steps,trials,lower_is_better,target,best_steps,full_steps,"
           "final_best_within_run\n";
  }
  void Row(const std::string& section, const Problem& problem, const std::string& algorithm,
           int64_t seed, const Setup& setup, const RunOutcome& run) {
    out << section << ',' << problem.name << ',' << algorithm << ',' << seed << ','
        << setup.budget_runs << ',' << setup.workers << ',' << std::setprecision(10)
        << run.final_best << ',' << (run.time_to_target ? std::to_string(*run.time_to_target) : "")
        << ',' << run.wall_time << ',' << run.busy_fraction << ',' << run.steps << ',' << run.budget
        << ',' << run.trials << ',' << (problem.lower_is_better ? 1 : 0) << ',' << problem.target
        << ',' << run.best_steps << ',' << problem.full_steps << ',' << run.final_best_within_run
        << '\n';
  }
};

// Runs `entry` on `problem` for seeds 1..seeds; failures are printed and
// counted.
std::vector<RunOutcome> RunSeeds(const Problem& problem, const AlgorithmEntry& entry, int64_t seeds,
                                 const Setup& setup, const std::string& section, Csv& csv,
                                 int& failures) {
  std::vector<RunOutcome> runs;
  for (int64_t seed = 1; seed <= seeds; ++seed) {
    StatusOr<RunOutcome> run = RunOne(problem, entry, static_cast<uint64_t>(seed), setup);
    if (!run.ok()) {
      std::cerr << section << ": " << problem.name << " / " << entry.label << " / seed " << seed
                << ": " << run.status() << "\n";
      ++failures;
      continue;
    }
    csv.Row(section, problem, entry.label, seed, setup, *run);
    runs.push_back(*run);
  }
  return runs;
}

template <typename F>
std::vector<double> Each(const std::vector<RunOutcome>& runs, F field) {
  std::vector<double> v;
  for (const RunOutcome& run : runs) v.push_back(field(run));
  return v;
}

// Section 1: every algorithm on every problem at the same budget.
void EqualBudget(const std::vector<Problem>& problems, const std::vector<AlgorithmEntry>& entries,
                 int64_t seeds, const Setup& setup, Csv& csv, int& failures) {
  std::cout << "\n## Every algorithm at equal budget\n\n"
            << "Budget " << setup.budget_runs << " full runs of steps per study, " << setup.workers
            << " workers, trial speed factors uniform in [1, " << setup.spread << "] per "
            << (setup.speed_model == SpeedModel::kPerTrial ? "trial" : "worker") << ", seeds 1.."
            << seeds << ". Medians over the seeds.\n\n"
            << "| problem (target) | algorithm | final best: median [min..max] | best's model "
               "trained | best within 1 run | time to target (hit) | wall time | busy | budget "
               "used |\n"
            << "|---|---|---|---|---|---|---|---|---|\n";
  for (const Problem& problem : problems) {
    for (const AlgorithmEntry& entry : entries) {
      std::vector<RunOutcome> runs =
          RunSeeds(problem, entry, seeds, setup, "equal_budget", csv, failures);
      if (runs.empty()) continue;
      std::cout << "| " << problem.name << " (" << (problem.lower_is_better ? "min, " : "max, ")
                << problem.target << ") | " << entry.label << " | "
                << Range(Each(runs, [](const RunOutcome& r) { return r.final_best; }), Short)
                << " | "
                << Fixed(Median(Each(runs,
                                     [&problem](const RunOutcome& r) {
                                       return static_cast<double>(r.best_steps) /
                                              static_cast<double>(problem.full_steps);
                                     })),
                         2)
                << " runs | "
                << Short(Median(
                       Each(runs, [](const RunOutcome& r) { return r.final_best_within_run; })))
                << " | " << TimeToTarget(runs) << " | "
                << Whole(Median(Each(runs, [](const RunOutcome& r) { return r.wall_time; })))
                << " | "
                << Fixed(Median(Each(runs, [](const RunOutcome& r) { return r.busy_fraction; })), 2)
                << " | "
                << Fixed(100 * Median(Each(runs,
                                           [](const RunOutcome& r) {
                                             return static_cast<double>(r.steps) /
                                                    static_cast<double>(r.budget);
                                           })),
                         0)
                << "% |\n";
    }
  }
}

const char* SpeedModelName(SpeedModel model) {
  return model == SpeedModel::kPerTrial ? "per trial" : "per worker";
}

// Section 2: generational against asynchronous PBT in simulated wall time,
// at equal population and intervals per member (so equal steps), both with
// truncation selection. PBT(top_third) and AsyncPBT(tournament) hand out
// the same trials at the same times (only the hyperparameters differ), so
// their wall times are the same as these.
void WallTime(const std::vector<Problem>& problems, const std::vector<AlgorithmEntry>& registry,
              int64_t seeds, const std::vector<Setup>& setups, Csv& csv, int& failures) {
  auto find = [&registry](const std::string& label) {
    return *std::find_if(registry.begin(), registry.end(),
                         [&label](const AlgorithmEntry& e) { return e.label == label; });
  };
  const AlgorithmEntry generational = find("PBT(truncation)");
  const AlgorithmEntry asynchronous = find("AsyncPBT(truncation)");
  std::cout << "\n## Generational vs asynchronous PBT in simulated wall time\n\n"
            << "gen = " << generational.label << ", async = " << asynchronous.label
            << ", same population and "
            << "intervals per member (one full run per member), "
            << "speed factors uniform in [1, " << setups.front().spread << "], seeds 1.." << seeds
            << ". Wall time and busy: median [min..max]; \"async faster\": seeds on which async "
               "finished the same steps sooner than gen.\n\n"
            << "| speed drawn | members / workers | problem | wall time gen | wall time async | "
               "async faster | time to target gen (hit) | async (hit) | busy gen | busy async |\n"
            << "|---|---|---|---|---|---|---|---|---|---|\n";
  auto busy = [](const std::vector<RunOutcome>& runs) {
    return Range(Each(runs, [](const RunOutcome& r) { return r.busy_fraction; }),
                 [](double v) { return Fixed(v, 2); });
  };
  for (const Setup& setup : setups) {
    const std::string section = "walltime_" + std::to_string(setup.budget_runs) + "on" +
                                std::to_string(setup.workers) +
                                (setup.speed_model == SpeedModel::kPerTrial ? "" : "_per_worker");
    for (const Problem& problem : problems) {
      const std::vector<RunOutcome> gen =
          RunSeeds(problem, generational, seeds, setup, section, csv, failures);
      const std::vector<RunOutcome> async =
          RunSeeds(problem, asynchronous, seeds, setup, section, csv, failures);
      if (gen.empty() || async.empty()) continue;
      const std::vector<double> gen_walls =
          Each(gen, [](const RunOutcome& r) { return r.wall_time; });
      const std::vector<double> async_walls =
          Each(async, [](const RunOutcome& r) { return r.wall_time; });
      std::string faster = "-";
      if (gen_walls.size() == async_walls.size()) {
        int wins = 0, ties = 0;
        for (size_t i = 0; i < gen_walls.size(); ++i) {
          wins += async_walls[i] < gen_walls[i];
          ties += async_walls[i] == gen_walls[i];
        }
        faster = std::to_string(wins) + "/" + std::to_string(gen_walls.size());
        if (ties > 0) faster += " (" + std::to_string(ties) + " tied)";
      }
      std::cout << "| " << SpeedModelName(setup.speed_model) << " | " << setup.budget_runs << " / "
                << setup.workers << " | " << problem.name << " | " << Range(gen_walls, Whole)
                << " | " << Range(async_walls, Whole) << " | " << faster << " | "
                << TimeToTarget(gen) << " | " << TimeToTarget(async) << " | " << busy(gen) << " | "
                << busy(async) << " |\n";
    }
  }
}

// Section 3: PB2 against PBT at population 4 on the toy problem, exactly
// the setup of examples/toy_pbt/toy_problem_test.cc (seeds 0..9, 40
// generations of 4 steps, top-third exploit), so the numbers agree.
void Pb2VsPbt(int64_t seeds, Csv& csv, int& failures) {
  std::cout << "\n## PB2 vs PBT at population 4 on the toy problem\n\n"
            << "examples/toy_pbt's RunToyPbt and RunToyPb2 (population 4, 40 generations of 4 "
               "steps, top-third exploit, h in [0, 1]^2), seeds 0.."
            << seeds - 1 << ". Q after the last generation (best possible "
            << Fixed(toy_pbt::BestPossibleQ(toy_pbt::ToyOptions{}), 6) << ").\n\n"
            << "| seed | PBT Q | PB2 Q | better |\n|---|---|---|---|\n";
  const Problem problem = ToyPbtProblem();
  double pbt_sum = 0, pb2_sum = 0;
  int pb2_wins = 0, ran = 0;
  for (int64_t seed = 0; seed < seeds; ++seed) {
    toy_pbt::ToyOptions options;
    options.seed = static_cast<uint64_t>(seed);
    options.population = 4;
    sherpa::StatusOr<toy_pbt::ToyRun> pbt = toy_pbt::RunToyPbt(options);
    sherpa::StatusOr<toy_pbt::ToyRun> pb2 = toy_pbt::RunToyPb2(options);
    if (!pbt.ok() || !pb2.ok()) {
      std::cerr << "pb2_vs_pbt: seed " << seed << ": " << (pbt.ok() ? pb2.status() : pbt.status())
                << "\n";
      ++failures;
      continue;
    }
    const double pbt_q = pbt->best_q.back(), pb2_q = pb2->best_q.back();
    const Setup setup{4, 4, 1.0, SpeedModel::kPerTrial};
    RunOutcome row;
    row.final_best = pbt_q;
    row.trials = static_cast<int64_t>(pbt->study.results().num_trials());
    csv.Row("pb2_vs_pbt_pop4", problem, "PBT(top_third)", seed, setup, row);
    row.final_best = pb2_q;
    row.trials = static_cast<int64_t>(pb2->study.results().num_trials());
    csv.Row("pb2_vs_pbt_pop4", problem, "PB2(top_third)", seed, setup, row);
    std::cout << "| " << seed << " | " << Fixed(pbt_q, 6) << " | " << Fixed(pb2_q, 6) << " | "
              << (pb2_q > pbt_q   ? "PB2"
                  : pb2_q < pbt_q ? "PBT"
                                  : "tie")
              << " |\n";
    pbt_sum += pbt_q;
    pb2_sum += pb2_q;
    pb2_wins += pb2_q > pbt_q;
    ++ran;
  }
  if (ran > 0) {
    std::cout << "| mean | " << Fixed(pbt_sum / ran, 6) << " | " << Fixed(pb2_sum / ran, 6)
              << " | PB2 on " << pb2_wins << "/" << ran << " |\n";
  }
}

}  // namespace
}  // namespace algorithms_bench

int main(int argc, char** argv) {
  using namespace algorithms_bench;
  CLI::App app{"SHERPA algorithms at equal budget on simulated training problems"};
  int64_t seeds = 5, walltime_seeds = 10, pb2_seeds = 10;
  Setup setup;
  std::string speed_model = "trial";
  std::string csv_path = "algorithms_bench.csv";
  std::vector<std::string> only_algorithms, only_problems, sections;
  app.add_option("--seeds", seeds, "Seeds per algorithm and problem (1..seeds)")
      ->capture_default_str();
  app.add_option("--budget-runs", setup.budget_runs,
                 "Budget: this many full-length training runs' worth of steps")
      ->capture_default_str();
  app.add_option("--workers", setup.workers, "Trials running at once (max_concurrent)")
      ->capture_default_str();
  app.add_option("--spread", setup.spread,
                 "Trial speed factors are drawn uniformly in [1, spread]: 3 makes durations "
                 "vary by 3x, 1 makes them equal")
      ->capture_default_str();
  app.add_option("--speed-model", speed_model,
                 "trial: a speed factor per trial; worker: one per worker (slow machines)")
      ->check(CLI::IsMember({"trial", "worker"}))
      ->capture_default_str();
  app.add_option("--walltime-seeds", walltime_seeds, "Seeds for generational vs asynchronous PBT")
      ->capture_default_str();
  app.add_option("--pb2-seeds", pb2_seeds, "Seeds for PB2 vs PBT at population 4")
      ->capture_default_str();
  app.add_option("--pb2-max-data-points", setup.pb2_max_data_points,
                 "PB2's max_data_points in the equal-budget section")
      ->capture_default_str();
  app.add_option("--csv", csv_path, "Per-run results for plot.py")->capture_default_str();
  app.add_option("--algorithm", only_algorithms, "Run only these (registry labels)");
  app.add_option("--problem", only_problems, "Run only these problems");
  app.add_option("--section", sections, "Run only these sections: equal_budget, walltime, pb2")
      ->check(CLI::IsMember({"equal_budget", "walltime", "pb2"}));
  CLI11_PARSE(app, argc, argv);
  if (seeds < 1 || walltime_seeds < 1 || pb2_seeds < 1 || setup.budget_runs < 2 ||
      setup.workers < 1 || !(setup.spread >= 1)) {
    std::cerr << "need seeds >= 1, --budget-runs >= 2, --workers >= 1, --spread >= 1\n";
    return 2;
  }
  setup.speed_model = speed_model == "worker" ? SpeedModel::kPerWorker : SpeedModel::kPerTrial;
  auto selected = [](const std::vector<std::string>& only, const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  std::vector<Problem> problems;
  for (Problem& problem : AllProblems()) {
    if (selected(only_problems, problem.name)) problems.push_back(std::move(problem));
  }
  const std::vector<AlgorithmEntry> registry = Registry();
  std::vector<AlgorithmEntry> entries;
  for (const AlgorithmEntry& entry : registry) {
    if (selected(only_algorithms, entry.label)) entries.push_back(entry);
  }

  Csv csv{std::ofstream(csv_path)};
  if (!csv.out) {
    std::cerr << "cannot write " << csv_path << "\n";
    return 1;
  }
  csv.Header();
  std::cout << "# algorithms_bench\n\nProblems:\n\n";
  for (const Problem& problem : problems) {
    std::cout << "* `" << problem.name << "`: " << problem.description << " ("
              << (problem.lower_is_better ? "lower" : "higher") << " is better; target "
              << problem.target << ")\n";
  }
  int failures = 0;
  if (selected(sections, "equal_budget")) {
    EqualBudget(problems, entries, seeds, setup, csv, failures);
  }
  if (selected(sections, "walltime")) {
    // Population = workers, and twice as many members as workers, with
    // speeds drawn per trial and per worker; the same spread as above.
    std::vector<Setup> setups;
    for (SpeedModel model : {SpeedModel::kPerTrial, SpeedModel::kPerWorker}) {
      for (int64_t population : {8, 16}) {
        Setup s = setup;
        s.budget_runs = population;
        s.workers = 8;
        s.speed_model = model;
        setups.push_back(s);
      }
    }
    WallTime(problems, registry, walltime_seeds, setups, csv, failures);
  }
  if (selected(sections, "pb2")) Pb2VsPbt(pb2_seeds, csv, failures);
  std::cout << "\nPer-run results: " << csv_path << " (picture: python3 bench/algorithms/plot.py "
            << csv_path << ")\n";
  return failures == 0 ? 0 : 1;
}
