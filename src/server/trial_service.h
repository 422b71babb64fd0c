// What the HTTP server asks of the study it serves. The runner implements it;
// the server only translates HTTP to these calls and Statuses back to HTTP,
// so the study logic never sees a socket and the server never sees a Study.
#ifndef SHERPA_SERVER_TRIAL_SERVICE_H_
#define SHERPA_SERVER_TRIAL_SERVICE_H_

#include <optional>
#include <string>
#include <string_view>

#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::server {

// Who sent a request, as its token proves.
struct Principal {
  // Set for a trial's token: the one trial it may read and write.
  std::optional<TrialId> trial;
  // True for the study token: may read everything and stop trials.
  bool study = false;
};

class TrialService {
 public:
  virtual ~TrialService() = default;

  // nullopt for an unknown token.
  virtual std::optional<Principal> Authenticate(std::string_view token) = 0;

  // The trial as the study handed it out. NOT_FOUND if unknown.
  virtual StatusOr<Trial> GetTrial(TrialId id) = 0;

  // Records an observation and returns once it is durable, with whether the
  // trial should stop. Errors: NOT_FOUND, ALREADY_EXISTS (iteration
  // repeated), FAILED_PRECONDITION (trial ended), INVALID_ARGUMENT (NaN),
  // UNAVAILABLE (shutting down).
  //
  // `idempotency_key` (may be empty: no key) names this report for the
  // client that sent it. A report whose key the trial has used before is a
  // resend after a lost answer: it is not recorded again, and is answered
  // like the first copy once that copy is durable. A key reused for another
  // iteration is INVALID_ARGUMENT.
  virtual StatusOr<bool> Report(TrialId id, Observation observation,
                                std::string_view idempotency_key) = 0;

  virtual StatusOr<bool> ShouldStop(TrialId id) = 0;

  // The trial says it is done (COMPLETED or FAILED) before its process exits.
  virtual Status EndTrial(TrialId id, TrialStatus status) = 0;

  // A user asks for a running trial to stop (study token only).
  virtual Status RequestStop(TrialId id) = 0;

  // A JSON document describing the study (study token only).
  virtual StatusOr<std::string> StudySummaryJson() = 0;
};

}  // namespace sherpa::server

#endif  // SHERPA_SERVER_TRIAL_SERVICE_H_
