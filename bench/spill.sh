#!/usr/bin/env bash
# What spilling costs, and when the source is let go: pghaul copy of one
# dataset under several memory/spool settings, with a target that keeps up,
# a target throttled to a fraction of a CPU, and a target that stalls.
#
#   bench/spill.sh [--size GB] [--rss-size GB] [--jobs N] [--repeat N]
#                  [--configs LIST] [--scenarios LIST] [--throttle-cpu F]
#                  [--stall S] [--pghaul PATH] [--sandbox DIR] [--port N]
#                  [--keep-sandbox] [--no-codec]
#
#   --size GB        dataset (bench/gen-dataset.sh) for the matrix (default 0.5)
#   --rss-size GB    second dataset for the RSS point, copied with configs
#                    default and mem1g (default 10 x --size; 0 skips it)
#   --jobs N         pghaul --jobs (default 2)
#   --repeat N       run the whole matrix N times, interleaved (default 1)
#   --configs LIST   subset of: mem1g,default,mem4m,spool4m-z0,spool4m-z1,spool4m-z3
#   --scenarios LIST subset of: free,throttled,stall (default all three)
#   --throttle-cpu F CPUs the target gets in `throttled` (default 0.25)
#   --stall S        seconds the target's pghaul backends are stopped in `stall` (default 10)
#   --pghaul PATH    binary (default $PGHAUL_BIN, else build/release/cli/pghaul);
#                    copied into the work dir first, so a rebuild cannot change it mid-run
#   --sandbox DIR, --port N  the private sandbox (default /tmp/pghaul-bench-spill, 55481);
#                    started with fsync on if not running, stopped at the end if started here
#   --keep-sandbox   leave it running (the datasets are reused next time)
#   --no-codec       skip the zstd CLI proxy for the cost per spooled GB
#
# Configs (all --spool-dir in the work dir; the spool starts only after the
# reader has waited 500 ms for memory):
#   mem1g       --memory-limit 1GB --spool-limit 0       memory only, the reference
#   default     (64MB memory, 8GB spool, zstd level 1)
#   mem4m       --memory-limit 4MB --spool-limit 0       tiny memory, no spool
#   spool4m-zN  --memory-limit 4MB --compression-level N tiny memory, spool at level N
# Scenarios (the target's postmaster is found through its postmaster.pid):
#   free        nothing in the way
#   throttled   the target cluster's processes in a CPU cgroup (v1 cpu.cfs_quota_us,
#               or v2 cpu.max) limited to --throttle-cpu: the target is the bottleneck
#   stall       when the first COPY FROM STDIN runs on the target, +0.3 s, its pghaul
#               backends get SIGSTOP for --stall seconds, then SIGCONT
#
# Per run: wall, peak RSS and user+sys CPU of pghaul (GNU time), spooled bytes
# (JSON report, table_details[].spooled_bytes) and their size on disk (the log's
# "spooled as"), the report's snapshot_released_after_s, and from a psql
# `\watch 0.1` on the source: when the last COPY TO STDOUT was seen and for how
# long one was running. Each copy is verified (row counts, object counts).
# Results: a summary (medians over --repeat) and bench/results/spill-<timestamp>.tsv
# (one row per run; -codec.tsv for the zstd proxy).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BENCH_PROG=spill
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-private.sh
. "$HERE/lib-private.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

