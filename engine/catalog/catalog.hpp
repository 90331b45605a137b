// What pghaul needs to know about a source database, read once inside the
// exported snapshot: tables (leaf partitions are the unit of data), columns,
// sizes, sequences, large objects and the roles objects reference.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/pg/connection.hpp"
#include "protocol/name_pattern.hpp"

namespace pghaul::engine {

struct table_info {
    std::uint32_t oid = 0;
    std::string schema;
    std::string name;
    std::vector<std::string> columns;  // stored, non-dropped, non-generated, in attnum order
    std::int64_t bytes = 0;            // heap + TOAST (pg_table_size)
    std::int64_t estimated_rows = 0;   // reltuples
    int index_count = 0;
    std::int64_t pages = 0;  // heap pages (the ctid space to split)
    // Same-table parallelism: heap page ranges [first, end) copied by several
    // connections in the same snapshot; empty: the table is one unit. The last
    // range is open-ended (end = -1).
    struct page_range {
        std::int64_t first = 0;
        std::int64_t end = -1;
    };
    std::vector<page_range> parts;
    // reg* columns travel as raw OIDs, some types lack binary I/O, and old
    // targets reject foreign type OIDs inside arrays/composites: such tables go
    // through text format.
    std::string text_reason;  // empty: binary
    // A partitioned table whose leaves load through it (see
    // leaves_loaded_via_root): one unit, read and written as the whole tree.
    bool via_root = false;
    // For PostgreSQL 18+ targets (read_statistics): the source's planner
    // statistics as a list of pg_restore_*_stats() calls, each returning
    // whether it applied cleanly. Empty: the table is analyzed instead.
    std::string statistics;
    // Created with its indexes and constraints, but no rows copied
    // (source_config::exclude_table_data).
    bool data_excluded = false;
    // Row-level security applies to the source login here (enabled, and the
    // login neither owns the table without FORCE nor has BYPASSRLS): with
    // row_security off, reading it fails; with it on, rows would be missing.
    bool row_security_applies = false;
    bool unlogged = false;
    bool binary() const { return text_reason.empty(); }
    std::string qualified() const;  // quoted schema.name
    std::string display() const;    // schema.name as users type it, quoted where needed
    std::string rows_of() const;    // what holds the unit's rows: ONLY schema.name, or the tree
};

struct sequence_value {
    std::string schema;
    std::string name;
    std::int64_t last_value = 0;
    bool is_called = false;
};

struct database_info {
    std::string name;
    std::string owner;
    std::string encoding;
    std::string collate;
    std::string ctype;
    std::string locale_provider;  // "libc" or "icu"
    std::string icu_locale;
    std::int64_t bytes = 0;
};

struct source_catalog {
    int server_version = 0;
    // A standby (pg_is_in_recovery): its unlogged tables have no rows to read.
    bool standby = false;
    database_info database;
    std::vector<table_info> tables;
    std::vector<sequence_value> sequences;
    std::vector<std::uint32_t> large_objects;
    // Those the source login may not read (not a superuser, owner or
    // grantee; pg_read_all_data does not cover large objects): their copy,
    // at the end, would fail.
    std::vector<std::uint32_t> unreadable_large_objects;
    std::vector<std::string> owner_roles;  // roles that own objects
    std::vector<std::string> grant_roles;  // roles named in grants and default privileges
    // Role memberships (role, member) touching the roles above, to recreate them.
    std::vector<std::pair<std::string, std::string>> memberships;
    std::vector<std::pair<std::string, std::string>> extensions;  // name, version (plpgsql aside)
    // "name on event" of each event trigger an extension does not own: only a
    // superuser may create one, and pg_dump's DDL creates them last, after the data.
    std::vector<std::string> event_triggers;
    // The ICU collator version (empty without ICU) and the indexes whose order
    // follows an ICU collation: another ICU version may order them otherwise.
    std::string icu_version;
    std::vector<std::string> icu_indexes;
    std::vector<std::string> public_create_grantees;  // roles granted CREATE on schema public
    bool public_owned_by_bootstrap = false;           // a pre-15 source's public schema, as initdb left it
    // Tables another session rewrote (TRUNCATE, VACUUM FULL, CLUSTER, ALTER
    // TABLE … TYPE) after the snapshot was taken but before lock_tables got
    // them: the snapshot sees such a table's new file as empty, so copying it
    // would load nothing and look complete. Filled only when read_catalog
    // locks; when not empty the rest of the catalog is not read.
    std::vector<std::string> rewritten_after_snapshot;
    // (schema, index name) and (schema, "table constraint") -> table oid, to
    // bind pg_dump's post-data entries to the table they belong to.
    std::map<std::pair<std::string, std::string>, std::uint32_t> index_owner;
    struct constraint_info {
        std::uint32_t table = 0;
        // For non-deferrable PRIMARY KEY/UNIQUE: the unique index to build on its
        // own and the statement that then turns it into the constraint.
        std::string index_def;
        std::string add_using_index;
    };
    std::map<std::pair<std::string, std::string>, constraint_info> constraint_owner;
    // Validated foreign keys declared on a table itself (not inherited from a
    // partitioned parent), by the same key: added NOT VALID and validated on
    // their own once both tables are loaded (see schema_plan::foreign_keys).
    struct foreign_key_info {
        std::uint32_t table = 0, referenced = 0;
        std::string validate;  // ALTER TABLE ONLY ... VALIDATE CONSTRAINT ...
    };
    std::map<std::pair<std::string, std::string>, foreign_key_info> foreign_keys;
    // Validated CHECK constraints that call a user-defined function, on the
    // tables copied: the function may read another table, which the load
    // order leaves empty when this one loads (pg_restore fails the same way).
    // They are dropped once the schema is made and added again, validating,
    // after every table is loaded (see build_schema_plan).
    struct deferred_check {
        std::uint32_t table = 0;
        std::string schema, name;  // the table's schema; "table constraint", as pg_dump's tags
        std::string drop, add;
    };
    std::vector<deferred_check> deferred_checks;
    // (schema, role): a role that owns something in a schema (not public)
    // without CREATE there. Only a superuser can give it such an object, so a
    // target login that is not one grants CREATE for the load and takes it
    // back with the other grants (see build_schema_plan).
    std::vector<std::pair<std::string, std::string>> owners_without_create;
    // Left out whole by the copy's relation_filter (-T, -N): relations as
    // users write them, "view public.v", and schemas, "schema scratch".
    std::vector<std::string> excluded;
    // The same by name, for pg_dump: relations outside the left-out schemas
    // (schema, name), and the schemas.
    std::vector<std::pair<std::string, std::string>> excluded_relations;
    std::vector<std::string> excluded_schemas;
    // What stays but needs something left out, "constraint keep_a_fkey on
    // public.keep needs public.audit": pg_dump would write it and the target
    // would refuse it halfway through the schema.
    std::vector<std::string> excluded_dependents;

