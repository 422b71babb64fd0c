#include "sherpa/scheduler.h"

namespace sherpa {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "QUEUED";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kCompleted:
      return "COMPLETED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kKilled:
      return "KILLED";
  }
  return "UNKNOWN";
}

}  // namespace sherpa
