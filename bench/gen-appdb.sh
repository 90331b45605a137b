#!/usr/bin/env bash
# Generate a small *application* database, the everyday non-production case:
# dozens of tables, most of them tiny, with the keys, indexes, constraints,
# views and functions a real application schema has. Deterministic: the same
# arguments give the same schema and the same rows.
#
#   bench/gen-appdb.sh DBNAME [--shape app|tiny|wide] [--tables N] [--size-mb M] [--seed S]
#                      [--conninfo C --super C] [--reuse] [--print-sql]
#
#   --shape app   (default) N tables (default 34) in 1-3 schemas, from empty to a
#                 few MB, skewed (many tiny, a few bigger), about M MB in all
#                 (default 5); int/bigint/text/varchar/timestamptz/numeric/bool/
#                 jsonb/uuid/enum columns; serial or identity PKs on most tables
#                 (else a natural key, or none); 0-3 secondary indexes each
#                 (multi-column, partial, unique, expression, GIN); foreign keys
#                 to earlier tables; CHECK constraints; sequences used as column
#                 defaults; a few views, comments, two functions and a trigger.
#                 About 3 indexes + constraints per table.
#   --shape tiny  N tables (default 2000) of about 20 rows: serial PK, one index
#   --shape wide  N tables (default 12) of 8-16 columns with long text and jsonb,
#                 all of them sizable, about M MB in all (default 50)
#   --size-mb M   target MB (10^6 bytes) of tables + indexes; not for tiny.
#                 An empty database adds about 7.5 MB of catalog on top.
#   --seed S      0..999999999 (default 1): another seed, another schema and data
#   --conninfo C  server conninfo of the login that will own the database
#                 (default $PGHAUL_SRC_A); its dbname is ignored
#   --super C     superuser conninfo for DROP/CREATE DATABASE (default $PGHAUL_SRC_A_SUPER)
#   --reuse       leave DBNAME alone when its comment says it was made with the
#                 same shape, tables, size, seed and generator version
#   --print-sql   print the generation script and exit; touches no server
#
# DBNAME is dropped (WITH FORCE) and created from template0, owned by the
# login; one generated SQL script then fills it through one psql session,
# all rows made by the server (INSERT ... SELECT FROM generate_series), every
# value a function of the row number and the seed (hashint8, md5). Parents are
# created and filled before their children, and FK columns only hold existing
# keys. It ends with VACUUM ANALYZE, prints what it made, and records it as the
# database comment: "pghaul bench: gen-appdb.sh v1 shape=.. tables=.. [size_mb=..]
# seed=.. | made: ..." (the part before " | " is what --reuse compares).
# Connections default to `scripts/pg-sandbox.sh env` (srca).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BENCH_PROG=gen-appdb
# shellcheck source=lib.sh
. "$HERE/lib.sh"
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

# Bump when the generated schema or data change, so --reuse regenerates.
GEN_VERSION=v1

# ---------------------------------------------------------------- arguments
DB=
SHAPE=app
NT=
SIZE_MB=
SEED=1
CONN=
SUPER=
REUSE=0
PRINT_SQL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --shape) SHAPE=${2:?--shape needs a value}; shift 2 ;;
        --tables) NT=${2:?--tables needs a value}; shift 2 ;;
        --size-mb) SIZE_MB=${2:?--size-mb needs a value}; shift 2 ;;
        --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
        --conninfo) CONN=${2:?--conninfo needs a value}; shift 2 ;;
        --super) SUPER=${2:?--super needs a value}; shift 2 ;;
        --reuse) REUSE=1; shift ;;
        --print-sql) PRINT_SQL=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; die "unknown argument '$1'" ;;
        *) [ -z "$DB" ] || die "one DBNAME only (got '$DB' and '$1')"; DB=$1; shift ;;
    esac
done
[ -n "$DB" ] || { usage >&2; die "DBNAME missing"; }
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || die "DBNAME must be a plain lower-case identifier, got '$DB'"
case "$DB" in postgres | template0 | template1) die "refusing to overwrite database '$DB'" ;; esac
case "$SHAPE" in
    app) : "${NT:=34}" "${SIZE_MB:=5}" ;;
    wide) : "${NT:=12}" "${SIZE_MB:=50}" ;;
    tiny) : "${NT:=2000}"; [ -z "$SIZE_MB" ] || die "--size-mb does not apply to --shape tiny (about 20 rows a table)" ;;
    *) die "--shape must be app, tiny or wide, got '$SHAPE'" ;;
