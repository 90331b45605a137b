// Plan rendering. Tables are already sorted largest first by the catalog query.
#include "engine/plan.hpp"

#include <fmt/format.h>

namespace pghaul::engine {

std::string format_bytes(std::int64_t bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string describe_plan(const source_catalog& cat, const std::string& source_endpoint,
                          const std::string& target_endpoint, const std::string& target_db, int jobs) {
    std::string out = fmt::format(
        "plan: copy database \"{}\" ({}, {} tables, {} sequences, {} large objects) from {}\n"
        "      into new database \"{}\" on {}\n"
        "      {} jobs: each a source reader and a target writer connection, plus one snapshot holder\n",
        cat.database.name, format_bytes(cat.database.bytes), cat.tables.size(), cat.sequences.size(),
        cat.large_objects.size(), source_endpoint, target_db, target_endpoint, jobs);
    out += fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7}  {}\n", "#", "table", "size", "rows (est)",
                       "indexes", "format");
    int n = 0;
    for (auto& t : cat.tables)
        out += fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7}  {}{}\n", ++n, t.display(),
                           format_bytes(t.bytes), t.estimated_rows, t.index_count,
                           t.binary() ? "binary" : "text", t.binary() ? "" : " (" + t.text_reason + ")");
    out += "  splits: none (same-table parallelism is not built yet)\n";
    return out;
}

}  // namespace pghaul::engine
