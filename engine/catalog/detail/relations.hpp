// SQL fragments the catalog's relation queries share (catalog.cpp,
// exclusions.cpp); for pg_class `c` joined to pg_namespace `n`.
#pragma once

namespace pghaul::engine::detail {

// Schemas pghaul never copies, and objects that belong to extensions (their
// CREATE EXTENSION recreates them).
inline constexpr const char* user_relation = R"(
    n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
    AND n.nspname NOT LIKE 'pg\_temp%'
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e'))";

// A relation's kind as users say it, for pg_class `c`.
inline constexpr const char* relkind_word = R"(CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
    WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
    WHEN 'f' THEN 'foreign table' END)";

}  // namespace pghaul::engine::detail
