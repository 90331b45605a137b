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

ctest_preset() {
    # ASan: leaks are checked; libpq's one-time allocations are not ours.
    # TSan: the first race fails the test.
    echo "== $1: tests ($(date +%T))"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --test-dir "build/$1" --output-on-failure --timeout 1200
}

status=0
echo "== release: build ($(date +%T))"
scripts/build.sh release
# The release tests mostly wait on the servers, leaving a core idle: the two
# sanitizer builds take that idle time at nice 19 (they yield the CPU to the
# tests) instead of running after them. Each build leaves a mark when done,
# so ASan's tests start while TSan still builds.
mkdir -p build
log=build/sanitizer-builds.log
rm -f build/*.built
(for preset in debug-asan tsan; do
    echo "== $preset: build ($(date +%T))"
    nice -n 19 scripts/build.sh "$preset" || exit 1
    touch "build/$preset.built"
done) >"$log" 2>&1 &
builds=$!
trap 'kill "$builds" 2>/dev/null || true' EXIT
ctest_preset release || status=1
for preset in debug-asan tsan; do
    echo "== $preset: waiting for its build ($(date +%T))"
    while [ ! -e "build/$preset.built" ] && kill -0 "$builds" 2>/dev/null; do sleep 2; done
    if [ ! -e "build/$preset.built" ]; then
        tail -n 60 "$log"
        echo "the $preset build failed (its whole output: $log)"
        status=1
        break
    fi
    ctest_preset "$preset" || status=1
done
grep '^== ' "$log"
echo "== done ($(date +%T))"
exit $status
