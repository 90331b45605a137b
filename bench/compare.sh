#!/usr/bin/env bash
# Time pghaul against pg_dump/pg_restore (and pgcopydb where installed) copying
# the same source database to the target server, in one run.
#
#   bench/compare.sh [--jobs N] [--db benchsrc] [--pghaul PATH]
#                    [--methods pghaul,dump_fc,dump_fd,pgcopydb] [--keep]
#                    [--floor] [--json FILE]
#
#   --jobs N      parallelism given to every method (default: number of CPUs)
#   --db NAME     source database (default benchsrc; make it with bench/gen-dataset.sh)
#   --pghaul PATH pghaul binary (default $PGHAUL_BIN, else build/release/cli/pghaul)
#   --methods     comma-separated subset, run in this order
#   --keep        keep the target databases and the work dir (logs) afterwards
#   --floor       also measure the servers' floor on the same data: binary COPY
#                 of every table out to /dev/null, COPY FROM pre-made binary
#                 files into a scratch copy of the schema, then the post-data
#                 (indexes, constraints) with psql; reported as row `floor`
#   --json FILE   also write the results as a JSON array (same fields as the TSV)
#
# Methods (each copies SOURCE db into its own target db `bench_<method>`):
#   pghaul    pghaul copy --jobs N --no-owner (creates the database itself)
#   dump_fc   createdb; pg_dump -Fc | pg_restore --no-owner   (one pipe, no -j possible)
#   dump_fd   pg_dump -Fd -j N -Z0 to a temp dir, then createdb; pg_restore -j N --no-owner
#   pgcopydb  createdb; pgcopydb clone --table-jobs N --index-jobs N --no-owner
#
# Before each method: its target database is dropped, both servers CHECKPOINT
# and the OS syncs, so no method pays for another's dirty pages. Each tool
# process runs under GNU time for peak RSS and user+sys CPU. After each
# method the row count of every source table is compared with the target's,
# and the index/constraint/sequence counts too; any difference fails the method.
#
# Server CPU: user+sys of both servers' postmaster process trees (live
# processes plus the postmasters' reaped children), before/after each method;
# needs the servers on this machine and /proc readable, else `-`.
#
# Results: a table on stdout and bench/results/<timestamp>.tsv.
# Connections come from `scripts/pg-sandbox.sh env` unless already set:
#   PGHAUL_SRC_A, PGHAUL_TGT (the logins the tools use; TGT is not superuser)
#   PGHAUL_SRC_A_SUPER, PGHAUL_TGT_SUPER (superuser: CHECKPOINT, DROP DATABASE)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
ALL_METHODS=(pghaul dump_fc dump_fd pgcopydb)
BENCH_PROG=compare
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() { sed -n '2,39p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ---------------------------------------------------------------- arguments
JOBS=$(nproc)
DB=benchsrc
PGHAUL=${PGHAUL_BIN:-$ROOT/build/release/cli/pghaul}
METHODS_ARG=$(IFS=,; echo "${ALL_METHODS[*]}")
KEEP=0
FLOOR=0
JSON=
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
        --db) DB=${2:?--db needs a value}; shift 2 ;;
        --pghaul) PGHAUL=${2:?--pghaul needs a value}; shift 2 ;;
        --methods) METHODS_ARG=${2:?--methods needs a value}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --floor) FLOOR=1; shift ;;
        --json) JSON=${2:?--json needs a file}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
IFS=, read -r -a METHODS <<<"$METHODS_ARG"
for m in "${METHODS[@]}"; do
    [[ " ${ALL_METHODS[*]} " == *" $m "* ]] || die "unknown method '$m' (known: ${ALL_METHODS[*]})"
