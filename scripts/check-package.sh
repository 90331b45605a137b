#!/usr/bin/env bash
# Builds the Debian package from a build folder and checks it as a clean
# machine would see it: unpacked into an empty root (dpkg -x), every shared
# library resolved, `pghaul --version` runs, dependencies declared, man pages,
# bash completion and copyright present, the binary stripped (symbols in
# pghaul-dbgsym), and lintian without errors or warnings.
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
# (Output taken whole before grep -q, which may stop reading early: under
# pipefail the writer's SIGPIPE would fail the check at random.)
version=$("$bin" --version) || fail "pghaul --version did not run"
grep -q '^pghaul ' <<<"$version" || fail "pghaul --version did not name pghaul: $version"
linked=$(ldd "$bin")
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libpq5 postgresql-client; do
    [[ $depends == *"$dep"* ]] || fail "Depends lacks $dep: $depends"
done
# Every library the binary links must be a declared dependency.
for lib in liburing:liburing2 libzstd:libzstd1; do
    if grep -q "${lib%%:*}\." <<<"$linked"; then
        [[ $depends == *"${lib#*:}"* ]] || fail "links ${lib%%:*} but Depends lacks ${lib#*:}: $depends"
    fi
done
for page in pghaul pghaul-copy pghaul-run pghaul-agent; do
    [ -s "$root/usr/share/man/man1/$page.1" ] || [ -s "$root/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page.1"
done
[ -s "$root/usr/share/bash-completion/completions/pghaul" ] || fail "no bash completion"
# Completion, as bash runs it: values of an option, and only the flags the
# subcommand accepts.
complete_words() { # words... (the last one is being completed)
    PATH=$root/usr/bin:$PATH bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _pghaul; printf "%s\n" "${COMPREPLY[@]}"' _ "$root/usr/share/bash-completion/completions/pghaul" "$@"
}
offers() { # word, then the words to complete: whether the completion offers that word
    local want=$1 got
    shift
    got=$(complete_words "$@")  # whole, before grep: pipefail and an early grep -q would race
    grep -qx -- "$want" <<<"$got"
}
offers counts pghaul copy --verify "" || fail "completion: no values for --verify"
offers plain pghaul copy --progress "" || fail "completion: no values for --progress"
# Values come from each command's --help (the settings' table): verify has no markdown.
offers owner pghaul run --missing-roles "" || fail "completion: no values for run --missing-roles"
offers markdown pghaul audit --format "" || fail "completion: audit --format lacks markdown"
offers markdown pghaul verify --format "" && fail "completion: verify --format offers audit's markdown"
offers --exclude-table pghaul copy --ex || fail "completion: copy lacks --exclude-table"
offers --only pghaul copy --on && fail "completion: copy offers run's --only"
offers --only pghaul run --on || fail "completion: run lacks --only"
[ -s "$root/usr/share/doc/pghaul/copyright" ] || fail "no copyright file"
# Stripped, with the debug symbols in the pghaul-dbgsym package beside it.
[[ $(file -L "$bin") == *"not stripped"* ]] && fail "usr/bin/pghaul is not stripped"
ls pghaul-dbgsym_*_amd64.ddeb >/dev/null 2>&1 || fail "no pghaul-dbgsym package"
# Debian's own checks, errors and warnings alike.
if ! found=$(lintian --fail-on error,warning "$deb" 2>&1); then
    echo "$found" | grep -v 'running with root privileges' >&2
    fail "lintian found problems in $deb (above)"
fi
echo "check-package: $deb OK (Depends: $depends)"
