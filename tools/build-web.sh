#!/usr/bin/env bash
# Builds the dashboard's front end (web/) into web/dist, which the C++ build
# embeds into the sherpa binary (cmake/EmbedFiles.cmake). Installs the pinned
# npm packages from web/package-lock.json first (npm ci: exactly the locked
# versions, nothing else). Needs Node.js >= 20 and the npm registry; the C++
# build itself never does. Run it before configuring or building, and again
# after changing web/src.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build-web: node and npm are needed (tools/install-deps.sh installs them)" >&2
  exit 1
fi
# node_modules is reused while it matches the lock file; npm ci otherwise.
stamp=node_modules/.sherpa-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
node build.mjs
echo "build-web: web/dist is ready; build sherpa to embed it"
