// Schema DDL comes from pg_dump (it always matches the server version): the
// pre-data and post-data sections, taken in the copy's snapshot, split into
// what runs before the data, what runs per table once its data has landed, what
// runs at the end, and what belongs to the database itself.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/catalog/catalog.hpp"
#include "engine/catalog/pg_dump.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/dump_script.hpp"

namespace pghaul::engine {

struct schema_plan {
    std::string preamble;              // session settings for every connection that runs DDL
    std::vector<dump_entry> pre_data;  // types, tables, functions, ... (in order)
    std::vector<dump_entry> database;  // ALTER DATABASE SET, COMMENT/GRANT ON DATABASE (renamed)
    // Per table oid, built once its data has landed: indexes (each may build on
    // its own connection, concurrently), then what needs them all (PK/UNIQUE
    // constraints attached USING INDEX, exclusion and deferrable constraints).
    struct table_post_data {
        std::vector<dump_entry> indexes;
        std::vector<dump_entry> after;
    };
    std::map<std::uint32_t, table_post_data> per_table;
    // Foreign keys between two loaded tables, each run once both are indexed:
    // ADD ... NOT VALID (a moment's SHARE ROW EXCLUSIVE on both tables), then
    // VALIDATE (which takes weaker locks, so several validate side by side,
    // also against the same referenced table, while other tables still copy).
    struct foreign_key {
        dump_entry add;       // pg_dump's ADD CONSTRAINT with NOT VALID appended
        dump_entry validate;  // ALTER TABLE ... VALIDATE CONSTRAINT
        std::uint32_t table = 0, referenced = 0;
    };
    std::vector<foreign_key> foreign_keys;
    std::vector<dump_entry> post_data;  // everything else after the data, in pg_dump's order
    std::vector<dump_entry> acl;        // grants and default privileges, applied last
};

// Sorts pg_dump's entries (the pre-data and post-data sections as SQL text)
// into the copy's steps, binding post-data to the tables it belongs to. Pure.
// `target_db` is the new database name database-level statements are
// rewritten to.
schema_plan build_schema_plan(const std::string& pre_data_sql, const std::string& post_data_sql,
                              const source_catalog& cat, const std::string& target_db);

// Removes only the GRANT and REVOKE statements naming one of `roles` as
// grantee (roles the target lacks, with missing_roles = "owner"): the other
// roles' grants stay. Pure.
void drop_grants_to(schema_plan& plan, const std::set<std::string>& roles);

// Opens a target connection ready to run pg_dump's DDL.
pg::connection open_ddl_connection(const conninfo& target, const std::string& preamble,
                                   std::string_view role);

// Runs one pg_dump entry, naming it in any error.
// An entry as the log names it: "TABLE public.t", and for what pg_dump tags
// "table object" (constraints, triggers, policies, rules) "FK CONSTRAINT
// t_parent_fkey on public.t" rather than the tag quoted as one name.
std::string entry_display(const dump_entry& e);
// The same without the type: "t_parent_fkey on public.t", "public.orders_pkey".
std::string entry_object(const dump_entry& e);

void run_entry(pg::connection& conn, const dump_entry& e);

// Runs entries in one transaction and one round trip (each separate commit
// would cost the target a WAL flush). If the batch fails, it runs them again
// one at a time in a new transaction, so the error names the entry that fails
// (and a transient failure costs one retry, not the copy). A lost
// connection is thrown as it is. `what` names the batch.
void run_entries(pg::connection& conn, const std::vector<const dump_entry*>& entries, std::string_view what);

// The same inside a transaction the caller holds open: the entries go in one
// round trip under a savepoint; if they fail, the savepoint is rolled back
// and they run one at a time so the error names the entry.
void run_entries_in_transaction(pg::connection& conn, const std::vector<const dump_entry*>& entries,
                                std::string_view what);

// Replaces the source database's name in database-level statements.
std::string rename_database_in(std::string sql, const std::string& from, const std::string& to);

}  // namespace pghaul::engine