done
has_method() { [[ " ${METHODS[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------- environment
load_sandbox_env PGHAUL_SRC_A PGHAUL_TGT
SRC_SUPER=${PGHAUL_SRC_A_SUPER:-}
TGT_SUPER=${PGHAUL_TGT_SUPER:-}
SRC_DB="$PGHAUL_SRC_A dbname=$DB"
tgt_conn() { echo "$PGHAUL_TGT dbname=$1"; }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

require_tools psql pg_dump pg_restore createdb awk
[ -z "$JSON" ] || require_tools python3
[ "$FLOOR" = 0 ] || require_tools xargs
require_gnu_time

if has_method pghaul && [ ! -x "$PGHAUL" ]; then
    die "pghaul binary not found at '$PGHAUL'.
  Build it first (see scripts/demo.sh), e.g.:
      cmake --preset release && cmake --build --preset release
  or pass --pghaul PATH / set PGHAUL_BIN, or leave pghaul out: --methods dump_fc,dump_fd"
fi

psql_val "$PGHAUL_SRC_A" "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
    die "source database '$DB' does not exist; make it with: bench/gen-dataset.sh 1 $DB"

# Server CPU: both postmasters' process trees, read from /proc before and
# after each method (and each floor step). Source and target on one server
# count once.
SRC_PM=$(postmaster_pid "${SRC_SUPER:-$PGHAUL_SRC_A}")
TGT_PM=$(postmaster_pid "${TGT_SUPER:-$PGHAUL_TGT}")
if [ -z "$SRC_PM" ] || [ -z "$TGT_PM" ] || ! command -v python3 >/dev/null; then
    echo "compare: note: no server CPU (needs both servers on this machine, superuser conninfos, /proc and python3)" >&2
    SRC_PM='' TGT_PM=''
fi
server_ticks() { # -> "src_ticks tgt_ticks"
    if [ -n "$SRC_PM" ] && [ "$SRC_PM" = "$TGT_PM" ]; then
        echo "$(tree_cpu_ticks "$SRC_PM") 0"
    else
        tree_cpu_ticks "${SRC_PM:--}" "${TGT_PM:--}"
    fi
}
declare -A SCPU SCPU_SRC SCPU_TGT
# Record the server CPU seconds of KEY from two server_ticks readings.
scpu_record() { # key "src0 tgt0" "src1 tgt1"
    local s0 t0 s1 t1
    read -r s0 t0 <<<"$2"; read -r s1 t1 <<<"$3"
    SCPU_SRC[$1]=$(ticks_diff_s "$s0" "$s1")
    SCPU_TGT[$1]=$(ticks_diff_s "$t0" "$t1")
    SCPU[$1]=$(awk -v a="${SCPU_SRC[$1]}" -v b="${SCPU_TGT[$1]}" \
        'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f\n", a + b }')
}

# ---------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-bench.XXXXXX")
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$HERE/results
mkdir -p "$RESULTS_DIR"
TSV=$RESULTS_DIR/$STAMP.tsv

drop_target_db() {
    # As superuser where we have one: WITH (FORCE) must be able to end the
    # connections a failed tool may have left behind.
    psql -X -q -v ON_ERROR_STOP=1 -d "${TGT_SUPER:-$PGHAUL_TGT}" \
        -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}

cleanup() {
    local rc=$?
    if [ "$KEEP" = 0 ]; then
        for m in "${METHODS[@]}"; do drop_target_db "bench_$m" 2>/dev/null || true; done
        [ "$FLOOR" = 0 ] || drop_target_db bench_floor 2>/dev/null || true
        rm -rf "$WORK"
    else
        echo "kept: target databases bench_<method>$([ "$FLOOR" = 0 ] || echo ", bench_floor"), work dir $WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- measuring
# timed / collect_times / settle come from lib.sh; each method's GNU time
# files are $WORK/<method>.<part>.time.

# ---------------------------------------------------------------- the methods
# Each returns the tools' exit status; output goes to $LOG.

run_pghaul() { # tgtdb
    # --no-owner like pg_restore/pgcopydb below: the source's owner roles need
    # not exist on the target, and the target login is not a superuser.
    timed pghaul copy "$PGHAUL" copy --source "$SRC_DB" --target "$(tgt_conn "$1")" \
        --jobs "$JOBS" --no-owner >>"$LOG" 2>&1
}

createdb_target() { # method tgtdb: plain empty database, as the non-superuser target login
    timed "$1" createdb createdb --maintenance-db="$PGHAUL_TGT" --template=template0 "$2" >>"$LOG" 2>&1
}

run_dump_fc() { # tgtdb
    createdb_target dump_fc "$1" || return
    # One pipe: pg_restore cannot run -j when reading from stdin.
    if timed dump_fc pg_dump pg_dump -Fc -d "$SRC_DB" 2>>"$LOG" |
        timed dump_fc pg_restore pg_restore --no-owner -d "$(tgt_conn "$1")" >>"$LOG" 2>&1; then
        return 0
    else
        echo "pipe exit statuses (pg_dump pg_restore): ${PIPESTATUS[*]}" >>"$LOG"
        return 1
    fi
}

run_dump_fd() { # tgtdb
    local dir=$WORK/dump_fd.dir
    timed dump_fd pg_dump pg_dump -Fd -j "$JOBS" -Z0 -f "$dir" -d "$SRC_DB" >>"$LOG" 2>&1 || return
    du -sb "$dir" | awk '{ printf "dump directory: %d bytes\n", $1 }' >>"$LOG"
    createdb_target dump_fd "$1" || return
    local rc=0
    timed dump_fd pg_restore pg_restore -j "$JOBS" --no-owner -d "$(tgt_conn "$1")" "$dir" >>"$LOG" 2>&1 || rc=$?
    rm -rf "$dir"
    return "$rc"
}

# pgcopydb wants postgres:// URIs. Convert a simple key=value conninfo (no
# quoted values); the password stays in the pgpass file.
conninfo_to_uri() {
    awk '{
        host = ""; port = ""; user = ""; db = ""; q = ""
        for (i = 1; i <= NF; i++) {
            k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v)
            if (k == "host") host = v; else if (k == "port") port = v
            else if (k == "user") user = v; else if (k == "dbname") db = v
            else q = q (q == "" ? "?" : "&") k "=" v
        }
        if (substr(host, 1, 1) == "/") { q = q (q == "" ? "?" : "&") "host=" host; host = "" }
        printf "postgres://%s%s%s%s/%s%s\n", user, (user != "" ? "@" : ""), host, (port != "" ? ":" port : ""), db, q
    }' <<<"$1"
}

run_pgcopydb() { # tgtdb
    createdb_target pgcopydb "$1" || return
    timed pgcopydb clone pgcopydb clone \
        --source "$(conninfo_to_uri "$SRC_DB")" --target "$(conninfo_to_uri "$(tgt_conn "$1")")" \
        --dir "$WORK/pgcopydb.dir" --table-jobs "$JOBS" --index-jobs "$JOBS" --no-owner >>"$LOG" 2>&1
}

# ---------------------------------------------------------------- verification
# count_sql, SCHEMA_SQL and verify_copy come from lib.sh.
TABLES_VALUES=$(leaf_tables_values "$SRC_DB")
[ -n "$TABLES_VALUES" ] || die "source database '$DB' has no tables"

verify() { # method tgtdb -> prints report; returns 1 on mismatch
    local show_ok=0
    [ "$NTABLES" -le 20 ] && show_ok=1
    verify_copy "$TABLES_VALUES" "$WORK/source.counts" "$WORK/source.schema" "$(tgt_conn "$2")" \
        "$WORK/$1" "$show_ok" "$LOG"
}

# ---------------------------------------------------------------- run
declare -A WALL RSS CPU RESULT VERIFIED TGT_BYTES

SRC_BYTES=$(psql_val "$SRC_DB" "SELECT pg_database_size(current_database())")
TGT_FSYNC=$(psql_val "$PGHAUL_TGT" "SHOW fsync")
SRC_FSYNC=$(psql_val "$PGHAUL_SRC_A" "SHOW fsync")
log "source $DB: $(awk -v b="$SRC_BYTES" 'BEGIN { printf "%.1f MiB", b / 1048576 }'), jobs $JOBS, methods ${METHODS[*]}"
if [ "$TGT_FSYNC" != on ] || [ "$SRC_FSYNC" != on ]; then
    log "WARNING: fsync is off on source or target: numbers are not realistic (see bench/README.md)"
fi

# Counting every source row also reads the whole source once, so the page
# cache is equally warm for every method, the first one included.
log "counting source rows (also warms the cache)"
psql_val "$SRC_DB" "$(count_sql "$TABLES_VALUES")" >"$WORK/source.counts"
psql_val "$SRC_DB" "$SCHEMA_SQL" >"$WORK/source.schema"
NTABLES=$(wc -l <"$WORK/source.counts")

for m in "${METHODS[@]}"; do
    tgtdb=bench_$m
    LOG=$WORK/$m.log
    : >"$LOG"
    if [ "$m" = pgcopydb ] && ! command -v pgcopydb >/dev/null; then
        log "$m: SKIPPED (pgcopydb not on PATH; Debian: apt-get install pgcopydb)"
        RESULT[$m]="SKIPPED: not installed"
        continue
    fi
    log "$m: preparing (drop $tgtdb, CHECKPOINT, sync)"
    drop_target_db "$tgtdb"
    settle "$SRC_SUPER" "$TGT_SUPER"
    log "$m: running"
    rc=0
    c0=$(server_ticks)
    t0=$(now)
    "run_$m" "$tgtdb" || rc=$?
    t1=$(now)
    scpu_record "$m" "$c0" "$(server_ticks)"
    WALL[$m]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    read -r "RSS[$m]" "CPU[$m]" < <(collect_times "$m")
    log "$m: exit $rc after ${WALL[$m]} s; verifying"
    if [ "$rc" != 0 ]; then
        RESULT[$m]="FAILED: exit $rc"
        echo "  --- last lines of the $m log ---"; tail -n 20 "$LOG" | sed 's/^/  | /'
    fi
    if [ -z "$(psql_val "${TGT_SUPER:-$PGHAUL_TGT}" "SELECT 1 FROM pg_database WHERE datname = '$tgtdb'")" ]; then
        echo "  target database $tgtdb does not exist"
        VERIFIED[$m]="no db"
        [ "$rc" = 0 ] && RESULT[$m]="FAILED: no target db"
    elif verify "$m" "$tgtdb"; then
        VERIFIED[$m]=OK
        [ "$rc" = 0 ] && RESULT[$m]=OK
    else
        VERIFIED[$m]=MISMATCH
        [ "$rc" = 0 ] && RESULT[$m]="FAILED: mismatch"
    fi
    TGT_BYTES[$m]=$(psql_val "$(tgt_conn "$tgtdb")" "SELECT pg_database_size(current_database())" 2>/dev/null || echo 0)
    if [ "${RESULT[$m]}" != OK ]; then
        cp "$LOG" "$RESULTS_DIR/$STAMP-$m.log"
        log "$m: ${RESULT[$m]} (log: bench/results/$STAMP-$m.log)"
    fi
    # Free the target's disk before the next method (unless asked to keep).
    [ "$KEEP" = 1 ] || drop_target_db "$tgtdb"
done

# ---------------------------------------------------------------- floor (--floor)
# What the two servers need at least for this data, with no copier in
# between: (a) every table COPY TO STDOUT (FORMAT binary) into /dev/null,
# (b) COPY FROM pre-made binary files (TRUNCATE + FREEZE in one transaction,
# as pghaul loads) into a scratch database bench_floor made from the source's
# pre-data schema, (c) the post-data section (indexes, constraints, FKs)
# through one psql. (a) and (b) run $JOBS tables at a time, largest first.
# The files are written, untimed, before (a) and deleted after (b).
# shellcheck disable=SC2016  # the bash -c script expands its own arguments
floor_copy() { # mode: null | file | in
    local i=0 t
    while IFS= read -r t; do
        printf '%s\0%s\0' "$t" "$FLOOR_DIR/$i.bin"
        i=$((i + 1))
    done <"$FLOOR_DIR/tables" |
        FLOOR_MODE=$1 FLOOR_SRC=$SRC_DB FLOOR_TGT=$(tgt_conn bench_floor) xargs -0 -n 2 -P "$JOBS" bash -c '
        q="psql -X -q -v ON_ERROR_STOP=1"
        case $FLOOR_MODE in
            null) $q -d "$FLOOR_SRC" -c "COPY $1 TO STDOUT (FORMAT binary)" >/dev/null ;;
            file) $q -d "$FLOOR_SRC" -c "COPY $1 TO STDOUT (FORMAT binary)" >"$2" ;;
            in) $q -1 -d "$FLOOR_TGT" -c "TRUNCATE $1" -c "COPY $1 FROM STDIN (FORMAT binary, FREEZE)" <"$2" ;;
        esac' floor_copy >>"$LOG" 2>&1
}