ALL_CONFIGS=(mem1g default mem4m spool4m-z0 spool4m-z1 spool4m-z3)
ALL_SCENARIOS=(free throttled stall)
SIZE=0.5
RSS_SIZE=
JOBS=2
REPEAT=1
CONFIGS_ARG=$(IFS=,; echo "${ALL_CONFIGS[*]}")
SCENARIOS_ARG=$(IFS=,; echo "${ALL_SCENARIOS[*]}")
THROTTLE_CPU=0.25
STALL_S=10
STALL_AFTER=0.3
PGHAUL_SRC_BIN=${PGHAUL_BIN:-$ROOT/build/release/cli/pghaul}
PRIV_DIR=/tmp/pghaul-bench-spill
PRIV_PORT=55481
CODEC=1
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE=${2:?}; shift 2 ;;
        --rss-size) RSS_SIZE=${2:?}; shift 2 ;;
        --jobs) JOBS=${2:?}; shift 2 ;;
        --repeat) REPEAT=${2:?}; shift 2 ;;
        --configs) CONFIGS_ARG=${2:?}; shift 2 ;;
        --scenarios) SCENARIOS_ARG=${2:?}; shift 2 ;;
        --throttle-cpu) THROTTLE_CPU=${2:?}; shift 2 ;;
        --stall) STALL_S=${2:?}; shift 2 ;;
        --pghaul) PGHAUL_SRC_BIN=${2:?}; shift 2 ;;
        --sandbox) PRIV_DIR=${2:?}; shift 2 ;;
        --port) PRIV_PORT=${2:?}; shift 2 ;;
        --keep-sandbox) PRIV_KEEP=1; shift ;;
        --no-codec) CODEC=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[ -n "$RSS_SIZE" ] || RSS_SIZE=$(awk -v s="$SIZE" 'BEGIN { print s * 10 }')
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"
IFS=, read -r -a CONFIGS <<<"$CONFIGS_ARG"
IFS=, read -r -a SCENARIOS <<<"$SCENARIOS_ARG"
for c in "${CONFIGS[@]}"; do [[ " ${ALL_CONFIGS[*]} " == *" $c "* ]] || die "unknown config '$c'"; done
for s in "${SCENARIOS[@]}"; do [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s'"; done
[ -x "$PGHAUL_SRC_BIN" ] || die "pghaul binary not found at '$PGHAUL_SRC_BIN' (scripts/build.sh release, or --pghaul PATH)"
require_tools psql awk python3 pgrep
require_gnu_time
[ "$CODEC" = 0 ] || require_tools zstd

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-spill.XXXXXX")
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$HERE/results
mkdir -p "$RESULTS_DIR"
TSV=$RESULTS_DIR/spill-$STAMP.tsv
CODEC_TSV=$RESULTS_DIR/spill-$STAMP-codec.tsv
PGHAUL=$WORK/pghaul
cp "$PGHAUL_SRC_BIN" "$PGHAUL"
PGHAUL_SHA=$(sha256sum "$PGHAUL" | cut -c1-12)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
TGT_DB=bench_spill

# ---------------------------------------------------------------- throttling
# The target cluster's processes go into a new CPU cgroup next to the
# postmaster's own; backends forked later inherit it. v1 (cpu controller
# mounted at /sys/fs/cgroup/cpu) or v2 (cpu in cgroup.controllers).
CG='' CG_PARENT=''
cgroup_kind() {
    if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] && [ -w /sys/fs/cgroup/cpu ]; then echo v1
    elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then echo v2
    else echo none; fi
}
throttle_on() { # postmaster_pid cpus
    local pm=$1 period=100000 quota rel p
    quota=$(awk -v c="$2" -v p="$period" 'BEGIN { printf "%d", c * p }')
    case $(cgroup_kind) in
        v1)
            rel=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$pm/cgroup")
            CG_PARENT=/sys/fs/cgroup/cpu${rel%/}
            CG=$CG_PARENT/pghaul-bench-$$
            mkdir -p "$CG"
            echo "$period" >"$CG/cpu.cfs_period_us"
            echo "$quota" >"$CG/cpu.cfs_quota_us"
            ;;
        v2)
            rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pm/cgroup")
            CG_PARENT=/sys/fs/cgroup${rel%/}
            grep -qw cpu "$CG_PARENT/cgroup.subtree_control" || echo +cpu >"$CG_PARENT/cgroup.subtree_control"
            CG=$CG_PARENT/pghaul-bench-$$
            mkdir -p "$CG"
            echo "$quota $period" >"$CG/cpu.max"
            ;;
        *) return 1 ;;
    esac
    for p in "$pm" $(pgrep -P "$pm"); do echo "$p" >"$CG/cgroup.procs" 2>/dev/null || true; done
}
throttle_off() {
    [ -n "$CG" ] && [ -d "$CG" ] || return 0
    local p
    while read -r p; do echo "$p" >"$CG_PARENT/cgroup.procs" 2>/dev/null || true; done <"$CG/cgroup.procs"
    rmdir "$CG" 2>/dev/null || log "warning: could not remove cgroup $CG"
    CG=''
}

