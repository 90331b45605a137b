// What a relation filter (-T, -N, --table, -n) leaves out of a source, and
// what would stay but needs it: read in the snapshot, before anything is
// written.
#include <string>
#include <vector>

#include "engine/catalog/catalog.hpp"
#include "engine/catalog/detail/relations.hpp"
#include "protocol/error.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

left_out_set left_out_relations(pg::connection& conn, const relation_filter& filter) {
    left_out_set out;
    if (filter.empty()) return out;
    auto r = conn.exec(std::string(R"(
        SELECT c.oid, n.nspname, c.relname, )") +
                           detail::relkind_word + R"(, own_n.nspname, own.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_depend d ON c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class own ON own.oid = d.refobjid
        LEFT JOIN pg_namespace own_n ON own_n.oid = own.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND )" +
                           detail::user_relation + " ORDER BY 2, 3",
                       "listing the source's relations");
    for (auto& p : filter.only_tables) {
        bool hit = false;
        for (int i = 0; i < r.rows() && !hit; ++i) hit = p.matches(r.str(i, 1), r.str(i, 2));
        if (!hit) out.unmatched.push_back("--table " + p.text());
    }
    auto schemas = conn.exec(
        "SELECT nspname FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> "
        "'information_schema' ORDER BY 1",
        "listing the source's schemas");
    for (auto& p : filter.only_schemas) {
        bool hit = false;
        for (int i = 0; i < schemas.rows() && !hit; ++i) hit = p.matches(schemas.str(i, 0));
        if (!hit) out.unmatched.push_back("--schema " + p.text());
    }
    for (int i = 0; i < schemas.rows(); ++i)
        if (filter.excludes_schema(schemas.str(i, 0))) out.schemas.push_back(schemas.str(i, 0));
    for (int i = 0; i < r.rows(); ++i) {
        const std::string schema = r.str(i, 1), name = r.str(i, 2);
        if (!filter.excludes(schema, name)) continue;
        const bool owner_comes = !r.is_null(i, 5) && !filter.excludes(r.str(i, 4), r.str(i, 5));
        if (owner_comes && !filter.names(schema, name)) continue;
        out.relations.push_back({static_cast<std::uint32_t>(r.i64(i, 0)), {schema, name}, r.str(i, 3)});
    }
    return out;
}

// The relations and schemas `exclude` leaves out, and what would stay but
// needs one of them: pg_dump writes a view, a foreign key, a column default
// or a partition of a left-out table all the same, and the target refuses it
// in the middle of the schema. Found here, before anything is written.
void read_exclusions(pg::connection& conn, source_catalog& cat, const relation_filter& exclude,
                     const left_out_set& left_out) {
    // A choice that matches nothing would copy an empty database and call it
    // done (with on_existing replace, over a good copy): refused, as pg_dump
    // refuses a -t or -n that matches nothing.
    if (!left_out.unmatched.empty())
        throw error(exit_code::preflight,
                    left_out.unmatched.front() + " matches nothing on " + conn.endpoint() +
                        ": the copy would be empty",
                    "patterns are pg_dump's (* and ?, schema.name, \"Quoted\" names as written, unquoted "
                    "letters folded to lower case); without it the dry run lists every table");
    std::string oids;
    for (auto& r : left_out.relations) {
        oids += (oids.empty() ? "" : ",") + std::to_string(r.oid);
        if (exclude.excludes_schema(r.name.first)) continue;
        cat.excluded.push_back(r.kind + " " + sql::readable_qualified(r.name.first, r.name.second));
        cat.excluded_relations.push_back(r.name);
    }
    for (auto& schema : left_out.schemas) {
        cat.excluded.push_back("schema " + sql::readable(schema));
        cat.excluded_schemas.push_back(schema);
    }
    if (oids.empty()) return;
    // Each dependent with the relation it belongs to (or its own schema, for
    // a function or type): that one may be left out as well.
    auto deps = conn.exec(R"(
        SELECT DISTINCT CASE WHEN w.oid IS NOT NULL
                             THEN pg_describe_object('pg_class'::regclass, w.ev_class, 0)
                             ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END,
               rn.nspname, r.relname,
               coalesce(owner_n.nspname, own.nspname), owner.relname
        FROM pg_depend d
        JOIN pg_class r ON r.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        LEFT JOIN pg_constraint k ON d.classid = 'pg_constraint'::regclass AND k.oid = d.objid
        LEFT JOIN pg_rewrite w ON d.classid = 'pg_rewrite'::regclass AND w.oid = d.objid
        LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
        LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid
        LEFT JOIN pg_policy po ON d.classid = 'pg_policy'::regclass AND po.oid = d.objid
        LEFT JOIN pg_class owner ON owner.oid = coalesce(nullif(k.conrelid, 0), w.ev_class, ad.adrelid,
            tg.tgrelid, po.polrelid, CASE WHEN d.classid = 'pg_class'::regclass THEN d.objid END)
        LEFT JOIN pg_namespace owner_n ON owner_n.oid = owner.relnamespace
        LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
        LEFT JOIN pg_type ty ON d.classid = 'pg_type'::regclass AND ty.oid = d.objid
        LEFT JOIN pg_namespace own ON own.oid = coalesce(p.pronamespace, ty.typnamespace, k.connamespace)
        WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
          AND d.refobjid = ANY ('{)" +
                              oids + R"(}'::oid[])
          AND NOT (d.classid = 'pg_rewrite'::regclass AND w.ev_class = d.refobjid)
        UNION ALL
        SELECT 'table ' || i.inhrelid::regclass::text, rn.nspname, r.relname, cn.nspname, c.relname
        FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhparent JOIN pg_namespace rn ON rn.oid = r.relnamespace
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
        WHERE i.inhparent = ANY ('{)" +
                              oids + R"(}'::oid[])
        ORDER BY 1)",
                          "finding what depends on the left-out relations");
    for (int i = 0; i < deps.rows(); ++i) {
        if (deps.is_null(i, 3)) continue;  // nothing this copy writes on its own
        if (deps.is_null(i, 4) ? exclude.excludes_schema(deps.str(i, 3))
                               : exclude.excludes(deps.str(i, 3), deps.str(i, 4)))
            continue;
        cat.excluded_dependents.push_back(deps.str(i, 0) + " needs " +
                                          sql::readable_qualified(deps.str(i, 1), deps.str(i, 2)));
    }
}

}  // namespace pghaul::engine