esac
[[ "$NT" =~ ^[1-9][0-9]{0,5}$ ]] || die "--tables must be a positive integer, got '$NT'"
[[ "$SEED" =~ ^[0-9]{1,9}$ ]] || die "--seed must be an integer 0..999999999, got '$SEED'"
if [ "$SHAPE" != tiny ]; then
    [[ "$SIZE_MB" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--size-mb must be a number, got '$SIZE_MB'"
    # Normalised (5 and 5.0 are the same database) for the marker.
    SIZE_MB=$(awk -v s="$SIZE_MB" 'BEGIN { printf "%g", s }')
fi

MARK="pghaul bench: gen-appdb.sh $GEN_VERSION shape=$SHAPE tables=$NT"
[ "$SHAPE" = tiny ] || MARK="$MARK size_mb=$SIZE_MB"
MARK="$MARK seed=$SEED"

# ---------------------------------------------------------------- random numbers
# xorshift32, seeded from --seed: bash arithmetic only, so the plan (names,
# columns, indexes, row counts) is the same on every machine and bash version.
# rnd N sets R to 0..N-1 (no subshell: $(...) would lose the state).
RS=0
R=0
seed_rng() { # seed
    RS=$(((($1 + 1) * 2654435761 + 40503) & 0xffffffff))
    [ "$RS" != 0 ] || RS=1
    local i
    for i in 1 2 3 4 5 6 7 8; do rnd 2; done
}
rnd() { # n
    RS=$((RS ^ ((RS << 13) & 0xffffffff)))
    RS=$((RS ^ (RS >> 17)))
    RS=$((RS ^ ((RS << 5) & 0xffffffff)))
    R=$((RS % $1))
}
# Weighted choice from "name:weight ..."; sets P.
P=
pick() { # "a:3 b:1 ..."
    local item total=0
    for item in $1; do total=$((total + ${item#*:})); done
    rnd "$total"
    for item in $1; do
        R=$((R - ${item#*:}))
        if [ "$R" -lt 0 ]; then P=${item%%:*}; return; fi
    done
}
# A per-column salt: row g of that column is a function of g + salt, so two
# columns (or two tables) never get the same sequence of values.
salt() { rnd 1000000; R=$(((R + 1) * 4294967311)); }

# ---------------------------------------------------------------- SQL building blocks
# Helpers live in pg_temp: they vanish with the generating session, so the
# database holds only the application's own objects.
#   h(x)      a well-mixed 0 .. 2^32-1 from x (hashint8 is stable: hash partitioning uses it)
#   w(x)      one word of a 64-word list
#   ws(x, n)  n words
sql_prelude() {
    cat <<'SQL'
\set ON_ERROR_STOP on
-- Generation speed only: nothing here is measured.
SET synchronous_commit = off;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.h(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT hashint8($1)::bigint + 2147483648 $$;
CREATE FUNCTION pg_temp.w(bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (string_to_array('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod '
        'tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud '
        'exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in '
        'reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat '
        'cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum at vero', ' '))
        [1 + (pg_temp.h($1) % 64)::int] $$;
CREATE FUNCTION pg_temp.ws(bigint, integer) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT string_agg(pg_temp.w($1 * 131 + i), ' ' ORDER BY i) FROM generate_series(1, $2) AS i $$;
SQL
}

# Column kinds. kind KIND SALT sets, for that kind: KT its SQL type, KW its
# estimated on-disk width, KN its pool of column names, KD a default a real
# schema would have (the generator always supplies the values), KE the value
# of row g (an SQL expression over g and the column's salt). Globals, not
# output: a $(...) costs a fork, and forks are slow on small VMs.
kind() { # kind salt
    local s=$2 h="pg_temp.h(g + $2)"
    KD=''
    case "$1" in
        qty) KT=integer KW=4 KN='quantity stock attempts position score' KD=' DEFAULT 0'
            KE="($h % 1000)::int" ;;
        priority) KT=integer KW=4 KN='priority level rank'
            KE="($h % 5)::int" ;;
        ext_id) KT=bigint KW=8 KN='external_id size_bytes view_count'
            KE="$h * 1000 + g % 1000" ;;
        title) KT=text KW=30 KN='title label summary subject'
            KE="initcap(pg_temp.ws(g + $s, 2 + ($h % 4)::int))" ;;
        note) KT=text KW=30 KN='note description remarks'
            KE="pg_temp.ws(g + $s, 3 + ($h % 5)::int)" ;;
        token) KT=text KW=33 KN='token_hash checksum etag'
            KE="md5((g + $s)::text)" ;;
        body) KT=text KW=190 KN='body content details'
            KE="pg_temp.ws(g + $s, 20 + ($h % 20)::int)" ;;
        name) KT='varchar(80)' KW=15 KN='name display_name city company'
            KE="initcap(pg_temp.w(g + $s)) || ' ' || initcap(pg_temp.w(g + $s + 1))" ;;
        email) KT='varchar(120)' KW=28 KN='email contact_email billing_email'
            KE="pg_temp.w(g + $s) || '.' || g || '@example.com'" ;; # unique
        code) KT='varchar(32)' KW=15 KN='code sku reference'
            KE="upper(substr(md5((g + $s)::text), 1, 6)) || '-' || g" ;; # unique
        ts) KT=timestamptz KW=8 KN='due_at last_seen_at published_at expires_at closed_at'
            KE="timestamptz '2021-01-01 00:00:00+00' + ($h % 94608000) * interval '1 second'" ;;
        amount) KT='numeric(12,2)' KW=8 KN='amount price balance total weight_kg'
            KE="round(($h % 10000000) / 100.0, 2)" ;;
        flag) KT=boolean KW=1 KN='is_active archived verified is_public' KD=' DEFAULT false'
            KE="$h % 4 <> 0" ;;
        meta) KT=jsonb KW=110 KN='metadata payload settings attributes'
            KE="jsonb_build_object('source', pg_temp.w(g + $s), 'score', $h % 1000, 'v', 1 + $h % 3, 'tags', jsonb_build_array(pg_temp.w(g + $s + 1), pg_temp.w(g + $s + 2)))" ;;
        pubid) KT=uuid KW=16 KN='public_id external_uuid' KD=' DEFAULT gen_random_uuid()'
            KE="md5((g + $s)::text || 'u')::uuid" ;; # unique
        status) KT=$ENUM_T KW=4 KN='status state' KD=" DEFAULT 'new'"
            KE="(ARRAY['new', 'active', 'active', 'active', 'suspended', 'closed']::${ENUM_T}[])[1 + ($h % 6)::int]" ;;
    esac
}