# ---------------------------------------------------------------- stalling
# Stop the target's pghaul backends for STALL_S seconds once data flows.
STALL_PID=''
stall_target() {
    local n pids=''
    for _ in $(seq 1 1200); do
        n=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT count(*) FROM pg_stat_activity
            WHERE state = 'active' AND query ILIKE 'COPY % FROM STDIN%'" 2>/dev/null || echo 0)
        [ "$n" -gt 0 ] && break
        sleep 0.05
    done
    sleep "$STALL_AFTER"
    pids=$(psql_val "$PGHAUL_TGT_SUPER" "SELECT pid FROM pg_stat_activity
        WHERE application_name LIKE 'pghaul/%' AND backend_type = 'client backend'" | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    echo "$pids" >"$WORK/stalled"
    now >"$WORK/stall.start"
    # shellcheck disable=SC2086
    kill -STOP $pids 2>/dev/null || true
    sleep "$STALL_S"
    # shellcheck disable=SC2086
    kill -CONT $pids 2>/dev/null || true
    rm -f "$WORK/stalled"
}
unstall() {
    if [ -n "$STALL_PID" ]; then kill "$STALL_PID" 2>/dev/null || true; wait "$STALL_PID" 2>/dev/null || true; fi
    STALL_PID=''
    # shellcheck disable=SC2046
    if [ -f "$WORK/stalled" ]; then kill -CONT $(cat "$WORK/stalled") 2>/dev/null || true; fi
    rm -f "$WORK/stalled"
}

# ---------------------------------------------------------------- cleanup
POLL_PID=''
cleanup() {
    local rc=$?
    unstall
    throttle_off
    [ -z "$POLL_PID" ] || kill "$POLL_PID" 2>/dev/null || true
    if [ -n "${PGHAUL_TGT_SUPER:-}" ]; then
        psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS $TGT_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    priv_down
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- set-up
priv_up
TGT_PM=$(priv_postmaster tgt)
if [[ " ${SCENARIOS[*]} " == *" throttled "* ]] && [ "$(cgroup_kind)" = none ]; then
    log "no writable CPU cgroup (v1 /sys/fs/cgroup/cpu or v2 cpu controller): scenario 'throttled' skipped"
    SCENARIOS=("${SCENARIOS[@]/throttled/}")
fi
DBS=(benchsrc)
priv_dataset benchsrc "$SIZE"
if [ "$RSS_SIZE" != 0 ]; then
    priv_dataset benchbig "$RSS_SIZE"
    DBS+=(benchbig)
fi
declare -A SRC_BYTES TABLES SRC_COUNTS SRC_SCHEMA
for db in "${DBS[@]}"; do
    SRC_BYTES[$db]=$(psql_val "$PGHAUL_SRC_A dbname=$db" "SELECT pg_database_size(current_database())")
    TABLES[$db]=$(leaf_tables_values "$PGHAUL_SRC_A dbname=$db")
    SRC_COUNTS[$db]=$WORK/src-$db.counts
    SRC_SCHEMA[$db]=$WORK/src-$db.schema
    # Counting reads every table once: the page cache is warm for every run.
    psql_val "$PGHAUL_SRC_A dbname=$db" "$(count_sql "${TABLES[$db]}")" >"${SRC_COUNTS[$db]}"
    psql_val "$PGHAUL_SRC_A dbname=$db" "$SCHEMA_SQL" >"${SRC_SCHEMA[$db]}"
done

config_args() { # config -> pghaul flags
    local spool=(--spool-dir "$WORK/spool")
    case $1 in
        mem1g) echo --memory-limit 1GB --spool-limit 0 ;;
        default) echo "${spool[@]}" ;;
        mem4m) echo --memory-limit 4MB --spool-limit 0 ;;
        spool4m-z*) echo --memory-limit 4MB --compression-level "${1#spool4m-z}" "${spool[@]}" ;;
    esac
}

