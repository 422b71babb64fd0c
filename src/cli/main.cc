// The `sherpa` command: run, resume and inspect studies, and the shell
// client for trial scripts.
//
//   sherpa run study.yaml [--max-concurrent 4] [--output-dir out] [--seed 1]
//   sherpa resume <output_dir>
//   sherpa results <output_dir> [--csv]
//   sherpa dashboard <output_dir> [--host 127.0.0.1] [--port 0]
//   sherpa report <output_dir> -o report.html
//   sherpa replay <output_dir> [-o replay.yaml] [--trial ID]
//   sherpa trial get [--param NAME]
//   sherpa trial report --iteration N --objective X [--context key=value ...]
//   sherpa trial checkpoint NAME
//   sherpa trial end [--status COMPLETED|FAILED]
//
// Exit codes: 0 done, 1 the study failed, 2 bad usage or spec, 130
// interrupted (the study can be resumed).
#include <signal.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "dashboard/dashboard.h"
#include "json/value_json.h"
#include "server/http_server.h"
#include "storage/study_store.h"

#include "sherpa/algorithms.h"
#include "sherpa/client.h"
#include "sherpa/runner.h"
#include "sherpa/study_spec.h"

namespace sherpa {
namespace {

namespace fs = std::filesystem;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

int Fail(const Status& status, int code) {
  std::fprintf(stderr, "sherpa: %s\n", status.ToString().c_str());
  return code;
}

// Parses a context value from the command line: an integer, a number, or a
// string.
Value ParseScalar(const std::string& text) {
  int64_t i = 0;
  auto [iend, iec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (iec == std::errc() && iend == text.data() + text.size()) return Value(i);
  double d = 0;
  auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (dec == std::errc() && dend == text.data() + text.size()) return Value(d);
  return Value(text);
}

std::string FormatObjective(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

int PrintSummary(const OptimizeResult& result) {
  std::printf("\nstudy: %s\n", result.output_dir.c_str());
  std::printf("trials: %zu completed, %zu failed, %zu stopped\n", result.completed, result.failed,
              result.stopped);
  if (result.best) {
    std::printf("best: trial %lld, objective %s at iteration %lld\n",
                static_cast<long long>(result.best->trial_id),
                FormatObjective(result.best->objective).c_str(),
                static_cast<long long>(result.best->iteration));
    for (const auto& [name, value] : result.best->parameters) {
      std::printf("  %s = %s\n", name.c_str(), value.ToString().c_str());
    }
  }
  std::printf("results: %s/results.csv\n", result.output_dir.c_str());
  if (result.interrupted) {
    std::printf("interrupted; continue with: sherpa resume %s\n", result.output_dir.c_str());
    return kExitInterrupted;
  }
  return 0;
}

int Optimize(StatusOr<OptimizeOptions> options, bool quiet) {
  if (!options.ok()) return Fail(options.status(), kExitUsage);
  if (quiet) options->progress = ProgressMode::kQuiet;
  StatusOr<OptimizeResult> result = optimize(std::move(*options));
  if (!result.ok()) {
    const int code = result.status().code() == StatusCode::kInvalidArgument ||
                             result.status().code() == StatusCode::kFailedPrecondition
                         ? kExitUsage
                         : kExitFailed;
    return Fail(result.status(), code);
  }
  return PrintSummary(*result);
}

StatusOr<std::unique_ptr<storage::StudyStore>> OpenStudy(const std::string& dir) {
  const fs::path db = fs::path(dir) / "study.db";
  std::error_code ec;
  if (!fs::exists(db, ec)) return NotFoundError("no study in '" + dir + "' (no study.db)");
  SHERPA_ASSIGN_OR_RETURN(bool holds, storage::StudyStore::HoldsAStudy(db.string()));
  if (!holds) {
    return FailedPreconditionError("the study in '" + dir +
                                   "' never started: its runner stopped before recording it; "
                                   "start it again with `sherpa run` (it may use this folder)");
  }
  return storage::StudyStore::Open(db.string(), /*create=*/false);
}

int Resume(const std::string& dir, const SpecOverrides& cli, bool quiet) {
  StatusOr<std::unique_ptr<storage::StudyStore>> store = OpenStudy(dir);
  if (!store.ok()) return Fail(store.status(), kExitUsage);
  StatusOr<std::optional<std::string>> spec = (*store)->GetMeta("spec");
  StatusOr<std::optional<std::string>> working_dir = (*store)->GetMeta("working_dir");
  if (!spec.ok()) return Fail(spec.status(), kExitFailed);
  if (!working_dir.ok()) return Fail(working_dir.status(), kExitFailed);
  if (!spec->has_value()) {
    return Fail(FailedPreconditionError(
                    "this study was started from C++ code, not a spec file; resume it with "
                    "sherpa::optimize and resume = true"),
                kExitUsage);
  }
  store->reset();  // the runner opens it itself
  SpecOverrides overrides = cli;
  std::error_code ec;
  overrides.output_dir = fs::absolute(dir, ec).lexically_normal().string();
  StatusOr<OptimizeOptions> options = LoadStudySpec(**spec, dir + "/study.db", overrides);
  if (options.ok()) {
    options->resume = true;
    options->working_dir = working_dir->value_or("");
  }
  return Optimize(std::move(options), quiet);
}

// The results table rebuilt from the stored rows (the latest attempt of
// each trial), as the runner's results.csv shows it; `states` counts the
// trials' states.
StatusOr<Results> LoadResults(storage::StudyStore& store, std::map<std::string, size_t>* states) {
  SHERPA_ASSIGN_OR_RETURN(std::optional<std::string> lower, store.GetMeta("lower_is_better"));
  SHERPA_ASSIGN_OR_RETURN(std::vector<storage::StoredTrial> trials, store.LoadTrials());
  SHERPA_ASSIGN_OR_RETURN(std::vector<storage::StoredObservation> observations,
                          store.LoadObservations());
  Results results(lower.value_or("true") == "true");
  std::map<TrialId, int> attempt;
  for (const storage::StoredTrial& t : trials) {
    (void)results.AddTrial(t.trial);
    attempt[t.trial.id] = t.attempt;
    if (states) ++(*states)[t.state];
  }
  for (const storage::StoredObservation& o : observations) {
    if (o.attempt == attempt[o.trial_id]) (void)results.AddObservation(o.trial_id, o.observation);
  }
  for (const storage::StoredTrial& t : trials) {
    if (std::optional<TrialStatus> s = ParseTrialStatus(t.state)) {
      if (*s != TrialStatus::kIntermediate) (void)results.Finalize(t.trial.id, *s);
    }
  }
  return results;
}

int PrintResults(const std::string& dir, bool csv) {
  StatusOr<std::unique_ptr<storage::StudyStore>> store = OpenStudy(dir);
  if (!store.ok()) return Fail(store.status(), kExitUsage);
  std::map<std::string, size_t> states;
  StatusOr<Results> loaded = LoadResults(**store, &states);
  if (!loaded.ok()) return Fail(loaded.status(), kExitFailed);
  const Results& results = *loaded;
  if (csv) {
    results.WriteCsv(std::cout);
    return 0;
  }
  std::printf("study: %s\n", dir.c_str());
  std::printf("trials: %zu", results.num_trials());
  for (const auto& [state, count] : states) std::printf(", %zu %s", count, state.c_str());
  std::printf("\n");

  // The ten best trials by their best objective.
  std::vector<const TrialRecord*> ranked;
  for (const TrialRecord& r : results.trials()) {
    if (r.best()) ranked.push_back(&r);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    return results.Better(a->best()->objective, b->best()->objective);
  });
  std::printf("\n%8s  %-12s %10s %14s  %s\n", "trial", "status", "iteration", "objective",
              "parameters");
  for (size_t i = 0; i < ranked.size() && i < 10; ++i) {
    const TrialRecord& r = *ranked[i];
    std::string params;
    for (const auto& [name, value] : r.trial().parameters) {
      if (name == kLineageKey) continue;
      params += (params.empty() ? "" : " ") + name + "=" + value.ToString();
    }
    std::printf("%8lld  %-12s %10lld %14s  %s\n", static_cast<long long>(r.id()),
                std::string(TrialStatusName(r.status())).c_str(),
                static_cast<long long>(r.best()->iteration),
                FormatObjective(r.best()->objective).c_str(), params.c_str());
  }
  if (std::optional<BestResult> best = results.Best()) {
    std::printf("\nbest: trial %lld, objective %s at iteration %lld\n",
                static_cast<long long>(best->trial_id), FormatObjective(best->objective).c_str(),
                static_cast<long long>(best->iteration));
  }
  return 0;
}

// `sherpa dashboard`: the dashboard of a finished, crashed or (in another
// process) running study, read from its study.db until Ctrl-C. It serves no
// trial API and holds no token, so nothing on the page can change the study.
int ServeDashboard(const std::string& dir, const std::string& host, int port) {
  StatusOr<std::unique_ptr<storage::StudyStore>> store = OpenStudy(dir);
  if (!store.ok()) return Fail(store.status(), kExitUsage);
  // Blocked before the server starts its threads, which inherit the mask, so
  // Ctrl-C reaches only the sigwait below and the server stops cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::error_code ec;
  dashboard::Dashboard board(
      store->get(),
      dashboard::DashboardOptions{fs::absolute(dir, ec).lexically_normal().string(), false});
  dashboard::NoTrialService no_trials;
  server::HttpServerOptions options;
  options.host = host;
  options.port = port;
  options.dashboard = &board;
  server::HttpServer server(&no_trials, options);
  StatusOr<int> bound = server.Start();
  if (!bound.ok()) return Fail(bound.status(), kExitFailed);
  std::printf("dashboard: http://%s:%d/\n", host == "0.0.0.0" ? "127.0.0.1" : host.c_str(), *bound);
  std::fflush(stdout);
  std::fprintf(stderr, "serving %s read-only; Ctrl-C to stop\n", dir.c_str());
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}

// `sherpa report`: one self-contained HTML file of the dashboard.
int WriteReport(const std::string& dir, const std::string& out_path) {
  StatusOr<std::unique_ptr<storage::StudyStore>> store = OpenStudy(dir);
  if (!store.ok()) return Fail(store.status(), kExitUsage);
  std::error_code ec;
  StatusOr<std::string> html =
      dashboard::RenderReport(**store, fs::absolute(dir, ec).lexically_normal().string());
  if (!html.ok()) return Fail(html.status(), kExitFailed);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << *html;
  out.close();
  if (!out) return Fail(InternalError("cannot write " + out_path), kExitFailed);
  std::printf("report: %s (%zu bytes)\n", out_path.c_str(), html->size());
  return 0;
}

// `sherpa replay`: the schedule of a PBT study's best trial (or `trial_id`)
// as a spec that trains one model along it.
int WriteReplaySpec(const std::string& dir, std::string out_path, int64_t trial_id) {
  StatusOr<std::unique_ptr<storage::StudyStore>> store = OpenStudy(dir);
  if (!store.ok()) return Fail(store.status(), kExitUsage);
  StatusOr<std::optional<std::string>> spec = (*store)->GetMeta("spec");
  if (!spec.ok()) return Fail(spec.status(), kExitFailed);
  if (!spec->has_value()) {
    return Fail(FailedPreconditionError("this study was started from C++ code, not a spec file, "
                                        "so there is no spec to base the replay on"),
                kExitUsage);
  }
  StatusOr<OptimizeOptions> study = LoadStudySpec(**spec, dir + "/study.db");
  if (!study.ok()) return Fail(study.status(), kExitFailed);
  if (study->algorithm->name() != "PopulationBasedTraining") {
    return Fail(FailedPreconditionError("the study ran " + std::string(study->algorithm->name()) +
                                        "; only a PopulationBasedTraining study has a schedule "
                                        "to replay"),
                kExitUsage);
  }
  StatusOr<Results> results = LoadResults(**store, nullptr);
  if (!results.ok()) return Fail(results.status(), kExitFailed);
  TrialId trial = trial_id;
  if (trial == 0) {
    std::optional<TrialId> best = BestCompletedTrial(*results);
    if (!best) {
      return Fail(FailedPreconditionError("no trial of the study completed with a result"),
                  kExitUsage);
    }
    trial = *best;
  }
  StatusOr<std::vector<PbtScheduleStep>> schedule =
      PbtScheduleOf(study->parameters, *results, trial);
  if (!schedule.ok()) return Fail(schedule.status(), kExitUsage);
  if (out_path.empty()) out_path = (fs::path(dir) / "replay.yaml").string();
  const bool json = fs::path(out_path).extension() == ".json";
  StatusOr<std::string> text =
      PbtReplaySpec(**spec, *schedule, json ? SpecFormat::kJson : SpecFormat::kYaml);
  if (!text.ok()) return Fail(text.status(), kExitFailed);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << *text;
  out.close();
  if (!out) return Fail(InternalError("cannot write " + out_path), kExitFailed);
  const TrialRecord& record = *results->Find(trial);
  std::printf("replay: %s: the schedule of trial %lld (%s, objective %s), %zu generations\n",
              out_path.c_str(), static_cast<long long>(trial),
              std::string(TrialStatusName(record.status())).c_str(),
              record.best() ? FormatObjective(record.best()->objective).c_str() : "none",
              schedule->size());
  std::printf("train one model along it with: sherpa run %s\n", out_path.c_str());
  return 0;
}

// The trial id is all a report needs; a process started ahead of its trial
// learns it with get_trial (which then also fetches the parameters).
StatusOr<Trial> OwnTrial(Client& client) {
  if (client.options().trial_id != 0) return Trial{client.options().trial_id, {}};
  return client.get_trial();
}

int TrialGet(const std::string& param) {
  StatusOr<Client> client = Client::FromEnvironment();
  if (!client.ok()) return Fail(client.status(), kExitUsage);
  StatusOr<Trial> trial = client->get_trial();
  if (!trial.ok()) return Fail(trial.status(), kExitFailed);
  if (param.empty()) {
    std::printf("%s\n", json::ToJson(*trial).dump().c_str());
    return 0;
  }
  auto it = trial->parameters.find(param);
  if (it == trial->parameters.end()) {
    return Fail(
        NotFoundError("trial " + std::to_string(trial->id) + " has no parameter '" + param + "'"),
        kExitUsage);
  }
  std::printf("%s\n", it->second.ToString().c_str());
  return 0;
}

int TrialReport(int64_t iteration, double objective, const std::vector<std::string>& context) {
  Context values;
  for (const std::string& item : context) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(InvalidArgumentError("--context takes key=value, got '" + item + "'"),
                  kExitUsage);
    }
    values[item.substr(0, eq)] = ParseScalar(item.substr(eq + 1));
  }
  if (!std::isfinite(objective)) {
    return Fail(InvalidArgumentError("--objective must be a finite number"), kExitUsage);
  }
  StatusOr<Client> client = Client::FromEnvironment();
  if (!client.ok()) return Fail(client.status(), kExitUsage);
  StatusOr<Trial> trial = OwnTrial(*client);
  if (!trial.ok()) return Fail(trial.status(), kExitFailed);
  StatusOr<bool> stop = client->send_metrics(*trial, iteration, objective, values);
  if (!stop.ok()) return Fail(stop.status(), kExitFailed);
  // Scripts test for this word: `[ "$(sherpa trial report ...)" = stop ] && exit 0`.
  if (*stop) std::printf("stop\n");
  return 0;
}

// Ends the trial at once: on a cluster the runner would otherwise see the
// end only at its next poll of the scheduler.
int TrialEnd(const std::string& status_name) {
  const std::optional<TrialStatus> status = ParseTrialStatus(status_name);
  if (!status || (*status != TrialStatus::kCompleted && *status != TrialStatus::kFailed)) {
    return Fail(
        InvalidArgumentError("--status takes COMPLETED or FAILED, got '" + status_name + "'"),
        kExitUsage);
  }
  StatusOr<Client> client = Client::FromEnvironment();
  if (!client.ok()) return Fail(client.status(), kExitUsage);
  StatusOr<Trial> trial = OwnTrial(*client);
  if (!trial.ok()) return Fail(trial.status(), kExitFailed);
  const Status ended = client->end_trial(*trial, *status);
  if (!ended.ok()) return Fail(ended, kExitFailed);
  return 0;
}

int TrialCheckpoint(const std::string& name) {
  if (!Client::IsCheckpointName(name)) {
    return Fail(InvalidArgumentError("'" + name +
                                     "' is not a checkpoint name: one file name, without '/', "
                                     "and not '.' or '..'"),
                kExitUsage);
  }
  StatusOr<Client> client = Client::FromEnvironment();
  if (!client.ok()) return Fail(client.status(), kExitUsage);
  std::printf("%s\n", client->checkpoint_path(name).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"sherpa: hyperparameter optimization with Population Based Training"};
  app.require_subcommand(1);

  SpecOverrides overrides;
  bool quiet = false;
  auto add_overrides = [&](CLI::App* sub) {
    sub->add_option_function<std::string>(
        "--command", [&](const std::string& v) { overrides.command = v; },
        "trial command (replaces the spec's)");
    sub->add_option_function<int64_t>(
           "--max-concurrent", [&](int64_t v) { overrides.max_concurrent = v; },
           "trials running at once")
        ->check(CLI::PositiveNumber);
    sub->add_option_function<int64_t>(
           "--prestart", [&](int64_t v) { overrides.prestart = v; },
           "trial processes to start ahead of their trials (local scheduler; 0: none)")
        ->check(CLI::Range(0, 1024));
    sub->add_option_function<uint64_t>(
        "--seed", [&](uint64_t v) { overrides.seed = v; }, "random seed of the study");
    sub->add_option_function<std::string>(
        "--host", [&](const std::string& v) { overrides.host = v; },
        "address of the trial API (default 127.0.0.1; this host's name with slurm or sge)");
    sub->add_option_function<std::string>(
           "--scheduler", [&](const std::string& v) { overrides.scheduler = v; },
           "run the trials with local, slurm or sge (replaces the spec's)")
        ->check(CLI::IsMember({"local", "slurm", "sge"}));
    sub->add_option_function<int>(
           "--port", [&](int v) { overrides.port = v; }, "port of the trial API (default: free)")
        ->check(CLI::Range(0, 65535));
    sub->add_flag("--quiet,-q", quiet, "print errors and the summary only");
  };

  std::string spec_path;
  CLI::App* run = app.add_subcommand("run", "run the study a spec file describes");
  run->add_option("spec", spec_path, "study spec (YAML or JSON)")->required();
  run->add_option_function<std::string>(
      "--output-dir", [&](const std::string& v) { overrides.output_dir = v; },
      "where the study is kept (default: output_<timestamp>)");
  add_overrides(run);

  std::string study_dir;
  CLI::App* resume = app.add_subcommand("resume", "continue a study that was interrupted");
  resume->add_option("output_dir", study_dir, "the study's folder")->required();
  add_overrides(resume);

  bool csv = false;
  CLI::App* results = app.add_subcommand("results", "print a study's results and best trial");
  results->add_option("output_dir", study_dir, "the study's folder")->required();
  results->add_flag("--csv", csv, "print the whole results table as CSV");

  std::string dashboard_host = "127.0.0.1";
  int dashboard_port = 0;
  CLI::App* dashboard_cmd =
      app.add_subcommand("dashboard", "serve the dashboard of a study from its study.db");
  dashboard_cmd->add_option("output_dir", study_dir, "the study's folder")->required();
  dashboard_cmd->add_option("--host", dashboard_host, "address to listen on (default 127.0.0.1)");
  dashboard_cmd->add_option("--port", dashboard_port, "port (default: a free one)")
      ->check(CLI::Range(0, 65535));

  std::string report_path = "report.html";
  CLI::App* report_cmd =
      app.add_subcommand("report", "write the dashboard of a study as one HTML file");
  report_cmd->add_option("output_dir", study_dir, "the study's folder")->required();
  report_cmd->add_option("-o,--output", report_path,
                         "the HTML file to write (default report.html)");

  std::string replay_path;
  int64_t replay_trial = 0;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay",
      "write a spec that trains one model along the schedule of a PBT study's best trial");
  replay_cmd->add_option("output_dir", study_dir, "the study's folder")->required();
  replay_cmd->add_option("-o,--output", replay_path,
                         "the spec to write; .json for JSON, else YAML "
                         "(default <output_dir>/replay.yaml)");
  replay_cmd->add_option("--trial", replay_trial, "replay this trial instead of the best one")
      ->check(CLI::PositiveNumber);