# ---------------------------------------------------------------- the plan (app, wide)
APP_NAMES=(accounts users organizations teams memberships projects tasks comments attachments
    tags task_tags customers addresses categories products product_prices orders order_items
    invoices invoice_lines payments refunds warehouses stock_levels suppliers shipments
    sessions api_keys notifications webhooks subscriptions plans audit_log feature_flags
    email_templates settings events imports exports reports)
WIDE_NAMES=(documents events messages measurements transactions page_views log_entries
    snapshots readings search_docs activities tickets articles reviews contracts)

singular() { # accounts -> account, categories -> category, addresses -> address; sets SG
    case "$1" in
        *ies) SG="${1%ies}y" ;;
        *sses) SG="${1%es}" ;;
        *s) SG="${1%s}" ;;
        *) SG="$1" ;;
    esac
}

# Per table i: name, schema, PK kind and type, columns, FKs, indexes, checks.
declare -a T_NAME T_SCHEMA T_Q T_PK T_PKTYPE T_PKCOL T_COLS T_FKS T_IDX T_CHECKS T_SEQ T_RB T_NIDX T_CLASS T_W T_ROWS T_UPD
USED=' '
# A column name of the kind not yet used in this table.
col_name() { # kind -> sets CN
    local n
    kind "$1" 0
    for n in $KN; do
        if [[ "$USED" != *" $n "* ]]; then CN=$n; USED="$USED$n "; return; fi
    done
    n=${KN%% *}
    local j=2
    while [[ "$USED" == *" ${n}_$j "* ]]; do j=$((j + 1)); done
    CN=${n}_$j; USED="$USED$CN "
}

