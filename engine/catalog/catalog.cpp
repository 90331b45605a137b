// Catalog queries for PostgreSQL 12-18 sources: each query that touches a
// column or function newer than 12 says which version it needs.
#include "engine/catalog/catalog.hpp"

#include "engine/catalog/detail/relations.hpp"
#include "engine/catalog/detail/search_path.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "protocol/sql_quote.hpp"

namespace pghaul::engine {
namespace {

// Who holds (or waits ahead of us for) a lock that conflicts with ACCESS
// SHARE on one of `oids`: only ACCESS EXCLUSIVE does. Never the session's
// query text: it may carry a secret (ALTER ROLE ... PASSWORD) into the log.
std::string lock_holders(pg::connection& conn, const std::vector<std::uint32_t>& oids) {
    std::string list = "{";
    for (auto o : oids) list += (list.size() > 1 ? "," : "") + std::to_string(o);
    list += "}";
    auto r = conn.exec_params(
        "SELECT l.relation::regclass::text, l.pid, l.granted, coalesce(a.usename::text, ''), "
        "coalesce(a.application_name, ''), coalesce(a.state, ''), "
        // clock_timestamp: now() is when this session's (the snapshot's,
        // older than the wait) transaction began.
        "coalesce(extract(epoch FROM clock_timestamp() - a.xact_start)::bigint, 0) "
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid() "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.relation = ANY ($1::oid[]) ORDER BY l.granted DESC LIMIT 3",
        {list}, "finding who holds a lock on a source table");
    std::string out;
    for (int i = 0; i < r.rows(); ++i) {
        if (!out.empty()) out += "; ";
        out += "table " + r.str(i, 0) + (r.str(i, 2) == "t" ? " held" : " awaited") +
               " in ACCESS EXCLUSIVE mode by pid " + r.str(i, 1) + " (user " + r.str(i, 3) +
               ", application \"" + r.str(i, 4) + "\", " + r.str(i, 5) + ", transaction open " + r.str(i, 6) +
               " s)";
    }
    return out.empty() ? "a session that has since let go" : out;
}

// Leaves that must load through their root (leaves_loaded_via_root) become
// one unit per root: its rows read from the root (every leaf in the
// snapshot) and written into it, so the target routes each row; a retry
// empties the whole tree. Post-data bound to a leaf binds to the unit.
void load_via_roots(pg::connection& conn, source_catalog& cat) {
    auto via = leaves_loaded_via_root(conn);
    if (via.empty()) return;
    std::map<std::uint32_t, table_info> units;
    std::vector<table_info> kept;
    for (auto& t : cat.tables) {
        auto it = via.find(t.oid);
        if (it == via.end()) {
            kept.push_back(std::move(t));
            continue;
        }
        auto& u = units[it->second];
        u.bytes += t.bytes;
        u.estimated_rows += t.estimated_rows;
        u.index_count += t.index_count;
        if (u.text_reason.empty()) u.text_reason = t.text_reason;
    }
    for (auto& [oid, u] : units) {
        auto r = conn.exec_params(R"(
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = $1)",
                                  {std::to_string(oid)}, "reading a partitioned table's name");
        u.oid = oid;
        u.schema = r.str(0, 0);
        u.name = r.str(0, 1);
        u.via_root = true;
        auto cols = conn.exec_params(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' ORDER BY attnum",
            {std::to_string(oid)}, "listing a partitioned table's columns");
        for (int i = 0; i < cols.rows(); ++i) u.columns.push_back(cols.str(i, 0));
        kept.push_back(std::move(u));
    }
    std::stable_sort(kept.begin(), kept.end(), [](const table_info& a, const table_info& b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.oid < b.oid;
    });
    cat.tables = std::move(kept);
    auto unit_of = [&](std::uint32_t& table) {
        if (auto it = via.find(table); it != via.end()) table = it->second;
    };
    for (auto& [key, table] : cat.index_owner) unit_of(table);
    for (auto& [key, c] : cat.constraint_owner) {
        // ADD CONSTRAINT ... USING INDEX is refused on a partitioned table:
        // the root's own keys run as pg_dump wrote them.
        if (units.count(c.table)) c.index_def.clear(), c.add_using_index.clear();
        unit_of(c.table);
    }
    for (auto& [key, fk] : cat.foreign_keys) {
        unit_of(fk.table);
        unit_of(fk.referenced);
    }
}

void read_icu(pg::connection& conn, source_catalog& cat) {
    // Index key collations that are ICU: explicit ones, and the default one
    // in an ICU database (15+).
    const std::string default_is_icu =
        conn.server_version() >= 150000
            ? "(SELECT d.datlocprovider = 'i' FROM pg_database d WHERE d.datname = current_database())"
            : "false";
    auto r = conn.exec(R"(
        SELECT coalesce((SELECT pg_collation_actual_version(oid) FROM pg_collation WHERE collname = 'und-x-icu'
                         LIMIT 1), ''),
               format('%I.%I', n.nspname, ic.relname)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
        CROSS JOIN LATERAL unnest(i.indcollation::oid[]) AS k(coll) JOIN pg_collation co ON co.oid = k.coll
        WHERE (co.collprovider = 'i' OR (co.collprovider = 'd' AND )" +
                           default_is_icu + R"()) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%'
        GROUP BY 1, 2 ORDER BY 2)",
                       "finding indexes ordered by ICU collations");
    for (int i = 0; i < r.rows(); ++i) {
        cat.icu_version = r.str(i, 0);
        cat.icu_indexes.push_back(r.str(i, 1));
    }
}

void read_database(pg::connection& conn, source_catalog& cat) {
    // The locale provider is 15+; 17 renamed daticulocale to datlocale and
    // added the builtin provider.
    const int v = conn.server_version();
    std::string sql = std::string(R"(
        SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding),
               d.datcollate, d.datctype, )") +
                      (v >= 170000   ? "CASE d.datlocprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' "
                                       "ELSE 'libc' END, coalesce(d.datlocale, '')"
                       : v >= 150000 ? "CASE d.datlocprovider WHEN 'i' THEN 'icu' ELSE 'libc' END, "
                                       "coalesce(d.daticulocale, '')"
                                     : "'libc', ''") +
                      R"(, pg_database_size(d.oid), pg_is_in_recovery()
        FROM pg_database d WHERE d.datname = current_database())";
    auto r = conn.exec(sql, "reading the source database's properties");
    auto& db = cat.database;
    db.name = r.str(0, 0);
    db.owner = r.str(0, 1);
    db.encoding = r.str(0, 2);
    db.collate = r.str(0, 3);
    db.ctype = r.str(0, 4);
    db.locale_provider = r.str(0, 5);
    db.icu_locale = r.str(0, 6);
    db.bytes = r.i64(0, 7);
    cat.standby = r.boolean(0, 8);
}

