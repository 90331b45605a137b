#!/usr/bin/env bash
# Many small databases: the everyday non-production move (dev, CI, staging
# servers full of small application databases), where per-database and
# per-object costs matter more than bytes per second. In one run, on the same
# data, pghaul against the ways teams script it today.
#
#   bench/fleet.sh [--k 8] [--cases fleet,single,tiny] [--approaches LIST] [--repeat 1]
#                  [--jobs 2] [--shape app|wide] [--tables N] [--size-mb M] [--tiny-tables 2000]
#                  [--pghaul PATH] [--pghaul-base PATH] [--sandbox DIR] [--port N]
#                  [--keep-sandbox] [--use-env] [--keep] [--via] [--agent-memory-limit 64MB]
#                  [--big-mb M] [--big-jobs N]
#
#   --k LIST         fleet sizes, one round each (default 8; e.g. 1,8,40)
#   --cases LIST     subset of fleet,single,tiny, run in this order (default all)
#   --approaches LIST  subset of pghaul,pghaul_base,dump_fc,dump_fd,pgcopydb, run in
#                    this order (default pghaul,dump_fc,dump_fd,pgcopydb, with
#                    pghaul_base after pghaul when --pghaul-base is given)
#   --repeat N       run every approach N times per round, interleaved (A B C A B C ...),
#                    each run verified; the tables show the median wall (default 1)
#   --jobs N         parallelism of every tool (default 2)
#   --shape app|wide the fleet's and single's databases (bench/gen-appdb.sh; default app)
#   --tables N, --size-mb M  passed to gen-appdb.sh (defaults: its own, app 34 tables 5 MB)
#   --tiny-tables N  tables of the tiny case's database (default 2000, ~20 rows each)
#   --pghaul PATH    binary (default $PGHAUL_BIN, else build/release/cli/pghaul), copied
#                    into the work dir first so a rebuild cannot change it mid-run
#   --pghaul-base PATH  a second pghaul binary (e.g. the engine before a change), run as
#                    approach pghaul_base exactly as pghaul; copied in the same way
#   --sandbox DIR, --port N  the private sandbox (default /tmp/pghaul-bench-fleet,
#                    ports 55491-55493); started with fsync on if not running,
#                    stopped (and deleted) at the end if started here
#   --keep-sandbox   leave it running, so the next run reuses the databases
#   --via            pghaul (and pghaul_base) reach every source through one
#                    `pghaul agent` on loopback (the --pghaul binary's; TLS,
#                    zstd, made-up certificates), as a consolidation across
#                    accounts does through one agent per source network; the
#                    loops stay direct. The agent runs under
#                    --agent-memory-limit (default 64MB); its log is kept with --keep
#   --big-mb M       the fleet case also copies fleet_big, one wide database of
#                    about M MB on srcb (gen-appdb.sh --shape wide --tables 6),
#                    listed LAST in the manifest: a consolidation often carries one
#                    bigger database among its small ones, and its copy should
#                    start first, not after the small ones (default: none)
#   --big-jobs N     pghaul's manifest caps fleet_big at N readers (its
#                    [[source]] jobs): a big source whose server or link allows
#                    few connections, where when it starts decides the night
#   --use-env        no private sandbox: PGHAUL_SRC_A/B, PGHAUL_TGT and their
#                    _SUPER variants from the environment (or the shared sandbox)
#   --keep           keep the last run's target databases and the work dir
#
# Cases (targets are fleet_tgt_1..K on the target server, written as its
# non-superuser login):
#   fleet   K databases fleet_<shape>_1..K (seed i), odd i on srca, even on srcb
#   single  one of them (fleet_<shape>_1), copied alone
#   tiny    fleet_tiny on srca: --tiny-tables tables of ~20 rows, PK + one index
# Approaches, each copying every database of the case:
#   pghaul    fleet: ONE `pghaul run MANIFEST` ([run] jobs = N, missing_roles =
#             "owner", report = a JSON file); single, tiny: `pghaul copy --jobs N --no-owner`
#   pghaul_base  the same with the --pghaul-base binary (its own state dir and report)
#   dump_fc   fleet: per database, one after another: pg_dump -Fc -f FILE;
#             createdb --template=template0; pg_restore --no-owner; rm FILE.
#             single, tiny: createdb; pg_dump -Fc | pg_restore --no-owner (a pipe)
#   dump_fd   per database: pg_dump -Fd -j N -Z0 -f DIR; createdb;
#             pg_restore -j N --no-owner; rm -r DIR
#   pgcopydb  per database: createdb; pgcopydb clone --table-jobs N --index-jobs N
#             --no-owner; only when pgcopydb is on PATH, else SKIPPED
# Before each run of an approach: fleet_tgt_* dropped, CHECKPOINT on all three
# servers, sync. After it, every copy's per-table row counts and object counts
# are compared with its source (lib.sh count_sql, SCHEMA_SQL; verify_copy lists
# the differences); a difference fails it.
#
# Sources are made by bench/gen-appdb.sh and reused while their database
# comment matches the arguments (so: with --keep-sandbox, --use-env, or a
# sandbox already running). Each tool runs under GNU time. Per round it
# prints wall s (the median of the --repeat runs), ratio (approach wall /
# pghaul wall: >1 means pghaul is faster), peak RSS of any one tool process
# (the highest of the runs), the tools' CPU summed (median of the runs),
# verified (OK when every run was), and pghaul's (and pghaul_base's)
# connection count from its JSON report (.profile.connections.opened, else
# .profile.reconnects; `-` when the report has neither).
# Results: tables on stdout and bench/results/fleet-<timestamp>.tsv (also every
# run's wall and .profile.connections.source_switches); exit 1 when a run
# of an approach failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BENCH_PROG=fleet
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-private.sh
. "$HERE/lib-private.sh"
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

