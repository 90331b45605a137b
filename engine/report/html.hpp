// The run report as one self-contained HTML page (inline CSS, SVG and a few
// lines of JS; nothing fetched), rendered from the JSON report that copy and
// run write, optionally with a bench/compare.sh or bench/consolidate.sh TSV.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace pghaul::engine {

// Tolerates missing or mistyped fields (an older report, a hand-edited one):
// what is absent is shown as "-". Every string from the report is escaped.
std::string render_html_report(const nlohmann::json& report,
                               const std::optional<std::string>& bench_tsv_text = std::nullopt);

}  // namespace pghaul::engine
