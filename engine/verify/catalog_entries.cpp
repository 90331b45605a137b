// Catalog side of verify: schema objects by definition, owners and grants per
// role (mapped), database settings and sequence values, each as flat entries
// compared key by key. The session's search_path is empty, so every name the
// server prints (regprocedure, format_type, pg_get_*def) is schema-qualified.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/catalog/catalog.hpp"
#include "engine/verify/detail/catalog_entries.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine::detail {
namespace {

// User objects: not in system schemas (namespace alias `n`)...
std::string user_schema(const char* n) {
    return fmt::format(
        "({0}.nspname NOT IN ('pg_catalog', 'information_schema') AND {0}.nspname NOT LIKE 'pg\\_toast%' "
        "AND {0}.nspname NOT LIKE 'pg\\_temp%')",
        n);
}

// ... and not created by an extension (its CREATE EXTENSION brings them).
std::string not_extension_member(const char* catalog, const char* oid) {
    return fmt::format(
        "NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '{}'::regclass AND d.objid = {} AND d.deptype "
        "= 'e')",
        catalog, oid);
}

constexpr const char* relkind_name = R"(CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
    WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
    WHEN 'c' THEN 'type' END)";

// Each query returns (kind, object, aspect, value) rows.
std::vector<std::string> schema_queries() {
    const std::string ns = user_schema("n");
    return {
        // schemas
        R"(SELECT 'schema', 'schema ' || quote_ident(n.nspname), '', '' FROM pg_namespace n
           WHERE n.nspname NOT LIKE 'pg\_%' AND )" +
            ns + " AND " + not_extension_member("pg_namespace", "n.oid"),
        // relations: kind, persistence, partitioning, row security, view and sequence definitions
        std::string("SELECT 'schema', ") + relkind_name +
            R"( || ' ' || format('%I.%I', n.nspname, c.relname), '',
           concat_ws(' ', CASE c.relpersistence WHEN 'u' THEN 'unlogged' END,
                     CASE WHEN c.relkind = 'p' THEN 'partitioned by ' || pg_get_partkeydef(c.oid) END,
                     'partition ' || pg_get_expr(c.relpartbound, c.oid),
                     CASE WHEN c.relrowsecurity THEN 'row security' END,
                     CASE WHEN c.relforcerowsecurity THEN 'forced' END,
                     (SELECT format('%s increment %s min %s max %s start %s cache %s%s',
                                    format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart,
                                    s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
                      FROM pg_sequence s WHERE s.seqrelid = c.oid))
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND )" +
            ns + " AND " + not_extension_member("pg_class", "c.oid"),
        // view and matview queries, as this server prints them (16 prints
        // single-table column references unqualified: see verify.cpp)
        std::string("SELECT 'viewdef', ") + relkind_name +
            R"( || ' ' || format('%I.%I', n.nspname, c.relname), '', pg_get_viewdef(c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('v', 'm') AND )" +
            ns + " AND " + not_extension_member("pg_class", "c.oid"),
        // columns, by position among the live columns
        R"(SELECT 'schema', 'column ' || format('%I.%I.%I', n.nspname, c.relname, a.attname), '',
           concat_ws(' ', 'position', row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                     format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'not null' END,
                     'default ' || pg_get_expr(ad.adbin, ad.adrelid),
                     CASE a.attidentity WHEN 'a' THEN 'identity always' WHEN 'd' THEN 'identity by default' END,
                     CASE a.attgenerated WHEN 's' THEN 'generated' END,
                     CASE WHEN a.attcollation <> t.typcollation THEN 'collate ' || co.collname END)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_collation co ON co.oid = a.attcollation
           LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
           WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND )" +
            ns + " AND " + not_extension_member("pg_class", "c.oid"),
        // indexes
        R"(SELECT 'schema', 'index ' || format('%I.%I', n.nspname, ic.relname), '', pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
           WHERE )" +
            ns + " AND " + not_extension_member("pg_class", "i.indrelid"),
        // constraints of tables and domains
        R"(SELECT 'schema', 'constraint ' || format('%I.%I.%I', n.nspname, coalesce(c.relname, t.typname), k.conname),
                  '', pg_get_constraintdef(k.oid)
           FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
           LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
           WHERE k.contype <> 'n' AND )" +  // 18 catalogs NOT NULL; the column says it on every version
            ns +
            " AND " + not_extension_member("pg_constraint", "k.oid") + " AND (k.conrelid = 0 OR " +
            not_extension_member("pg_class", "k.conrelid") + ")",
        // triggers
        R"(SELECT 'schema', 'trigger ' || format('%I.%I.%I', n.nspname, c.relname, g.tgname), '',
                  pg_get_triggerdef(g.oid) || ' enabled=' || g.tgenabled::text
           FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE NOT g.tgisinternal AND )" +
            ns,
        // functions and procedures by signature
        R"(SELECT 'schema', 'function ' || p.oid::regprocedure::text, '',
                  concat_ws(' ', p.prokind, 'returns ' || pg_get_function_result(p.oid), 'language ' || l.lanname,
                            p.provolatile, CASE WHEN p.prosecdef THEN 'security definer' END,
                            CASE WHEN p.proisstrict THEN 'strict' END, array_to_string(p.proconfig, ','),
                            'body ' || md5(p.prosrc))
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
           WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.deptype = 'i')  -- a type's own constructors (14+: one per multirange)
             AND )" +
            ns + " AND " + not_extension_member("pg_proc", "p.oid"),
        // enums, domains, ranges
        R"(SELECT 'schema', 'type ' || format('%I.%I', n.nspname, t.typname), '', CASE t.typtype
             WHEN 'e' THEN 'enum ' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                       FROM pg_enum e WHERE e.enumtypid = t.oid)
             WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
                           || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                           || coalesce(' default ' || t.typdefault, '')
             WHEN 'r' THEN 'range of ' || (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r
                                           WHERE r.rngtypid = t.oid)
             ELSE 'type ' || t.typtype::text END
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typtype IN ('e', 'd', 'r') AND )" +
            ns + " AND " + not_extension_member("pg_type", "t.oid"),
        // extensions
        "SELECT 'schema', 'extension ' || quote_ident(extname), '', '' FROM pg_extension",
        "SELECT 'extversion', 'extension ' || quote_ident(extname), '', extversion FROM pg_extension",
        // large objects: how many
        "SELECT 'large objects', 'large objects', '', count(*)::text FROM pg_largeobject_metadata",
    };
}