# Time one floor step: FLOOR_WALL[step] and server CPU under floor_<step>.
declare -A FLOOR_WALL
floor_step() { # step cmd...
    local step=$1 c0 t0 rc=0
    shift
    c0=$(server_ticks)
    t0=$(now)
    "$@" || rc=$?
    FLOOR_WALL[$step]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
    scpu_record "floor_$step" "$c0" "$(server_ticks)"
    log "floor: $step ${FLOOR_WALL[$step]} s (exit $rc)"
    return "$rc"
}

floor_post_data() {
    pg_dump --section=post-data --no-owner --no-privileges -d "$SRC_DB" 2>>"$LOG" |
        psql -X -q -v ON_ERROR_STOP=1 -d "$(tgt_conn bench_floor)" >>"$LOG" 2>&1
}

run_floor() {
    FLOOR_DIR=$WORK/floor.d
    mkdir -p "$FLOOR_DIR"
    psql_val "$SRC_DB" "
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp)'
    ORDER BY pg_total_relation_size(c.oid) DESC" >"$FLOOR_DIR/tables"
    log "floor: scratch database bench_floor from the pre-data schema; writing binary files"
    drop_target_db bench_floor
    createdb --maintenance-db="$PGHAUL_TGT" --template=template0 bench_floor >>"$LOG" 2>&1 || return
    # No ON_ERROR_STOP: a statement the target login may not run (COMMENT ON
    # EXTENSION, ...) is logged; verification catches anything that matters.
    pg_dump --section=pre-data --no-owner --no-privileges -d "$SRC_DB" 2>>"$LOG" |
        psql -X -q -d "$(tgt_conn bench_floor)" >>"$LOG" 2>&1 || return
    floor_copy file || return
    du -sb "$FLOOR_DIR" | awk '{ printf "floor binary files: %d bytes\n", $1 }' >>"$LOG"
    settle "$SRC_SUPER" "$TGT_SUPER"
    local rc=0
    floor_step out floor_copy null || rc=$?
    floor_step in floor_copy in || rc=$?
    rm -rf "$FLOOR_DIR"
    floor_step indexes floor_post_data || rc=$?
    return "$rc"
}

