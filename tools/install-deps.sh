#!/usr/bin/env bash
# Installs every Debian package sherpa-cpp needs to build, test and run its
# examples. Safe to run again. Needs root (uses sudo when not root).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-format
  # the fuzzers (tools/fuzz.sh): clang and its libFuzzer/sanitizer runtimes
  clang libclang-rt-dev
  # libraries (see docs/design.md for which module uses which)
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev
  libsqlitecpp-dev libsqlite3-dev libspdlog-dev libfmt-dev
  # Gaussian processes of BayesianOptimization and PB2 (src/algorithms only)
  libeigen3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Python client tests run on Debian's python
  python3
  # examples/fashion_mnist and bench/quality: libtorch and Debian's PyTorch
  # (run with /usr/bin/python3), the data set as gzip'd IDX files, OpenBLAS
  # (libtorch only Recommends it; the reference BLAS trains ~6x slower),
  # zlib to read the .gz files; yaml and matplotlib for bench/quality's specs
  # and picture. dpkg -s below reinstalls them when a purge of something else
  # removed them.
  libtorch-dev python3-torch dataset-fashion-mnist libopenblas0-pthread
  zlib1g-dev python3-yaml python3-matplotlib
  # the dashboard's browser tests (web/tests) drive Debian's Chromium with
  # playwright-core; no browser is ever downloaded
  chromium
)

export DEBIAN_FRONTEND=noninteractive
# Other apt processes may hold the dpkg lock for a while on shared machines.
APT=(apt-get -o DPkg::Lock::Timeout=900 -q)
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  $SUDO "${APT[@]}" update
  $SUDO "${APT[@]}" install -y --no-install-recommends "${PACKAGES[@]}"
fi
# The dashboard's front end is built with Node.js and npm (tools/build-web.sh).
# Use the machine's own when there is one (it may be newer than Debian's).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO "${APT[@]}" update
  $SUDO "${APT[@]}" install -y --no-install-recommends nodejs npm
fi
echo "install-deps: all packages present"