// A table's file as this transaction's snapshot saw it (an MVCC read of
// pg_class) against its file now (pg_relation_filenode reads the catalog
// cache, which the lock just brought up to date): they differ when another
// session rewrote the table in between, as pg_dump's documentation warns.
std::vector<std::string> rewritten_since_snapshot(pg::connection& conn, const source_catalog& cat) {
    std::string list;
    for (auto& t : cat.tables) list += (list.empty() ? "" : ",") + std::to_string(t.oid);
    if (list.empty()) return {};
    auto r = conn.exec(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid IN (" +
            list + ") AND c.relfilenode <> pg_catalog.pg_relation_filenode(c.oid) ORDER BY 1",
        "checking source tables for rewrites since the snapshot");
    std::vector<std::string> rewritten;
    for (int i = 0; i < r.rows(); ++i) rewritten.push_back(r.str(i, 0));
    return rewritten;
}

// Returns whether a kept column's type needs decide_formats' walk.
bool read_tables(pg::connection& conn, source_catalog& cat, const lock_wait* lock,
                 const relation_filter& exclude) {
    auto r = conn.exec(std::string(R"(
        SELECT c.oid, n.nspname, c.relname, greatest(c.reltuples, 0)::bigint,
               (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid),
               c.relrowsecurity
                 AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user)
                 AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE')),
               c.relpersistence = 'u'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND )") +
                           detail::user_relation,
                       "listing the source's tables");
    for (int i = 0; i < r.rows(); ++i) {
        if (exclude.excludes(r.str(i, 1), r.str(i, 2))) continue;
        table_info t;
        t.oid = static_cast<std::uint32_t>(r.i64(i, 0));
        t.schema = r.str(i, 1);
        t.name = r.str(i, 2);
        t.estimated_rows = r.i64(i, 3);
        t.index_count = static_cast<int>(r.i64(i, 4));
        t.row_security_applies = r.boolean(i, 5);
        t.unlogged = r.boolean(i, 6);
        cat.tables.push_back(std::move(t));
    }
    // pg_table_size opens each table: a table another session holds in ACCESS
    // EXCLUSIVE mode would stall it silently, so the locks (which say who is
    // in the way) come first.
    if (lock) {
        lock_tables(conn, cat, lock->timeout, lock->waiting);
        cat.rewritten_after_snapshot = rewritten_since_snapshot(conn, cat);
        if (!cat.rewritten_after_snapshot.empty()) return false;
    }
    auto sizes = conn.exec(std::string(R"(
        SELECT c.oid, pg_table_size(c.oid), pg_relation_size(c.oid) / current_setting('block_size')::int
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND )") +
                               detail::user_relation,
                           "sizing the source's tables");
    std::map<std::uint32_t, std::pair<std::int64_t, std::int64_t>> size_of;
    for (int i = 0; i < sizes.rows(); ++i)
        size_of[static_cast<std::uint32_t>(sizes.i64(i, 0))] = {sizes.i64(i, 1), sizes.i64(i, 2)};
    for (auto& t : cat.tables)
        if (auto it = size_of.find(t.oid); it != size_of.end()) std::tie(t.bytes, t.pages) = it->second;
    std::sort(cat.tables.begin(), cat.tables.end(), [](const table_info& a, const table_info& b) {
        return a.bytes != b.bytes ? a.bytes > b.bytes : a.oid < b.oid;
    });
    // Column names come back separately so names with commas, quotes or braces
    // need no array-literal parsing. Each column also says whether its type
    // could fail binary COPY (see decide_formats), judged on the type and an
    // array's element alone: a built-in scalar, an array of one or an enum
    // cannot, and most application schemas have nothing else, so the type
    // walk (a recursive query, 5-20 ms a database) runs only when needed.
    const auto suspect = [](const char* t) {
        return std::string(t) + ".typtype IN ('c', 'd', 'r', 'm') OR " + t + ".typsend = 0 OR " + t +
               ".typreceive = 0 OR (" + t + ".typnamespace = 11 AND " + t +
               ".typname IN ('regclass', 'regtype', 'regproc', 'regprocedure', 'regoper', 'regoperator', "
               "'regconfig', 'regdictionary', 'regnamespace', 'regrole', 'regcollation'))";
    };
    auto cols =
        conn.exec(std::string(R"(
        SELECT a.attrelid, a.attname, )") +
                      suspect("t") + " OR (t.typelem <> 0 AND t.typlen = -1 AND (t.typelem >= 16384 OR " +
                      suspect("e") + R"())
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type e ON e.oid = t.typelem
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND )" +
                      detail::user_relation + " ORDER BY a.attrelid, a.attnum",
                  "listing the source's columns");
    std::map<std::uint32_t, table_info*> by_oid;
    for (auto& t : cat.tables) by_oid[t.oid] = &t;
    bool walk = false;
    for (int i = 0; i < cols.rows(); ++i)
        if (auto it = by_oid.find(static_cast<std::uint32_t>(cols.i64(i, 0))); it != by_oid.end()) {
            it->second->columns.push_back(cols.str(i, 1));
            walk = walk || cols.boolean(i, 2);
        }
    return walk;
}

