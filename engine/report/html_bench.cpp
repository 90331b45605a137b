// The HTML report's comparison with pg_dump/pg_restore (and pgcopydb): a TSV
// from bench/compare.sh (a row per method) or bench/consolidate.sh (a row per
// approach and scope), read by its header so either works.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

#include "engine/report/detail/html.hpp"
#include "engine/report/html.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine::detail {
namespace {

using row = std::vector<std::string>;

std::vector<row> parse_tsv(const std::string& text) {
    std::vector<row> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        row r;
        std::size_t from = 0;
        for (;;) {
            auto tab = line.find('\t', from);
            r.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
            if (tab == std::string::npos) break;
            from = tab + 1;
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<double> number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

const char* describe_method(const std::string& m) {
    if (m == "pghaul") return "pghaul copy (binary COPY, parallel, no dump file)";
    if (m == "dump_fc") return "pg_dump -Fc | pg_restore (one pipe)";
    if (m == "dump_fd") return "pg_dump -Fd -j N, then pg_restore -j N";
    if (m == "pgcopydb") return "pgcopydb clone";
    if (m == "sequential") return "per source: pg_dump -Fc, createdb, pg_restore, one after another";
    return "";
}

struct columns {
    const row& header;
    int find(std::string_view name) const {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return static_cast<int>(i);
        return -1;
    }
    int find_prefix(std::string_view prefix) const {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i].starts_with(prefix)) return static_cast<int>(i);
        return -1;
    }
};

std::string cell(const row& r, int i) {
    return i >= 0 && static_cast<std::size_t>(i) < r.size() ? r[static_cast<std::size_t>(i)] : std::string();
}

// "1.87" -> "1.87×"; anything else as given, escaped.
std::string numeric_td(const std::string& v, const char* suffix = "") {
    auto n = number(v);
    if (!n) return "<td>" + html_escape(v.empty() ? "-" : v) + "</td>";
    return fmt::format(R"(<td class="num" data-v="{}">{}{}</td>)", *n, html_escape(v), suffix);
}

// A JSON value as one TSV cell: no tab or line break can split the table.
std::string tsv_cell(const nlohmann::ordered_json& v) {
    std::string s = v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump();
    std::replace_if(
        s.begin(), s.end(), [](char ch) { return ch == '\t' || ch == '\n' || ch == '\r'; }, ' ');
    return s;
}

}  // namespace

