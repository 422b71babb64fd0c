#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running example:
# installs the Debian packages, builds sherpa-cpp (release), runs the PBT
# paper's toy problem and then the main example, SHERPA's PBT workflow
# through the runner (examples/quickstart).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build-web.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHERPA_BUILD_TESTS=OFF
cmake --build build/release -j"$(nproc)"
echo
echo "== examples/toy_pbt: PBT against random search on the paper's toy problem =="
build/release/examples/toy_pbt

echo
echo "== examples/quickstart: SHERPA's PBT example through the runner (Python trials) =="
cd examples/quickstart
../../build/release/src/cli/sherpa run study.yaml --output-dir "output_$(date +%Y%m%d-%H%M%S)"
