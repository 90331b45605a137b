#!/usr/bin/env bash
# The headline benchmark of `pghaul run`: consolidate K source databases into
# one target server, once with ONE `pghaul run` and once the way teams do it
# today (a shell loop: pg_dump -Fc to a file, createdb, pg_restore, one
# source after another), on the same data in one run of this script.
#
#   bench/consolidate.sh [--jobs N] [--sizes 0.4,0.3,0.2,0.1] [--pghaul PATH] [--keep]
#
#   --jobs N      pghaul run's [run] jobs (default 2); the loop has no parallelism
#   --sizes LIST  one source per size, in GB of pg_database_size (default 0.4,0.3,0.2,0.1)
#   --pghaul PATH pghaul binary (default $PGHAUL_BIN, else build/release/cli/pghaul)
#   --keep        keep the last approach's target databases and the work dir (logs)
#
# Sources: cons_src_1..K, made by bench/gen-dataset.sh, alternately on srca
# (odd i) and srcb (even i). A source whose database comment records the
# requested size is reused as is, so reruns skip generation; the sources are
# never dropped by this script. Targets: cons_app_1..K on the target server.
#
# Approaches (each writes cons_app_1..K; all cons_app_* are dropped first,
# then every server runs CHECKPOINT and the OS syncs):
#   pghaul      pghaul run MANIFEST: [run] jobs = N, missing_roles = "owner"
#   sequential  for each source: pg_dump -Fc -f FILE; createdb --template=template0;
#               pg_restore --no-owner -d (no -j); rm FILE
#
# Each tool process runs under GNU time (peak RSS, user+sys CPU). After each
# approach every source's table row counts and object counts are compared
# with its target database; a difference fails the approach (exit 1).
# Results: tables on stdout and bench/results/consolidate-<timestamp>.tsv.
# Connections come from `scripts/pg-sandbox.sh env` unless already set:
#   PGHAUL_SRC_A, PGHAUL_SRC_B, PGHAUL_TGT (the logins the tools use)
#   PGHAUL_SRC_A_SUPER, PGHAUL_SRC_B_SUPER, PGHAUL_TGT_SUPER (superuser)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BENCH_PROG=consolidate
# shellcheck source=lib.sh
. "$HERE/lib.sh"
usage() { sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ---------------------------------------------------------------- arguments
JOBS=2
SIZES_ARG=0.4,0.3,0.2,0.1
PGHAUL=${PGHAUL_BIN:-$ROOT/build/release/cli/pghaul}
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
        --sizes) SIZES_ARG=${2:?--sizes needs a value}; shift 2 ;;
        --pghaul) PGHAUL=${2:?--pghaul needs a value}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
