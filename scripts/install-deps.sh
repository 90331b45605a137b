#!/usr/bin/env bash
# Installs every build, test and bench dependency from Debian packages, by name.
# Idempotent: apt-get skips what is already installed; the package index is
# refreshed only when it is missing or older than a day.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config ccache
    libpq-dev liburing-dev libzstd-dev libboost-dev
    libspdlog-dev libfmt-dev doctest-dev
    libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
    postgresql-15 postgresql-client-15 postgresql-contrib
    time procps help2man bash-completion
    pgcopydb  # only for bench/compare.sh: the peer pghaul is measured against
    chromium  # headless, for the HTML run report test
)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
stamp=/var/lib/apt/periodic/update-success-stamp
lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)
if [ -z "$lists" ]; then
    as_root apt-get update -qq
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