std::string render_bench(const std::string& tsv_text) {
    auto rows = parse_tsv(tsv_text);
    std::string out = R"(<section id="bench"><h2>Compared with pg_dump</h2>)";
    if (rows.size() < 2) return out + R"(<p class="note">The bench file has no results.</p></section>)";
    columns c{rows.front()};
    int name = c.find("method") >= 0 ? c.find("method") : c.find("approach"), scope = c.find("scope");
    int result = c.find("result"), wall = c.find("wall_s"), ratio = c.find_prefix("ratio");
    int mbs = c.find("mb_per_s"), rss = c.find("peak_rss_mib"), cpu = c.find("tool_cpu_s"),
        verified = c.find("verified");
    if (name < 0 || wall < 0)
        return out + R"(<p class="note">The bench file has no method and wall_s columns.</p></section>)";

    auto& first = rows[1];
    std::string context;
    for (auto [col, label] : {std::pair{"timestamp", "run "},
                              {"source_db", "source "},
                              {"sources", "sources "},
                              {"jobs", "jobs "},
                              {"src_fsync", "fsync source "},
                              {"tgt_fsync", "fsync target "}}) {
        auto v = cell(first, c.find(col));
        if (!v.empty()) context += (context.empty() ? "" : ", ") + std::string(label) + v;
    }
    if (auto bytes = number(cell(first, c.find("source_bytes"))))
        context += ", " + fmt_bytes(*bytes) + " of source data";

    double longest = 0, best_other = 0;
    std::string best_name;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        longest = std::max(longest, number(cell(rows[i], wall)).value_or(0));
        auto r = number(cell(rows[i], ratio));
        auto sc = cell(rows[i], scope);
        bool whole = sc.empty() || sc == "all";
        if (cell(rows[i], name) != "pghaul" && whole && cell(rows[i], result) == "OK" && r &&
            (best_name.empty() || *r < best_other)) {
            best_other = *r;
            best_name = cell(rows[i], name);
        }
    }
    out += "<p class=\"note\">" + html_escape(context) + ". Ratio: the method's wall time over pghaul's.</p>";
    if (!best_name.empty())
        out += fmt::format(
            R"(<p class="headline">The fastest other method, {}, took <b>{}×</b> pghaul's time.</p>)",
            html_escape(best_name), fmt_num(best_other, 2));
    out +=
        R"(<table class="sortable"><thead><tr><th>method</th><th>result</th><th>wall</th><th>wall s</th>)"
        R"(<th>ratio</th><th>MB/s</th><th>peak RSS MiB</th><th>CPU s</th><th>verified</th></tr></thead><tbody>)";
    for (std::size_t i = 1; i < rows.size(); ++i) {
        auto& r = rows[i];
        auto method = cell(r, name), sc = cell(r, scope);
        auto label = method + (sc.empty() || sc == "all" ? "" : " (" + sc + ")");
        auto res = cell(r, result);
        double w = number(cell(r, wall)).value_or(0);
        out += fmt::format(R"(<tr><td><b>{}</b><br><span class="sub">{}</span></td><td class="{}">{}</td>)",
                           html_escape(label), html_escape(describe_method(method)),
                           res == "OK"                  ? "ok"
                           : res.starts_with("SKIPPED") ? ""
                                                        : "bad",
                           html_escape(res.empty() ? "-" : res));
        out += fmt::format(R"(<td data-v="{0}"><div class="hbar" style="width:{1:.0f}%"></div></td>)", w,
                           longest > 0 ? w / longest * 100 : 0);
        out += numeric_td(cell(r, wall)) + numeric_td(cell(r, ratio), number(cell(r, ratio)) ? "×" : "") +
               numeric_td(cell(r, mbs)) + numeric_td(cell(r, rss)) + numeric_td(cell(r, cpu)) + "<td>" +
               html_escape(cell(r, verified).empty() ? "-" : cell(r, verified)) + "</td></tr>";
    }
    return out + "</tbody></table></section>";
}

}  // namespace pghaul::engine::detail

namespace pghaul::engine {

std::string bench_results_as_tsv(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) throw error(exit_code::usage, "it is empty");
    std::string tsv;
    if (text[first] == '[' || text[first] == '{') {
        nlohmann::ordered_json rows;  // columns in the file's order, not sorted
        try {
            rows = nlohmann::ordered_json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
            throw error(exit_code::usage, "it is not valid JSON (at byte " + std::to_string(e.byte) + ")");
        }
        if (!rows.is_array() || rows.empty() ||
            !std::all_of(rows.begin(), rows.end(), [](auto& r) { return r.is_object(); }))
            throw error(exit_code::usage, "its JSON is not a list of result rows (one object per method)");
        std::vector<std::string> keys;
        for (auto& r : rows)
            for (auto& [k, v] : r.items())
                if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        for (std::size_t i = 0; i < keys.size(); ++i) tsv += (i ? "\t" : "") + detail::tsv_cell(keys[i]);
        tsv += "\n";
        for (auto& r : rows) {
            for (std::size_t i = 0; i < keys.size(); ++i)
                tsv +=
                    (i ? "\t" : "") + (r.contains(keys[i]) ? detail::tsv_cell(r[keys[i]]) : std::string("-"));
            tsv += "\n";
        }
    } else {
        tsv = text;
    }
    auto rows = detail::parse_tsv(tsv);
    if (rows.empty()) throw error(exit_code::usage, "it has no rows");
    detail::columns c{rows.front()};
    if ((c.find("method") < 0 && c.find("approach") < 0) || c.find("wall_s") < 0)
        throw error(exit_code::usage, "it has no method (or approach) and wall_s columns");
    if (rows.size() < 2) throw error(exit_code::usage, "it has a header but no results");
    return tsv;
}

}  // namespace pghaul::engine