if [ "$FLOOR" = 1 ]; then
    m=floor
    LOG=$WORK/floor.log
    : >"$LOG"
    rc=0
    run_floor || rc=$?
    WALL[floor]=$(awk -v a="${FLOOR_WALL[out]:-0}" -v b="${FLOOR_WALL[in]:-0}" -v c="${FLOOR_WALL[indexes]:-0}" \
        'BEGIN { printf "%.2f", a + b + c }')
    sum_or_dash() { awk 'BEGIN { s = 0; for (i = 1; i < ARGC; i++) { if (ARGV[i] == "-") { print "-"; exit } s += ARGV[i] } printf "%.2f\n", s }' "$@"; }
    SCPU[floor]=$(sum_or_dash "${SCPU[floor_out]:--}" "${SCPU[floor_in]:--}" "${SCPU[floor_indexes]:--}")
    SCPU_SRC[floor]=$(sum_or_dash "${SCPU_SRC[floor_out]:--}" "${SCPU_SRC[floor_in]:--}" "${SCPU_SRC[floor_indexes]:--}")
    SCPU_TGT[floor]=$(sum_or_dash "${SCPU_TGT[floor_out]:--}" "${SCPU_TGT[floor_in]:--}" "${SCPU_TGT[floor_indexes]:--}")
    if [ "$rc" != 0 ]; then
        RESULT[floor]="FAILED: exit $rc"
        echo "  --- last lines of the floor log ---"; tail -n 20 "$LOG" | sed 's/^/  | /'
    elif verify floor bench_floor; then
        VERIFIED[floor]=OK RESULT[floor]=OK
    else
        VERIFIED[floor]=MISMATCH RESULT[floor]="FAILED: mismatch"
    fi
    VERIFIED[floor]=${VERIFIED[floor]:--}
    TGT_BYTES[floor]=$(psql_val "$(tgt_conn bench_floor)" "SELECT pg_database_size(current_database())" 2>/dev/null || echo 0)
    if [ "${RESULT[floor]}" != OK ]; then
        cp "$LOG" "$RESULTS_DIR/$STAMP-floor.log"
        log "floor: ${RESULT[floor]} (log: bench/results/$STAMP-floor.log)"
    fi
    [ "$KEEP" = 1 ] || drop_target_db bench_floor