ALL_CASES=(fleet single tiny)
ALL_APPROACHES=(pghaul pghaul_base dump_fc dump_fd pgcopydb)

# ---------------------------------------------------------------- arguments
K_ARG=8
CASES_ARG=$(IFS=,; echo "${ALL_CASES[*]}")
JOBS=2
SHAPE=app
TABLES=
SIZE_MB=
TINY_TABLES=2000
APPROACHES_ARG=
REPEAT=1
PGHAUL_GIVEN=${PGHAUL_BIN:-$ROOT/build/release/cli/pghaul}
PGHAUL_BASE_GIVEN=
PRIV_DIR=/tmp/pghaul-bench-fleet
PRIV_PORT=55491
USE_ENV=0
KEEP=0
VIA=0
AGENT_MEMORY=64MB
AGENT_PID=
BIG_MB=0
BIG_JOBS=
while [ $# -gt 0 ]; do
    case "$1" in
        --k) K_ARG=${2:?--k needs a value}; shift 2 ;;
        --cases) CASES_ARG=${2:?--cases needs a value}; shift 2 ;;
        --approaches) APPROACHES_ARG=${2:?--approaches needs a value}; shift 2 ;;
        --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
        --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
        --shape) SHAPE=${2:?--shape needs a value}; shift 2 ;;
        --tables) TABLES=${2:?--tables needs a value}; shift 2 ;;
        --size-mb) SIZE_MB=${2:?--size-mb needs a value}; shift 2 ;;
        --tiny-tables) TINY_TABLES=${2:?--tiny-tables needs a value}; shift 2 ;;
        --pghaul) PGHAUL_GIVEN=${2:?--pghaul needs a value}; shift 2 ;;
        --pghaul-base) PGHAUL_BASE_GIVEN=${2:?--pghaul-base needs a value}; shift 2 ;;
        --sandbox) PRIV_DIR=${2:?--sandbox needs a directory}; shift 2 ;;
        --port) PRIV_PORT=${2:?--port needs a value}; shift 2 ;;
        --keep-sandbox) PRIV_KEEP=1; shift ;;
        --use-env) USE_ENV=1; shift ;;
        --keep) KEEP=1; shift ;;
        --via) VIA=1; shift ;;
        --agent-memory-limit) AGENT_MEMORY=${2:?--agent-memory-limit needs a value}; shift 2 ;;
        --big-mb) BIG_MB=${2:?--big-mb needs a value}; shift 2 ;;
        --big-jobs) BIG_JOBS=${2:?--big-jobs needs a value}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
[[ "$TINY_TABLES" =~ ^[1-9][0-9]*$ ]] || die "--tiny-tables must be a positive integer"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"
[[ "$BIG_MB" =~ ^[0-9]+$ ]] || die "--big-mb must be a whole number of MB"
[[ -z "$BIG_JOBS" || "$BIG_JOBS" =~ ^[1-9][0-9]*$ ]] || die "--big-jobs must be a positive integer"
case "$SHAPE" in app | wide) ;; *) die "--shape must be app or wide" ;; esac
IFS=, read -r -a KS <<<"$K_ARG"
MAX_K=0
for k in "${KS[@]}"; do
    [[ "$k" =~ ^[1-9][0-9]*$ ]] || die "--k: '$k' is not a positive integer"
    [ "$k" -le "$MAX_K" ] || MAX_K=$k
done
IFS=, read -r -a CASES <<<"$CASES_ARG"
for c in "${CASES[@]}"; do
    [[ " ${ALL_CASES[*]} " == *" $c "* ]] || die "unknown case '$c' (known: ${ALL_CASES[*]})"
done
has_case() { [[ " ${CASES[*]} " == *" $1 "* ]]; }
if [ -n "$APPROACHES_ARG" ]; then
    IFS=, read -r -a APPROACHES <<<"$APPROACHES_ARG"
    [ "${#APPROACHES[@]}" -ge 1 ] || die "--approaches: empty list"
    declare -A seen_approach=()
    for a in "${APPROACHES[@]}"; do
        [[ " ${ALL_APPROACHES[*]} " == *" $a "* ]] || die "unknown approach '$a' (known: ${ALL_APPROACHES[*]})"
        [ -z "${seen_approach[$a]:-}" ] || die "--approaches: '$a' given twice"
        seen_approach[$a]=1
    done
elif [ -n "$PGHAUL_BASE_GIVEN" ]; then
    APPROACHES=(pghaul pghaul_base dump_fc dump_fd pgcopydb)
else
    APPROACHES=(pghaul dump_fc dump_fd pgcopydb)
fi
has_approach() { [[ " ${APPROACHES[*]} " == *" $1 "* ]]; }
if has_approach pghaul_base && [ -z "$PGHAUL_BASE_GIVEN" ]; then
    die "approach pghaul_base needs --pghaul-base PATH"
