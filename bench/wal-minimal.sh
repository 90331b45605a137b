#!/usr/bin/env bash
# Does the load skip WAL where it can? The same source database copied into a
# target running wal_level = replica and then wal_level = minimal, by pghaul
# and by pg_dump/pg_restore, counting the WAL the target wrote meanwhile.
#
#   bench/wal-minimal.sh [--size GB] [--jobs N] [--repeat N] [--methods LIST]
#                        [--levels replica,minimal] [--pghaul PATH]
#                        [--sandbox DIR] [--port N] [--keep-sandbox]
#
#   --size GB       dataset (bench/gen-dataset.sh) on the private source (default 0.5)
#   --jobs N        parallelism of pghaul and of dump_fd (default 2)
#   --repeat N      rounds; each round restarts the target once per level (default 1)
#   --methods LIST  subset of empty,pghaul,dump_fc,dump_fc_1tx,dump_fd (default all)
#   --levels LIST   wal_level values (default replica,minimal); even rounds take
#                   them in reverse order, so a drift of the machine hits both
#   --pghaul PATH   binary (default $PGHAUL_BIN, else build/release/cli/pghaul), copied
#                   into the work dir first so a rebuild cannot change it mid-run
#   --sandbox DIR, --port N  the private sandbox (default /tmp/pghaul-bench-wal, 55491);
#                   started with fsync on if not running, stopped at the end if started here
#   --keep-sandbox  leave it running (the dataset is reused next time)
#
# The target's level is set with ALTER SYSTEM (minimal also needs
# max_wal_senders = 0) and a restart of the private target cluster, and reset
# to replica at the end. Methods, each into its own new database as the
# target's non-superuser login:
#   empty        createdb --template=template0 only: the fixed WAL of a new database
#   pghaul       pghaul copy --jobs N --no-owner: per table BEGIN; TRUNCATE;
#                COPY ... FREEZE; COMMIT into tables its pre-data step created
#   dump_fc      createdb; pg_dump -Fc | pg_restore --no-owner (one pipe)
#   dump_fc_1tx  the same with pg_restore --single-transaction: every CREATE
#                TABLE and COPY in one transaction
#   dump_fd      pg_dump -Fd -j N -Z0 to a directory; createdb; pg_restore -j N
#                (a parallel restore wraps each COPY in TRUNCATE + COPY in one
#                transaction when it created the table itself)
# Before each method: its database is dropped, both servers CHECKPOINT, the OS
# syncs. WAL = pg_wal_lsn_diff(pg_current_wal_lsn() after, before) on the
# target, as superuser. Then a timed CHECKPOINT on the target (`ckpt s`):
# at replica the table files are still dirty in shared buffers and the page
# cache when the tool exits, at minimal the commits have already written and
# fsynced them, so wall + ckpt is the fair comparison of the I/O. The copy is
# verified (row and object counts; not for `empty`).
# Results: a table (medians over rounds) and bench/results/wal-minimal-<timestamp>.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BENCH_PROG="wal-minimal"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-private.sh
. "$HERE/lib-private.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

ALL_METHODS=(empty pghaul dump_fc dump_fc_1tx dump_fd)
SIZE=0.5
JOBS=2
REPEAT=1
METHODS_ARG=$(IFS=,; echo "${ALL_METHODS[*]}")
LEVELS_ARG=replica,minimal
PGHAUL_SRC_BIN=${PGHAUL_BIN:-$ROOT/build/release/cli/pghaul}
PRIV_DIR=/tmp/pghaul-bench-wal
PRIV_PORT=55491
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE=${2:?}; shift 2 ;;
        --jobs) JOBS=${2:?}; shift 2 ;;
        --repeat) REPEAT=${2:?}; shift 2 ;;
        --methods) METHODS_ARG=${2:?}; shift 2 ;;
        --levels) LEVELS_ARG=${2:?}; shift 2 ;;
        --pghaul) PGHAUL_SRC_BIN=${2:?}; shift 2 ;;
        --sandbox) PRIV_DIR=${2:?}; shift 2 ;;
        --port) PRIV_PORT=${2:?}; shift 2 ;;
        --keep-sandbox) PRIV_KEEP=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"