    // The tables' bytes the copy reads (heap + TOAST; data_excluded tables
    // have none to read): the dry run's plan and the order sources start in.
    std::int64_t data_bytes() const {
        std::int64_t sum = 0;
        for (const auto& t : tables)
            if (!t.data_excluded) sum += t.bytes;
        return sum;
    }
};

// How long to wait for table locks another session holds (see lock_tables).
struct lock_wait {
    std::chrono::seconds timeout{0};
    std::function<void(const std::string&)> waiting;
};

// Reads the catalog on a connection inside the snapshot transaction; the
// target's version decides which column types can travel in binary. With
// `lock`, the tables are locked (lock_tables) as soon as they are listed,
// before anything that opens them, and checked for rewrites the snapshot
// cannot see (source_catalog::rewritten_after_snapshot). What `exclude`
// matches is neither read nor locked (the login may not be allowed to).
source_catalog read_catalog(pg::connection& conn, int target_version, const lock_wait* lock = nullptr,
                            const relation_filter& exclude = {});

// A relation as (schema, name).
using relation_name = std::pair<std::string, std::string>;

// What `filter` leaves out among the database's relations (tables, views,
// materialized views, sequences, foreign tables), with their oids and kind
// words ("table", "view", ...). A sequence owned by a table that comes (a
// serial or identity column's) comes too unless -T or -N names it: with -t
// orders, orders_id_seq comes along, as in pg_dump.
struct left_out_relation {
    std::uint32_t oid = 0;
    relation_name name;
    std::string kind;
};
struct left_out_set {
    std::vector<left_out_relation> relations;
    std::vector<std::string> schemas;    // left out whole
    std::vector<std::string> unmatched;  // "--table x" / "--schema y": a choice that matches nothing
};
left_out_set left_out_relations(pg::connection& conn, const relation_filter& filter);

// For the copy: the left-out relations and schemas into cat.excluded*, and
// what would stay but needs them into cat.excluded_dependents. A choice
// that matches nothing is a preflight error.
void read_exclusions(pg::connection& conn, source_catalog& cat, const relation_filter& exclude,
                     const left_out_set& left_out);

// Fills table_info::statistics where the source's statistics can stand in
// for an ANALYZE on the target (see statistics.cpp for which).
void read_statistics(pg::connection& conn, source_catalog& cat);

// Leaf partitions whose rows may belong to another partition on the target:
// under a HASH-partitioned ancestor whose key hashes by something one server
// does not share with another (an enum's OIDs, a non-deterministic
// collation's ICU sort keys; key expressions, conservatively). pg_dump 16+
// loads such leaves through the root for the same reason. Maps each leaf to
// the topmost such ancestor.
std::map<std::uint32_t, std::uint32_t> leaves_loaded_via_root(pg::connection& conn);

// Splits tables larger than `threshold` bytes (heap + TOAST) into parts of
// about `part_size` bytes by ctid page range (PG14+: TID range scans).
void plan_splits(source_catalog& cat, std::int64_t threshold, std::int64_t part_size);

// Takes ACCESS SHARE locks on every table, as pg_dump does, so concurrent DDL
// waits for the copy instead of breaking it. While another session holds a
// table in ACCESS EXCLUSIVE mode, `waiting` hears every 10 s which table and
// who holds it; after `timeout` (0: no limit) the source fails (exit 4).
void lock_tables(pg::connection& conn, const source_catalog& cat, std::chrono::seconds timeout,
                 const std::function<void(const std::string&)>& waiting);

}  // namespace pghaul::engine
