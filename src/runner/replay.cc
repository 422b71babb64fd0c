#include "runner/replay.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace sherpa::runner {

using storage::EventKind;
using storage::StoredEvent;

StatusOr<ReplayOutcome> Replay(const std::vector<StoredEvent>& events, Study& study) {
  ReplayOutcome outcome;
  outcome.events = events.size();

  // Which trials never ended, and the attempt each finished trial ended in.
  std::set<TrialId> open;
  std::map<TrialId, int> final_attempt;
  std::map<TrialId, std::vector<std::string>> jobs;  // of the attempts since the last end
  for (const StoredEvent& e : events) {
    switch (e.kind) {
      case EventKind::kTrialCreated:
      case EventKind::kTrialReopened:
        open.insert(e.trial_id);
        break;
      case EventKind::kTrialEnded:
        open.erase(e.trial_id);
        jobs.erase(e.trial_id);  // an ended attempt's job was seen to end
        break;
      case EventKind::kTrialStarted:
      case EventKind::kTrialRestarted:
        final_attempt[e.trial_id] = e.attempt;
        outcome.attempts[e.trial_id] = e.attempt;
        if (!e.job_id.empty()) jobs[e.trial_id].push_back(e.job_id);
        break;
      case EventKind::kObservation:
        break;
    }
  }

  for (const StoredEvent& e : events) {
    const std::string where = "replaying event " + std::to_string(e.seq) + " (" +
                              storage::EventKindName(e.kind) + ", trial " +
                              std::to_string(e.trial_id) + ")";
    switch (e.kind) {
      case EventKind::kTrialCreated: {
        StatusOr<Suggestion> s = study.get_suggestion();
        if (!s.ok()) return s.status().WithContext(where);
        if (!s->is_trial() || s->trial().id != e.trial_id || !e.trial ||
            s->trial().parameters != e.trial->parameters) {
          return FailedPreconditionError(
              where +
              ": the algorithm now suggests something else than the recorded trial; "
              "was the study spec or its seed changed since the study started?");
        }
        break;
      }
      case EventKind::kTrialReopened: {
        const TrialRecord* record = study.results().Find(e.trial_id);
        if (!record) return InternalError(where + ": unknown trial");
        SHERPA_RETURN_IF_ERROR(study.add_trial(record->trial()).WithContext(where));
        // The runner hands a reopened trial out at once (it is first in the
        // queue), so popping it here keeps the same order.
        StatusOr<Suggestion> s = study.get_suggestion();
        if (!s.ok()) return s.status().WithContext(where);
        ++outcome.resubmits[e.trial_id];
        break;
      }
      case EventKind::kObservation: {
        if (open.count(e.trial_id) || !e.observation) break;
        auto attempt = final_attempt.find(e.trial_id);
        if (attempt != final_attempt.end() && e.attempt != attempt->second) break;
        const TrialRecord* record = study.results().Find(e.trial_id);
        if (!record) return InternalError(where + ": unknown trial");
        SHERPA_RETURN_IF_ERROR(study
                                   .add_observation(record->trial(), e.observation->iteration,
                                                    e.observation->objective,
                                                    e.observation->context)
                                   .WithContext(where));
        break;
      }
      case EventKind::kTrialEnded: {
        const TrialRecord* record = study.results().Find(e.trial_id);
        if (!record) return InternalError(where + ": unknown trial");
        SHERPA_RETURN_IF_ERROR(study.finalize(record->trial(), e.status).WithContext(where));
        break;
      }
      case EventKind::kTrialStarted:
      case EventKind::kTrialRestarted:
        break;
    }
  }

  for (TrialId id : open) {
    outcome.unfinished.push_back(study.results().Find(id)->trial());
    auto started = jobs.find(id);
    if (started == jobs.end()) continue;
    outcome.left_over_jobs.insert(outcome.left_over_jobs.end(), started->second.begin(),
                                  started->second.end());
  }
  return outcome;
}

}  // namespace sherpa::runner