plan_table() { # i
    local i=$1 ncols c kind nfk p fkcol
    local -a names
    if [ "$SHAPE" = wide ]; then names=("${WIDE_NAMES[@]}"); else names=("${APP_NAMES[@]}"); fi
    T_NAME[i]=${names[i % ${#names[@]}]}
    [ "$i" -lt "${#names[@]}" ] || T_NAME[i]=${T_NAME[i]}_$((i / ${#names[@]} + 1))
    T_SCHEMA[i]=${SCHEMAS[i % ${#SCHEMAS[@]}]}
    T_Q[i]=${T_SCHEMA[i]}.${T_NAME[i]}
    USED=' '

    # Primary key: the first table is a root everyone may reference.
    if [ "$i" = 0 ]; then P=serial; else pick "serial:30 bigserial:12 ident_d:20 ident_a:14 natural:14 none:10"; fi
    T_PK[i]=$P
    case "$P" in
        serial | ident_a) T_PKTYPE[i]=integer; T_PKCOL[i]=id ;;
        bigserial | ident_d) T_PKTYPE[i]=bigint; T_PKCOL[i]=id ;;
        natural) T_PKTYPE[i]=''; T_PKCOL[i]=handle ;;
        none) T_PKTYPE[i]=''; T_PKCOL[i]='' ;;
    esac
    USED="$USED${T_PKCOL[i]} "
    local rb=28 nidx=0
    case "$P" in serial | ident_a) rb=$((rb + 4)) ;; bigserial | ident_d) rb=$((rb + 8)) ;; natural) rb=$((rb + 15)) ;; esac
    [ "$P" = none ] || nidx=1

    # Foreign keys: 0-2 parents among the earlier tables with an integer key.
    T_FKS[i]=''
    nfk=0
    if [ "$i" -ge 2 ]; then
        if [ "$SHAPE" = wide ]; then pick "0:60 1:40"; else pick "0:40 1:45 2:15"; fi
        nfk=$P
    fi
    local tries=0
    while [ "$nfk" -gt 0 ] && [ "$tries" -lt 20 ]; do
        tries=$((tries + 1))
        rnd "$i"; p=$R
        [ -n "${T_PKTYPE[p]}" ] || continue
        [[ " ${T_FKS[i]} " != *" $p:"* ]] || continue
        singular "${T_NAME[p]}"; fkcol=${SG}_id
        [[ "$USED" != *" $fkcol "* ]] || continue
        USED="$USED$fkcol "
        rnd 100; local nullable=0 ondel=''
        [ "$R" -lt 25 ] && nullable=1
        rnd 3; [ "$R" = 0 ] && { if [ "$nullable" = 1 ]; then ondel=' ON DELETE SET NULL'; else ondel=' ON DELETE CASCADE'; fi; }
        salt
        # p:column:nullable:salt:on-delete (on-delete has spaces: last, as _)
        T_FKS[i]="${T_FKS[i]} $p:$fkcol:$nullable:$R:${ondel// /_}"
        rb=$((rb + 8))
        nfk=$((nfk - 1))
    done

    # Ordinary columns: "name:kind:nullable:salt" per line.
    T_COLS[i]=''
    T_UPD[i]=0
    rnd 100
    if [ "$R" -lt 75 ]; then
        salt; T_COLS[i]+="created_at:ts:0:$R"$'\n'; USED="${USED}created_at "; rb=$((rb + 8))
        rnd 100
        if [ "$R" -lt 40 ]; then salt; T_COLS[i]+="updated_at:upd:0:$R"$'\n'; USED="${USED}updated_at "; rb=$((rb + 8)); T_UPD[i]=1; fi
    fi
    if [ "$SHAPE" = wide ]; then rnd 9; ncols=$((8 + R)); else rnd 6; ncols=$((2 + R)); fi
    for ((c = 0; c < ncols; c++)); do
        if [ "$SHAPE" = wide ]; then
            pick "body:10 meta:8 title:6 note:6 name:4 amount:4 ts:4 qty:4 ext_id:3 token:3 flag:2 status:2 pubid:2 code:1 email:1 priority:1"
        else
            pick "qty:8 priority:4 ext_id:4 title:8 note:6 token:3 body:1 name:8 email:3 code:4 ts:6 amount:6 flag:6 meta:4 pubid:3 status:6"
        fi
        kind=$P
        col_name "$kind"
        local nul=0
        case "$kind" in note | ts | meta | amount | ext_id | body) rnd 2; nul=$R ;; esac
        salt
        T_COLS[i]+="$CN:$kind:$nul:$R"$'\n'
        kind "$kind" 0
        rb=$((rb + KW))
    done

    # A sequence used as a column default, on about one table in ten.
    T_SEQ[i]=''
    rnd 10
    if [ "$R" = 0 ] && [[ "$USED" != *" ref_no "* ]]; then T_SEQ[i]=ref_no; rb=$((rb + 8)); fi

    # Secondary indexes: candidates from what the table has, then 0-3 of them.
    local -a cands=()
    local line cn ck cnul created='' status='' flag='' firstfk=''
    local f
    for f in ${T_FKS[i]}; do
        IFS=: read -r p fkcol _ _ _ <<<"$f"
        [ -n "$firstfk" ] || firstfk=$fkcol
        cands+=("INDEX|($fkcol)|")
    done
    while IFS=: read -r cn ck cnul _; do
        [ -n "$cn" ] || continue
        case "$ck" in
            ts) if [ "$cn" = created_at ]; then created=$cn; fi
                [ "$cnul" = 1 ] && cands+=("INDEX|($cn)|$cn IS NOT NULL") ;;
            status) status=$cn ;;
            flag) flag=$cn ;;
            email | code | pubid) cands+=("UNIQUE|($cn)|" "CONSTRAINT|($cn)|") ;;
            name) cands+=("INDEX|(lower($cn))|") ;;
            meta) cands+=("INDEX|USING gin ($cn jsonb_path_ops)|") ;;
            qty | amount | priority) cands+=("INDEX|($cn)|") ;;
        esac
        if [ "$ck" = code ] && [ -n "$firstfk" ]; then cands+=("UNIQUE|($firstfk, $cn)|"); fi
    done <<<"${T_COLS[i]}"
    [ -n "$created" ] && [ -n "$firstfk" ] && cands+=("INDEX|($firstfk, $created DESC)|")
    [ -n "$created" ] && [ -n "$status" ] && cands+=("INDEX|($status, $created)|" "INDEX|($created)|$status = 'active'")
    [ -n "$flag" ] && [ -n "$firstfk" ] && cands+=("INDEX|($firstfk)|$flag")
    [ -n "$created" ] && cands+=("INDEX|($created)|")
    [ -n "${T_SEQ[i]}" ] && cands+=("UNIQUE|(ref_no)|")
    local nsec
    if [ "$SHAPE" = wide ]; then pick "0:30 1:50 2:20"; else pick "0:30 1:45 2:20 3:5"; fi
    nsec=$P
    T_IDX[i]=''
    while [ "$nsec" -gt 0 ] && [ "${#cands[@]}" -gt 0 ]; do
        rnd "${#cands[@]}"
        T_IDX[i]+="${cands[R]}"$'\n'
        nidx=$((nidx + 1))
        # No index twice (a unique index and a unique constraint on one column count as twice).
        local what=${cands[R]#*|}; what=${what%%|*}
        local -a keep=()
        for line in "${cands[@]}"; do
            local w2=${line#*|}; w2=${w2%%|*}
            [ "$w2" = "$what" ] || keep+=("$line")
        done
        cands=("${keep[@]+"${keep[@]}"}")
        nsec=$((nsec - 1))
    done

    # CHECK constraints: the data satisfies them by construction.
    local -a checks=()
    while IFS=: read -r cn ck _ _; do
        case "$ck" in
            qty | amount) checks+=("$cn >= 0") ;;
            priority) checks+=("$cn BETWEEN 0 AND 4") ;;
            code) checks+=("$cn <> ''") ;;
            email) checks+=("$cn LIKE '%@%'") ;;
            upd) checks+=("updated_at >= created_at") ;;
        esac
    done <<<"${T_COLS[i]}"
    T_CHECKS[i]=''
    if [ "${#checks[@]}" -gt 0 ]; then
        pick "0:60 1:35 2:5"
        local nc=$P
        while [ "$nc" -gt 0 ] && [ "${#checks[@]}" -gt 0 ]; do
            rnd "${#checks[@]}"
            T_CHECKS[i]+="${checks[R]}"$'\n'
            checks=("${checks[@]:0:R}" "${checks[@]:R+1}")
            nc=$((nc - 1))
        done
    fi

    # Row and index bytes, for sizing: ~32 bytes per index entry (measured).
    T_RB[i]=$((rb + nidx * 32))
    T_NIDX[i]=$nidx
}