IFS=, read -r -a SIZES <<<"$SIZES_ARG"
K=${#SIZES[@]}
[ "$K" -ge 1 ] || die "--sizes needs at least one size"
for s in "${SIZES[@]}"; do
    [[ "$s" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--sizes: '$s' is not a size in GB"
done
APPROACHES=(pghaul sequential)

# ---------------------------------------------------------------- environment
load_sandbox_env PGHAUL_SRC_A PGHAUL_SRC_B PGHAUL_TGT PGHAUL_SRC_A_SUPER PGHAUL_SRC_B_SUPER
TGT_SUPER=${PGHAUL_TGT_SUPER:-}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
require_tools psql pg_dump pg_restore createdb awk
require_gnu_time
[ -x "$PGHAUL" ] || die "pghaul binary not found at '$PGHAUL' (build it: scripts/build.sh release, or pass --pghaul PATH)"

# Source i: name, server letter, login and superuser conninfo (odd i: srca, even i: srcb).
src_name() { echo "cons_src_$1"; }
tgt_name() { echo "cons_app_$1"; }
src_server() { if [ $(($1 % 2)) = 1 ]; then echo a; else echo b; fi; }
src_login() { if [ "$(src_server "$1")" = a ]; then echo "$PGHAUL_SRC_A"; else echo "$PGHAUL_SRC_B"; fi; }
src_super() { if [ "$(src_server "$1")" = a ]; then echo "$PGHAUL_SRC_A_SUPER"; else echo "$PGHAUL_SRC_B_SUPER"; fi; }
src_conn() { echo "$(src_login "$1") dbname=$(src_name "$1")"; }
tgt_conn() { echo "$PGHAUL_TGT dbname=$1"; }

# ---------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-consolidate.XXXXXX")
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$HERE/results
mkdir -p "$RESULTS_DIR"
TSV=$RESULTS_DIR/consolidate-$STAMP.tsv

# As superuser where we have one: WITH (FORCE) must be able to end the
# connections a failed tool may have left behind.
drop_targets() {
    local conn=${TGT_SUPER:-$PGHAUL_TGT} db
    for db in $(psql_val "$conn" "SELECT datname FROM pg_database WHERE datname LIKE 'cons\_app\_%'"); do
        psql -X -q -v ON_ERROR_STOP=1 -d "$conn" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
}

cleanup() {
    local rc=$?
    if [ "$KEEP" = 0 ]; then
        drop_targets 2>/dev/null || true
        rm -rf "$WORK"
    else
        echo "kept: target databases cons_app_1..$K (of the last approach), work dir $WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

settle_all() { settle "$PGHAUL_SRC_A_SUPER" "$PGHAUL_SRC_B_SUPER" "$TGT_SUPER"; }

# ---------------------------------------------------------------- sources
# The marker: a database comment naming the generator and the requested size,
# set only after gen-dataset.sh succeeded.
marker() { echo "pghaul bench consolidate: gen-dataset.sh $(awk -v s="$1" 'BEGIN { printf "%g", s }')"; }

ensure_source() { # i
    local i=$1 db want have
    db=$(src_name "$i")
    want=$(marker "${SIZES[$((i - 1))]}")
    have=$(psql_val "$(src_super "$i")" "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
    if [ "$have" = "$want" ]; then
        log "source $db on src$(src_server "$i"): reusing (${SIZES[$((i - 1))]} GB)"
        return 0
    fi
    log "source $db on src$(src_server "$i"): generating ${SIZES[$((i - 1))]} GB (log: $WORK/gen-$i.log)"
    if ! GEN_CONNINFO=$(src_login "$i") GEN_SUPER_CONNINFO=$(src_super "$i") \
        "$HERE/gen-dataset.sh" "${SIZES[$((i - 1))]}" "$db" >"$WORK/gen-$i.log" 2>&1; then
        tail -n 20 "$WORK/gen-$i.log" >&2
        die "gen-dataset.sh ${SIZES[$((i - 1))]} $db failed"
    fi
    tail -n 1 "$WORK/gen-$i.log" | sed 's/^/  /'
    psql -X -q -v ON_ERROR_STOP=1 -d "$(src_super "$i")" -c "COMMENT ON DATABASE \"$db\" IS '$want'"
}

for ((i = 1; i <= K; i++)); do ensure_source "$i"; done

declare -a SRC_BYTES
SRC_TOTAL=0
for ((i = 1; i <= K; i++)); do
    SRC_BYTES[i]=$(psql_val "$(src_conn "$i")" "SELECT pg_database_size(current_database())")
    SRC_TOTAL=$((SRC_TOTAL + SRC_BYTES[i]))
done
fsync_of() { psql_val "$1" "SHOW fsync"; }
SRC_FSYNC=$(fsync_of "$PGHAUL_SRC_A")
[ "$(fsync_of "$PGHAUL_SRC_B")" = "$SRC_FSYNC" ] || SRC_FSYNC=mixed
TGT_FSYNC=$(fsync_of "$PGHAUL_TGT")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
log "$K sources, $(mb "$SRC_TOTAL") MB in all, pghaul jobs $JOBS"
if [ "$TGT_FSYNC" != on ] || [ "$SRC_FSYNC" != on ]; then
    log "WARNING: fsync is off on a source or the target: numbers are not realistic (see bench/README.md)"
fi

# Counting every source row also reads every source once, so the page cache
# is equally warm for both approaches, the first one included.
log "counting source rows (also warms the cache)"
declare -a TABLES_VALUES
for ((i = 1; i <= K; i++)); do
    TABLES_VALUES[i]=$(leaf_tables_values "$(src_conn "$i")")
    [ -n "${TABLES_VALUES[$i]}" ] || die "source $(src_name "$i") has no tables"
    psql_val "$(src_conn "$i")" "$(count_sql "${TABLES_VALUES[$i]}")" >"$WORK/src-$i.counts"
    psql_val "$(src_conn "$i")" "$SCHEMA_SQL" >"$WORK/src-$i.schema"
done

# ---------------------------------------------------------------- pghaul run
toml_str() { # a TOML basic string
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

write_manifest() {
    local i
    {
        echo "[target]"
        echo "conninfo = $(toml_str "$PGHAUL_TGT")"
        echo
        echo "[run]"
        echo "jobs = $JOBS"
        echo "# the sources' objects belong to a role the target login cannot act as"
        echo "missing_roles = \"owner\""
        echo "report = $(toml_str "$WORK/pghaul-report.json")"
        for ((i = 1; i <= K; i++)); do
            echo
            echo "[[source]]"
            echo "name = $(toml_str "$(src_name "$i")")"
            echo "conninfo = $(toml_str "$(src_conn "$i")")"
            echo "target_db = $(toml_str "$(tgt_name "$i")")"
        done
    } >"$WORK/manifest.toml"
}

run_pghaul() {
    write_manifest
    # stdout: pghaul's per-source summary table; stderr: its log.
    timed pghaul run "$PGHAUL" run "$WORK/manifest.toml" >"$WORK/pghaul.out" 2>>"$LOG"
}

# ---------------------------------------------------------------- sequential loop
declare -a SEQ_DUMP_S SEQ_RESTORE_S SEQ_TOTAL_S SEQ_FILE_BYTES SEQ_RSS SEQ_CPU SEQ_RESULT

secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

run_sequential() {
    local i db tdb file t0 t1 rc
    for ((i = 1; i <= K; i++)); do
        db=$(src_name "$i"); tdb=$(tgt_name "$i"); file=$WORK/$db.dump
        echo "--- $db -> $tdb" >>"$LOG"
        SEQ_RESULT[i]=FAILED
        t0=$(now)
        rc=0
        timed "seq.$i" pg_dump pg_dump -Fc -f "$file" -d "$(src_conn "$i")" >>"$LOG" 2>&1 || rc=$?
        SEQ_DUMP_S[i]=$(secs_since "$t0")
        [ "$rc" = 0 ] || { echo "pg_dump $db: exit $rc" >>"$LOG"; return "$rc"; }
        SEQ_FILE_BYTES[i]=$(stat -c %s "$file")
        t1=$(now)
        timed "seq.$i" createdb createdb --maintenance-db="$PGHAUL_TGT" --template=template0 "$tdb" >>"$LOG" 2>&1 || rc=$?
        [ "$rc" = 0 ] || { echo "createdb $tdb: exit $rc" >>"$LOG"; return "$rc"; }
        timed "seq.$i" pg_restore pg_restore --no-owner -d "$(tgt_conn "$tdb")" "$file" >>"$LOG" 2>&1 || rc=$?
        SEQ_RESTORE_S[i]=$(secs_since "$t1")
        SEQ_TOTAL_S[i]=$(secs_since "$t0")
        rm -f "$file"
        read -r "SEQ_RSS[$i]" "SEQ_CPU[$i]" < <(collect_times "seq.$i")
        [ "$rc" = 0 ] || { echo "pg_restore $tdb: exit $rc" >>"$LOG"; return "$rc"; }
        SEQ_RESULT[i]=OK
    done
}

# ---------------------------------------------------------------- run both
declare -A WALL RSS CPU RESULT VERIFIED TGT_BYTES

for a in "${APPROACHES[@]}"; do
    LOG=$WORK/$a.log
    : >"$LOG"
    log "$a: preparing (drop cons_app_*, CHECKPOINT, sync)"
    drop_targets
    settle_all
    log "$a: running"
    rc=0
    t0=$(now)
    "run_$a" || rc=$?
    WALL[$a]=$(secs_since "$t0")
    case "$a" in
        pghaul) read -r "RSS[$a]" "CPU[$a]" < <(collect_times pghaul) ;;
        sequential) read -r "RSS[$a]" "CPU[$a]" < <(collect_times seq) ;;
    esac
    log "$a: exit $rc after ${WALL[$a]} s; verifying"
    RESULT[$a]=OK
    if [ "$rc" != 0 ]; then
        RESULT[$a]="FAILED: exit $rc"
        echo "  --- last lines of the $a log ---"; tail -n 20 "$LOG" | sed 's/^/  | /'
    fi
    VERIFIED[$a]=OK
    TGT_BYTES[$a]=0
    for ((i = 1; i <= K; i++)); do
        tdb=$(tgt_name "$i")
        if [ -z "$(psql_val "${TGT_SUPER:-$PGHAUL_TGT}" "SELECT 1 FROM pg_database WHERE datname = '$tdb'")" ]; then
            echo "  $(src_name "$i") -> $tdb: target database does not exist"
            VERIFIED[$a]=MISMATCH
            continue
        fi
        printf '  %s -> %s:\n' "$(src_name "$i")" "$tdb"
        verify_copy "${TABLES_VALUES[$i]}" "$WORK/src-$i.counts" "$WORK/src-$i.schema" "$(tgt_conn "$tdb")" \
            "$WORK/$a-$i" 0 "$LOG" | sed 's/^/  /' || VERIFIED[$a]=MISMATCH
        TGT_BYTES[$a]=$((TGT_BYTES[$a] + $(psql_val "$(tgt_conn "$tdb")" "SELECT pg_database_size(current_database())" 2>/dev/null || echo 0)))
    done
    [ "${VERIFIED[$a]}" = OK ] || [ "${RESULT[$a]}" != OK ] || RESULT[$a]="FAILED: mismatch"
    if [ "${RESULT[$a]}" != OK ]; then
        cp "$LOG" "$RESULTS_DIR/consolidate-$STAMP-$a.log"
        log "$a: ${RESULT[$a]} (log: bench/results/consolidate-$STAMP-$a.log)"
    fi
    if [ "$a" = pghaul ] && [ -s "$WORK/pghaul.out" ]; then
        echo "  pghaul's own summary:"; sed 's/^/  | /' "$WORK/pghaul.out"
    fi
    # Free the target's disk before the next approach (the last one's stay with --keep).
    if [ "$KEEP" = 0 ] || [ "$a" != "${APPROACHES[-1]}" ]; then drop_targets; fi
done

# ---------------------------------------------------------------- report
BASE_WALL=
[ "${RESULT[pghaul]}" = OK ] && BASE_WALL=${WALL[pghaul]}

# One row of figures, shared by the tables and the TSV.
figures() { # wall bytes rss_kib cpu ok -> wall ratio mb_s rss_mib cpu
    # A failed approach has no throughput and no ratio: its wall time is time-to-failure.
    awk -v w="$1" -v bytes="$2" -v rss="$3" -v cpu="$4" -v ok="$5" -v base="$BASE_WALL" 'BEGIN {
        ratio = (ok && base != "" && base > 0) ? sprintf("%.2f", w / base) : "-"
        mbs = (ok && w > 0) ? sprintf("%.1f", bytes / 1e6 / w) : "-"
        printf "%.2f %s %s %.1f %.2f\n", w, ratio, mbs, rss / 1024, cpu }'
}
approach_figures() { figures "${WALL[$1]}" "$SRC_TOTAL" "${RSS[$1]}" "${CPU[$1]}" "$([ "${RESULT[$1]}" = OK ] && echo 1 || echo 0)"; }

{
    printf 'timestamp\tapproach\tscope\tresult\twall_s\tratio_seq_vs_pghaul\tmb_per_s\tpeak_rss_mib\ttool_cpu_s\tverified\tjobs\tsources\tsizes_gb\tsource_bytes\ttarget_bytes\tdump_s\trestore_s\tdump_file_bytes\tsrc_fsync\ttgt_fsync\n'
    for a in "${APPROACHES[@]}"; do
        read -r w r mbs rss cpu < <(approach_figures "$a")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$STAMP" "$a" all \
            "${RESULT[$a]}" "$w" "$r" "$mbs" "$rss" "$cpu" "${VERIFIED[$a]}" "$JOBS" "$K" "$SIZES_ARG" "$SRC_TOTAL" \
            "${TGT_BYTES[$a]}" - - - "$SRC_FSYNC" "$TGT_FSYNC"
    done
    for ((i = 1; i <= K; i++)); do
        [ -n "${SEQ_TOTAL_S[$i]:-}" ] || continue
        read -r w r mbs rss cpu < <(figures "${SEQ_TOTAL_S[$i]}" "${SRC_BYTES[$i]}" "${SEQ_RSS[$i]}" "${SEQ_CPU[$i]}" \
            "$([ "${SEQ_RESULT[$i]}" = OK ] && echo 1 || echo 0)")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$STAMP" sequential \
            "$(src_name "$i")" "${SEQ_RESULT[$i]}" "$w" - "$mbs" "$rss" "$cpu" - 1 1 "${SIZES[$((i - 1))]}" \
            "${SRC_BYTES[$i]}" - "${SEQ_DUMP_S[$i]}" "${SEQ_RESTORE_S[$i]}" "${SEQ_FILE_BYTES[$i]:-}" "$SRC_FSYNC" "$TGT_FSYNC"
    done
} >"$TSV"

echo
printf '%s sources (%s GB; odd on srca, even on srcb), %s MB in all, pghaul jobs %s, fsync sources=%s target=%s\n' \
    "$K" "$SIZES_ARG" "$(mb "$SRC_TOTAL")" "$JOBS" "$SRC_FSYNC" "$TGT_FSYNC"
row() { printf '%-11s %9s %7s %8s %9s %8s %9s  %s\n' "$@"; }
row approach "wall s" ratio "MB/s" "RSS MiB" "CPU s" verified result
for a in "${APPROACHES[@]}"; do
    read -r w r mbs rss cpu < <(approach_figures "$a")
    row "$a" "$w" "$r" "$mbs" "$rss" "$cpu" "${VERIFIED[$a]}" "${RESULT[$a]}"
done
echo "ratio = wall / pghaul wall (sequential row: >1 means pghaul run is faster); MB/s = sum of source pg_database_size / wall"
echo
echo "sequential baseline, per source (pg_dump -Fc -f FILE; createdb; pg_restore --no-owner):"
srow() { printf '%-11s %6s %9s %8s %9s %10s %8s %8s %8s %7s  %s\n' "$@"; }
srow source server "size MB" "dump s" "file MB" "restore s" "total s" "MB/s" "RSS MiB" "CPU s" result
for ((i = 1; i <= K; i++)); do
    if [ -z "${SEQ_TOTAL_S[$i]:-}" ]; then
        srow "$(src_name "$i")" "src$(src_server "$i")" "$(mb "${SRC_BYTES[$i]}")" "${SEQ_DUMP_S[$i]:--}" - - - - - - "${SEQ_RESULT[$i]:-not run}"
        continue
    fi
    read -r w r mbs rss cpu < <(figures "${SEQ_TOTAL_S[$i]}" "${SRC_BYTES[$i]}" "${SEQ_RSS[$i]}" "${SEQ_CPU[$i]}" \
        "$([ "${SEQ_RESULT[$i]}" = OK ] && echo 1 || echo 0)")
    srow "$(src_name "$i")" "src$(src_server "$i")" "$(mb "${SRC_BYTES[$i]}")" "${SEQ_DUMP_S[$i]}" \
        "$(mb "${SEQ_FILE_BYTES[$i]:-0}")" "${SEQ_RESTORE_S[$i]}" "$w" "$mbs" "$rss" "$cpu" "${SEQ_RESULT[$i]}"
done
echo "restore s = createdb + pg_restore; total s = dump + restore (the loop's wall also has the shell's own overhead)"
echo "results: ${TSV#"$ROOT"/}"
echo "sources cons_src_1..$K stay on the source servers for reruns (drop them by hand when done)"

for a in "${APPROACHES[@]}"; do
    [ "${RESULT[$a]}" = OK ] || exit 1
done