// Marks tables whose binary COPY would not load faithfully: reg* types (sent
// as raw OIDs that name other objects, or none, on the target), types without
// binary send/receive, and, for targets older than 15, arrays and composites of
// user-defined types (their binary form embeds the source's type OIDs, which
// older servers reject: citus#463, #3969). Measured on 15: enum[], composite
// and composite[] values load from binary across differing OIDs unchanged.
void decide_formats(pg::connection& conn, source_catalog& cat, int target_version) {
    const std::string embedded_oids_rejected = target_version < 150000 ? "true" : "false";
    // Multiranges exist from 14 on; a true array is typelem <> 0 with typlen -1
    // on every version (typsubscript, which says the same, is 14+).
    const std::string multirange_parent =
        conn.server_version() >= 140000
            ? "UNION ALL SELECT r.rngtypid, false FROM pg_range r WHERE r.rngmultitypid = t.oid"
            : "";
    // The walk starts from the distinct column types, not from every column:
    // on a 34-table database it took 35 ms from the columns (and 175 ms when
    // the server chose to JIT-compile it), a few ms from the types.
    auto r = conn.exec(std::string(R"(
        WITH RECURSIVE cols AS (
            SELECT DISTINCT a.attrelid AS rel, a.atttypid AS typ FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND )") +
                           detail::user_relation + R"(
        ), walk(root, typ, inside_container) AS (
            SELECT DISTINCT typ, typ, false FROM cols
          UNION
            SELECT w.root, x.child, x.container FROM walk w JOIN pg_type t ON t.oid = w.typ
            CROSS JOIN LATERAL (
                SELECT t.typelem, true WHERE t.typelem <> 0 AND t.typlen = -1
                UNION ALL SELECT t.typbasetype, false WHERE t.typtype = 'd'
                UNION ALL SELECT r.rngsubtype, false FROM pg_range r WHERE r.rngtypid = t.oid
                )" + multirange_parent +
                           R"(
                UNION ALL SELECT a.atttypid, true FROM pg_attribute a
                    WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
            ) x(child, container)
        ), bad AS (
            SELECT DISTINCT w.root, w.typ FROM walk w JOIN pg_type t ON t.oid = w.typ
            WHERE (w.inside_container AND w.typ >= 16384 AND )" +
                           embedded_oids_rejected + R"()
               OR t.typsend::oid = 0 OR t.typreceive::oid = 0
               OR w.typ IN ('regclass'::regtype, 'regtype'::regtype, 'regproc'::regtype,
                            'regprocedure'::regtype, 'regoper'::regtype, 'regoperator'::regtype,
                            'regconfig'::regtype, 'regdictionary'::regtype, 'regnamespace'::regtype,
                            'regrole'::regtype)
               OR format_type(w.typ, NULL) = 'regcollation'
        )
        SELECT c.rel, string_agg(DISTINCT format_type(b.typ, NULL), ', ')
        FROM cols c JOIN bad b ON b.root = c.typ
        GROUP BY c.rel)",
                       "checking column types for binary COPY");
    std::map<std::uint32_t, std::string> reasons;
    for (int i = 0; i < r.rows(); ++i) reasons[static_cast<std::uint32_t>(r.i64(i, 0))] = r.str(i, 1);
    for (auto& t : cat.tables)
        if (auto it = reasons.find(t.oid); it != reasons.end()) t.text_reason = "column types " + it->second;
}