# Row counts: a few big tables share what the many small ones leave of the budget.
# A non-empty table takes at least ~48 KB after VACUUM (heap page, free space
# and visibility maps, TOAST table and its index), each index 16 KB.
est_bytes() { # i rows -> sets EB
    local i=$1 n=$2 heap
    if [ "$n" = 0 ]; then EB=$((T_NIDX[i] * 8192 + 8192)); return; fi
    heap=$((n * T_RB[i])); [ "$heap" -ge 49152 ] || heap=49152
    EB=$((heap + T_NIDX[i] * 16384))
}
size_tables() {
    local budget i left wsum=0 nbig=0
    budget=$(awk -v m="$SIZE_MB" 'BEGIN { printf "%.0f", m * 1e6 }')
    left=$budget
    for ((i = 0; i < NT; i++)); do
        if [ "$SHAPE" = wide ]; then
            P=big
        else
            pick "empty:10 tiny:45 small:35 big:10"
            # The first table is a parent of many: never empty.
            [ "$i" != 0 ] || [ "$P" != empty ] || P=tiny
        fi
        T_CLASS[i]=$P
        case "$P" in
            empty) T_ROWS[i]=0 ;;
            tiny) rnd 60; T_ROWS[i]=$((1 + R)) ;;
            small) rnd 700; T_ROWS[i]=$((60 + R)) ;;
            big) nbig=$((nbig + 1)); pick "1:4 2:3 4:2 8:1"; T_W[i]=$P; wsum=$((wsum + P)); T_ROWS[i]=0 ;;
        esac
        if [ "$P" != big ]; then est_bytes "$i" "${T_ROWS[i]}"; left=$((left - EB)); fi
    done
    if [ "$nbig" = 0 ]; then # at least one bigger table
        i=$((NT - 1))
        est_bytes "$i" "${T_ROWS[i]}"; left=$((left + EB))
        T_CLASS[i]=big; T_W[i]=1; wsum=1
    fi
    for ((i = 0; i < NT; i++)); do
        [ "${T_CLASS[i]}" = big ] || continue
        local share=$((left > 0 ? left * T_W[i] / wsum : 0))
        T_ROWS[i]=$(((share - T_NIDX[i] * 16384) / T_RB[i]))
        [ "${T_ROWS[i]}" -ge 200 ] || T_ROWS[i]=200
    done
}

# ---------------------------------------------------------------- the script (app, wide)
# join SEP ITEM... sets J (no fork).
join() {
    local sep=$1 item
    shift
    J=$1
    shift
    for item in "$@"; do J+=$sep$item; done
}