IFS=, read -r -a METHODS <<<"$METHODS_ARG"
IFS=, read -r -a LEVELS <<<"$LEVELS_ARG"
for m in "${METHODS[@]}"; do [[ " ${ALL_METHODS[*]} " == *" $m "* ]] || die "unknown method '$m'"; done
for l in "${LEVELS[@]}"; do [[ " replica minimal logical " == *" $l "* ]] || die "unknown wal_level '$l'"; done
if [[ " ${METHODS[*]} " == *" pghaul "* ]]; then
    [ -x "$PGHAUL_SRC_BIN" ] || die "pghaul binary not found at '$PGHAUL_SRC_BIN' (scripts/build.sh release, or --pghaul PATH)"
fi
require_tools psql pg_dump pg_restore createdb awk python3
require_gnu_time

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-wal.XXXXXX")
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$HERE/results
mkdir -p "$RESULTS_DIR"
TSV=$RESULTS_DIR/wal-minimal-$STAMP.tsv
PGHAUL=$WORK/pghaul
[ ! -x "$PGHAUL_SRC_BIN" ] || cp "$PGHAUL_SRC_BIN" "$PGHAUL"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# ---------------------------------------------------------------- wal_level
LEVEL_CHANGED=0
set_wal_level() { # level: ALTER SYSTEM, then restart the private target
    if [ "$1" = minimal ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$PGHAUL_TGT_SUPER" \
            -c "ALTER SYSTEM SET wal_level = minimal" -c "ALTER SYSTEM SET max_wal_senders = 0"
    else
        psql -X -q -v ON_ERROR_STOP=1 -d "$PGHAUL_TGT_SUPER" \
            -c "ALTER SYSTEM SET wal_level = $1" -c "ALTER SYSTEM RESET max_wal_senders"
    fi
    LEVEL_CHANGED=1
    as_postgres "$PGBIN/pg_ctl" -D "$PRIV_DIR/tgt" -l "$PRIV_DIR/tgt.log" -w -t 120 -m fast restart >/dev/null ||
        die "restarting the target failed (see $PRIV_DIR/tgt.log)"
    local got
    got=$(psql_val "$PGHAUL_TGT_SUPER" "SHOW wal_level")
    [ "$got" = "$1" ] || die "target wal_level is '$got' after the restart, wanted '$1'"
    log "target restarted with wal_level = $1 (wal_skip_threshold $(psql_val "$PGHAUL_TGT_SUPER" "SHOW wal_skip_threshold"))"
}

cleanup() {
    local rc=$?
    if [ -n "${PGHAUL_TGT_SUPER:-}" ]; then
        for m in "${METHODS[@]}"; do
            psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS bench_wal_$m WITH (FORCE)" >/dev/null 2>&1 || true
        done
        # A kept sandbox goes back to the default level.
        if [ "$LEVEL_CHANGED" = 1 ] && { [ "$PRIV_STARTED" = 0 ] || [ "$PRIV_KEEP" = 1 ]; }; then
            if psql -X -q -d "$PGHAUL_TGT_SUPER" -c "ALTER SYSTEM RESET wal_level" \
                -c "ALTER SYSTEM RESET max_wal_senders" >/dev/null 2>&1; then
                as_postgres "$PGBIN/pg_ctl" -D "$PRIV_DIR/tgt" -l "$PRIV_DIR/tgt.log" -w -t 120 -m fast restart >/dev/null 2>&1 || true
            fi
        fi
    fi
    priv_down
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- set-up
priv_up
priv_dataset benchsrc "$SIZE"
SRC_DB="$PGHAUL_SRC_A dbname=benchsrc"
SRC_BYTES=$(psql_val "$SRC_DB" "SELECT pg_database_size(current_database())")
TABLES=$(leaf_tables_values "$SRC_DB")
psql_val "$SRC_DB" "$(count_sql "$TABLES")" >"$WORK/src.counts"
psql_val "$SRC_DB" "$SCHEMA_SQL" >"$WORK/src.schema"
tgt_conn() { echo "$PGHAUL_TGT dbname=$1"; }

# ---------------------------------------------------------------- methods
createdb_target() { # key db
    timed "$1" createdb createdb --maintenance-db="$PGHAUL_TGT" --template=template0 "$2" >>"$LOG" 2>&1
}
run_method() { # method key db
    local m=$1 k=$2 db=$3
    case $m in
        empty) createdb_target "$k" "$db" ;;
        pghaul)
            timed "$k" pghaul "$PGHAUL" copy --source "$SRC_DB" --target "$(tgt_conn "$db")" --jobs "$JOBS" \
                --no-owner --progress none >>"$LOG" 2>&1
            ;;
        dump_fc | dump_fc_1tx)
            local one=()
            [ "$m" = dump_fc ] || one=(--single-transaction)
            createdb_target "$k" "$db" || return
            timed "$k" pg_dump pg_dump -Fc -d "$SRC_DB" 2>>"$LOG" |
                timed "$k" pg_restore pg_restore --no-owner "${one[@]}" -d "$(tgt_conn "$db")" >>"$LOG" 2>&1
            ;;
        dump_fd)
            local dir=$WORK/dump.dir rc=0
            rm -rf "$dir"
            timed "$k" pg_dump pg_dump -Fd -j "$JOBS" -Z0 -f "$dir" -d "$SRC_DB" >>"$LOG" 2>&1 || return
            createdb_target "$k" "$db" || return
            timed "$k" pg_restore pg_restore -j "$JOBS" --no-owner -d "$(tgt_conn "$db")" "$dir" >>"$LOG" 2>&1 || rc=$?
            rm -rf "$dir"
            return "$rc"
            ;;
    esac
}