void read_sequences(pg::connection& conn, source_catalog& cat, const std::set<relation_name>& left_out) {
    auto listed = conn.exec(std::string(R"(
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'S' AND )") +
                                detail::user_relation + " ORDER BY 1, 2",
                            "listing the source's sequences");
    std::vector<relation_name> r;
    for (int i = 0; i < listed.rows(); ++i)
        if (relation_name n{listed.str(i, 0), listed.str(i, 1)}; !left_out.count(n))
            r.push_back(std::move(n));
    // Values are read in batches: one round trip per sequence is slow at 10^4 sequences.
    constexpr std::size_t batch = 200;
    for (std::size_t start = 0; start < r.size(); start += batch) {
        std::string q;
        for (std::size_t i = start; i < std::min(r.size(), start + batch); ++i) {
            if (!q.empty()) q += " UNION ALL ";
            q += "SELECT " + std::to_string(i) + ", last_value, is_called FROM " +
                 sql::qualified(r[i].first, r[i].second);
        }
        auto v = conn.exec(q, "reading sequence values");
        for (int j = 0; j < v.rows(); ++j) {
            auto& [schema, name] = r[static_cast<std::size_t>(v.i64(j, 0))];
            cat.sequences.push_back({schema, name, v.i64(j, 1), v.boolean(j, 2)});
        }
    }
}

