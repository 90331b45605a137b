#!/usr/bin/env bash
# Generate the benchmark source database on the sandbox source server (srca).
#
#   bench/gen-dataset.sh SCALE_GB [DBNAME]               # pgbench tables + bench_wide
#   bench/gen-dataset.sh --one-table SCALE_GB DBNAME     # bench_wide only
#
# The default dataset is ~60% pgbench (pgbench_accounts & co, narrow rows, PKs
# and FKs) and ~40% `bench_wide` (one row of every awkward type we stream:
# uuid, enum, numeric, timestamptz, text, jsonb, bytea, int[], with NULLs),
# so that both "many narrow rows" and "fewer wide rows" are exercised.
# --one-table makes a single big table, the case where a copier has to split
# one table across connections to use them all.
#
# Sizes are measured, not guessed: a small trial of each part is loaded into
# the new database first and its on-disk bytes per pgbench scale unit / per
# bench_wide row decide the final scale and row count.
#
# Environment (from `eval "$(scripts/pg-sandbox.sh env)"`, loaded here if unset):
#   PGHAUL_SRC_A        source conninfo used to fill the database (login `haul`)
#   PGHAUL_SRC_A_SUPER  superuser conninfo used to drop/create the database
#   GEN_CONNINFO        overrides PGHAUL_SRC_A: another server, e.g. "$PGHAUL_SRC_B"
#   GEN_SUPER_CONNINFO  overrides PGHAUL_SRC_A_SUPER (set both to use srcb)
#   GEN_WORKERS         parallel INSERT sessions for bench_wide (default: CPUs, max 4)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

