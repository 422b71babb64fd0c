#!/usr/bin/env bash
# Enforces the one-way dependency rule of docs/design.md by reading #includes.
# Prints every violation and exits 1 if there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

# forbid <folder> <regex> <why>
forbid() {
  local hits
  # Tests may use anything: the rule is about what the libraries depend on.
  hits=$(grep -rnE --exclude='*_test.cc' "^#include [<\"]($2)" $1 2>/dev/null || true)
  if [ -n "$hits" ]; then
    echo "layering: $3"
    echo "$hits"
    status=1
  fi
}

THIRD_PARTY='nlohmann/|yaml-cpp/|httplib|sqlite|SQLiteCpp|CLI/|spdlog/|fmt/|torch/'
forbid include/sherpa "$THIRD_PARTY" "public headers use only sherpa and standard types"
forbid "src/core src/algorithms src/stopping" "$THIRD_PARTY" \
  "core, algorithms and stopping rules know nothing of JSON, YAML, HTTP, SQL or processes"
forbid src/core 'sherpa/spec\.h' "core does not depend on the spec module"
forbid src/dashboard 'httplib|sqlite|SQLiteCpp|yaml-cpp/' \
  "the dashboard reads the study through StudyStore and is served through server/dashboard_service.h"
forbid "src/algorithms src/stopping" 'sherpa/spec\.h|sherpa/study\.h' \
  "algorithms and stopping rules see only core types, not the study or spec parsing"
exit $status
