#!/usr/bin/env bash
# One consolidation as one `pghaul run` against the same manifest split into
# N shards run side by side (issue 17), on the fleet bench's databases: what
# sharding costs on one machine (the split's size reads, N maintenance
# connections, N processes contending for the same two cores), so that what
# N hosts would give can be worked out from it. Every copy is checked: each
# target database's row count equals its source's.
#
#   bench/shards.sh [--k 40] [--shards "1 2 4"] [--repeat 3] [--jobs 4] [--cap N] [--pghaul PATH]
#
#   --k N        the fleet's first N databases (fleet_app_1..N; odd on srca, even on srcb)
#   --shards L   shard counts to run, one round each (1: a plain `pghaul run`)
#   --repeat N   runs per shard count, interleaved; medians are printed
#   --jobs N     [run] jobs, per process
#   --cap N      [target] max_connections (default none)
#
# Needs the fleet bench's sandbox with its databases, left running by
# `bench/fleet.sh --k 40 --cases fleet --keep-sandbox` (/tmp/pghaul-bench-fleet).
set -euo pipefail
cd "$(dirname "$0")/.."

K=40 SHARDS="1 2 4" REPEAT=3 JOBS=4 CAP=0 PGHAUL=${PGHAUL_BIN:-build/release/cli/pghaul}
while [ $# -gt 0 ]; do
    case $1 in
        --k) K=$2; shift 2 ;;
        --shards) SHARDS=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --cap) CAP=$2; shift 2 ;;
        --pghaul) PGHAUL=$2; shift 2 ;;
        *) echo "bench/shards.sh: unknown argument $1 (see the header)" >&2; exit 2 ;;
    esac
done
SANDBOX=/tmp/pghaul-bench-fleet
[ -f "$SANDBOX/pgpass" ] || { echo "bench/shards.sh: no fleet sandbox in $SANDBOX: run bench/fleet.sh --k $K --cases fleet --keep-sandbox first" >&2; exit 2; }
eval "$(PGHAUL_SANDBOX_DIR=$SANDBOX PGHAUL_SANDBOX_PORT=55491 scripts/pg-sandbox.sh env)"
WORK=$(mktemp -d /tmp/pghaul-shards.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp "$PGHAUL" "$WORK/pghaul"

src_of() { if (( $1 % 2 )); then echo "$PGHAUL_SRC_A"; else echo "$PGHAUL_SRC_B"; fi; }
super_of() { if (( $1 % 2 )); then echo "$PGHAUL_SRC_A_SUPER"; else echo "$PGHAUL_SRC_B_SUPER"; fi; }
with_db() { echo "$1" | sed "s/dbname=[^ ]*/dbname=$2/"; }
for ((i = 1; i <= K; i++)); do
    psql -XAtq "$(with_db "$(super_of "$i")" "fleet_app_$i")" -c 'SELECT 1' >/dev/null 2>&1 ||
        { echo "bench/shards.sh: fleet_app_$i is missing: run bench/fleet.sh --k $K --cases fleet --keep-sandbox first" >&2; exit 2; }
done
{
    echo "[target]"; echo "conninfo = \"$PGHAUL_TGT\""
    [ "$CAP" -gt 0 ] && echo "max_connections = $CAP"
    echo "[run]"; echo "jobs = $JOBS"; echo 'missing_roles = "owner"'
    for ((i = 1; i <= K; i++)); do
        echo "[[source]]"; echo "name = \"s$i\""; echo "conninfo = \"$(with_db "$(src_of "$i")" "fleet_app_$i")\""
        echo "target_db = \"shard_tgt_$i\""
    done
} >"$WORK/fleet.toml"

# Every user table's exact row count, summed, in one statement per database.
ROWS_SQL="SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true, '')))[1]::text::bigint), 0) FROM pg_stat_user_tables"
declare -A SRC_ROWS
for ((i = 1; i <= K; i++)); do SRC_ROWS[$i]=$(psql -XAtq "$(with_db "$(super_of "$i")" "fleet_app_$i")" -c "$ROWS_SQL"); done
drop_targets() {
    for ((i = 1; i <= K; i++)); do echo "DROP DATABASE IF EXISTS shard_tgt_$i;"; done | psql -XAtq "$PGHAUL_TGT_SUPER" >/dev/null 2>&1
}
verify() {
    local i
    for ((i = 1; i <= K; i++)); do
        [ "$(psql -XAtq "$(with_db "$PGHAUL_TGT_SUPER" "shard_tgt_$i")" -c "$ROWS_SQL" 2>/dev/null)" = "${SRC_ROWS[$i]}" ] || { echo "MISMATCH shard_tgt_$i"; return 1; }
    done
    echo OK
}
# The target's pghaul sessions, sampled every 100 ms while a round runs.
sample() {
    local most=0 n
    while [ -e "$WORK/sampling" ]; do
        n=$(psql -XAtq "$PGHAUL_TGT_SUPER" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pghaul/%' AND application_name <> 'pghaul/slot-probe'" 2>/dev/null || echo 0)
        (( n > most )) && most=$n
        sleep 0.1
    done
    echo "$most" >"$WORK/most"
}
run_once() { # shards
    local n=$1 i pids=() rc=0 t0 t1
    drop_targets
    rm -rf "$WORK/state"; touch "$WORK/sampling"; sample & local sampler=$!
    t0=$(date +%s.%N)
    if [ "$n" = 1 ]; then
        "$WORK/pghaul" run --state-dir "$WORK/state" "$WORK/fleet.toml" >>"$WORK/log" 2>&1 || rc=$?
    else
        for ((i = 0; i < n; i++)); do
            "$WORK/pghaul" run --state-dir "$WORK/state" "$WORK/fleet.toml" --shard "$i/$n" --sizes "$WORK/sizes-$n.json" >>"$WORK/log" 2>&1 &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    fi
    t1=$(date +%s.%N)
    rm -f "$WORK/sampling"; wait "$sampler"
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') $rc $(cat "$WORK/most")"
}

for n in $SHARDS; do
    [ "$n" = 1 ] || "$WORK/pghaul" run "$WORK/fleet.toml" --shards "$n" --dry-run --sizes "$WORK/sizes-$n.json" >/dev/null 2>>"$WORK/log"
done
declare -A WALLS MOST
for ((r = 1; r <= REPEAT; r++)); do
    for n in $SHARDS; do
        read -r wall rc most < <(run_once "$n")
        check=$(verify || true)
        echo "[$(date +%T)] shards $n, run $r/$REPEAT: ${wall} s, exit $rc, $check, at most $most pghaul sessions on the target"
        [ "$rc" = 0 ] && [ "$check" = OK ] || { echo "bench/shards.sh: shards $n failed; log: $WORK/log" >&2; trap - EXIT; exit 1; }
        WALLS[$n]+="$wall "; MOST[$n]=$(( ${MOST[$n]:-0} > most ? ${MOST[$n]:-0} : most ))
    done
done
drop_targets
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
base=$(echo "${WALLS[${SHARDS%% *}]}" | median)
echo
echo "K = $K databases, jobs $JOBS per process$([ "$CAP" -gt 0 ] && echo ", [target] max_connections = $CAP"), median of $REPEAT"
printf '%-8s %8s %10s %14s\n' shards "wall s" "vs first" "max sessions"
for n in $SHARDS; do
    m=$(echo "${WALLS[$n]}" | median)
    printf '%-8s %8.2f %9.2fx %14s\n' "$n" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {print a / b}')" "${MOST[$n]}"
done