  CLI::App* trial = app.add_subcommand("trial", "for trial scripts: talk to the runner");
  trial->require_subcommand(1);
  std::string param;
  CLI::App* get = trial->add_subcommand("get", "print this trial as JSON");
  get->add_option("--param,-p", param, "print only this parameter");
  int64_t iteration = 0;
  double objective = 0;
  std::vector<std::string> context;
  CLI::App* report = trial->add_subcommand("report", "report a result; prints 'stop' if asked");
  report->add_option("--iteration,-i", iteration, "iteration (e.g. epoch)")->required();
  report->add_option("--objective,-o", objective, "objective value")->required();
  report->add_option("--context,-c", context, "extra metrics as key=value");
  std::string checkpoint;
  CLI::App* checkpoint_cmd =
      trial->add_subcommand("checkpoint", "print the checkpoint path for a save_to/load_from");
  checkpoint_cmd->add_option("name", checkpoint, "save_to or load_from value")->required();
  std::string end_status = "COMPLETED";
  CLI::App* end_cmd =
      trial->add_subcommand("end", "end this trial now (the process should exit right after)");
  end_cmd->add_option("--status,-s", end_status, "COMPLETED (default) or FAILED");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  if (run->parsed()) return Optimize(LoadStudySpecFile(spec_path, overrides), quiet);
  if (resume->parsed()) return Resume(study_dir, overrides, quiet);
  if (results->parsed()) return PrintResults(study_dir, csv);
  if (dashboard_cmd->parsed()) return ServeDashboard(study_dir, dashboard_host, dashboard_port);
  if (report_cmd->parsed()) return WriteReport(study_dir, report_path);
  if (replay_cmd->parsed()) return WriteReplaySpec(study_dir, replay_path, replay_trial);
  if (get->parsed()) return TrialGet(param);
  if (report->parsed()) return TrialReport(iteration, objective, context);
  if (checkpoint_cmd->parsed()) return TrialCheckpoint(checkpoint);
  if (end_cmd->parsed()) return TrialEnd(end_status);
  return kExitUsage;
}

}  // namespace
}  // namespace sherpa

int main(int argc, char** argv) { return sherpa::Main(argc, argv); }