void read_post_data_owners(pg::connection& conn, source_catalog& cat) {
    auto idx = conn.exec(R"(
        SELECT n.nspname, ic.relname, i.indrelid FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%')",
                         "listing indexes");
    for (int i = 0; i < idx.rows(); ++i)
        cat.index_owner[{idx.str(i, 0), idx.str(i, 1)}] = static_cast<std::uint32_t>(idx.i64(i, 2));
    auto con = conn.exec(R"(
        SELECT n.nspname, c.relname || ' ' || k.conname, k.conrelid,
               CASE WHEN k.contype IN ('p', 'u') AND NOT k.condeferrable THEN pg_get_indexdef(k.conindid) END,
               k.contype, k.conname, c.relname
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype IN ('p', 'u', 'x') AND n.nspname NOT IN ('pg_catalog', 'information_schema'))",
                         "listing constraints");
    for (int i = 0; i < con.rows(); ++i) {
        source_catalog::constraint_info info;
        info.table = static_cast<std::uint32_t>(con.i64(i, 2));
        if (!con.is_null(i, 3)) {
            info.index_def = con.str(i, 3) + ";";
            info.add_using_index = "ALTER TABLE ONLY " + sql::qualified(con.str(i, 0), con.str(i, 6)) +
                                   " ADD CONSTRAINT " + sql::ident(con.str(i, 5)) +
                                   (con.text(i, 4) == "p" ? " PRIMARY KEY" : " UNIQUE") + " USING INDEX " +
                                   sql::ident(con.str(i, 5)) + ";";
        }
        cat.constraint_owner[{con.str(i, 0), con.str(i, 1)}] = std::move(info);
    }
    auto fks = conn.exec(R"(
        SELECT n.nspname, c.relname || ' ' || k.conname, k.conrelid, k.confrelid, c.relname, k.conname
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'f' AND k.convalidated AND k.conparentid = 0
          AND n.nspname NOT IN ('pg_catalog', 'information_schema'))",
                         "listing foreign keys");
    for (int i = 0; i < fks.rows(); ++i)
        cat.foreign_keys[{fks.str(i, 0), fks.str(i, 1)}] = {
            static_cast<std::uint32_t>(fks.i64(i, 2)), static_cast<std::uint32_t>(fks.i64(i, 3)),
            "ALTER TABLE ONLY " + sql::qualified(fks.str(i, 0), fks.str(i, 4)) + " VALIDATE CONSTRAINT " +
                sql::ident(fks.str(i, 5)) + ";"};
    // Only constraints of the table itself (not inherited, none of its
    // children's merged copies): dropping and adding one on a parent
    // reaches its inheritance children as the source has them.
    // Qualified, to read back under pg_dump's empty search path on the target.
    const std::string checks_sql = R"(
        SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid), k.conrelid
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'c' AND k.convalidated AND k.conislocal AND k.coninhcount = 0
          AND c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_constraint'::regclass
                      AND d.objid = k.oid AND d.refclassid = 'pg_proc'::regclass AND d.refobjid >= 16384)
        ORDER BY 1, 2, 3)";
    auto checks = detail::under_search_path(
        conn, "", [&] { return conn.exec(checks_sql, "listing CHECK constraints that call functions"); });
    for (int i = 0; i < checks.rows(); ++i) {
        const auto table = sql::qualified(checks.str(i, 0), checks.str(i, 1));
        const auto name = sql::ident(checks.str(i, 2));
        cat.deferred_checks.push_back(
            {static_cast<std::uint32_t>(checks.i64(i, 4)), checks.str(i, 0),
             checks.str(i, 1) + " " + checks.str(i, 2),
             "ALTER TABLE " + table + " DROP CONSTRAINT " + name + ";",
             "ALTER TABLE " + table + " ADD CONSTRAINT " + name + " " + checks.str(i, 3) + ";"});
    }
}

// Owners a superuser gave objects to in schemas they may not create in.
void read_owners_without_create(pg::connection& conn, source_catalog& cat) {
    auto r = conn.exec(std::string(R"(
        WITH owned(nsp, owner) AS (
            SELECT c.relnamespace, c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND )") +
                           detail::user_relation + R"(
          UNION SELECT pronamespace, proowner FROM pg_proc WHERE pronamespace <> 'pg_catalog'::regnamespace
          UNION SELECT typnamespace, typowner FROM pg_type
                WHERE typrelid = 0 AND typelem = 0 AND typnamespace <> 'pg_catalog'::regnamespace)
        SELECT DISTINCT n.nspname, pg_get_userbyid(o.owner) FROM owned o JOIN pg_namespace n ON n.oid = o.nsp
        WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
          AND o.owner <> n.nspowner AND NOT has_schema_privilege(o.owner, n.oid, 'CREATE')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.refclassid = 'pg_namespace'::regclass
                          AND d.refobjid = n.oid AND d.deptype = 'e')
        ORDER BY 1, 2)",
                       "listing owners without CREATE on their schemas");
    for (int i = 0; i < r.rows(); ++i) cat.owners_without_create.emplace_back(r.str(i, 0), r.str(i, 1));
}

