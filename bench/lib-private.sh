# shellcheck shell=bash
# Helpers for the bench scripts that disturb the target server (spill.sh
# throttles or stops its processes, wal-minimal.sh restarts it): they run on
# a private sandbox of their own, never on the shared one the tests use.
# Source after lib.sh, with ROOT set:
#
#   PRIV_DIR=/tmp/pghaul-bench-x PRIV_PORT=55481; . "$HERE/lib-private.sh"
#   priv_up            # start it (fsync on) unless running; loads its conninfos
#   priv_dataset DB GB # gen-dataset.sh GB DB unless DB was made so before
#   priv_down          # stop (and delete) it if priv_up started it, unless PRIV_KEEP=1
#
# Nothing runs at source time.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PRIV_STARTED=0
PRIV_KEEP=${PRIV_KEEP:-0}

priv_sandbox() { # pg-sandbox.sh command, on the private sandbox
    PGHAUL_SANDBOX_DIR=$PRIV_DIR PGHAUL_SANDBOX_PORT=$PRIV_PORT PGHAUL_SANDBOX_FSYNC=on \
        "$ROOT/scripts/pg-sandbox.sh" "$@"
}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

priv_up() {
    local dir=${PRIV_DIR%/}
    # The shared sandbox (tests, compare.sh) must never be throttled or restarted.
    if [ "$dir" = /tmp/pghaul-sandbox ] || [ "$PRIV_PORT" = 55431 ]; then
        die "refusing the shared sandbox (/tmp/pghaul-sandbox, port 55431): pass --sandbox DIR --port N"
    fi
    [ -n "$dir" ] || die "--sandbox needs a directory"
    if ! [ -f "$dir/tgt/postmaster.pid" ]; then PRIV_STARTED=1; fi
    priv_sandbox start >/dev/null || die "cannot start the private sandbox $dir (ports $PRIV_PORT-$((PRIV_PORT + 2)))"
    eval "$(priv_sandbox env)"
    # Only the private sandbox's superuser conninfos count from here on.
    local s
    for s in "$PGHAUL_SRC_A_SUPER" "$PGHAUL_TGT_SUPER"; do
        [ "$(psql_val "$s" "SHOW fsync")" = on ] ||
            die "the sandbox $dir was made with fsync = off; stop it (PGHAUL_SANDBOX_DIR=$dir PGHAUL_SANDBOX_PORT=$PRIV_PORT scripts/pg-sandbox.sh stop) and rerun"
    done
    log "private sandbox $dir: source port $PRIV_PORT, target port $((PRIV_PORT + 2)), fsync on$([ "$PRIV_STARTED" = 1 ] && echo ", started now")"
}

priv_down() {
    if [ "$PRIV_STARTED" = 1 ] && [ "$PRIV_KEEP" = 0 ]; then
        priv_sandbox stop >/dev/null 2>&1 || true
    elif [ -n "${PRIV_DIR:-}" ] && [ -d "$PRIV_DIR" ]; then
        echo "private sandbox left running: PGHAUL_SANDBOX_DIR=$PRIV_DIR PGHAUL_SANDBOX_PORT=$PRIV_PORT scripts/pg-sandbox.sh stop"
    fi
}

# The target (or source) cluster's postmaster PID, from its data directory.
priv_postmaster() { # tgt|srca
    head -n 1 "$PRIV_DIR/$1/postmaster.pid"
}

# Generate DB at GB on the private source unless an earlier run of these
# scripts made it at that size (recorded in the database comment).
priv_dataset() { # db gb
    local db=$1 gb=$2 mark="pghaul bench: gen-dataset.sh $2"
    local have
    have=$(psql_val "$PGHAUL_SRC_A_SUPER" "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
    if [ "$have" = "$mark" ]; then
        log "dataset $db: reusing ($mark)"
        return 0
    fi
    log "dataset $db: generating $gb GB"
    "$ROOT/bench/gen-dataset.sh" "$gb" "$db" >"$WORK/gen-$db.log" 2>&1 ||
        { tail -n 20 "$WORK/gen-$db.log" >&2; die "gen-dataset.sh $gb $db failed"; }
    psql_val "$PGHAUL_SRC_A_SUPER" "COMMENT ON DATABASE $db IS '$mark'" >/dev/null
}