emit_table() { # i
    local i=$1 q f p fkcol nul s ondel cn ck line nn e created_expr=''
    local -a cols=() ins=() vals=()
    q=${T_Q[i]}
    case "${T_PK[i]}" in
        serial) cols+=("id serial PRIMARY KEY") ;;
        bigserial) cols+=("id bigserial PRIMARY KEY") ;;
        ident_d) cols+=("id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY") ;;
        ident_a) cols+=("id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY") ;;
        natural) cols+=("handle varchar(40) PRIMARY KEY") ;;
    esac
    case "${T_PK[i]}" in
        none) ;;
        natural) ins+=(handle); vals+=("pg_temp.w(g + $(((i + 1) * 7919))) || '-' || g") ;;
        *) ins+=(id); vals+=(g) ;;
    esac
    for f in ${T_FKS[i]}; do
        IFS=: read -r p fkcol nul s ondel <<<"$f"
        # An empty parent: the column can only be NULL.
        [ "${T_ROWS[p]}" -gt 0 ] || nul=2
        nn=''; [ "$nul" != 0 ] || nn=' NOT NULL'
        cols+=("$fkcol ${T_PKTYPE[p]}$nn")
        ins+=("$fkcol")
        case "$nul" in
            0) vals+=("(1 + pg_temp.h(g + $s) % ${T_ROWS[p]})::${T_PKTYPE[p]}") ;;
            1) vals+=("CASE WHEN (g + $s) % 10 = 0 THEN NULL ELSE (1 + pg_temp.h(g + $s) % ${T_ROWS[p]})::${T_PKTYPE[p]} END") ;;
            2) vals+=("NULL::${T_PKTYPE[p]}") ;;
        esac
    done
    if [ -n "${T_SEQ[i]}" ]; then
        cols+=("ref_no bigint NOT NULL DEFAULT nextval('${q}_ref_no_seq')") # filled by its default
    fi
    while IFS=: read -r cn ck nul s; do
        [ -n "$cn" ] || continue
        if [ "$ck" = upd ]; then
            cols+=("updated_at timestamptz NOT NULL DEFAULT now()")
            e="$created_expr + (pg_temp.h(g + $s) % 2592000) * interval '1 second'"
        else
            kind "$ck" "$s"
            if [ "$cn" = created_at ]; then
                cols+=("created_at timestamptz NOT NULL DEFAULT now()")
                created_expr="($KE)"
            else
                nn=''; [ "$nul" != 0 ] || nn=' NOT NULL'
                cols+=("$cn $KT$nn$KD")
            fi
            e=$KE
            [ "$nul" = 0 ] || e="CASE WHEN (g + $s) % 7 = 0 THEN NULL ELSE $e END"
        fi
        ins+=("$cn"); vals+=("$e")
    done <<<"${T_COLS[i]}"
    while IFS= read -r line; do
        [ -z "$line" ] || cols+=("CHECK ($line)")
    done <<<"${T_CHECKS[i]}"

    printf '\n-- %s: %s, %d rows\n' "$q" "${T_CLASS[i]}" "${T_ROWS[i]}"
    [ -z "${T_SEQ[i]}" ] || printf 'CREATE SEQUENCE %s_ref_no_seq START 1000;\n' "$q"
    join $',\n    ' "${cols[@]}"
    printf 'CREATE TABLE %s (\n    %s\n);\n' "$q" "$J"
    if [ "${T_ROWS[i]}" -gt 0 ]; then
        local over='' cl
        [ "${T_PK[i]}" != ident_a ] || over=' OVERRIDING SYSTEM VALUE'
        join ', ' "${ins[@]}"; cl=$J
        join $',\n       ' "${vals[@]}"
        printf 'INSERT INTO %s (%s)%s\nSELECT %s\nFROM generate_series(1, %d) AS s(g);\n' "$q" "$cl" "$over" "$J" "${T_ROWS[i]}"
        case "${T_PK[i]}" in
            serial | bigserial | ident_d | ident_a)
                printf "SELECT setval(pg_get_serial_sequence('%s', 'id'), %d);\n" "$q" "${T_ROWS[i]}" ;;
        esac
    fi
    # Foreign keys after the load: one validating scan instead of a check per row.
    for f in ${T_FKS[i]}; do
        IFS=: read -r p fkcol nul s ondel <<<"$f"
        printf 'ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES %s (id)%s;\n' "$q" "$fkcol" "${T_Q[p]}" "${ondel//_/ }"
    done
    local kind what pred
    while IFS='|' read -r kind what pred; do
        [ -n "$kind" ] || continue
        case "$kind" in
            INDEX) [ -z "$pred" ] || pred=" WHERE $pred"
                printf 'CREATE INDEX ON %s %s%s;\n' "$q" "$what" "$pred" ;;
            UNIQUE) printf 'CREATE UNIQUE INDEX ON %s %s;\n' "$q" "$what" ;;
            CONSTRAINT) printf 'ALTER TABLE %s ADD UNIQUE %s;\n' "$q" "$what" ;;
        esac
    done <<<"${T_IDX[i]}"
    rnd 3
    if [ "$R" = 0 ]; then
        singular "${T_NAME[i]}"
        printf "COMMENT ON TABLE %s IS '%s records of the application (bench/gen-appdb.sh)';\n" "$q" "${SG//_/ }"
        [[ "${T_COLS[i]}" != *created_at:* ]] ||
            printf "COMMENT ON COLUMN %s.created_at IS 'when the row was inserted (UTC)';\n" "$q"
    fi
}

