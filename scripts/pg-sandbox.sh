#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters for the demo, the tests and the bench:
# two sources (srca, srcb) and one target (tgt), owned by the `postgres` OS
# user, listening on 127.0.0.1 and on a Unix socket in the sandbox folder.
#
#   scripts/pg-sandbox.sh start   # idempotent; prints the connection strings
#   scripts/pg-sandbox.sh stop    # stops the clusters and removes their data
#   scripts/pg-sandbox.sh env     # prints `export` lines for the connection strings
#   scripts/pg-sandbox.sh restart tgt  # restarts one cluster (tests of a server restart)
#   scripts/pg-sandbox.sh outage tgt 12  # crashes it (-m immediate), keeps it down 12 s, starts it
#
# PGHAUL_SANDBOX_VERSIONS="12 13 14 16 17 18" also starts one cluster per
# listed major (pg12 ... pg18, ports BASE+81..87 i.e. 55512-55518 by default;
# binaries from scripts/install-deps.sh, see scripts/pg-versions.sh), each
# with the same two logins as srca and tgt: `haul` (superuser, the source
# login) and `haul_admin` (CREATEDB only, the target login).
#
# srca and tgt require SCRAM passwords over TCP (so tests exercise real auth);
# the passwords live only in the sandbox's 0600 pgpass file. On tgt the
# `haul_admin` login is NOT a superuser: it has CREATEDB, as on a managed
# server. The `postgres` superuser connects over the Unix socket (peer/trust)
# for set-up only.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SANDBOX=${PGHAUL_SANDBOX_DIR:-/tmp/pghaul-sandbox}
BASE_PORT=${PGHAUL_SANDBOX_PORT:-55431}
. "$(dirname "$0")/pg-versions.sh"
CLUSTERS=(srca srcb tgt)
for v in ${PGHAUL_SANDBOX_VERSIONS:-}; do CLUSTERS+=("pg$v"); done
# fsync off keeps the test suite fast; the bench turns it on (PGHAUL_SANDBOX_FSYNC=on).
FSYNC=${PGHAUL_SANDBOX_FSYNC:-off}