# "MB"/"kB" in pghaul's log are powers of 1024.
spool_file_bytes() { # log -> sum of the "spooled as X" figures
    { grep -o 'spooled as [0-9.]* [kMGT]\{0,1\}B' "$1" || true; } | awk '
        { v = $3; u = $4; m = 1
          if (u == "kB") m = 1024; else if (u == "MB") m = 1024^2; else if (u == "GB") m = 1024^3; else if (u == "TB") m = 1024^4
          s += v * m }
        END { printf "%d\n", s }'
}

# From the source poll (epoch|active COPY TO STDOUT count): the last time a
# reader's COPY was seen, relative to t0, and how long one was running.
poll_figures() { # file t0 -> "reads_done_s copy_active_s"
    awk -F'|' -v t0="$2" '
        { if (prev != "" && pc > 0) act += $1 - prev; if ($2 > 0) last = $1; prev = $1; pc = $2 }
        END { printf "%s %.1f\n", (last == "" ? "-" : sprintf("%.1f", last - t0)), act }' "$1"
}

{
    printf 'timestamp\tdb\tsource_bytes\tscenario\tconfig\trun\tjobs\tresult\tverified\twall_s\tpeak_rss_mib\tcpu_s'
    printf '\tspooled_bytes\tspool_file_bytes\tsnapshot_released_s\tsource_reads_done_s\tsource_copy_active_s\tthrottle_cpu\tstall_s\tpghaul_args\tpghaul_sha256\n'
} >"$TSV"

run_one() { # db scenario config run
    local db=$1 sc=$2 cfg=$3 r=$4 key="$1-$2-$3-$4" rc=0 t0 args
    local logf=$WORK/$key.log report=$WORK/$key.json
    args=$(config_args "$cfg")
    psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS $TGT_DB WITH (FORCE)" >/dev/null
    rm -rf "$WORK/spool" "$WORK/stall.start"; mkdir -p "$WORK/spool"
    settle "$PGHAUL_SRC_A_SUPER" "$PGHAUL_TGT_SUPER"
    psql -X -At -d "$PGHAUL_SRC_A_SUPER" >"$WORK/$key.poll" 2>/dev/null <<'SQL' &
SELECT extract(epoch FROM clock_timestamp()), count(*) FILTER (WHERE state = 'active' AND query ILIKE 'COPY % TO STDOUT%')
FROM pg_stat_activity \watch 0.1
SQL
    POLL_PID=$!
    case $sc in
        throttled) throttle_on "$TGT_PM" "$THROTTLE_CPU" || die "cannot throttle the target" ;;
        stall) stall_target & STALL_PID=$! ;;
    esac
    t0=$(now)
    # shellcheck disable=SC2086
    timed "$key" pghaul "$PGHAUL" copy --source "$PGHAUL_SRC_A dbname=$db" --target "$PGHAUL_TGT dbname=$TGT_DB" \
        --jobs "$JOBS" --no-owner --on-existing replace --progress none --report "$report" $args >"$logf" 2>&1 || rc=$?
    kill "$POLL_PID" 2>/dev/null || true
    wait "$POLL_PID" 2>/dev/null || true
    POLL_PID=''
    case $sc in
        throttled) throttle_off ;;
        stall) unstall ;;
    esac
    local stalled=-
    if [ "$sc" = stall ]; then
        stalled=none  # the copy was past its COPY FROM STDIN before the stall began
        [ -f "$WORK/stall.start" ] && stalled=$STALL_S
    fi
    local wall rss u s cpu result verified=- spooled=- sfile=- snap=- reads active
    read -r wall rss u s < <(tail -n 1 "$WORK/$key.pghaul.time")
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    read -r reads active < <(poll_figures "$WORK/$key.poll" "$t0")
    if [ "$rc" = 0 ]; then
        result=OK
        read -r spooled snap < <(python3 - "$report" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["sources"][0]
print(sum(t.get("spooled_bytes", 0) for t in s["table_details"]), "%.1f" % s["snapshot_released_after_s"])
PY
)
        sfile=$(spool_file_bytes "$logf")
        if verify_copy "${TABLES[$db]}" "${SRC_COUNTS[$db]}" "${SRC_SCHEMA[$db]}" "$PGHAUL_TGT_SUPER dbname=$TGT_DB" \
            "$WORK/$key" 0 "$logf" >"$WORK/$key.verify"; then
            verified=OK
        else
            verified=MISMATCH result="FAILED: mismatch"
        fi
    else
        result="FAILED: exit $rc"
    fi
    if [ "$result" != OK ]; then
        cp "$logf" "$RESULTS_DIR/spill-$STAMP-$key.log"
        cat "$WORK/$key.verify" 2>/dev/null || true
    fi
    psql -X -q -d "$PGHAUL_TGT_SUPER" -c "DROP DATABASE IF EXISTS $TGT_DB WITH (FORCE)" >/dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$STAMP" "$db" "${SRC_BYTES[$db]}" "$sc" "$cfg" "$r" "$JOBS" "$result" "$verified" "$wall" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$cpu" "$spooled" "$sfile" "$snap" "$reads" "$active" \
        "$([ "$sc" = throttled ] && echo "$THROTTLE_CPU" || echo -)" "$stalled" \
        "$args" "$PGHAUL_SHA" >>"$TSV"
    log "$db $sc $cfg #$r: $result, wall $wall s, RSS $((rss / 1024)) MiB, CPU $cpu s, spooled $spooled B ($sfile on disk), snapshot released $snap s, source reads done $reads s"
}

