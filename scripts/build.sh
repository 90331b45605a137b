#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Used by the demo,
# the test command and the bench.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -- -j"$(nproc)"