// Roles that own objects in this database, and roles its grants name. Role
// names starting with pg_ are built in and exist everywhere.
void read_roles(pg::connection& conn, source_catalog& cat) {
    // Before 15, schema public belongs to the bootstrap superuser in every
    // database; on 15+ to pg_database_owner. Such a public is left to the
    // target's default owner (schema_plan drops its ALTER SCHEMA ... OWNER),
    // so a managed target's login need not be a member of a superuser.
    if (conn.server_version() < 150000)
        cat.public_owned_by_bootstrap =
            conn.exec("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public' AND nspowner = 10)",
                      "reading the owner of schema public")
                .boolean(0, 0);
    const std::string sql = std::string(R"(
        WITH objs(owner, acl) AS (
            SELECT c.relowner, c.relacl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
            UNION ALL SELECT CASE WHEN nspname = 'public' AND )") +
                            (cat.public_owned_by_bootstrap ? "true" : "false") +
                            R"( THEN NULL ELSE nspowner END,
                             nspacl FROM pg_namespace
              WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_t%'
            UNION ALL SELECT p.proowner, p.proacl FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                AND d.objid = p.oid AND d.deptype IN ('i', 'e'))
            UNION ALL SELECT t.typowner, t.typacl FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                                AND d.objid = t.oid AND d.deptype IN ('i', 'e'))
            UNION ALL SELECT lomowner, lomacl FROM pg_largeobject_metadata
            UNION ALL SELECT defaclrole, defaclacl FROM pg_default_acl
            UNION ALL SELECT NULL, a.attacl FROM pg_attribute a WHERE a.attacl IS NOT NULL
              AND a.attrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
            UNION ALL SELECT NULL, datacl FROM pg_database WHERE datname = current_database()
        ),
        owners AS (SELECT DISTINCT owner AS r FROM objs WHERE owner IS NOT NULL),
        grants AS (SELECT DISTINCT (aclexplode(acl)).grantee AS r FROM objs WHERE acl IS NOT NULL
                   UNION SELECT setrole FROM pg_db_role_setting
                         WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                           AND setrole <> 0)
        SELECT 'owner', rolname FROM pg_roles WHERE oid IN (SELECT r FROM owners) AND rolname NOT LIKE 'pg\_%'
        UNION ALL
        SELECT 'grant', rolname FROM pg_roles WHERE oid IN (SELECT r FROM grants) AND rolname NOT LIKE 'pg\_%'
        ORDER BY 1, 2)";
    auto r = conn.exec(sql, "listing roles referenced by the source");
    for (int i = 0; i < r.rows(); ++i)
        (r.text(i, 0) == "owner" ? cat.owner_roles : cat.grant_roles).push_back(r.str(i, 1));

    std::vector<std::string> referenced = cat.owner_roles;
    referenced.insert(referenced.end(), cat.grant_roles.begin(), cat.grant_roles.end());
    const std::string array = sql::text_array(referenced);
    auto m = conn.exec_params(R"(
        SELECT r.rolname, m.rolname FROM pg_auth_members am
        JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE (r.rolname = ANY($1::text[]) OR m.rolname = ANY($1::text[]))
          AND r.rolname NOT LIKE 'pg\_%' AND m.rolname NOT LIKE 'pg\_%' ORDER BY 1, 2)",
                              {array}, "listing role memberships");
    for (int i = 0; i < m.rows(); ++i) cat.memberships.emplace_back(m.str(i, 0), m.str(i, 1));
}

}  // namespace

std::string table_info::rows_of() const {
    return (via_root ? "" : "ONLY ") + qualified();
}

