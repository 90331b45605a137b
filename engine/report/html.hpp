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

// A bench results file as the TSV render_html_report takes: the TSV the
// bench scripts write, or their JSON (an array of one object per row, as in
// bench/results/*.json), columns in the order first seen. Throws
// exit_code::usage naming what is wrong when it is neither, or has no
// method (or approach) and wall_s columns.
std::string bench_results_as_tsv(const std::string& text);

}  // namespace pghaul::engine
