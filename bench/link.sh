#!/usr/bin/env bash
# The agent over a slow link (issue 14): in one run, on the same data and the
# same shaped link, pghaul through `pghaul agent` against pghaul direct and
# `pg_dump -Fc | pg_restore` on the target side, at each rate.
#
#   sudo bench/link.sh [--rates "100mbit 1gbit none"] [--size-mb 300] [--pghaul PATH] [--jobs 2]
#                      [--memory-limit 64MB] [--base PATH] [--approaches "agent direct dump"]
#                      [--keep DIR] [--pin-sites]
#
# The "source site" is a network namespace joined by a veth pair shaped with
# tbf on both ends (addresses 198.18.7.1/.2, the benchmarking range; nothing
# leaves this machine). A throwaway PostgreSQL 15 cluster runs inside it with
# bench/gen-appdb.sh's wide shape (long text, jsonb, numerics, timestamps: not
# synthetic repeats), and the agent next to it. The target is the fleet
# bench's sandbox target (started by bench/fleet.sh --keep-sandbox), as its
# non-superuser login. Everything made here is removed at the end (trap).
# Prints wall time, the ratio to the agent's wall, and the link's bytes.
# The agent runs under --memory-limit (its peak RSS is printed beside it).
# --base PATH adds "agent_base": the same copy through another build's agent
# (and its client), for an A/B of the link in the same run. --keep DIR keeps
# each pghaul run's log (with --profile) and JSON report there, and each
# agent's log of its sessions.
# --pin-sites gives each site a core of its own, as two hosts would have:
# the source cluster and the agent on CPU 0; the target cluster, pghaul (with
# its forwarder) and pg_dump | pg_restore on CPU 1. Without it the agent's
# compression and the forwarder's TLS share both cores with three servers.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. bench/lib.sh  # make_link_certs; this script's own log() below writes to stderr

RATES="100mbit 1gbit none" SIZE_MB=300 PGHAUL=${PGHAUL_BIN:-build/release/cli/pghaul} JOBS=2
MEMORY_LIMIT=64MB BASE= APPROACHES= KEEP= PIN=
while [ $# -gt 0 ]; do
    case $1 in
    --rates) RATES=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --pghaul) PGHAUL=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --memory-limit) MEMORY_LIMIT=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --approaches) APPROACHES=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --pin-sites) PIN=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "bench/link.sh: needs root (ip netns, tc)" >&2; exit 2; }
ip netns add pghaul-probe$$ 2>/dev/null && ip netns del pghaul-probe$$ ||
    { echo "bench/link.sh: SKIPPED: ip netns is refused here" >&2; exit 0; }

BIN=/usr/lib/postgresql/15/bin
TGT_DIR=/tmp/pghaul-bench-fleet TGT_PORT=55493
export PGPASSFILE=$TGT_DIR/pgpass
TGT="host=127.0.0.1 port=$TGT_PORT user=haul_admin"
psql "$TGT dbname=postgres" -qAtc "SELECT 1" >/dev/null ||
    { echo "bench/link.sh: start the fleet sandbox first: bench/fleet.sh --keep-sandbox" >&2; exit 2; }

# ON_SRC / ON_TGT prefix what runs at each site (empty: anywhere).
ON_SRC= ON_TGT= TGT_PM=
if [ -n "$PIN" ]; then
    [ "$(nproc)" -ge 2 ] || { echo "bench/link.sh: --pin-sites needs two cores" >&2; exit 2; }
    ON_SRC="taskset -c 0" ON_TGT="taskset -c 1"
    TGT_PM=$(head -1 "$TGT_DIR/tgt/postmaster.pid")
fi
pin_target() {  # cpu list: the target's postmaster and the backends it has now (new ones inherit)
    local pid
    for pid in "$TGT_PM" $(pgrep -P "$TGT_PM"); do taskset -p -c "$1" "$pid" >/dev/null; done
}