std::map<std::uint32_t, std::uint32_t> leaves_loaded_via_root(pg::connection& conn) {
    auto r = conn.exec(R"(
        WITH RECURSIVE up(leaf, anc, depth) AS (
            SELECT i.inhrelid, i.inhparent, 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE c.relkind = 'r' AND c.relispartition
          UNION ALL
            SELECT up.leaf, i.inhparent, up.depth + 1 FROM up JOIN pg_inherits i ON i.inhrelid = up.anc
        ), unstable AS (
            SELECT pt.partrelid FROM pg_partitioned_table pt
            WHERE pt.partstrat = 'h' AND (
                pt.partexprs IS NOT NULL
                OR EXISTS (SELECT FROM unnest(pt.partcollation::oid[]) k(coll) JOIN pg_collation co ON co.oid = k.coll
                           WHERE NOT co.collisdeterministic)
                OR EXISTS (SELECT FROM unnest(pt.partattrs::int2[]) k(attnum)
                           JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
                           JOIN pg_type t ON t.oid = a.atttypid
                           LEFT JOIN pg_type base ON base.oid = t.typbasetype
                           LEFT JOIN pg_type elem ON elem.oid = t.typelem
                           WHERE 'e' IN (t.typtype, base.typtype, elem.typtype)))
        )
        SELECT DISTINCT ON (up.leaf) up.leaf, up.anc FROM up JOIN unstable u ON u.partrelid = up.anc
        ORDER BY up.leaf, up.depth DESC)",
                       "finding partitions whose hash differs between servers");
    std::map<std::uint32_t, std::uint32_t> out;
    for (int i = 0; i < r.rows(); ++i)
        out[static_cast<std::uint32_t>(r.i64(i, 0))] = static_cast<std::uint32_t>(r.i64(i, 1));
    return out;
}

std::string table_info::qualified() const {
    return sql::qualified(schema, name);
}
std::string table_info::display() const {
    return sql::readable_qualified(schema, name);
}

source_catalog read_catalog(pg::connection& conn, int target_version, const lock_wait* lock,
                            const relation_filter& exclude) {
    source_catalog cat;
    cat.server_version = conn.server_version();
    read_database(conn, cat);
    const bool walk_types = read_tables(conn, cat, lock, exclude);
    if (!cat.rewritten_after_snapshot.empty()) return cat;
    if (walk_types) decide_formats(conn, cat, target_version);
    left_out_set left_out;
    if (!exclude.empty()) left_out = left_out_relations(conn, exclude);
    std::set<relation_name> left_out_names;
    for (auto& r : left_out.relations) left_out_names.insert(r.name);
    read_sequences(conn, cat, left_out_names);
    if (!exclude.empty()) read_exclusions(conn, cat, exclude, left_out);
    read_post_data_owners(conn, cat);
    read_roles(conn, cat);
    read_owners_without_create(conn, cat);
    // Extensions and event triggers in one round trip (both are judged against
    // what the target login may create: check_extensions).
    auto ext = conn.exec(R"(
        SELECT true, extname::text, extversion FROM pg_extension WHERE extname <> 'plpgsql'
        UNION ALL
        SELECT false, quote_ident(e.evtname) || ' on ' || e.evtevent, '' FROM pg_event_trigger e
        WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass
                          AND d.objid = e.oid AND d.deptype = 'e')
        ORDER BY 1, 2)",
                         "listing extensions and event triggers");
    for (int i = 0; i < ext.rows(); ++i)
        if (ext.boolean(i, 0))
            cat.extensions.emplace_back(ext.str(i, 1), ext.str(i, 2));
        else
            cat.event_triggers.push_back(ext.str(i, 1));
    auto pub = conn.exec(R"(SELECT a.grantee::regrole::text FROM pg_namespace n, aclexplode(n.nspacl) a
                            WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE' AND a.grantee <> 0
                              AND a.grantee <> n.nspowner)",
                         "reading schema public's grants");
    for (int i = 0; i < pub.rows(); ++i) cat.public_create_grantees.push_back(pub.str(i, 0));
    read_icu(conn, cat);
    load_via_roots(conn, cat);
    if (target_version >= 180000) read_statistics(conn, cat);
    // Whether the login may read each one, as the server decides it (12-16
    // have no has_largeobject_privilege): superuser, lo_compat_privileges,
    // the owner's privileges, or SELECT granted to PUBLIC or a role it has.
    auto lo = conn.exec(R"(
        SELECT l.oid,
               (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
               OR current_setting('lo_compat_privileges')::bool
               OR pg_has_role(current_user, l.lomowner, 'USAGE')
               OR EXISTS (SELECT FROM aclexplode(coalesce(l.lomacl, acldefault('L', l.lomowner))) a
                          WHERE a.privilege_type = 'SELECT'
                            AND CASE WHEN a.grantee = 0 THEN true
                                     ELSE pg_has_role(current_user, a.grantee, 'USAGE') END)
        FROM pg_largeobject_metadata l ORDER BY l.oid)",
                        "listing large objects");
    for (int i = 0; i < lo.rows(); ++i) {
        const auto oid = static_cast<std::uint32_t>(lo.i64(i, 0));
        cat.large_objects.push_back(oid);
        if (!lo.boolean(i, 1)) cat.unreadable_large_objects.push_back(oid);
    }
    return cat;
}