fi
# gen-appdb.sh's arguments for the fleet's and single's databases.
GEN_ARGS=(--shape "$SHAPE")
[ -z "$TABLES" ] || GEN_ARGS+=(--tables "$TABLES")
[ -z "$SIZE_MB" ] || GEN_ARGS+=(--size-mb "$SIZE_MB")

require_tools psql pg_dump pg_restore createdb awk cmp
require_gnu_time
if has_approach pghaul; then
    [ -x "$PGHAUL_GIVEN" ] || die "pghaul binary not found at '$PGHAUL_GIVEN' (scripts/build.sh release, or --pghaul PATH)"
fi
if has_approach pghaul_base; then
    [ -x "$PGHAUL_BASE_GIVEN" ] || die "pghaul binary not found at '$PGHAUL_BASE_GIVEN' (--pghaul-base PATH)"
fi
HAVE_PGCOPYDB=0
if command -v pgcopydb >/dev/null; then HAVE_PGCOPYDB=1; fi

# ---------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-fleet.XXXXXX")
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=$HERE/results
mkdir -p "$RESULTS_DIR"
TSV=$RESULTS_DIR/fleet-$STAMP.tsv
PGHAUL=$WORK/pghaul
PGHAUL_BASE=$WORK/pghaul_base
if has_approach pghaul; then cp "$PGHAUL_GIVEN" "$PGHAUL"; fi
if has_approach pghaul_base; then cp "$PGHAUL_BASE_GIVEN" "$PGHAUL_BASE"; fi
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# As superuser where we have one: WITH (FORCE) must be able to end the
# connections a failed tool may have left behind.
drop_targets() {
    local conn=${TGT_SUPER:-$PGHAUL_TGT} db
    for db in $(psql_val "$conn" "SELECT datname FROM pg_database WHERE datname LIKE 'fleet\_tgt\_%'"); do
        psql -X -q -v ON_ERROR_STOP=1 -d "$conn" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
}