emit_app() {
    local i s s0=${SCHEMAS[0]}
    sql_prelude
    for s in "${SCHEMAS[@]:1}"; do echo "CREATE SCHEMA $s;"; done
    printf '%s\n' "CREATE TYPE $ENUM_T AS ENUM ('new', 'active', 'suspended', 'closed');" \
        "-- The application's own functions: one for views, one for triggers." \
        "CREATE FUNCTION $s0.label(text, bigint) RETURNS text LANGUAGE sql IMMUTABLE" \
        "    AS \$\$ SELECT coalesce(\$1, '?') || ' #' || \$2 \$\$;" \
        "CREATE FUNCTION $s0.touch_updated_at() RETURNS trigger LANGUAGE plpgsql" \
        "    AS \$\$ BEGIN NEW.updated_at := now(); RETURN NEW; END \$\$;"
    for ((i = 0; i < NT; i++)); do emit_table "$i"; done

    # Views: joins along some foreign keys, counts per parent, and one that
    # calls the label function.
    echo
    local nv=$((1 + NT / 12)) f p fkcol ccol pcol first ps
    for ((i = 0; i < NT && nv > 0; i++)); do
        [ -n "${T_FKS[i]}" ] || continue
        f=${T_FKS[i]# }; f=${f%% *}
        IFS=: read -r p fkcol _ _ _ <<<"$f"
        singular "${T_NAME[p]}"; ps=$SG
        first=${T_COLS[p]%%$'\n'*}; pcol=${first%%:*}; [ -n "$pcol" ] || pcol=id
        ccol=${T_PKCOL[i]}; [ -n "$ccol" ] || { first=${T_COLS[i]%%$'\n'*}; ccol=${first%%:*}; }
        [ -n "$ccol" ] || ccol=$fkcol
        if [ $((nv % 2)) = 0 ]; then
            echo "CREATE VIEW ${T_SCHEMA[i]}.${T_NAME[i]}_per_$ps AS SELECT $fkcol, count(*) AS n FROM ${T_Q[i]} GROUP BY $fkcol;"
        else
            echo "CREATE VIEW ${T_SCHEMA[i]}.${T_NAME[i]}_with_$ps AS"
            echo "    SELECT c.$ccol, c.$fkcol, p.$pcol AS ${ps}_$pcol FROM ${T_Q[i]} c JOIN ${T_Q[p]} p ON p.id = c.$fkcol;"
        fi
        nv=$((nv - 1))
    done
    local cn ck tcol
    for ((i = 0; i < NT; i++)); do
        [ -n "${T_PKTYPE[i]}" ] || continue
        tcol=''
        while IFS=: read -r cn ck _; do
            case "$ck" in title | name | note | code) tcol=$cn; break ;; esac
        done <<<"${T_COLS[i]}"
        [ -n "$tcol" ] || continue
        echo "CREATE VIEW ${T_SCHEMA[i]}.${T_NAME[i]}_labels AS SELECT id, $s0.label($tcol, id) AS label FROM ${T_Q[i]};"
        break
    done
    # The trigger function on up to two tables with updated_at.
    local nt=2
    for ((i = 0; i < NT && nt > 0; i++)); do
        [ "${T_UPD[i]}" = 1 ] || continue
        echo "CREATE TRIGGER ${T_NAME[i]}_touch BEFORE UPDATE ON ${T_Q[i]} FOR EACH ROW EXECUTE FUNCTION $s0.touch_updated_at();"
        nt=$((nt - 1))
    done
    echo "VACUUM ANALYZE;"
}