# ---------------------------------------------------------------- the runs
log "pghaul $("$PGHAUL" --version | head -n 1 | awk '{ print $2 }') (sha256 $PGHAUL_SHA), --jobs $JOBS, ${#CONFIGS[@]} configs x scenarios ${SCENARIOS[*]} x $REPEAT; work dir $WORK"
for r in $(seq 1 "$REPEAT"); do
    for sc in "${SCENARIOS[@]}"; do
        [ -n "$sc" ] || continue
        for cfg in "${CONFIGS[@]}"; do run_one benchsrc "$sc" "$cfg" "$r"; done
    done
    if [ "$RSS_SIZE" != 0 ]; then
        for cfg in default mem1g; do run_one benchbig free "$cfg" "$r"; done
    fi
done

# ---------------------------------------------------------------- codec proxy
# What spooling everything would cost per GB: the source's binary COPY stream
# of benchsrc through the zstd CLI (single thread) at levels 1 and 3, and for
# level 0 (stored) a plain file write and read. pghaul frames each 256 KiB
# chunk on its own, so its ratio is a little worse than the CLI's.
# shellcheck disable=SC2016  # the sh -c scripts expand their own $1
if [ "$CODEC" = 1 ]; then
    log "codec proxy: binary COPY of benchsrc to a file"
    raw=$WORK/codec.bin
    : >"$raw"
    tr ',' '\n' <<<"${TABLES[benchsrc]}" | tr -d "()'" | while read -r t; do
        psql -X -q -d "$PGHAUL_SRC_A dbname=benchsrc" -c "COPY $t TO STDOUT (FORMAT binary)" >>"$raw"
    done
    rawb=$(stat -c %s "$raw")
    printf 'timestamp\tlevel\traw_bytes\tstored_bytes\tratio\tcompress_wall_s\tcompress_cpu_s\tdecompress_wall_s\tdecompress_cpu_s\tcompress_cpu_s_per_gb\tdecompress_cpu_s_per_gb\n' >"$CODEC_TSV"
    for lvl in 0 1 3; do
        out=$WORK/codec.$lvl
        if [ "$lvl" = 0 ]; then
            timed "codec$lvl" c cp "$raw" "$out"
            timed "codec$lvl" d sh -c 'cat "$1" >/dev/null' sh "$out"
        else
            timed "codec$lvl" c zstd -q -T1 "-$lvl" -f -o "$out" "$raw"
            timed "codec$lvl" d sh -c 'zstd -q -d -c "$1" >/dev/null' sh "$out"
        fi
        outb=$(stat -c %s "$out")
        read -r cw _ cu cs < <(tail -n 1 "$WORK/codec$lvl.c.time")
        read -r dw _ du ds < <(tail -n 1 "$WORK/codec$lvl.d.time")
        awk -v ts="$STAMP" -v l="$lvl" -v r="$rawb" -v o="$outb" -v cw="$cw" -v cc="$(awk -v a="$cu" -v b="$cs" 'BEGIN { print a + b }')" \
            -v dw="$dw" -v dc="$(awk -v a="$du" -v b="$ds" 'BEGIN { print a + b }')" 'BEGIN {
            printf "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", ts, l, r, o, r / o, cw, cc, dw, dc, cc / (r / 1e9), dc / (r / 1e9) }' >>"$CODEC_TSV"
        rm -f "$out"
    done
    rm -f "$raw"
