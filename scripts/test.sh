#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, builds
# (release, debug with ASan+UBSan, and ThreadSanitizer), starts the sandbox
# servers and runs the unit and integration tests against them: every case in
# release, the cases that exercise pghaul's own memory under ASan, the unit
# tests and the cases that drive the threads hardest under TSan (the lists
# are in tests/CMakeLists.txt). Fails if the servers cannot start: it never
# passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

# Besides the three 15 clusters, one server per other major for the
# cross-version cases (tests/integration/versions_test.cpp).
export PGHAUL_SANDBOX_VERSIONS=${PGHAUL_SANDBOX_VERSIONS-12 13 14 16 17 18}
scripts/install-deps.sh
scripts/pg-sandbox.sh start >/dev/null
eval "$(scripts/pg-sandbox.sh env)"

status=0
for preset in release debug-asan tsan; do
    echo "== $preset: build ($(date +%T))"
    scripts/build.sh "$preset"
    echo "== $preset: tests ($(date +%T))"
    # ASan: leaks are checked; libpq's one-time allocations are not ours.
    # TSan: the first race fails the test.
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --test-dir "build/$preset" --output-on-failure --timeout 1200 || status=1
done
echo "== done ($(date +%T))"
exit $status
