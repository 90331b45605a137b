// Plan rendering. Tables are already sorted largest first by the catalog query.
#include "engine/copy/dry_run.hpp"
#include "protocol/size.hpp"

#include <fmt/format.h>

namespace pghaul::engine {

std::string describe_tables(const source_catalog& cat) {
    std::string out = fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}\n", "#", "table", "size",
                                  "rows (est)", "indexes", "parts", "format");
    int n = 0;
    for (auto& t : cat.tables)
        out += fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}{}\n", ++n, t.display(),
                           format_size(t.bytes), t.estimated_rows, t.index_count,
                           t.parts.empty() ? 1 : t.parts.size(), t.binary() ? "binary" : "text",
                           t.binary() ? "" : " (" + t.text_reason + ")");
    return out;
}

}  // namespace pghaul::engine
