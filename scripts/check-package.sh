#!/usr/bin/env bash
# Builds the Debian package from a build folder and checks it as a clean
# machine would see it: unpacked into an empty root (dpkg -x), every shared
# library resolved, `pghaul --version` runs, dependencies declared, man pages
# and bash completion present.
set -euo pipefail
build=${1:?usage: check-package.sh BUILD_DIR}
cd "$build"
cpack -G DEB >/dev/null
deb=$(ls -t pghaul_*_amd64.deb | head -1)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
fail() { echo "check-package: $*" >&2; exit 1; }
bin=$root/usr/bin/pghaul
[ -x "$bin" ] || fail "no usr/bin/pghaul in $deb"
missing=$(ldd "$bin" | grep 'not found' || true)
[ -z "$missing" ] || fail "unresolved libraries: $missing"
"$bin" --version | grep -q '^pghaul ' || fail "pghaul --version did not run"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libpq5 postgresql-client; do
    [[ $depends == *"$dep"* ]] || fail "Depends lacks $dep: $depends"
done
# Every library the binary links must be a declared dependency.
for lib in liburing:liburing2 libzstd:libzstd1; do
    if ldd "$bin" | grep -q "${lib%%:*}\."; then
        [[ $depends == *"${lib#*:}"* ]] || fail "links ${lib%%:*} but Depends lacks ${lib#*:}: $depends"
    fi
done
for page in pghaul pghaul-copy pghaul-run; do
    [ -s "$root/usr/share/man/man1/$page.1" ] || [ -s "$root/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page.1"
done
[ -s "$root/usr/share/bash-completion/completions/pghaul" ] || fail "no bash completion"
echo "check-package: $deb OK (Depends: $depends)"