// (object, owner, acl with PostgreSQL's defaults filled in, is the database):
// one aclexplode over all of them handles every object kind the same way.
std::string acl_objects_query() {
    const std::string ns = user_schema("n");
    return std::string("SELECT ") + relkind_name +
           R"( || ' ' || format('%I.%I', n.nspname, c.relname), c.relowner,
           coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)), false
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND )" +
           ns + " AND " + not_extension_member("pg_class", "c.oid") + R"(
        UNION ALL
        SELECT 'column ' || format('%I.%I.%I', n.nspname, c.relname, a.attname), NULL, a.attacl, false
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND )" +
           ns + R"(
        UNION ALL
        SELECT 'schema ' || quote_ident(n.nspname), n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner)), false
           FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\_%' AND )" +
           ns + " AND " + not_extension_member("pg_namespace", "n.oid") + R"(
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text, p.proowner, coalesce(p.proacl, acldefault('f', p.proowner)),
               false
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.deptype = 'i') AND )" +
           ns + " AND " + not_extension_member("pg_proc", "p.oid") + R"(
        UNION ALL
        SELECT 'type ' || format('%I.%I', n.nspname, t.typname), t.typowner,
               coalesce(t.typacl, acldefault('T', t.typowner)), false
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typtype IN ('e', 'd', 'r') AND )" +
           ns + " AND " + not_extension_member("pg_type", "t.oid") + R"(
        UNION ALL
        SELECT 'database', d.datdba, coalesce(d.datacl, acldefault('d', d.datdba)), true
           FROM pg_database d WHERE d.datname = current_database())";
}

std::string role_name(const std::map<std::string, std::string>& m, const std::string& r) {
    auto it = m.find(r);
    return it == m.end() ? r : it->second;
}

void read_rows(pg::connection& conn, const std::string& sql, catalog_entries& out) {
    auto r = conn.exec(sql, "reading the catalog to compare");
    for (int i = 0; i < r.rows(); ++i) out[{r.str(i, 0), r.str(i, 1), r.str(i, 2)}] = r.str(i, 3);
}