W=$(mktemp -d /tmp/pghaul-link.XXXXXX)
chmod 755 "$W"
chown postgres: "$W"  # the source cluster and its socket live here
NS=pghaul-link$$ VA=phl$$a VB=phl$$b SRC_PORT=55481
cp "$PGHAUL" "$W/pghaul"
PGHAUL=$W/pghaul
[ -z "$BASE" ] || { cp "$BASE" "$W/pghaul-base"; BASE=$W/pghaul-base; }
AGENT_PID= BASE_PID=
cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
    [ -n "$BASE_PID" ] && kill "$BASE_PID" 2>/dev/null || true
    su postgres -c "$BIN/pg_ctl -D $W/src -m immediate stop" >/dev/null 2>&1 || true
    psql "$TGT dbname=postgres" -qAtc "DROP DATABASE IF EXISTS link_tgt WITH (FORCE)" >/dev/null 2>&1 || true
    [ -z "$TGT_PM" ] || pin_target "0-$(($(nproc) - 1))" || true
    ip netns del "$NS" 2>/dev/null || true
    ip link del "$VA" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }

ip netns add "$NS"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VB" netns "$NS"
ip addr add 198.18.7.1/24 dev "$VA" && ip link set "$VA" up
ip netns exec "$NS" ip addr add 198.18.7.2/24 dev "$VB"
ip netns exec "$NS" ip link set "$VB" up
ip netns exec "$NS" ip link set lo up
shape() {
    for side in "" "ip netns exec $NS"; do
        dev=$VA; [ -n "$side" ] && dev=$VB
        $side tc qdisc del dev "$dev" root 2>/dev/null || true
        [ "$1" = none ] || $side tc qdisc add dev "$dev" root tbf rate "$1" burst 256kb latency 50ms
    done
}

log "source cluster in the namespace"
su postgres -c "$BIN/initdb -D $W/src -A trust -U postgres" >/dev/null
cat >>"$W/src/pg_hba.conf" <<HBA
host all all 198.18.7.0/24 trust
HBA
$ON_SRC ip netns exec "$NS" su postgres -c "$BIN/pg_ctl -D $W/src -l $W/src.log -w -o \
    '-p $SRC_PORT -k $W -c listen_addresses=127.0.0.1,198.18.7.2 -c shared_buffers=256MB' start" >/dev/null
SRC_LOCAL="host=$W port=$SRC_PORT user=postgres"
bench/gen-appdb.sh linkdb --shape wide --size-mb "$SIZE_MB" --conninfo "$SRC_LOCAL dbname=postgres" \
    --super "$SRC_LOCAL dbname=postgres" >&2
SIZE=$(psql "$SRC_LOCAL dbname=linkdb" -qAtc "SELECT pg_size_pretty(pg_database_size('linkdb'))")
COUNTS_SQL="SELECT string_agg(format('%s=%s', c.oid::regclass, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]), ' ' ORDER BY c.oid::regclass::text) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
WANT=$(psql "$SRC_LOCAL dbname=linkdb" -qAtc "$COUNTS_SQL")

log "certificates and the agent"
make_link_certs "$W" 198.18.7.2 || { echo "bench/link.sh: openssl could not make the certificates" >&2; exit 1; }
start_agent() {  # binary port name
    $ON_SRC ip netns exec "$NS" /usr/bin/time -f "%M" -o "$W/$3.rss" "$1" agent --listen "198.18.7.2:$2" \
        --tls-cert "$W/agent.crt" --tls-key "$W/agent.key" --client-ca "$W/ca.crt" \
        --allow "127.0.0.1:$SRC_PORT" --memory-limit "$MEMORY_LIMIT" 2>"$W/$3.log" &
}
start_agent "$PGHAUL" 7433 agent
AGENT_PID=$!
if [ -n "$BASE" ]; then
    start_agent "$BASE" 7434 agent_base
    BASE_PID=$!
    : "${APPROACHES:=agent agent_base direct dump}"
fi
: "${APPROACHES:=agent direct dump}"
[ -z "$KEEP" ] || mkdir -p "$KEEP"
[ -z "$TGT_PM" ] || pin_target 1
sleep 0.5

