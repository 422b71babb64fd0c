#!/usr/bin/env bash
# Installs every Debian package sherpa-cpp needs to build, test and run its
# examples. Safe to run again. Needs root (uses sudo when not root).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-format
  # libraries (see docs/design.md for which module uses which)
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev
  libsqlitecpp-dev libsqlite3-dev libspdlog-dev libfmt-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Python client tests run on Debian's python
  python3
)

export DEBIAN_FRONTEND=noninteractive
# Other apt processes may hold the dpkg lock for a while on shared machines.
APT=(apt-get -o DPkg::Lock::Timeout=900 -q)
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  $SUDO "${APT[@]}" update
  $SUDO "${APT[@]}" install -y --no-install-recommends "${PACKAGES[@]}"
fi
echo "install-deps: all packages present"
