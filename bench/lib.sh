# shellcheck shell=bash
# Helpers shared by the bench scripts (compare.sh, consolidate.sh). Source it
# after setting BENCH_PROG (the name in messages) and, for timed /
# collect_times, WORK (the script's work dir):
#
#   BENCH_PROG=compare; . "$HERE/lib.sh"
#
# Nothing here runs at source time except defining functions and constants.

die() { echo "${BENCH_PROG:-bench}: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
now() { date +%s.%N; }

# Load the sandbox's connection strings unless every named variable is set.
load_sandbox_env() { # var...
    local v missing=0
    for v in "$@"; do [ -n "${!v:-}" ] || missing=1; done
    [ "$missing" = 0 ] && return 0
    local env_out
    env_out=$("$ROOT/scripts/pg-sandbox.sh" env) ||
        die "sandbox not running and $* not all set (run: scripts/pg-sandbox.sh start)"
    eval "$env_out"
}

require_tools() { # tool...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install postgresql-client)"
    done
}

psql_val() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# ---------------------------------------------------------------- timing
# GNU time (package `time`) gives %M (peak RSS) for a process and its waited-for
# children, which covers pg_dump/pg_restore -j worker processes. bash's `time`
# keyword cannot do that. Each .time file ends with "wall_s rss_kib user_s sys_s".
TIME_BIN=/usr/bin/time
TIME_FMT='%e %M %U %S'
require_gnu_time() {
    "$TIME_BIN" -f '%M' -o /dev/null true 2>/dev/null || die "GNU time not found at $TIME_BIN (apt-get install time)"
}

# Run one tool process under GNU time; its figures go to $WORK/<key>.<part>.time.
timed() { # key part cmd...
    local k=$1 part=$2; shift 2
    "$TIME_BIN" -f "$TIME_FMT" -o "$WORK/$k.$part.time" "$@"
}

# Fold the GNU time files of one key: max RSS, summed CPU. The figures are the
# file's last line (GNU time prepends "Command exited with non-zero status").
collect_times() { # key -> "rss_kib cpu_s"
    local f rss=0 cpu=0 line
    for f in "$WORK/$1".*.time; do
        [ -f "$f" ] || continue
        line=$(tail -n 1 "$f")
        read -r rss cpu < <(awk -v r="$rss" -v c="$cpu" -v l="$line" \
            'BEGIN { split(l, a, " "); if (a[2] > r) r = a[2]; printf "%d %.2f\n", r, c + a[3] + a[4] }')
    done
    echo "$rss $cpu"
}

# Level the field: CHECKPOINT on every given server (superuser conninfos;
# empty ones are skipped), then the OS syncs.
settle() { # super_conninfo...
    local s
    for s in "$@"; do
        if [ -n "$s" ]; then psql -X -q -v ON_ERROR_STOP=1 -d "$s" -c CHECKPOINT; fi
    done
    sync
}

# ---------------------------------------------------------------- verification
# Leaf tables (relkind 'r': plain tables and leaf partitions) outside system
# schemas, as a VALUES list for count_sql.
leaf_tables_values() { # conninfo
    psql_val "$1" "
    SELECT string_agg(format('(%L)', format('%I.%I', n.nspname, c.relname)), ',' ORDER BY n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp)'"
}

# One query per side: the row count of each listed table, -1 when the table
# does not exist (query_to_xml runs the dynamic count inside plain SQL).
count_sql() { # values-list
    cat <<SQL
SELECT t.name || E'\t' || CASE WHEN to_regclass(t.name) IS NULL THEN -1
       ELSE (xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM ' || t.name, false, true, '')))[1]::text::bigint END
FROM (VALUES $1) AS t(name) ORDER BY 1
SQL
}

# Object counts that a copy must reproduce: a fast copy without its indexes
# or foreign keys is not a copy.
# shellcheck disable=SC2034  # used by the scripts that source this file
SCHEMA_SQL="
WITH ns AS (SELECT oid FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp)')
SELECT 'indexes' || E'\t' || count(*) FROM pg_class WHERE relkind IN ('i', 'I') AND relnamespace IN (SELECT oid FROM ns)
UNION ALL SELECT 'sequences' || E'\t' || count(*) FROM pg_class WHERE relkind = 'S' AND relnamespace IN (SELECT oid FROM ns)
UNION ALL SELECT 'constraints ' || t || E'\t' || count(c.oid)
  FROM unnest(ARRAY['p', 'u', 'f', 'c', 'x']) AS t
  LEFT JOIN pg_constraint c ON c.contype::text = t AND c.connamespace IN (SELECT oid FROM ns)
  GROUP BY t
ORDER BY 1"

# Compare a target database with what the source held: every table's row
# count and the object counts. The source side was read before into
# SRC_COUNTS / SRC_SCHEMA (count_sql / SCHEMA_SQL output); the target side is
# written to OUT.counts / OUT.schema. Prints a MISMATCH line per difference,
# an OK line per match when SHOW_OK is 1, and a summary line; returns 1 on
# any difference or when the target cannot be read (details in LOGFILE).
verify_copy() { # tables_values src_counts src_schema target_conninfo out_prefix show_ok logfile
    local tables=$1 scounts=$2 sschema=$3 tconn=$4 out=$5 show_ok=$6 logf=$7
    local ok=0 name sc tc ntables=0 nbad=0
    psql_val "$tconn" "$(count_sql "$tables")" >"$out.counts" 2>>"$logf" || { echo "  cannot count rows on target (see log)"; return 1; }
    psql_val "$tconn" "$SCHEMA_SQL" >"$out.schema" 2>>"$logf" || { echo "  cannot read target catalog (see log)"; return 1; }
    while IFS=$'\t' read -r name sc; do
        ntables=$((ntables + 1))
        tc=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$out.counts")
        if [ "$sc" = "$tc" ]; then
            [ "$show_ok" = 1 ] && printf '  OK        %-40s %12s rows\n' "$name" "$sc"
        else
            nbad=$((nbad + 1)); ok=1
            [ "$tc" = -1 ] && tc=missing
            printf '  MISMATCH  %-40s source %s, target %s\n' "$name" "$sc" "${tc:-?}"
        fi
    done <"$scounts"
    while IFS=$'\t' read -r name sc; do
        tc=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$out.schema")
        if [ "$sc" = "$tc" ]; then
            [ "$show_ok" = 1 ] && printf '  OK        %-40s %12s\n' "$name" "$sc"
        else
            ok=1; printf '  MISMATCH  %-40s source %s, target %s\n' "$name" "$sc" "${tc:-?}"
        fi
    done <"$sschema"
    echo "  $((ntables - nbad))/$ntables tables with equal row counts"
    return "$ok"
}

# ---------------------------------------------------------------- server CPU
# The postmaster PID of a server running on this machine: the parent of its
# checkpointer. Needs a superuser (or pg_read_all_stats) conninfo: for other
# logins pg_stat_activity hides backend_type. Empty when it cannot be found
# here (remote server, no privilege, /proc not readable).
postmaster_pid() { # conninfo
    local cp pm
    cp=$(psql_val "$1" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" 2>/dev/null) || return 0
    [ -n "$cp" ] && [ -r "/proc/$cp/stat" ] || return 0
    # A PID from a remote server may exist here too: check it is a checkpointer.
    tr '\0' ' ' <"/proc/$cp/cmdline" 2>/dev/null | grep -q checkpointer || return 0
    pm=$(sed 's/^.*) //' "/proc/$cp/stat" | awk '{ print $2 }')
    [ -r "/proc/$pm/stat" ] && echo "$pm"
}

# CPU clock ticks (utime+stime+cutime+cstime) of each given process tree:
# every live descendant, plus what reaped children left in cutime/cstime, so
# backends that exited since the last reading still count. `-` for an empty
# or vanished root. One line, one figure per argument.
tree_cpu_ticks() { # pid...
    python3 - "$@" <<'PY'
import os, sys
procs = {}
for d in os.listdir('/proc'):
    if not d.isdigit():
        continue
    try:
        with open('/proc/%s/stat' % d) as f:
            s = f.read()
    except OSError:
        continue
    f = s[s.rindex(')') + 2:].split()  # f[0] = state, f[1] = ppid, f[11:15] = u/s/cu/cs time
    procs[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
children = {}
for pid, (ppid, _) in procs.items():
    children.setdefault(ppid, []).append(pid)
out = []
for root in sys.argv[1:]:
    if not root.isdigit() or int(root) not in procs:
        out.append('-')
        continue
    total, stack = 0, [int(root)]
    while stack:
        p = stack.pop()
        total += procs[p][1]
        stack.extend(children.get(p, []))
    out.append(str(total))
print(' '.join(out))
PY
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Seconds between two tree_cpu_ticks figures; `-` when either is `-`.
ticks_diff_s() { # before after
    awk -v a="$1" -v b="$2" -v hz="$CLK_TCK" 'BEGIN {
        if (a == "-" || b == "-" || a == "" || b == "") print "-"; else printf "%.2f\n", (b - a) / hz }'
}

# For a `pghaul agent` on this machine: in DIR, a CA (ca.crt), the agent's
# certificate for AGENT_IP (agent.crt, agent.key) and a migration host's
# (host.crt, host.key), made by openssl; fails when openssl does.
make_link_certs() { # dir agent_ip
    (
        cd "$1" &&
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=pghaul-bench-ca &&
            openssl req -newkey rsa:2048 -nodes -keyout agent.key -out agent.csr -subj /CN=agent &&
            echo "subjectAltName=IP:$2" >agent.ext &&
            openssl x509 -req -in agent.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out agent.crt -days 1 \
                -extfile agent.ext &&
            openssl req -newkey rsa:2048 -nodes -keyout host.key -out host.csr -subj /CN=migration-host &&
            openssl x509 -req -in host.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out host.crt -days 1
    ) >/dev/null 2>&1
}