usage() {
    sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "gen-dataset: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---------------------------------------------------------------- arguments
ONE_TABLE=0
if [ "${1:-}" = --one-table ]; then ONE_TABLE=1; shift; fi
[ $# -ge 1 ] || usage
SCALE_GB=$1
DB=${2:-benchsrc}
if [ "$ONE_TABLE" = 1 ] && [ $# -lt 2 ]; then usage; fi
[[ "$SCALE_GB" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SCALE_GB must be a positive number, got '$SCALE_GB'"
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || die "DBNAME must be a plain lower-case identifier, got '$DB'"
case "$DB" in postgres | template0 | template1) die "refusing to overwrite database '$DB'" ;; esac

if { [ -z "${GEN_CONNINFO:-}" ] && [ -z "${PGHAUL_SRC_A:-}" ]; } ||
    { [ -z "${GEN_SUPER_CONNINFO:-}" ] && [ -z "${PGHAUL_SRC_A_SUPER:-}" ]; }; then
    env_out=$("$ROOT/scripts/pg-sandbox.sh" env) ||
        die "sandbox not running and PGHAUL_SRC_A/PGHAUL_SRC_A_SUPER not set (run: scripts/pg-sandbox.sh start)"
    eval "$env_out"
fi
SRC_CONN=${GEN_CONNINFO:-$PGHAUL_SRC_A}
for tool in psql pgbench; do command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install postgresql-client)"; done

SRC="$SRC_CONN dbname=$DB"
# Keep the output readable: no "does not exist, skipping" notices.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
SRC_SUPER=${GEN_SUPER_CONNINFO:-$PGHAUL_SRC_A_SUPER}
WORKERS=${GEN_WORKERS:-$(nproc)}
[ "$WORKERS" -gt 4 ] && WORKERS=4
[ "$WORKERS" -lt 1 ] && WORKERS=1

# psql helpers: -X ignores ~/.psqlrc, ON_ERROR_STOP makes SQL errors fatal.
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" "$@"; }
q_val() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$SRC" -c "$1"; }
q_super() { psql -X -q -v ON_ERROR_STOP=1 -d "$SRC_SUPER" "$@"; }

# awk does the float arithmetic (bash has integers only).
calc() { awk "BEGIN { printf \"%.0f\", $1 }"; }
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } printf "%.1f %s", b, u[i] }'; }

# ---------------------------------------------------------------- bench_wide
# The table is created without indexes; PK and secondary indexes are built
# after the load (much faster than maintaining them row by row).
create_wide() {
    q <<'SQL'
DROP TABLE IF EXISTS bench_wide;
DROP TYPE IF EXISTS bench_kind;
CREATE TYPE bench_kind AS ENUM ('alpha', 'beta', 'gamma', 'delta', 'epsilon');
CREATE TABLE bench_wide (
    id         bigint NOT NULL,
    uid        uuid NOT NULL,
    kind       bench_kind NOT NULL,
    amount     numeric(14, 2),
    created_at timestamptz NOT NULL,
    note       text,
    payload    jsonb,
    blob       bytea,
    tags       int[]
);
SQL
}

# Rows [lo, hi]. Every value is a deterministic function of the row number
# (md5 for variety), so two runs produce identical databases. Every 10th/7th
# row has NULLs so that the NULL path of every copier is exercised.
fill_wide_range() {
    local lo=$1 hi=$2
    q -c "
INSERT INTO bench_wide
SELECT i,
       h::uuid,
       (enum_range(NULL::bench_kind))[1 + i % 5],
       CASE WHEN i % 10 = 0 THEN NULL ELSE ((i * 7919) % 100000000) / 100.0 END,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '17 seconds',
       rpad(h, 200, md5((i * 31)::text)),
       CASE WHEN i % 7 = 0 THEN NULL ELSE jsonb_build_object(
            'id', i, 'tag', 'k' || (i % 100), 'score', (i % 1000) / 10.0,
            'flags', jsonb_build_array(i % 2 = 0, i % 3 = 0), 'ref', h) END,
       CASE WHEN i % 10 = 3 THEN NULL ELSE decode(h || md5((i + 7)::text), 'hex') END,
       ARRAY[(i % 10)::int, (i % 100)::int, (i % 1000)::int, (i % 100000)::int]
FROM (SELECT i, md5(i::text) AS h FROM generate_series($lo::bigint, $hi::bigint) AS i) s"
}

# Load rows 1..N with $WORKERS concurrent sessions, each taking contiguous
# chunks, so generation uses all CPUs of the source server.
fill_wide() {
    local n=$1 chunk=1000000 w pids=()
    # Small loads: one chunk per worker is enough.
    if [ "$n" -lt $((chunk * WORKERS)) ]; then chunk=$(((n + WORKERS - 1) / WORKERS)); fi
    [ "$chunk" -ge 1 ] || chunk=1
    for ((w = 0; w < WORKERS; w++)); do
        (
            local lo
            for ((lo = 1 + w * chunk; lo <= n; lo += WORKERS * chunk)); do
                hi=$((lo + chunk - 1)); [ "$hi" -gt "$n" ] && hi=$n
                fill_wide_range "$lo" "$hi"
            done
        ) &
        pids+=($!)
    done
    local rc=0
    for w in "${pids[@]}"; do wait "$w" || rc=1; done
    [ "$rc" = 0 ] || die "bench_wide load failed"
}

index_wide() {
    q <<'SQL'
SET maintenance_work_mem = '512MB';
ALTER TABLE bench_wide ADD PRIMARY KEY (id);
CREATE INDEX bench_wide_uid_idx ON bench_wide (uid);
CREATE INDEX bench_wide_kind_created_idx ON bench_wide (kind, created_at);
VACUUM (ANALYZE) bench_wide;
SQL
}

wide_bytes() { q_val "SELECT pg_total_relation_size('bench_wide')"; }

# ---------------------------------------------------------------- pgbench
# -I dtgvpf: drop, create tables, generate client-side (COPY), vacuum,
# primary keys, foreign keys. --foreign-keys spelled out for clarity.
run_pgbench() {
    pgbench -i -I dtgvpf --foreign-keys -q -s "$1" "$SRC"
}

pgbench_bytes() {
    q_val "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'pgbench\_%'"
}

# ---------------------------------------------------------------- main
START=$(date +%s)
log "(re)creating database $DB on source ($(printf '%s' "$SRC_CONN" | sed 's/ dbname=[^ ]*//'))"
q_super -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
# Owned by the source login so that the objects look like an application's,
# not the bootstrap superuser's.
src_user=$(psql -X -At -d "$SRC_CONN" -c 'SELECT current_user')
q_super -c "CREATE DATABASE \"$DB\" OWNER \"$src_user\" TEMPLATE template0"
BASE=$(q_val "SELECT pg_database_size(current_database())")
TARGET=$(calc "$SCALE_GB * 1024 * 1024 * 1024")
if [ "$TARGET" -le "$((BASE * 2))" ]; then
    q_super -c "DROP DATABASE \"$DB\""
    die "SCALE_GB=$SCALE_GB is too small (an empty database is already $(human "$BASE"))"
fi
AVAIL=$((TARGET - BASE))

# Trials: measure bytes per unit in this very database, then throw them away.
TRIAL_ROWS=50000
log "trial: bench_wide with $TRIAL_ROWS rows"
create_wide
fill_wide "$TRIAL_ROWS"
index_wide
PER_ROW=$(calc "$(wide_bytes) / $TRIAL_ROWS")
log "  bench_wide: $PER_ROW bytes/row (heap + toast + 3 indexes)"

if [ "$ONE_TABLE" = 1 ]; then
    SCALE=0
    ROWS=$(calc "$AVAIL / $PER_ROW")
else
    log "trial: pgbench scale 1"
    trial_log=$(run_pgbench 1 2>&1) || { echo "$trial_log" >&2; die "pgbench -i (trial) failed"; }
    PER_SCALE=$(pgbench_bytes)
    log "  pgbench: $(human "$PER_SCALE") per scale unit"
    SCALE=$(calc "0.6 * $AVAIL / $PER_SCALE"); [ "$SCALE" -ge 1 ] || SCALE=1
    ROWS=$(calc "($AVAIL - $SCALE * $PER_SCALE) / $PER_ROW")
fi
[ "$ROWS" -ge 1000 ] || ROWS=1000
log "plan: target $(human "$TARGET"): pgbench scale $SCALE, bench_wide $ROWS rows, $WORKERS insert sessions"

# The real load. pgbench (client-side COPY) and the bench_wide INSERTs run
# side by side: they are independent and each alone leaves CPUs idle.
create_wide
T0=$(date +%s)
pgbench_pid=
if [ "$SCALE" -gt 0 ]; then
    run_pgbench "$SCALE" >"${TMPDIR:-/tmp}/gen-dataset-pgbench.$$.log" 2>&1 &
    pgbench_pid=$!
fi
fill_wide "$ROWS"
log "  bench_wide loaded in $(($(date +%s) - T0)) s; building indexes"
index_wide
log "  bench_wide done after $(($(date +%s) - T0)) s"
if [ -n "$pgbench_pid" ]; then
    if ! wait "$pgbench_pid"; then
        cat "${TMPDIR:-/tmp}/gen-dataset-pgbench.$$.log" >&2
        rm -f "${TMPDIR:-/tmp}/gen-dataset-pgbench.$$.log"
        die "pgbench -i failed"
    fi
    rm -f "${TMPDIR:-/tmp}/gen-dataset-pgbench.$$.log"
    log "  pgbench done after $(($(date +%s) - T0)) s"
fi
# Checkpoint so that the copies that follow don't pay for our dirty buffers.
q_super -c CHECKPOINT

SIZE=$(q_val "SELECT pg_database_size(current_database())")
log "tables:"
q -c "SELECT c.relname AS table, c.reltuples::bigint AS rows_est,
             pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'
      ORDER BY pg_total_relation_size(c.oid) DESC"
ELAPSED=$(($(date +%s) - START))
echo "database $DB: pg_database_size = $SIZE bytes ($(human "$SIZE")), target $(human "$TARGET"); generated in $ELAPSED s"