printf 'timestamp\twal_level\tmethod\tround\tjobs\tresult\tverified\twall_s\twal_bytes\ttarget_db_bytes\twal_per_db_byte\tsource_bytes\tcheckpoints_during\tcheckpoint_after_s\n' >"$TSV"

run_one() { # level method round
    local lvl=$1 m=$2 r=$3 k="$1-$2-$3" db="bench_wal_$2" rc=0 t0 t1 lsn0 lsn1 ck0 ck1 wal wall dbb result verified=-
    LOG=$WORK/$k.log
    : >"$LOG"
    psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    settle "$PGHAUL_SRC_A_SUPER" "$PGHAUL_TGT_SUPER"
    ck0=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
    lsn0=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT pg_current_wal_lsn()")
    t0=$(now)
    run_method "$m" "$k" "$db" || rc=$?
    t1=$(now)
    lsn1=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT pg_current_wal_lsn()")
    ck1=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
    wal=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    local c0 ckpt
    c0=$(now)
    psql -X -q -d "$PGHAUL_TGT_SUPER" -c CHECKPOINT
    ckpt=$(awk -v a="$c0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
    dbb=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT coalesce(pg_database_size('$db'), 0) FROM (SELECT 1) x
        LEFT JOIN pg_database d ON d.datname = '$db'" 2>/dev/null || echo 0)
    if [ "$rc" != 0 ]; then
        result="FAILED: exit $rc"
    elif [ "$m" = empty ]; then
        result=OK
    elif verify_copy "$TABLES" "$WORK/src.counts" "$WORK/src.schema" "$PGHAUL_TGT_SUPER dbname=$db" \
        "$WORK/$k" 0 "$LOG" >"$WORK/$k.verify"; then
        result=OK verified=OK
    else
        result="FAILED: mismatch" verified=MISMATCH
        cat "$WORK/$k.verify"
    fi
    [ "$result" = OK ] || cp "$LOG" "$RESULTS_DIR/wal-minimal-$STAMP-$k.log"
    psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$STAMP" "$lvl" "$m" "$r" "$JOBS" "$result" "$verified" \
        "$wall" "$wal" "$dbb" "$(awk -v w="$wal" -v d="$dbb" 'BEGIN { if (d > 0) printf "%.3f", w / d; else print "-" }')" \
        "$SRC_BYTES" "$((ck1 - ck0))" "$ckpt" >>"$TSV"
    log "$lvl $m #$r: $result, wall $wall s + checkpoint $ckpt s, WAL $(awk -v w="$wal" 'BEGIN { printf "%.1f MB", w / 1e6 }'), database $(awk -v w="$dbb" 'BEGIN { printf "%.1f MB", w / 1e6 }')$([ "$((ck1 - ck0))" = 0 ] || echo ", $((ck1 - ck0)) checkpoint(s) during the copy")"
}

log "source benchsrc $(awk -v b="$SRC_BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }'), --jobs $JOBS, methods ${METHODS[*]}, levels ${LEVELS[*]} x $REPEAT; work dir $WORK"
for r in $(seq 1 "$REPEAT"); do
    order=("${LEVELS[@]}")
    if [ $((r % 2)) = 0 ]; then
        order=()
        for ((i = ${#LEVELS[@]} - 1; i >= 0; i--)); do order+=("${LEVELS[i]}"); done
    fi
    for lvl in "${order[@]}"; do
        set_wal_level "$lvl"
        for m in "${METHODS[@]}"; do run_one "$lvl" "$m" "$r"; done
    done
done

# ---------------------------------------------------------------- summary
python3 - "$TSV" "${LEVELS[0]}" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
base_level = sys.argv[2]
for r in rows:
    r["durable_s"] = str(float(r["wall_s"]) + float(r["checkpoint_after_s"]))
g = {}
for r in rows:
    g.setdefault((r["method"], r["wal_level"]), []).append(r)
def med(rs, k):
    v = [float(r[k]) for r in rs if r["result"] == "OK"]
    return statistics.median(v) if v else None
order = {"empty": 0, "pghaul": 1}
print()
print("medians over rounds; WAL = bytes the target wrote during the copy; ckpt = CHECKPOINT right after;")
print("ratios = this level / %s (WAL, wall, wall + ckpt)" % base_level)
fmt = "%-12s %-8s %2s %7s %6s %7s %8s %7s %7s %7s %7s %8s  %s"
print(fmt % ("method", "level", "n", "wall s", "ckpt s", "w+ck s", "WAL MB", "db MB", "WAL/db",
             "WAL x", "wall x", "w+ck x", "result"))
f = lambda v, s="%.1f": "-" if v is None else s % v
for (m, lvl), rs in sorted(g.items(), key=lambda kv: (order.get(kv[0][0], 2), kv[0][0], kv[0][1] != base_level)):
    w, ck, d, wal, db = (med(rs, k) for k in ("wall_s", "checkpoint_after_s", "durable_s", "wal_bytes", "target_db_bytes"))
    b = g.get((m, base_level))
    bw, bd, bwal = (med(b, "wall_s"), med(b, "durable_s"), med(b, "wal_bytes")) if b else (None, None, None)
    ok = sum(r["result"] == "OK" for r in rs)
    print(fmt % (m, lvl, len(rs), f(w, "%.2f"), f(ck, "%.2f"), f(d, "%.2f"),
                 f(wal / 1e6 if wal is not None else None), f(db / 1e6 if db is not None else None),
                 f(wal / db if wal is not None and db else None, "%.3f"),
                 f(wal / bwal if wal is not None and bwal else None, "%.3f"),
                 f(w / bw if w and bw else None, "%.2f"), f(d / bd if d and bd else None, "%.2f"),
                 "OK" if ok == len(rs) else "%d/%d failed" % (len(rs) - ok, len(rs))))
PY
echo "results: ${TSV#"$ROOT"/}"
failed=$(awk -F'\t' 'NR > 1 && $6 != "OK"' "$TSV" | wc -l)
[ "$failed" = 0 ] || exit 1