cleanup() {
    local rc=$?
    if [ -n "${PGHAUL_TGT:-}" ]; then
        if [ "$KEEP" = 0 ]; then drop_targets 2>/dev/null || true; fi
    fi
    if [ "$KEEP" = 0 ]; then
        rm -rf "$WORK"
    elif [ "$USE_ENV" = 0 ] && [ "$PRIV_STARTED" = 1 ] && [ "$PRIV_KEEP" = 0 ]; then
        echo "kept: work dir $WORK (logs, manifests, reports); the target databases go with the sandbox (--keep-sandbox keeps them)"
    else
        echo "kept: work dir $WORK (logs, manifests, reports) and the last approach's fleet_tgt_* databases"
    fi
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
    [ "$USE_ENV" = 1 ] || priv_down
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- servers
if [ "$USE_ENV" = 1 ]; then
    load_sandbox_env PGHAUL_SRC_A PGHAUL_SRC_B PGHAUL_TGT PGHAUL_SRC_A_SUPER PGHAUL_SRC_B_SUPER
else
    priv_up
fi
TGT_SUPER=${PGHAUL_TGT_SUPER:-}
fsync_of() { psql_val "$1" "SHOW fsync"; }
SRC_FSYNC=$(fsync_of "$PGHAUL_SRC_A")
[ "$(fsync_of "$PGHAUL_SRC_B")" = "$SRC_FSYNC" ] || SRC_FSYNC=mixed
TGT_FSYNC=$(fsync_of "$PGHAUL_TGT")
if [ "$TGT_FSYNC" != on ] || [ "$SRC_FSYNC" != on ]; then
    log "WARNING: fsync is off on a source or the target: numbers are not realistic (see bench/README.md)"
fi
settle_all() { settle "$PGHAUL_SRC_A_SUPER" "$PGHAUL_SRC_B_SUPER" "$TGT_SUPER"; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---------------------------------------------------------------- sources
# Source i of the fleet: odd on srca, even on srcb, seed i (so every database
# differs). The tiny case's database lives on srca.
app_db() { echo "fleet_${SHAPE}_$1"; }
server_of() { if [ $(($1 % 2)) = 1 ]; then echo a; else echo b; fi; }
login_of() { if [ "$1" = a ]; then echo "$PGHAUL_SRC_A"; else echo "$PGHAUL_SRC_B"; fi; }
super_of() { if [ "$1" = a ]; then echo "$PGHAUL_SRC_A_SUPER"; else echo "$PGHAUL_SRC_B_SUPER"; fi; }
declare -A SRC_CONN SRC_SERVER SRC_BYTES SRC_TABLES TABLES_VALUES

ensure_source() { # db server gen-appdb-args...
    local db=$1 srv=$2
    shift 2
    if ! "$HERE/gen-appdb.sh" "$db" "$@" --reuse --conninfo "$(login_of "$srv")" --super "$(super_of "$srv")" \
        >"$WORK/gen-$db.log" 2>&1; then
        tail -n 20 "$WORK/gen-$db.log" >&2
        die "gen-appdb.sh $db $* failed"
    fi
    sed "s/^\[[0-9:]*\] /  src$srv: /" "$WORK/gen-$db.log" | tail -n 1
    SRC_CONN[$db]="$(login_of "$srv") dbname=$db"
    SRC_SERVER[$db]=src$srv
}

NSRC=0
[ "$MAX_K" -ge 1 ] && has_case fleet && NSRC=$MAX_K
[ "$NSRC" -ge 1 ] || ! has_case single || NSRC=1
log "sources: $NSRC $SHAPE database(s)$(has_case tiny && echo ", fleet_tiny ($TINY_TABLES tables)") (made by gen-appdb.sh unless reused)"
t_gen=$(now)
for ((i = 1; i <= NSRC; i++)); do
    ensure_source "$(app_db "$i")" "$(server_of "$i")" "${GEN_ARGS[@]}" --seed "$i"
done
if has_case tiny; then ensure_source fleet_tiny a --shape tiny --tables "$TINY_TABLES" --seed 1; fi
if [ "$BIG_MB" -gt 0 ] && has_case fleet; then
    ensure_source fleet_big b --shape wide --tables 6 --size-mb "$BIG_MB" --seed 1
fi
GEN_S=$(secs_since "$t_gen")
log "sources ready after $GEN_S s"

toml_str() { # a TOML basic string
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# ---------------------------------------------------------------- the agent (--via)
VIA_TOML= VIA_FLAGS=()
if [ "$VIA" = 1 ]; then
    has_approach pghaul || has_approach pghaul_base || die "--via needs approach pghaul or pghaul_base"
    AGENT_BIN=$PGHAUL
    has_approach pghaul || AGENT_BIN=$PGHAUL_BASE
    mkdir -p "$WORK/pki"
    make_link_certs "$WORK/pki" 127.0.0.1 || die "--via: openssl could not make the certificates"
    conn_hp() { # conninfo -> host:port, as the agent's --allow names it
        local h p
        h=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$1")
        p=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$1")
        echo "$h:$p"
    }
    AGENT_ADDR=127.0.0.1:$((PRIV_PORT + 40))
    "$AGENT_BIN" agent --listen "$AGENT_ADDR" --tls-cert "$WORK/pki/agent.crt" --tls-key "$WORK/pki/agent.key" \
        --client-ca "$WORK/pki/ca.crt" --allow "$(conn_hp "$PGHAUL_SRC_A")" --allow "$(conn_hp "$PGHAUL_SRC_B")" \
        --memory-limit "$AGENT_MEMORY" 2>"$WORK/agent.log" &
    AGENT_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$WORK/agent.log" 2>/dev/null && break; sleep 0.1; done
    grep -q "listening on" "$WORK/agent.log" || { cat "$WORK/agent.log" >&2; die "--via: the agent did not start"; }
    VIA_TOML="via = { address = $(toml_str "$AGENT_ADDR"), ca = $(toml_str "$WORK/pki/ca.crt"), cert = $(toml_str "$WORK/pki/host.crt"), key = $(toml_str "$WORK/pki/host.key") }"
    VIA_FLAGS=(--via "$AGENT_ADDR" --via-ca "$WORK/pki/ca.crt" --via-cert "$WORK/pki/host.crt" --via-key "$WORK/pki/host.key")
    log "pghaul reaches the sources through one agent at $AGENT_ADDR (--memory-limit $AGENT_MEMORY)"
fi

# Counting every source row also reads every source once, so the page cache
# is equally warm for every approach, the first one included.
log "counting source rows (also warms the cache)"
for db in "${!SRC_CONN[@]}"; do
    TABLES_VALUES[$db]=$(leaf_tables_values "${SRC_CONN[$db]}")
    [ -n "${TABLES_VALUES[$db]}" ] || die "source $db has no tables"
    psql_val "${SRC_CONN[$db]}" "$(count_sql "${TABLES_VALUES[$db]}")" >"$WORK/src-$db.counts"
    psql_val "${SRC_CONN[$db]}" "$SCHEMA_SQL" >"$WORK/src-$db.schema"
    SRC_TABLES[$db]=$(wc -l <"$WORK/src-$db.counts")
    SRC_BYTES[$db]=$(psql_val "${SRC_CONN[$db]}" "SELECT pg_database_size(current_database())")
done

# ---------------------------------------------------------------- one round's pairs
# A round copies PAIR_SRC[j] (a source database) to fleet_tgt_j, j = 1..NPAIRS.
PAIR_SRC=()
NPAIRS=0
ROUND_CASE=
RID=
tgt_db() { echo "fleet_tgt_$1"; }
tgt_conn() { echo "$PGHAUL_TGT dbname=$1"; }

createdb_target() { # key part tgtdb: a plain empty database, as the target's login
    timed "$1" "$2" createdb --maintenance-db="$PGHAUL_TGT" --template=template0 "$3" >>"$LOG" 2>&1
}

# ---------------------------------------------------------------- approaches
# Each runs every pair of the round and returns the first failing tool's
# exit status (stopping there, as a `set -e` script would). Tool output goes
# to $LOG; GNU time files to $WORK/$KEY.<part>.time.


write_manifest() { # file report
    local j
    {
        echo "[target]"
        echo "conninfo = $(toml_str "$PGHAUL_TGT")"
        echo
        echo "[run]"
        echo "jobs = $JOBS"
        echo "# the sources' objects belong to a role the target login cannot act as"
        echo "missing_roles = \"owner\""
        echo "report = $(toml_str "$2")"
        for ((j = 1; j <= NPAIRS; j++)); do
            echo
            echo "[[source]]"
            echo "name = $(toml_str "${PAIR_SRC[j]}")"
            echo "conninfo = $(toml_str "${SRC_CONN[${PAIR_SRC[j]}]}")"
            echo "target_db = $(toml_str "$(tgt_db "$j")")"
            [ "${PAIR_SRC[j]}" != fleet_big ] || [ -z "$BIG_JOBS" ] || echo "jobs = $BIG_JOBS"
            [ -z "$VIA_TOML" ] || echo "$VIA_TOML"
        done
    } >"$1"
}

run_pghaul_bin() { # binary
    REPORT=$WORK/$KEY.json
    # Its own state dir per run (round, approach, repetition): a journal left
    # by a failed run must not make the next one refuse or resume.
    if [ "$ROUND_CASE" = fleet ]; then
        write_manifest "$WORK/$KEY.toml" "$REPORT"
        timed "$KEY" run "$1" run --state-dir "$WORK/state-$KEY" "$WORK/$KEY.toml" >>"$LOG" 2>&1
    else
        timed "$KEY" copy "$1" copy --source "${SRC_CONN[${PAIR_SRC[1]}]}" --target "$(tgt_conn "$(tgt_db 1)")" "${VIA_FLAGS[@]}" \
            --jobs "$JOBS" --no-owner --report "$REPORT" --state-dir "$WORK/state-$KEY" >>"$LOG" 2>&1
    fi
}
run_pghaul() { run_pghaul_bin "$PGHAUL"; }
run_pghaul_base() { run_pghaul_bin "$PGHAUL_BASE"; }

run_dump_fc() {
    local j src tdb file rc=0
    for ((j = 1; j <= NPAIRS; j++)); do
        src=${SRC_CONN[${PAIR_SRC[j]}]}; tdb=$(tgt_db "$j")
        echo "--- ${PAIR_SRC[j]} -> $tdb" >>"$LOG"
        if [ "$ROUND_CASE" = fleet ]; then
            # The everyday script: dump to a file, restore it, next database.
            file=$WORK/$tdb.dump
            timed "$KEY" "$j.pg_dump" pg_dump -Fc -f "$file" -d "$src" >>"$LOG" 2>&1 || return
            createdb_target "$KEY" "$j.createdb" "$tdb" || return
            timed "$KEY" "$j.pg_restore" pg_restore --no-owner -d "$(tgt_conn "$tdb")" "$file" >>"$LOG" 2>&1 || rc=$?
            rm -f "$file"
        else
            # One stream, no disk: pg_restore cannot use -j on a pipe.
            createdb_target "$KEY" "$j.createdb" "$tdb" || return
            if ! timed "$KEY" "$j.pg_dump" pg_dump -Fc -d "$src" 2>>"$LOG" |
                timed "$KEY" "$j.pg_restore" pg_restore --no-owner -d "$(tgt_conn "$tdb")" >>"$LOG" 2>&1; then
                echo "pipe exit statuses (pg_dump pg_restore): ${PIPESTATUS[*]}" >>"$LOG"
                rc=1
            fi
        fi
        [ "$rc" = 0 ] || return "$rc"
    done
}

run_dump_fd() {
    local j src tdb dir rc=0
    for ((j = 1; j <= NPAIRS; j++)); do
        src=${SRC_CONN[${PAIR_SRC[j]}]}; tdb=$(tgt_db "$j"); dir=$WORK/$tdb.dir
        echo "--- ${PAIR_SRC[j]} -> $tdb" >>"$LOG"
        timed "$KEY" "$j.pg_dump" pg_dump -Fd -j "$JOBS" -Z0 -f "$dir" -d "$src" >>"$LOG" 2>&1 || return
        createdb_target "$KEY" "$j.createdb" "$tdb" || return
        timed "$KEY" "$j.pg_restore" pg_restore -j "$JOBS" --no-owner -d "$(tgt_conn "$tdb")" "$dir" >>"$LOG" 2>&1 || rc=$?
        rm -rf "$dir"
        [ "$rc" = 0 ] || return "$rc"
    done
}

# pgcopydb wants postgres:// URIs (as in compare.sh). Converts a simple
# key=value conninfo (no quoted values); the password stays in the pgpass file.
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

run_pgcopydb() {
    local j tdb
    for ((j = 1; j <= NPAIRS; j++)); do
        tdb=$(tgt_db "$j")
        echo "--- ${PAIR_SRC[j]} -> $tdb" >>"$LOG"
        createdb_target "$KEY" "$j.createdb" "$tdb" || return
        timed "$KEY" "$j.pgcopydb" pgcopydb clone \
            --source "$(conninfo_to_uri "${SRC_CONN[${PAIR_SRC[j]}]}")" --target "$(conninfo_to_uri "$(tgt_conn "$tdb")")" \
            --dir "$WORK/$KEY.$j.pgcopydb" --table-jobs "$JOBS" --index-jobs "$JOBS" --no-owner >>"$LOG" 2>&1 || return
    done
}

# ---------------------------------------------------------------- verification
# lib.sh's verify_copy forks an awk per table: over a minute for 2000 tables
# on a small VM. When the target's counts are byte-identical to the source's
# (same tables in the same order, see count_sql), every line matches and it
# has nothing to add; otherwise it runs and reports each difference.
check_copy() { # source-db target-db out-prefix
    local tconn
    tconn=$(tgt_conn "$2")
    if psql_val "$tconn" "$(count_sql "${TABLES_VALUES[$1]}")" >"$3.counts" 2>>"$LOG" &&
        psql_val "$tconn" "$SCHEMA_SQL" >"$3.schema" 2>>"$LOG" &&
        cmp -s "$3.counts" "$WORK/src-$1.counts" && cmp -s "$3.schema" "$WORK/src-$1.schema"; then
        return 0
    fi
    verify_copy "${TABLES_VALUES[$1]}" "$WORK/src-$1.counts" "$WORK/src-$1.schema" "$tconn" "$3" 0 "$LOG"
}

# What each approach runs, for the tables.
describe() { # approach
    case "$1:$ROUND_CASE" in
        pghaul:fleet) echo "pghaul run MANIFEST (jobs $JOBS)" ;;
        pghaul:*) echo "pghaul copy --jobs $JOBS --no-owner" ;;
        pghaul_base:fleet) echo "pghaul run MANIFEST (jobs $JOBS), --pghaul-base binary" ;;
        pghaul_base:*) echo "pghaul copy --jobs $JOBS --no-owner, --pghaul-base binary" ;;
        dump_fc:fleet) echo "loop: pg_dump -Fc -f FILE; createdb; pg_restore" ;;
        dump_fc:*) echo "createdb; pg_dump -Fc | pg_restore" ;;
        dump_fd:fleet) echo "loop: pg_dump -Fd -j$JOBS -Z0; createdb; pg_restore -j$JOBS" ;;
        dump_fd:*) echo "pg_dump -Fd -j$JOBS -Z0; createdb; pg_restore -j$JOBS" ;;
        pgcopydb:fleet) echo "loop: createdb; pgcopydb clone (jobs $JOBS)" ;;
        pgcopydb:*) echo "createdb; pgcopydb clone (jobs $JOBS)" ;;
    esac
}

