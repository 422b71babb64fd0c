// Internal to the scheduler tests: whether the tests against real clusters
// must run. CI starts Slurm and Grid Engine (tools/clusters.sh) and sets
// SHERPA_REQUIRE_CLUSTERS=1, so an unreachable cluster fails there; on a
// developer machine without clusters those tests skip, saying how to run
// them.

#ifndef SHERPA_SCHEDULER_CLUSTER_TESTING_H_
#define SHERPA_SCHEDULER_CLUSTER_TESTING_H_

#include <cstdlib>
#include <string>

namespace sherpa::scheduler_internal {

inline bool ClustersRequired() {
  const char* value = std::getenv("SHERPA_REQUIRE_CLUSTERS");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

inline constexpr const char* kHowToStartClusters =
    "start the local test clusters with `sudo tools/clusters.sh start` (Debian 12, root; "
    "SHERPA_REQUIRE_CLUSTERS=1 turns this skip into a failure)";

}  // namespace sherpa::scheduler_internal

#endif  // SHERPA_SCHEDULER_CLUSTER_TESTING_H_