drop_target() {  # autovacuum may still be at the last copy, and only a superuser may end it
    local i
    for i in $(seq 60); do
        psql "$TGT dbname=postgres" -qAtc "DROP DATABASE IF EXISTS link_tgt WITH (FORCE)" >/dev/null 2>&1 && return
        sleep 1
    done
    psql "$TGT dbname=postgres" -qAtc "DROP DATABASE IF EXISTS link_tgt WITH (FORCE)" >/dev/null
}
run_one() {  # approach -> "wall wire_bytes"
    drop_target
    local s e wire=-
    s=$(date +%s.%N)
    case $1 in
    agent | agent_base)
        local bin=$PGHAUL port=7433
        [ "$1" = agent ] || bin=$BASE port=7434
        $ON_TGT "$bin" copy --source "host=127.0.0.1 port=$SRC_PORT user=postgres dbname=linkdb" \
            --via "198.18.7.2:$port" --via-ca "$W/ca.crt" --via-cert "$W/host.crt" --via-key "$W/host.key" \
            --target "$TGT dbname=link_tgt" --no-owner --jobs "$JOBS" --progress none \
            --report "$W/report.json" ${KEEP:+--profile} >"$W/run.log" 2>&1
        wire=$(python3 -c "import json; print(json.load(open('$W/report.json'))['links'][0]['received_wire_bytes'])") ;;
    direct)
        $ON_TGT "$PGHAUL" copy --source "host=198.18.7.2 port=$SRC_PORT user=postgres dbname=linkdb" \
            --target "$TGT dbname=link_tgt" --no-owner --jobs "$JOBS" --progress none \
            --report "$W/report.json" ${KEEP:+--profile} >"$W/run.log" 2>&1 ;;
    dump)
        createdb -h 127.0.0.1 -p $TGT_PORT -U haul_admin -T template0 link_tgt &&
            $ON_TGT pg_dump -Fc -h 198.18.7.2 -p $SRC_PORT -U postgres linkdb |
            $ON_TGT pg_restore --no-owner --no-privileges -d "$TGT dbname=link_tgt" >"$W/run.log" 2>&1 ;;
    esac
    e=$(date +%s.%N)
    if [ -n "$KEEP" ]; then
        cp "$W/run.log" "$KEEP/$1-$RATE.log"
        [ ! -f "$W/report.json" ] || mv "$W/report.json" "$KEEP/$1-$RATE.json"
    fi
    local got
    got=$(psql "$TGT dbname=link_tgt" -qAtc "$COUNTS_SQL")
    [ "$got" = "$WANT" ] || {
        log "$1: row counts differ from the source"
        diff <(tr ' ' '\n' <<<"$WANT") <(tr ' ' '\n' <<<"$got") >&2 || true
        exit 1
    }
    echo "$(echo "$e - $s" | bc) $wire"
}

echo
echo "linkdb: bench/gen-appdb.sh --shape wide --size-mb $SIZE_MB ($SIZE database), jobs $JOBS, fsync as the target's${PIN:+, a core per site}"
printf '%-9s %-8s %8s %7s %14s\n' rate approach "wall s" ratio "wire bytes"
for rate in $RATES; do
    shape "$rate"
    RATE=$rate
    declare -A wall=()
    for a in $APPROACHES; do
        log "$rate: $a"
        read -r w wire < <(run_one "$a")
        wall[$a]=$w
        printf '%-9s %-8s %8.2f %7s %14s\n' "$rate" "$a" "$w" \
            "$(echo "scale=2; $w / ${wall[agent]}" | bc)x" "$wire"
    done
done
shape none
echo "ratio = wall / the agent's wall (>1: the agent is faster); wire bytes = the agent link's, received"
pkill -TERM -f "^$PGHAUL agent --listen" || true  # the agents, not the time(1) around them
[ -z "$BASE" ] || pkill -TERM -f "^$BASE agent --listen" || true
for a in agent ${BASE:+agent_base}; do
    for _ in $(seq 50); do [ -s "$W/$a.rss" ] && break; sleep 0.1; done
    echo "$a: peak RSS $(cat "$W/$a.rss" 2>/dev/null || echo '?') kB under --memory-limit $MEMORY_LIMIT;" \
        "$(grep "listening on" "$W/$a.log" | sed 's/.*(zstd/zstd/;s/)$//')"
    grep -c "session ended" "$W/$a.log" | sed "s/^/  sessions logged: /"
    [ -z "$KEEP" ] || cp "$W/$a.log" "$KEEP/$a-sessions.log"  # each session's bytes, ratio and last level
    # The two that carried the most from the server.
    grep "session ended" "$W/$a.log" | sed 's/.*session ended: //' |
        awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "B" && $(i + 2) == "from") print $i "\t" $0 }' |
        sort -n | tail -2 | cut -f2- | sed 's/^/  /' 
done