# From pghaul's JSON report: "connections-opened source-switches", each `-`
# when the report lacks it (an older engine has neither, or only .profile.reconnects).
pghaul_report() { # report.json
    [ -s "$1" ] || { echo "- -"; return; }
    if command -v jq >/dev/null; then
        jq -r '[(.profile.connections.opened // .profile.reconnects // "-"),
                (.profile.connections.source_switches // "-")] | map(tostring) | join(" ")' "$1" 2>/dev/null ||
            echo "- -"
    elif command -v python3 >/dev/null; then
        python3 - "$1" <<'PY' 2>/dev/null || echo "- -"
import json, sys
p = json.load(open(sys.argv[1])).get("profile") or {}
c = p.get("connections") or {}
v = c.get("opened")
if v is None:
    v = p.get("reconnects")
s = c.get("source_switches")
print("-" if v is None else v, "-" if s is None else s)
PY
    else
        echo "- -"
    fi
}

# The median of a comma list of numbers (the mean of the middle two for an even count).
median() { # list
    awk -v l="$1" 'BEGIN {
        n = split(l, v, ",")
        for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > x + 0; j--) v[j + 1] = v[j]; v[j + 1] = x }
        if (n > 0) printf "%.2f\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# A comma list of per-run values as one value when every run agrees.
