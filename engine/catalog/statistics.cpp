// The source's planner statistics as pg_restore_relation_stats() /
// pg_restore_attribute_stats() calls (PostgreSQL 18 targets), written by the
// source server itself so every value is quoted by format('%L').
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/catalog/catalog.hpp"
#include "engine/catalog/detail/search_path.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine {
namespace {

// One ", 'key', value" argument pair, or nothing when the value is NULL.
// Array-valued statistics travel as text; the target reads them back with
// the column's type.
std::string argument(const std::string& column, const std::string& type) {
    return "CASE WHEN s." + column + " IS NULL THEN '' ELSE format(', %L, %L::" + type + "', '" + column +
           "', s." + column + "::text) END";
}

}  // namespace

void read_statistics(pg::connection& conn, source_catalog& cat) {
    // Range statistics are in pg_stats from 17 on.
    std::vector<std::pair<std::string, std::string>> columns = {
        {"most_common_vals", "text"},      {"most_common_freqs", "real[]"},
        {"histogram_bounds", "text"},      {"correlation", "real"},
        {"most_common_elems", "text"},     {"most_common_elem_freqs", "real[]"},
        {"elem_count_histogram", "real[]"}};
    if (cat.server_version >= 170000)
        columns.insert(columns.end(), {{"range_length_histogram", "text"},
                                       {"range_empty_frac", "real"},
                                       {"range_bounds_histogram", "text"}});
    std::string optional;
    for (auto& [column, type] : columns) optional += " || " + argument(column, type);
    // Taken only where they stand for the table as ANALYZE would see it now:
    // analyzed (reltuples -1 is never, from 14; a table without pg_stats rows
    // is empty or was never analyzed), not changed since by more than
    // autovacuum's own threshold (50 rows + 10%), and with nothing ANALYZE
    // computes that these functions cannot set on 18 (expression indexes'
    // statistics, extended statistics objects). The rest is analyzed.
    // Values of reg* columns print by name, qualified only where the search
    // path does not reach: with only pg_catalog on it they read back on the
    // target whatever its path. The snapshot's transaction goes on after
    // this, so the path is put back.
    const std::string sql = R"(
        SELECT c.oid,
               format('pg_restore_relation_stats(%L, %L, %L, %L, %L, %s::integer, %L, %s::integer, %L, %s::real, %L, %s::integer)',
                      'schemaname', n.nspname, 'relname', c.relname, 'version', current_setting('server_version_num'),
                      'relpages', c.relpages, 'reltuples', c.reltuples, 'relallvisible', c.relallvisible)
               || string_agg(format(', pg_restore_attribute_stats(%L, %L, %L, %L, %L, %L, %L, false, %L, %s::integer, %L, %s::real, %L, %s::integer, %L, %s::real',
                                    'schemaname', n.nspname, 'relname', c.relname, 'attname', s.attname, 'inherited',
                                    'version', current_setting('server_version_num'), 'null_frac', s.null_frac,
                                    'avg_width', s.avg_width, 'n_distinct', s.n_distinct)
                             )" + optional + R"( || ')', '' ORDER BY s.attname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited
        LEFT JOIN pg_stat_all_tables a ON a.relid = c.oid
        WHERE c.relkind = 'r' AND c.reltuples >= 0
          AND coalesce(a.n_mod_since_analyze, 0) <= 50 + 0.1 * c.reltuples
          AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indexprs IS NOT NULL)
          AND NOT EXISTS (SELECT FROM pg_statistic_ext e WHERE e.stxrelid = c.oid)
        GROUP BY c.oid, n.nspname, c.relname, c.relpages, c.reltuples, c.relallvisible)";
    auto r = detail::under_search_path(conn, "pg_catalog",
                                       [&] { return conn.exec(sql, "reading the source's planner statistics"); });
    std::map<std::uint32_t, std::string> calls;
    for (int i = 0; i < r.rows(); ++i) calls[static_cast<std::uint32_t>(r.i64(i, 0))] = r.str(i, 1);
    for (auto& t : cat.tables)
        if (auto it = calls.find(t.oid); it != calls.end() && !t.via_root)
            t.statistics = std::move(it->second);
}

}  // namespace pghaul::engine