fi

# ---------------------------------------------------------------- report
BASE_WALL=
[ "${RESULT[pghaul]:-}" = OK ] && BASE_WALL=${WALL[pghaul]}
FLOOR_BASE=
[ "${RESULT[floor]:-}" = OK ] && FLOOR_BASE=${WALL[floor]}
ROWS=("${METHODS[@]}")
[ "$FLOOR" = 0 ] || ROWS+=(floor)

# One row of figures per method, shared by the table and the TSV.
figures() { # method -> wall ratio mb_s rss_mib cpu server_cpu src_cpu tgt_cpu ratio_floor out in indexes
    local m=$1
    if [ -z "${WALL[$m]:-}" ]; then echo "- - - - - - - - - - - -"; return; fi
    # A failed copy has no throughput and no ratio: its wall time is time-to-failure.
    # The floor row has no tool process: no RSS or tool CPU.
    awk -v w="${WALL[$m]}" -v base="$BASE_WALL" -v bytes="$SRC_BYTES" -v rss="${RSS[$m]:--}" -v cpu="${CPU[$m]:--}" \
        -v ok="$([ "${RESULT[$m]}" = OK ] && echo 1 || echo 0)" -v fbase="$FLOOR_BASE" \
        -v scpu="${SCPU[$m]:--}" -v ssrc="${SCPU_SRC[$m]:--}" -v stgt="${SCPU_TGT[$m]:--}" \
        -v fout="${FLOOR_WALL[out]:--}" -v fin="${FLOOR_WALL[in]:--}" -v fidx="${FLOOR_WALL[indexes]:--}" \
        -v isfloor="$([ "$m" = floor ] && echo 1 || echo 0)" 'BEGIN {
        ratio = (ok && base != "" && base > 0) ? sprintf("%.2f", w / base) : "-"
        rfloor = (ok && fbase != "" && fbase > 0) ? sprintf("%.2f", w / fbase) : "-"
        mbs = (ok && w > 0) ? sprintf("%.1f", bytes / 1e6 / w) : "-"
        rss = (rss == "-") ? "-" : sprintf("%.1f", rss / 1024)
        cpu = (cpu == "-") ? "-" : sprintf("%.2f", cpu)
        if (!isfloor) { fout = "-"; fin = "-"; fidx = "-" }
        printf "%.2f %s %s %s %s %s %s %s %s %s %s %s\n", w, ratio, mbs, rss, cpu, scpu, ssrc, stgt, rfloor, fout, fin, fidx }'
}