void plan_splits(source_catalog& cat, std::int64_t threshold, std::int64_t part_size) {
    // Before 14 a ctid range is a full scan per part (no TID range scan).
    if (cat.server_version < 140000 || threshold <= 0 || part_size <= 0) return;
    for (auto& t : cat.tables) {
        if (t.bytes <= threshold || t.pages < 2 || t.data_excluded) continue;
        std::int64_t n = std::min<std::int64_t>((t.bytes + part_size - 1) / part_size, t.pages);
        std::int64_t step = (t.pages + n - 1) / n;
        for (std::int64_t first = 0; first < t.pages; first += step)
            t.parts.push_back({first, first + step < t.pages ? first + step : -1});
        if (t.parts.size() < 2) t.parts.clear();
    }
    // Split tables' parts join the largest-first queue by their own size.
}

void lock_tables(pg::connection& conn, const source_catalog& cat, std::chrono::seconds timeout,
                 const std::function<void(const std::string&)>& waiting) {
    using clock = std::chrono::steady_clock;
    // Each attempt waits at most `step` inside a savepoint (a lock timeout
    // must not abort the snapshot's transaction), then says who is in the way.
    constexpr std::chrono::seconds step{10};
    auto lock_batch = [&](const std::string& batch, const std::vector<std::uint32_t>& oids) {
        const auto start = clock::now();
        for (;;) {
            auto left =
                timeout.count() > 0
                    ? std::chrono::duration_cast<std::chrono::milliseconds>(timeout - (clock::now() - start))
                    : std::chrono::milliseconds(step);
            auto wait =
                std::max(std::chrono::milliseconds(1), std::min<std::chrono::milliseconds>(left, step));
            try {
                conn.exec("SAVEPOINT pghaul_lock; SET LOCAL lock_timeout = " + std::to_string(wait.count()) +
                              ";" + batch +
                              "RELEASE SAVEPOINT pghaul_lock; SET LOCAL lock_timeout TO DEFAULT",
                          "locking source tables");
                return;
            } catch (const error& e) {
                // A table the login may not read: found here, before anything is written.
                if (e.sqlstate() == "42501")
                    throw error(
                        exit_code::preflight, e.what(),
                        "GRANT SELECT on it to the source login (or pg_read_all_data, PostgreSQL 14+), "
                        "or leave it out with --exclude-table (exclude_table in a manifest); nothing was "
                        "written",
                        e.sqlstate());
                if (e.sqlstate() != "55P03") throw;
                conn.exec("ROLLBACK TO SAVEPOINT pghaul_lock; RELEASE SAVEPOINT pghaul_lock",
                          "locking source tables");
            }
            auto waited = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - start);
            auto who = lock_holders(conn, oids);
            if (timeout.count() > 0 && waited >= timeout)
                throw error(exit_code::source,
                            "gave up after " + std::to_string(waited.count()) +
                                " s waiting to lock source tables on " + conn.endpoint() + ": " + who,
                            "end or wait for that session and run again; --lock-wait-timeout (run: "
                            "lock_wait_timeout) sets how long to wait, 0 for as long as it takes");
            if (waiting)
                waiting("waiting " + std::to_string(waited.count()) +
                        " s so far to lock source tables: " + who);
        }
    };
    // One statement per batch keeps round trips low on catalogs with many tables.
    std::string batch;
    std::vector<std::uint32_t> oids;
    for (auto& t : cat.tables) {
        batch += "LOCK TABLE " + t.qualified() + " IN ACCESS SHARE MODE;";
        oids.push_back(t.oid);
        if (oids.size() == 500) {
            lock_batch(batch, oids);
            batch.clear();
            oids.clear();
        }
    }
    if (!oids.empty()) lock_batch(batch, oids);
}

}  // namespace pghaul::engine