fi

# ---------------------------------------------------------------- summary
python3 - "$TSV" "${CODEC_TSV}" "$CODEC" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None
groups = {}
for r in rows:
    groups.setdefault((r["db"], r["scenario"], r["config"]), []).append(r)
base = {}
for (db, sc, cfg), rs in groups.items():
    if cfg == "mem1g":
        base[(db, sc)] = med([num(r["wall_s"]) for r in rs if r["result"] == "OK"])
def f(v, fmt="%.1f"):
    return "-" if v is None else fmt % v
print()
print("medians over runs; ratio = wall / wall of mem1g (memory only) in the same scenario; sizes in MiB")
hdr = ("db", "scenario", "config", "n", "wall s", "(min-max)", "ratio", "RSS", "CPU s", "spooled", "on disk",
       "snap rel s", "src done s", "src busy s", "result")
fmtline = "%-9s %-9s %-11s %2s %7s %13s %6s %7s %6s %8s %8s %10s %10s %10s  %s"
print(fmtline % hdr)
for (db, sc, cfg), rs in groups.items():
    ok = [r for r in rs if r["result"] == "OK"]
    walls = [num(r["wall_s"]) for r in ok]
    w = med(walls)
    b = base.get((db, sc))
    ratio = f(w / b, "%.2f") if (w and b) else "-"
    rng = "%.1f-%.1f" % (min(walls), max(walls)) if walls else "-"
    mib = lambda k: med([num(r[k]) / 1048576 if num(r[k]) is not None else None for r in ok])
    res = "OK" if len(ok) == len(rs) else "%d/%d failed" % (len(rs) - len(ok), len(rs))
    missed = sum(r["stall_s"] == "none" for r in rs)
    if missed:
        res += ", %d/%d copies were past their data before the stall" % (missed, len(rs))
    print(fmtline % (db, sc, cfg, len(rs), f(w, "%.2f"), rng, ratio,
                     f(max([num(r["peak_rss_mib"]) for r in rs] or [None]) if rs else None),
                     f(med([num(r["cpu_s"]) for r in ok]), "%.2f"), f(mib("spooled_bytes")), f(mib("spool_file_bytes")),
                     f(med([num(r["snapshot_released_s"]) for r in ok])), f(med([num(r["source_reads_done_s"]) for r in ok])),
                     f(med([num(r["source_copy_active_s"]) for r in ok])), res))
if sys.argv[3] == "1" and os.path.exists(sys.argv[2]):
    print()
    print("codec proxy (zstd CLI -T1 on the binary COPY stream of benchsrc; level 0 = plain file write/read)")
    print("%-5s %9s %9s %6s %12s %12s" % ("level", "raw MB", "stored MB", "ratio", "comp CPU s/GB", "decomp CPU s/GB"))
    for r in csv.DictReader(open(sys.argv[2]), delimiter="\t"):
        print("%-5s %9.0f %9.0f %6s %12s %12s" % (r["level"], int(r["raw_bytes"]) / 1e6, int(r["stored_bytes"]) / 1e6,
                                               r["ratio"], r["compress_cpu_s_per_gb"], r["decompress_cpu_s_per_gb"]))
PY
echo "results: ${TSV#"$ROOT"/}$([ "$CODEC" = 1 ] && echo ", ${CODEC_TSV#"$ROOT"/}")"
failed=$(awk -F'\t' 'NR > 1 && $8 != "OK"' "$TSV" | wc -l)
[ "$failed" = 0 ] || exit 1