void read_acls(pg::connection& conn, const std::map<std::string, std::string>& role_map, int peer_version,
               catalog_entries& out) {
    // 17 added MAINTAIN, which table owners (and grants of ALL) hold there:
    // compared only when both servers have it.
    const bool maintain = std::min(conn.server_version(), peer_version) >= 170000;
    // A pre-15 public schema belongs to the bootstrap superuser, a 15+ one to
    // pg_database_owner (the copy keeps the target's: see catalog.hpp).
    std::string bootstrap;
    if (conn.server_version() < 150000 && peer_version >= 150000) {
        auto b = conn.exec(
            "SELECT rolname FROM pg_roles WHERE oid = 10 AND EXISTS (SELECT FROM pg_namespace "
            "WHERE nspname = 'public' AND nspowner = 10)",
            "reading the owner of schema public");
        if (b.rows() > 0) bootstrap = b.str(0, 0);
    }
    auto as_role = [&](const std::string& obj, const std::string& role) {
        if (!bootstrap.empty() && obj == "schema public" && role == bootstrap)
            return std::string("pg_database_owner");
        return role_name(role_map, role);
    };
    auto r = conn.exec(
        "SELECT o.obj, pg_get_userbyid(o.owner), CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
        "pg_get_userbyid(a.grantee) END, a.privilege_type || CASE WHEN a.is_grantable THEN '*' "
        "ELSE '' END, o.is_database AND a.grantee = o.owner FROM (" +
            acl_objects_query() +
            ") o(obj, owner, acl, is_database) LEFT JOIN LATERAL aclexplode(o.acl) a ON true",
        "reading owners and privileges");
    std::map<std::pair<std::string, std::string>, std::set<std::string>> grants;
    for (int i = 0; i < r.rows(); ++i) {
        const std::string obj = r.str(i, 0);
        // The new database belongs to whoever created it: its owner is not compared.
        if (!r.is_null(i, 1) && obj != "database") out[{"owner", obj, ""}] = as_role(obj, r.str(i, 1));
        if (r.is_null(i, 2) || r.boolean(i, 4)) continue;
        if (!maintain && r.str(i, 3).starts_with("MAINTAIN")) continue;
        const std::string grantee = r.str(i, 2) == "PUBLIC" ? "PUBLIC" : as_role(obj, r.str(i, 2));
        grants[{obj, grantee}].insert(r.str(i, 3));
    }
    for (auto& [k, privs] : grants) {
        std::string v;
        for (auto& p : privs) v += (v.empty() ? "" : ", ") + p;
        out[{"privileges", k.first, k.second}] = v;
    }
}

void read_policies(pg::connection& conn, const std::map<std::string, std::string>& role_map,
                   catalog_entries& out) {
    auto r = conn.exec(
        "SELECT 'policy ' || format('%I.%I.%I', n.nspname, c.relname, p.polname), "
        "concat_ws(' ', p.polcmd, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END, "
        "'using ' || pg_get_expr(p.polqual, p.polrelid), 'check ' || pg_get_expr(p.polwithcheck, "
        "p.polrelid)), "
        "array_to_string(ARRAY(SELECT CASE WHEN x = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x) END "
        "FROM unnest(p.polroles) x), E'\\n') FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace",
        "reading policies");
    for (int i = 0; i < r.rows(); ++i) {
        std::set<std::string> roles;
        std::istringstream in(r.str(i, 2));
        for (std::string role; std::getline(in, role);)
            roles.insert(role == "PUBLIC" ? role : role_name(role_map, role));
        std::string v = r.str(i, 1) + " to";
        for (auto& role : roles) v += " " + role;
        out[{"schema", r.str(i, 0), ""}] = v;
    }
}

void read_settings(pg::connection& conn, const std::map<std::string, std::string>& role_map,
                   catalog_entries& out) {
    auto r = conn.exec(R"(SELECT CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole) END, c
                          FROM pg_db_role_setting s, unnest(s.setconfig) c
                          WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                       "reading the database's settings");
    for (int i = 0; i < r.rows(); ++i) {
        std::string kv = r.str(i, 1);
        auto eq = kv.find('=');
        std::string name = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
        std::string who = r.text(i, 0).empty() ? "" : role_name(role_map, r.str(i, 0));
        out[{"setting", who.empty() ? "database setting " + name : "setting " + name + " for role " + who,
             ""}] = value;
    }
}

// Sequence values in batches: one round trip per sequence is slow at 10^4 of them.
void read_sequences(pg::connection& conn, const std::set<std::uint32_t>& left_out, catalog_entries& out) {
    auto listed = conn.exec(R"(SELECT format('%I.%I', n.nspname, c.relname), c.oid FROM pg_class c
                               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND )" +
                                user_schema("n") + " ORDER BY 1",
                            "listing sequences");
    std::vector<std::string> s;
    for (int i = 0; i < listed.rows(); ++i)
        if (!left_out.count(static_cast<std::uint32_t>(listed.i64(i, 1)))) s.push_back(listed.str(i, 0));
    constexpr std::size_t batch = 200;
    for (std::size_t start = 0; start < s.size(); start += batch) {
        std::string q;
        for (std::size_t i = start; i < std::min(s.size(), start + batch); ++i)
            q += (q.empty() ? "" : " UNION ALL ") +
                 fmt::format("SELECT {}, last_value, is_called FROM {}", i, s[i]);
        auto v = conn.exec(q, "reading sequence values");
        for (int j = 0; j < v.rows(); ++j)
            out[{"sequence", "sequence " + s[static_cast<std::size_t>(v.i64(j, 0))], ""}] =
                "last_value " + v.str(j, 1) + (v.boolean(j, 2) ? ", called" : ", not called");
    }
}

