#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, builds
# (release, and debug with ASan+UBSan), starts the sandbox servers and runs the
# unit and integration tests against them. Fails if the servers cannot start:
# it never passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

# Besides the three 15 clusters, one server per other major for the
# cross-version cases (tests/integration/versions_test.cpp).
export PGHAUL_SANDBOX_VERSIONS=${PGHAUL_SANDBOX_VERSIONS-12 13 14 16 17 18}
scripts/install-deps.sh
scripts/pg-sandbox.sh start >/dev/null
eval "$(scripts/pg-sandbox.sh env)"

status=0
for preset in release debug-asan; do
    echo "== $preset: build"
    scripts/build.sh "$preset"
    echo "== $preset: tests"
    # ASan: leaks are checked; libpq's one-time allocations are not ours.
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "build/$preset" --output-on-failure --timeout 1200 || status=1
done
exit $status
