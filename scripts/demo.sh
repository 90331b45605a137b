#!/usr/bin/env bash
# The demo, from a fresh machine: installs dependencies, builds, starts local
# sandbox servers (two sources, one consolidated target), fills each source with
# a database and consolidates both onto the target under new names with
# `pghaul copy`, then shows the result.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release
scripts/pg-sandbox.sh start >/dev/null
eval "$(scripts/pg-sandbox.sh env)"
pghaul=build/release/cli/pghaul
export PGOPTIONS='-c client_min_messages=warning'  # keep psql's NOTICEs out of the demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "sources: source_database_a on srca (every hard case), source_database_b on srcb (pgbench)"
psql -X -q "$PGHAUL_SRC_A_SUPER" -c "DROP DATABASE IF EXISTS source_database_a WITH (FORCE)" -c "CREATE DATABASE source_database_a"
psql -X -q -v ON_ERROR_STOP=1 "$PGHAUL_SRC_A_SUPER dbname=source_database_a" -f tests/integration/sql/rich_source.sql >/dev/null
psql -X -q "$PGHAUL_SRC_B_SUPER" -c "DROP DATABASE IF EXISTS source_database_b WITH (FORCE)" -c "CREATE DATABASE source_database_b"
pgbench -q -i -s 5 --foreign-keys -d "$PGHAUL_SRC_B_SUPER dbname=source_database_b" 2>/dev/null

say "target prep a DBA would do on a managed server: the owning roles exist, the login (not a superuser) is a member"
psql -X -q -v ON_ERROR_STOP=1 "$PGHAUL_TGT_SUPER" <<'SQL'
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_owner') THEN CREATE ROLE fx_owner NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_reader') THEN CREATE ROLE fx_reader NOLOGIN; END IF;
END$$;
GRANT fx_owner TO haul_admin;
SQL

say "plan (dry run)"
plan=$($pghaul copy --source "$PGHAUL_SRC_A dbname=source_database_a" --target "$PGHAUL_TGT dbname=app_db_a" --dry-run --on-existing replace)
echo "$plan" | head -12

say "pghaul copy source_database_a -> app_db_a"
$pghaul copy --source "$PGHAUL_SRC_A dbname=source_database_a" --target "$PGHAUL_TGT dbname=app_db_a" \
    --jobs 2 --on-existing replace

say "pghaul copy source_database_b -> app_db_b (objects owned by the target login: --no-owner)"
$pghaul copy --source "$PGHAUL_SRC_B dbname=source_database_b" --target "$PGHAUL_TGT dbname=app_db_b" \
    --jobs 2 --on-existing replace --no-owner

say "the consolidated target"
psql -X "$PGHAUL_TGT_SUPER" -c "SELECT datname, pg_size_pretty(pg_database_size(datname)) AS size,
    pg_get_userbyid(datdba) AS owner, shobj_description(oid, 'pg_database') AS comment
    FROM pg_database WHERE datname LIKE 'app_db_%' ORDER BY 1"
# Row counts of every table, source vs target, as a DBA would check by hand.
counts() { # conninfo
    psql -X -Atq "$1" -c "SELECT format('SELECT %L, count(*) FROM ONLY %I.%I;', n.nspname || '.' || c.relname, n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" |
        psql -X -Atq "$1" -F ' ' 2>&1
}
for db in a b; do
    src_var=PGHAUL_SRC_$(echo $db | tr a-z A-Z)_SUPER
    a=$(counts "${!src_var} dbname=source_database_$db")
    b=$(counts "$PGHAUL_TGT_SUPER dbname=app_db_$db")
    if [ "$a" = "$b" ]; then
        echo "source_database_$db vs app_db_$db: row counts identical in all $(echo "$a" | wc -l) tables"
    else
        echo "source_database_$db vs app_db_$db: row counts DIFFER"; diff <(echo "$a") <(echo "$b"); exit 1
    fi
done
say "done: the sandbox keeps running (scripts/pg-sandbox.sh stop to remove it)"
