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
    std::string schemas;
    for (auto& schema : left_out.schemas) schemas += (schemas.empty() ? "" : ",") + sql::literal(schema);
    if (oids.empty() && schemas.empty()) return;
    schemas = "ARRAY[" + schemas + "]::text[]";
    // Each dependent of a left-out relation, or of a function or type in a
    // schema left out whole (an extension's aside: pg_dump creates the
    // extension whatever schema it lives in), with the relation it belongs to (or its own
    // schema, for a function or type): that one may be left out as well.
    auto deps = conn.exec(R"(
        WITH refs (cls, oid, nspname, name) AS (
            SELECT 'pg_class'::regclass, r.oid, rn.nspname, r.relname::text
            FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE r.oid = ANY ('{)" + oids + R"(}'::oid[])
            UNION ALL
            SELECT 'pg_proc'::regclass, p.oid, n.nspname, NULL
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = ANY ()" + schemas + R"() AND NOT EXISTS (SELECT FROM pg_depend e
                WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
            UNION ALL
            SELECT 'pg_type'::regclass, t.oid, n.nspname, NULL
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = ANY ()" + schemas + R"() AND NOT EXISTS (SELECT FROM pg_depend e
                WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'))
        SELECT DISTINCT CASE WHEN w.oid IS NOT NULL
                             THEN pg_describe_object('pg_class'::regclass, w.ev_class, 0)
                             ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END,
               refs.nspname, refs.name,
               coalesce(owner_n.nspname, own.nspname), owner.relname,
               pg_describe_object(refs.cls, refs.oid, 0)
        FROM pg_depend d
        JOIN refs ON refs.cls = d.refclassid AND refs.oid = d.refobjid
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
        WHERE d.deptype = 'n'
          AND NOT (d.classid = 'pg_rewrite'::regclass AND w.ev_class = d.refobjid)
        UNION ALL
        SELECT 'table ' || i.inhrelid::regclass::text, rn.nspname, r.relname, cn.nspname, c.relname, NULL
        FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhparent JOIN pg_namespace rn ON rn.oid = r.relnamespace
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
        WHERE i.inhparent = ANY ('{)" +
                              oids + R"(}'::oid[])
        ORDER BY 1)",
                          "finding what depends on what is left out");
    for (int i = 0; i < deps.rows(); ++i) {
        if (deps.is_null(i, 3)) continue;  // nothing this copy writes on its own
        if (deps.is_null(i, 4) ? exclude.excludes_schema(deps.str(i, 3))
                               : exclude.excludes(deps.str(i, 3), deps.str(i, 4)))
            continue;
        // A relation by its name as the user chose it; a function or type as
        // the server describes it ("function s.f(integer)").
        cat.excluded_dependents.push_back(deps.str(i, 0) + " needs " +
                                          (deps.is_null(i, 2) ? deps.str(i, 5)
                                                              : sql::readable_qualified(deps.str(i, 1),
                                                                                        deps.str(i, 2))));
    }
}

}  // namespace pghaul::engine
