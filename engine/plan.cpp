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

std::string describe_tables(const source_catalog& cat) {
    std::string out = fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}\n", "#", "table", "size",
                                  "rows (est)", "indexes", "parts", "format");
    int n = 0;
    for (auto& t : cat.tables)
        out += fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}{}\n", ++n, t.display(),
                           format_bytes(t.bytes), t.estimated_rows, t.index_count,
                           t.parts.empty() ? 1 : t.parts.size(), t.binary() ? "binary" : "text",
                           t.binary() ? "" : " (" + t.text_reason + ")");
    return out;
}

}  // namespace pghaul::engine