# ---------------------------------------------------------------- tiny
# N tables of 16-24 rows (20 on average), a serial PK and one index each.
# Grouped 50 tables to a transaction: fewer commits, and few enough locks
# for the default max_locks_per_transaction.
emit_tiny() {
    local i t n s
    sql_prelude
    for ((i = 1; i <= NT; i++)); do
        printf -v t 'public.t_%05d' "$i"
        n=$((16 + (i * 7 + SEED) % 9))
        salt; s=$R
        [ $(((i - 1) % 50)) != 0 ] || echo "BEGIN;"
        printf '%s\n' \
            "CREATE TABLE $t (id serial PRIMARY KEY, name text NOT NULL, val integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now());" \
            "INSERT INTO $t (id, name, val, created_at) SELECT g, pg_temp.w(g + $s) || ' ' || g, (pg_temp.h(g + $s) % 1000)::int," \
            "    timestamptz '2021-01-01 00:00:00+00' + (pg_temp.h(g + $s + 1) % 94608000) * interval '1 second' FROM generate_series(1, $n) AS s(g);" \
            "SELECT setval('${t}_id_seq', $n);" \
            "CREATE INDEX ON $t (val);"
        [ $((i % 50)) != 0 ] && [ "$i" != "$NT" ] || echo "COMMIT;"
    done
    echo "VACUUM ANALYZE;"
}

# ---------------------------------------------------------------- generate
make_sql() {
    seed_rng "$SEED"
    if [ "$SHAPE" = tiny ]; then emit_tiny; return; fi
    local nsch
    if [ "$SHAPE" = wide ]; then rnd 2; else rnd 3; fi
    nsch=$((1 + R))
    SCHEMAS=(public app billing)
    SCHEMAS=("${SCHEMAS[@]:0:nsch}")
    ENUM_T=${SCHEMAS[0]}.entity_status
    local i
    for ((i = 0; i < NT; i++)); do plan_table "$i"; done
    size_tables
    emit_app
}

if [ "$PRINT_SQL" = 1 ]; then
    make_sql
    exit 0
fi

if [ -z "$CONN" ] || [ -z "$SUPER" ]; then load_sandbox_env PGHAUL_SRC_A PGHAUL_SRC_A_SUPER; fi
CONN=${CONN:-$PGHAUL_SRC_A}
SUPER=${SUPER:-$PGHAUL_SRC_A_SUPER}
require_tools psql awk
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

have=$(psql_val "$SUPER" "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB'")
if [ "$REUSE" = 1 ] && [ "${have%% | *}" = "$MARK" ]; then
    log "$DB: reusing (${have#* | })"
    exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pghaul-gen-appdb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
t0=$(now)
make_sql >"$WORK/gen.sql"
owner=$(psql_val "$CONN" "SELECT current_user")
psql -X -q -v ON_ERROR_STOP=1 -d "$SUPER" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$DB\" OWNER \"$owner\" TEMPLATE template0"
log "$DB: generating (shape $SHAPE, $NT tables$([ "$SHAPE" = tiny ] || echo ", ~$SIZE_MB MB"), seed $SEED)"
if ! psql -X -q -v ON_ERROR_STOP=1 -d "$CONN dbname=$DB" -f "$WORK/gen.sql" >"$WORK/gen.out" 2>&1; then
    cp "$WORK/gen.sql" "${TMPDIR:-/tmp}/gen-appdb-$DB.sql"
    tail -n 20 "$WORK/gen.out" >&2
    die "generation failed; the script is in ${TMPDIR:-/tmp}/gen-appdb-$DB.sql"
fi

# What it made, for the log and the database comment.
made=$(psql_val "$CONN dbname=$DB" "
WITH ns AS (SELECT oid FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp)'),
     t AS (SELECT oid FROM pg_class WHERE relkind = 'r' AND relnamespace IN (SELECT oid FROM ns))
SELECT format('%s tables in %s schemas, %s rows, %s indexes, %s constraints (%s p, %s u, %s f, %s c), %s sequences, %s views, %s MB of tables and indexes',
    (SELECT count(*) FROM t),
    (SELECT count(DISTINCT relnamespace) FROM pg_class WHERE oid IN (SELECT oid FROM t)),
    (SELECT sum(reltuples)::bigint FROM pg_class WHERE oid IN (SELECT oid FROM t)),
    (SELECT count(*) FROM pg_index WHERE indrelid IN (SELECT oid FROM t)),
    (SELECT count(*) FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t)),
    (SELECT count(*) FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t) AND contype = 'p'),
    (SELECT count(*) FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t) AND contype = 'u'),
    (SELECT count(*) FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t) AND contype = 'f'),
    (SELECT count(*) FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t) AND contype = 'c'),
    (SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relnamespace IN (SELECT oid FROM ns)),
    (SELECT count(*) FROM pg_class WHERE relkind = 'v' AND relnamespace IN (SELECT oid FROM ns)),
    round((SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM t) / 1e6, 1))")
psql -X -q -v ON_ERROR_STOP=1 -d "$SUPER" -c "COMMENT ON DATABASE \"$DB\" IS '$MARK | made: $made'"
log "$DB: $made; pg_database_size $(psql_val "$CONN dbname=$DB" "SELECT round(pg_database_size(current_database()) / 1e6, 1)") MB; $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