port_of() {
    case "$1" in
        srca) echo $((BASE_PORT)) ;; srcb) echo $((BASE_PORT + 1)) ;; tgt) echo $((BASE_PORT + 2)) ;;
        pg*) echo $((BASE_PORT + 69 + ${1#pg})) ;;
    esac
}
# The bin directory a cluster runs from: Debian's 15 (or $PGBIN), or a pinned major.
bin_of() { case "$1" in pg*) pg_bin_of "${1#pg}" ;; *) echo "$PGBIN" ;; esac; }
# Every cluster in the sandbox folder, whether or not this call named it.
existing_clusters() {
    local d
    for d in "$SANDBOX"/*/PG_VERSION; do [ -f "$d" ] && basename "$(dirname "$d")"; done
    return 0
}
password_of() { echo "pw-$1-$(cat "$SANDBOX/secret")"; }

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

psql_super() { # cluster, sql...
    local c=$1; shift
    as_postgres /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$SANDBOX/sock" -p "$(port_of "$c")" -U postgres -d postgres "$@"
}

init_cluster() {
    local c=$1 dir=$SANDBOX/$1
    [ -f "$dir/PG_VERSION" ] && return 0
    local bin
    bin=$(bin_of "$c")
    [ -x "$bin/initdb" ] || { echo "pg-sandbox: $bin/initdb missing (run scripts/install-deps.sh)" >&2; return 1; }
    # --no-sync: a throwaway cluster need not wait for its files to reach disk.
    as_postgres "$bin/initdb" --no-sync -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$SANDBOX/$c-initdb.log" 2>&1
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $(port_of "$c")
unix_socket_directories = '$SANDBOX/sock'
fsync = $FSYNC
synchronous_commit = $([ "$FSYNC" = on ] && echo on || echo off)
full_page_writes = $FSYNC
max_connections = 60
max_wal_size = 4GB
shared_buffers = $(case "$c" in pg*) echo 64MB ;; *) echo 256MB ;; esac)
max_locks_per_transaction = 256
logging_collector = off
CONF
    # srcb trusts loopback (a source reached through .pgpass-less auth); the
    # others require passwords over TCP.
    if [ "$c" = srcb ]; then
        sed -i 's/^host\(.*\)scram-sha-256$/host\1trust/' "$dir/pg_hba.conf"
    fi
}

start() {
    mkdir -p "$SANDBOX"
    chmod 755 "$SANDBOX"
    chown postgres: "$SANDBOX" 2>/dev/null || true
    [ -f "$SANDBOX/secret" ] || { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SANDBOX/secret"; chmod 600 "$SANDBOX/secret"; }
    as_postgres mkdir -p "$SANDBOX/sock"
    for c in "${CLUSTERS[@]}"; do
        init_cluster "$c"
        if ! as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" status >/dev/null 2>&1; then
            as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" -l "$SANDBOX/$c.log" -w -t 60 start >/dev/null
        fi
    done
    local c
    # Logins: `haul` reads the sources, `haul_admin` loads the target (CREATEDB, not superuser).
    local versions=()
    for c in $(existing_clusters); do case "$c" in pg*) versions+=("$c") ;; esac; done
    for c in srca srcb "${versions[@]}"; do
        psql_super "$c" -c "DO \$\$BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'haul') THEN
                CREATE ROLE haul LOGIN SUPERUSER; END IF; END\$\$;" \
            -c "ALTER ROLE haul PASSWORD '$(password_of "$c")'"
    done
    for c in tgt "${versions[@]}"; do
        psql_super "$c" -c "DO \$\$BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'haul_admin') THEN
                CREATE ROLE haul_admin LOGIN CREATEDB; END IF; END\$\$;" \
            -c "ALTER ROLE haul_admin PASSWORD '$(password_of tgt)'"
    done
    {
        for c in srca srcb "${versions[@]}"; do echo "127.0.0.1:$(port_of "$c"):*:haul:$(password_of "$c")"; done
        for c in tgt "${versions[@]}"; do echo "127.0.0.1:$(port_of "$c"):*:haul_admin:$(password_of tgt)"; done
    } >"$SANDBOX/pgpass"
    chmod 600 "$SANDBOX/pgpass"
    env_lines
}

stop() {
    [ -d "$SANDBOX" ] || return 0
    for c in $(existing_clusters); do
        as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" -m immediate -w stop >/dev/null 2>&1 || true
    done
    rm -rf "$SANDBOX"
}

env_lines() {
    cat <<ENV
export PGPASSFILE=$SANDBOX/pgpass
export PGHAUL_SANDBOX_DIR=$SANDBOX
export PGHAUL_SRC_A='host=127.0.0.1 port=$(port_of srca) user=haul dbname=postgres'
export PGHAUL_SRC_B='host=127.0.0.1 port=$(port_of srcb) user=haul dbname=postgres'
export PGHAUL_TGT='host=127.0.0.1 port=$(port_of tgt) user=haul_admin dbname=postgres'
export PGHAUL_TGT_SUPER='host=$SANDBOX/sock port=$(port_of tgt) user=postgres dbname=postgres'
export PGHAUL_SRC_A_SUPER='host=$SANDBOX/sock port=$(port_of srca) user=postgres dbname=postgres'
export PGHAUL_SRC_B_SUPER='host=$SANDBOX/sock port=$(port_of srcb) user=postgres dbname=postgres'
ENV
    local c
    for c in $(existing_clusters); do
        case "$c" in pg*) ;; *) continue ;; esac
        local V=${c^^}
        cat <<ENV
export PGHAUL_${V}='host=127.0.0.1 port=$(port_of "$c") user=haul dbname=postgres'
export PGHAUL_${V}_ADMIN='host=127.0.0.1 port=$(port_of "$c") user=haul_admin dbname=postgres'
export PGHAUL_${V}_SUPER='host=$SANDBOX/sock port=$(port_of "$c") user=postgres dbname=postgres'
ENV
    done
}

# Restarts one cluster (fast shutdown: sessions are cut, as in a server
# restart during a run); the failure tests use it.
restart() {
    local c=${1:?usage: $0 restart srca|srcb|tgt}
    as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" -l "$SANDBOX/$c.log" -m fast -w -t 60 restart >/dev/null
}

# A crash and a reboot that takes a while: what a managed server's failover looks like.
outage() {
    local c=${1:?usage: $0 outage srca|srcb|tgt SECONDS} seconds=${2:?usage: $0 outage CLUSTER SECONDS}
    as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" -m immediate -w -t 60 stop >/dev/null
    sleep "$seconds"
    as_postgres "$(bin_of "$c")/pg_ctl" -D "$SANDBOX/$c" -l "$SANDBOX/$c.log" -w -t 60 start >/dev/null
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) restart "${2:-}" ;;
    outage) outage "${2:-}" "${3:-}" ;;
    env) [ -f "$SANDBOX/pgpass" ] || { echo "pg-sandbox: not started (run: $0 start)" >&2; exit 1; }; env_lines ;;
    *) echo "usage: $0 start|stop|env|restart CLUSTER|outage CLUSTER SECONDS" >&2; exit 2 ;;
esac