{
    printf 'timestamp\tmethod\tresult\twall_s\tratio_vs_pghaul\tmb_per_s\tpeak_rss_mib\ttool_cpu_s\tverified\tjobs\tsource_db\tsource_bytes\ttarget_bytes\tsrc_fsync\ttgt_fsync'
    printf '\tserver_cpu_s\tsrc_server_cpu_s\ttgt_server_cpu_s\tratio_vs_floor\tfloor_out_s\tfloor_in_s\tfloor_indexes_s\n'
    for m in "${ROWS[@]}"; do
        read -r w r mbs rss cpu scpu ssrc stgt rf fo fin fx < <(figures "$m")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$STAMP" "$m" "${RESULT[$m]}" \
            "$w" "$r" "$mbs" "$rss" "$cpu" "${VERIFIED[$m]:--}" "$JOBS" "$DB" "$SRC_BYTES" "${TGT_BYTES[$m]:-0}" "$SRC_FSYNC" "$TGT_FSYNC"
        printf '\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scpu" "$ssrc" "$stgt" "$rf" "$fo" "$fin" "$fx"
    done
} >"$TSV"

# The same rows as JSON: numbers where the TSV has numbers, null for `-`.
if [ -n "$JSON" ]; then
    python3 - "$TSV" "$JSON" <<'PY'