same_or_list() { # list
    awk -v l="$1" 'BEGIN { n = split(l, v, ","); for (i = 2; i <= n; i++) if (v[i] != v[1]) { print l; exit } print v[1] }'
}

# ---------------------------------------------------------------- rounds
# Per round and approach (key RID-approach): WALL the median of the runs'
# walls, WALLS all of them (a comma list), RSS the highest, CPU the median,
# CONNS and SWITCHES from pghaul's report (one value when every run agrees,
# else the comma list), RESULT the first failure (else OK), VERIFIED OK when
# every run was. A run's files are named by KEY = RID-approach-N.
declare -A WALL WALLS RSS CPU CPUS RESULT VERIFIED CONNS SWITCHES
ROUNDS=() ROUND_TITLE=() ROUND_S=()
TABLES_OUT=$WORK/tables.txt
: >"$TABLES_OUT"

append() { # list value -> list,value
    if [ -z "$1" ]; then echo "$2"; else echo "$1,$2"; fi
}

run_once() { # approach run-number
    local a=$1 n=$2 ak=$RID-$1 rc=0 t0 w rss cpu conns sw res j db tdb ok=1 of=
    KEY=$ak-$n
    LOG=$WORK/$KEY.log
    : >"$LOG"
    [ "$REPEAT" = 1 ] || of=" (run $n/$REPEAT)"
    drop_targets
    settle_all
    log "$a: running$of"
    t0=$(now)
    "run_$a" || rc=$?
    w=$(secs_since "$t0")
    read -r rss cpu < <(collect_times "$KEY")
    WALLS[$ak]=$(append "${WALLS[$ak]}" "$w")
    CPUS[$ak]=$(append "${CPUS[$ak]}" "$cpu")
    [ "$rss" -le "${RSS[$ak]}" ] || RSS[$ak]=$rss
    case "$a" in
        pghaul | pghaul_base)
            read -r conns sw < <(pghaul_report "$REPORT")
            CONNS[$ak]=$(append "${CONNS[$ak]}" "$conns")
            SWITCHES[$ak]=$(append "${SWITCHES[$ak]}" "$sw")
            ;;
    esac
    res=OK
    if [ "$rc" != 0 ]; then
        res="FAILED: exit $rc"
        echo "  --- last lines of the $a log$of ---"; tail -n 20 "$LOG" | sed 's/^/  | /'
    fi
    log "$a: exit $rc after $w s; verifying"
    for ((j = 1; j <= NPAIRS; j++)); do
        db=${PAIR_SRC[j]}; tdb=$(tgt_db "$j")
        if [ -z "$(psql_val "${TGT_SUPER:-$PGHAUL_TGT}" "SELECT 1 FROM pg_database WHERE datname = '$tdb'")" ]; then
            echo "  $db -> $tdb: target database does not exist"
            ok=0
            continue
        fi
        # Only a mismatch is worth a line: K=40 databases would print 40 summaries.
        if ! check_copy "$db" "$tdb" "$WORK/$KEY-$j" >"$WORK/$KEY-$j.verify"; then
            ok=0
            echo "  $db -> $tdb:"; sed 's/^/  /' "$WORK/$KEY-$j.verify"
        fi
    done
    [ "$ok" = 1 ] || VERIFIED[$ak]=MISMATCH
    [ "$ok" = 1 ] || [ "$res" != OK ] || res="FAILED: mismatch"
    if [ "$res" != OK ]; then
        cp "$LOG" "$RESULTS_DIR/fleet-$STAMP-$KEY.log"
        log "$a: $res$of (log: bench/results/fleet-$STAMP-$KEY.log)"
        # The first failure is the approach's result.
        [ "${RESULT[$ak]}" != OK ] || RESULT[$ak]="$res$of"
    fi
    # Free the target's disk before the next run (the last one's stay with --keep).
    if [ "$KEEP" = 0 ] || [ "$a" != "${APPROACHES[-1]}" ] || [ "$n" != "$REPEAT" ]; then drop_targets; fi
}