// Removes the entries of the relations in `left_out` and of the schemas
// `exclude` leaves out. Entry objects are "<kind> <schema>.<name>[.<part>]"
// with each name as format('%I') prints it; an index is named by itself, so
// it is found through its table.
std::size_t drop_left_out(pg::connection& conn, const relation_filter& exclude,
                          const std::set<std::uint32_t>& left_out, catalog_entries& entries) {
    auto r = conn.exec(R"(
        SELECT c.oid, format('%I.%I', n.nspname, c.relname), false
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND )" +
                           user_schema("n") + R"(
        UNION ALL
        SELECT i.indrelid, format('%I.%I', n.nspname, ic.relname), true
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
        WHERE )" + user_schema("n"),
                       "listing the relations left out");
    std::set<std::string> schemas, relations, indexes;
    for (int i = 0; i < r.rows(); ++i)
        if (left_out.count(static_cast<std::uint32_t>(r.i64(i, 0))))
            (r.boolean(i, 2) ? indexes : relations).insert(r.str(i, 1));
    auto n =
        conn.exec("SELECT nspname, quote_ident(nspname) FROM pg_namespace", "listing the schemas left out");
    for (int i = 0; i < n.rows(); ++i)
        if (exclude.excludes_schema(n.str(i, 0))) schemas.insert(n.str(i, 1));
    static constexpr std::string_view kinds[] = {
        "materialized view ", "foreign table ", "table ",  "view ",     "sequence ", "column ", "index ",
        "constraint ",        "trigger ",       "policy ", "function ", "type ",     "schema "};
    auto dropped = [&](const entry_key& k) {
        for (auto kind : kinds) {
            if (!k.object.starts_with(kind)) continue;
            const std::string name = k.object.substr(kind.size());
            if (kind == "schema ") return schemas.count(name) > 0;
            for (auto& sch : schemas)
                if (name.starts_with(sch + ".")) return true;
            if (kind == "index ") return indexes.count(name) > 0;
            for (auto& rel : relations)
                if (name == rel || name.starts_with(rel + ".")) return true;
            return false;
        }
        return false;
    };
    return std::erase_if(entries, [&](const auto& e) { return dropped(e.first); });
}

std::string describe(const entry_key& k) {
    if (k.kind == "privileges") return k.object + ", grantee " + k.aspect;
    return k.object;
}

}  // namespace

catalog_entries read_catalog_entries(pg::connection& conn, const std::map<std::string, std::string>& role_map,
                                     int peer_version, const relation_filter& exclude,
                                     std::size_t* left_out) {
    std::set<std::uint32_t> left;
    for (auto& rel : left_out_relations(conn, exclude).relations) left.insert(rel.oid);
    catalog_entries out;
    for (auto& q : schema_queries()) read_rows(conn, q, out);
    read_policies(conn, role_map, out);
    read_acls(conn, role_map, peer_version, out);
    read_settings(conn, role_map, out);
    read_sequences(conn, left, out);
    const std::size_t dropped = exclude.empty() ? 0 : drop_left_out(conn, exclude, left, out);
    if (left_out) *left_out = dropped;
    return out;
}

void compare_entries(const catalog_entries& source, const catalog_entries& target, verify_result& r) {
    std::set<entry_key> keys;
    for (auto& [k, v] : source) keys.insert(k);
    for (auto& [k, v] : target) keys.insert(k);
    auto absent = [&](const std::string& object) {  // an object missing on one side
        entry_key k{"schema", object, ""};
        return source.count(k) != target.count(k);
    };
    for (auto& k : keys) {
        auto s = source.find(k), t = target.find(k);
        if (k.kind == "extversion") {
            // pg_dump's CREATE EXTENSION names no version: the target's default
            // version is installed. A note, not a mismatch.
            if (s != source.end() && t != target.end() && s->second != t->second)
                r.notes.push_back(k.object + " is version " + t->second + " on the target, " + s->second +
                                  " on the source (the target's default version)");
            continue;
        }
        if (k.kind == "schema" || k.kind == "viewdef" || k.kind == "large objects")
            ++r.objects;
        else if (k.kind == "owner" || k.kind == "privileges")
            ++r.privileges;
        else if (k.kind == "setting")
            ++r.settings;
        else if (k.kind == "sequence")
            ++r.sequences;
        if (s != source.end() && t != target.end() && s->second == t->second) continue;
        if ((k.kind == "owner" || k.kind == "privileges") && absent(k.object))
            continue;  // said once, as missing
        std::string kind = k.kind;
        if (k.kind == "viewdef" && (s == source.end() || t == target.end()))
            continue;  // said as missing/extra
        if (k.kind == "schema" || k.kind == "viewdef")
            kind = t == target.end() ? "missing" : s == source.end() ? "extra" : "definition";
        r.mismatches.push_back(
            {kind, describe(k), s == source.end() ? "" : s->second, t == target.end() ? "" : t->second});
    }
}

}  // namespace pghaul::engine::detail