import csv, json, sys
def value(k, v):
    if v == "-" or v == "":
        return None
    if k in ("timestamp", "method", "result", "verified", "source_db", "src_fsync", "tgt_fsync"):
        return v
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v
with open(sys.argv[1], newline="") as f:
    rows = [{k: value(k, v) for k, v in r.items()} for r in csv.DictReader(f, delimiter="\t")]
with open(sys.argv[2], "w") as f:
    json.dump(rows, f, indent=2)
    f.write("\n")
PY
fi

echo
printf 'source %s, %.1f MB, --jobs %s, fsync source=%s target=%s\n' "$DB" "$(awk -v b="$SRC_BYTES" 'BEGIN { print b / 1e6 }')" "$JOBS" "$SRC_FSYNC" "$TGT_FSYNC"
row() { printf '%-9s %9s %8s %9s %10s %10s %13s %9s  %s\n' "$@"; }
row method "wall s" ratio "MB/s" "RSS MiB" "CPU s" "server CPU s" verified result
for m in "${ROWS[@]}"; do
    read -r w r mbs rss cpu scpu _ < <(figures "$m")
    row "$m" "$w" "$r" "$mbs" "$rss" "$cpu" "$scpu" "${VERIFIED[$m]:--}" "${RESULT[$m]}"
done
echo "ratio = method wall / pghaul wall (>1: pghaul is faster); MB/s = source pg_database_size / wall"
echo "CPU s = the tools' own CPU; server CPU s = both servers' CPU (user+sys of the postmaster trees)"
if [ "$FLOOR" = 1 ]; then
    ncpu=$(nproc)
    awk -v w="${WALL[floor]}" -v o="${FLOOR_WALL[out]:--}" -v i="${FLOOR_WALL[in]:--}" -v x="${FLOOR_WALL[indexes]:--}" \
        -v s="${SCPU[floor]:--}" -v n="$ncpu" -v res="${RESULT[floor]}" 'BEGIN {
        printf "floor: wall %s s (out %s + in %s + indexes %s)", w, o, i, x
        if (s != "-") printf ", server CPU %s s = %.2f s on each of %d cores", s, s / n, n
        if (res != "OK") printf " [%s]", res
        printf "\n" }'
    for m in "${METHODS[@]}"; do
        read -r w _ _ _ _ _ _ _ rf _ < <(figures "$m")
        [ "$rf" = - ] || echo "  $m wall / floor wall = $rf"
    done
fi
echo "results: ${TSV#"$ROOT"/}${JSON:+, $JSON}"

# Exit status tells scripts whether every method that ran succeeded.
for m in "${ROWS[@]}"; do
    case "${RESULT[$m]}" in OK | SKIPPED*) ;; *) exit 1 ;; esac
done