run_round() { # case k
    local a n j db title nbytes=0 na=0 nb=0 tr ak
    ROUND_CASE=$1
    RID=r$((${#ROUNDS[@]} + 1))
    ROUNDS+=("$RID")
    case "$1" in
        fleet)
            NPAIRS=$2
            for ((j = 1; j <= NPAIRS; j++)); do PAIR_SRC[j]=$(app_db "$j"); done
            if [ "$BIG_MB" -gt 0 ]; then NPAIRS=$((NPAIRS + 1)); PAIR_SRC[NPAIRS]=fleet_big; fi
            ;;
        single) NPAIRS=1; PAIR_SRC[1]=$(app_db 1) ;;
        tiny) NPAIRS=1; PAIR_SRC[1]=fleet_tiny ;;
    esac
    for ((j = 1; j <= NPAIRS; j++)); do
        db=${PAIR_SRC[j]}
        nbytes=$((nbytes + SRC_BYTES[$db]))
        if [ "${SRC_SERVER[$db]}" = srca ]; then na=$((na + 1)); else nb=$((nb + 1)); fi
    done
    case "$1" in
        fleet)
            title="fleet K=$2: $2 $SHAPE database$([ "$2" = 1 ] || echo s)"
            [ "$BIG_MB" = 0 ] || title="$title and fleet_big (${SRC_TABLES[fleet_big]} wide tables, listed last${BIG_JOBS:+, pghaul caps it at $BIG_JOBS readers})"
            title="$title ($na on srca, $nb on srcb)"
            ;;
        single) title="single: one $SHAPE database ($(app_db 1), ${SRC_TABLES[$(app_db 1)]} tables)" ;;
        tiny) title="tiny: one database of ${SRC_TABLES[fleet_tiny]} tables (~20 rows each)" ;;
    esac
    title="$title, $(awk -v b="$nbytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB pg_database_size, jobs $JOBS"
    [ "$REPEAT" = 1 ] || title="$title, median of $REPEAT runs"
    ROUND_TITLE+=("$title")
    log "== $RID $title"
    tr=$(now)

    for a in "${APPROACHES[@]}"; do
        ak=$RID-$a
        WALLS[$ak]='' CPUS[$ak]='' RSS[$ak]=0 CONNS[$ak]='' SWITCHES[$ak]='' RESULT[$ak]=OK VERIFIED[$ak]=OK
        if [ "$a" = pgcopydb ] && [ "$HAVE_PGCOPYDB" = 0 ]; then
            RESULT[$ak]=SKIPPED VERIFIED[$ak]=-
            log "$a: SKIPPED (pgcopydb not on PATH; Debian: apt-get install pgcopydb)"
        fi
    done
    # Interleaved (A B C A B C ...), so a drift of the machine over the round
    # touches every approach alike.
    for ((n = 1; n <= REPEAT; n++)); do
        for a in "${APPROACHES[@]}"; do
            [ "${RESULT[$RID-$a]}" = SKIPPED ] || run_once "$a" "$n"
        done
    done
    for a in "${APPROACHES[@]}"; do
        ak=$RID-$a
        [ "${RESULT[$ak]}" != SKIPPED ] || continue
        WALL[$ak]=$(median "${WALLS[$ak]}")
        CPU[$ak]=$(median "${CPUS[$ak]}")
        CONNS[$ak]=$(same_or_list "${CONNS[$ak]:--}")
        SWITCHES[$ak]=$(same_or_list "${SWITCHES[$ak]:--}")
    done
    ROUND_S+=("$(secs_since "$tr")")
    print_round "$RID" "$title" | tee -a "$TABLES_OUT"
    write_tsv_rows "$RID" "$nbytes"
}

