// -----------------------------------------------------------------------------
// File: client.h
// -----------------------------------------------------------------------------
//
// The trial side of the runner, for trial programs written in C++: SHERPA's
// `sherpa.Client`. A trial program started by `sherpa run` finds everything
// it needs in its environment (SHERPA_TRIAL_ID, SHERPA_HOST, SHERPA_PORT,
// SHERPA_TOKEN, SHERPA_OUTPUT_DIR).
//
//   sherpa::StatusOr<sherpa::Client> client = sherpa::Client::FromEnvironment();
//   sherpa::StatusOr<sherpa::Trial> trial = client->get_trial();
//   std::string load_from = trial->parameters.at("load_from").as_string();
//   if (!load_from.empty()) Load(client->checkpoint_path(load_from));
//   for (int epoch = 1; epoch <= 5; ++epoch) {
//     double accuracy = TrainOneEpoch();
//     sherpa::StatusOr<bool> stop = client->send_metrics(*trial, epoch, accuracy);
//     if (stop.ok() && *stop) break;  // the study asks this trial to end
//   }
//   Save(client->checkpoint_path(trial->parameters.at("save_to").as_string()));
//
// A process the runner started ahead of its trial (OptimizeOptions::prestart)
// has SHERPA_TRIAL_FD instead of SHERPA_TRIAL_ID; get_trial() then blocks
// until the runner hands it a trial through that descriptor.
//
// One keep-alive connection with TCP_NODELAY per client, so a report costs
// one round trip. Not thread-safe: one client per thread.

#ifndef SHERPA_CLIENT_H_
#define SHERPA_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa {

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
  TrialId trial_id = 0;  // 0: not known yet; get_trial() reads it from trial_fd
  // A process started ahead of its trial: the descriptor the runner writes
  // the trial to (and then closes). -1: none.
  int trial_fd = -1;
  std::string output_dir;
  // How long to keep retrying while the server cannot be reached.
  std::chrono::milliseconds connect_retry_for{30000};
};

class Client {
 public:
  // Reads the SHERPA_* variables. FAILED_PRECONDITION naming the missing
  // variable when the program was not started by the runner.
  static StatusOr<Client> FromEnvironment();

  explicit Client(ClientOptions options);
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // This process's trial: its id and parameters (with PBT's load_from,
  // save_to, lineage and generation). A process started ahead of its trial
  // waits here until it gets one; UNAVAILABLE if the runner is gone.
  StatusOr<Trial> get_trial();

  // Reports the objective after `iteration`; returns once the report is
  // durable, with whether the study wants the trial to stop. Each report
  // carries an Idempotency-Key of its own; when the connection breaks
  // before the answer arrives, the report is resent with the same key, so
  // the runner records it exactly once.
  StatusOr<bool> send_metrics(const Trial& trial, int64_t iteration, double objective,
                              const Context& context = {});

  StatusOr<bool> should_stop(const Trial& trial);

  // Ends the trial at once (COMPLETED or FAILED) without waiting for the
  // process to exit.
  Status end_trial(const Trial& trial, TrialStatus status = TrialStatus::kCompleted);

  // `$SHERPA_OUTPUT_DIR/checkpoints/<name>`; creates the checkpoints folder.
  // `name` must be one plain file name (IsCheckpointName): for anything
  // else (empty, ".", "..", a "/", a NUL) this returns "", which no open
  // accepts, so no name can reach outside the checkpoints folder.
  std::string checkpoint_path(std::string_view name) const;

  // Whether `name` can name a checkpoint: one path component, not "." or
  // "..", without NUL. PBT's save_to and load_from (trial ids) always can.
  static bool IsCheckpointName(std::string_view name);

  const ClientOptions& options() const { return options_; }

 private:
  class Connection;
  StatusOr<Trial> AwaitTrial();
  ClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace sherpa

#endif  // SHERPA_CLIENT_H_