# ---------------------------------------------------------------- report
figures() { # key -> wall ratio rss_mib cpu
    local base=${WALL[$RID-pghaul]:-}
    [ "${RESULT[$RID-pghaul]:-}" = OK ] || base=
    if [ -z "${WALL[$1]:-}" ]; then echo "- - - -"; return; fi
    # A failed approach has no ratio: its wall time is time-to-failure.
    awk -v w="${WALL[$1]}" -v base="$base" -v rss="${RSS[$1]}" -v cpu="${CPU[$1]}" \
        -v ok="$([ "${RESULT[$1]}" = OK ] && echo 1 || echo 0)" 'BEGIN {
        ratio = (ok && base != "" && base > 0) ? sprintf("%.2f", w / base) : "-"
        printf "%.2f %s %.1f %.2f\n", w, ratio, rss / 1024, cpu }'
}

print_round() { # rid title
    local a w r rss cpu
    RID=$1
    echo
    echo "$2"
    printf '%-11s %8s %6s %8s %7s %9s %6s  %-17s %s\n' approach "wall s" ratio "RSS MiB" "CPU s" verified conns result what
    for a in "${APPROACHES[@]}"; do
        read -r w r rss cpu < <(figures "$RID-$a")
        printf '%-11s %8s %6s %8s %7s %9s %6s  %-17s %s\n' "$a" "$w" "$r" "$rss" "$cpu" \
            "${VERIFIED[$RID-$a]:--}" "${CONNS[$RID-$a]:--}" "${RESULT[$RID-$a]:-not run}" "$(describe "$a")"
    done
}

printf 'timestamp\tcase\tk\tapproach\tresult\twall_s\tratio_vs_pghaul\tpeak_rss_mib\ttool_cpu_s\tverified\tpghaul_conns\tjobs\tshape\ttables_per_db\tsource_bytes\tsrc_fsync\ttgt_fsync\tcommand\twalls\tswitches\n' >"$TSV"
write_tsv_rows() { # rid source_bytes
    local a w r rss cpu
    RID=$1
    for a in "${APPROACHES[@]}"; do
        read -r w r rss cpu < <(figures "$RID-$a")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$STAMP" "$ROUND_CASE" "$NPAIRS" "$a" \
            "${RESULT[$RID-$a]}" "$w" "$r" "$rss" "$cpu" "${VERIFIED[$RID-$a]:--}" "${CONNS[$RID-$a]:--}" "$JOBS" \
            "$([ "$ROUND_CASE" = tiny ] && echo tiny || echo "$SHAPE")" "${SRC_TABLES[${PAIR_SRC[1]}]}" "$2" \
            "$SRC_FSYNC" "$TGT_FSYNC" "$(describe "$a")" "${WALLS[$RID-$a]:--}" "${SWITCHES[$RID-$a]:--}" >>"$TSV"
    done
}

# ---------------------------------------------------------------- run
CASE_LABEL=()
for c in "${CASES[@]}"; do
    case "$c" in
        fleet) for k in "${KS[@]}"; do run_round fleet "$k"; CASE_LABEL+=("fleet K=$k"); done ;;
        *) run_round "$c" 1; CASE_LABEL+=("$c") ;;
    esac
done

echo
echo "==================== summary ($(date +%F\ %T), fsync sources=$SRC_FSYNC target=$TGT_FSYNC, pgcopydb $([ "$HAVE_PGCOPYDB" = 1 ] && pgcopydb --version 2>/dev/null | awk '/^pgcopydb version/ { print $3 }' || echo 'not installed'))"
if has_approach pghaul; then echo "pghaul:      $PGHAUL_GIVEN"; fi
if has_approach pghaul_base; then echo "pghaul_base: $PGHAUL_BASE_GIVEN"; fi
cat "$TABLES_OUT"
echo
[ "$REPEAT" = 1 ] || echo "each approach ran $REPEAT times per round, interleaved; wall s and CPU s are the runs' medians, RSS their peak (every wall: the TSV's walls)"
echo "ratio = approach wall / pghaul wall (>1: pghaul is faster); RSS = peak of any one tool process;"
echo "CPU s = the tools' user+sys CPU summed (not the servers'); conns = pghaul's report .profile.connections.opened or .profile.reconnects"
printf 'time: sources %s s' "$GEN_S"
for ((i = 0; i < ${#ROUND_S[@]}; i++)); do printf ', %s %s s' "${CASE_LABEL[i]}" "${ROUND_S[i]}"; done
echo
echo "results: ${TSV#"$ROOT"/}"

for key in "${!RESULT[@]}"; do
    case "${RESULT[$key]}" in OK | SKIPPED*) ;; *) exit 1 ;; esac
done
