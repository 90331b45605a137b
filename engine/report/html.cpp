// The HTML run report: the page, its header (the verdict a DBA reads first),
// the per-source and per-table tables, errors and warnings, and roles. The
// charts and the bench comparison are in report_html_charts/_bench.cpp.
#include "engine/report/html.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "engine/report/detail/html.hpp"

namespace pghaul::engine {
namespace {

using namespace detail;
using nlohmann::json;

constexpr const char* css = R"(
:root{--ok:#38761d;--bad:#cc0000;--warn:#b45f06;--line:#d9d9d9;--muted:#666}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:16px 20px 40px}
header{background:#fff;border-left:8px solid var(--ok);border-radius:6px;padding:14px 20px;box-shadow:0 1px 2px #0002}
header.v-bad{border-left-color:var(--bad)}header.v-warn{border-left-color:var(--warn)}
h1{margin:0;font-size:24px}header.v-ok h1{color:var(--ok)}header.v-bad h1{color:var(--bad)}header.v-warn h1{color:var(--warn)}
.target{color:var(--muted);margin:2px 0 10px}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.facts div{min-width:90px}.facts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.facts dd{margin:0;font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
section{background:#fff;border-radius:6px;padding:12px 20px 16px;margin-top:16px;box-shadow:0 1px 2px #0002}
h2{font-size:17px;margin:0 0 6px}h3{font-size:14px;margin:12px 0 4px}
.note{color:var(--muted);margin:0 0 8px;font-size:13px}.headline{font-size:15px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;white-space:nowrap;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#e1e6ee}
th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
tbody tr:nth-child(even){background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sub{color:var(--muted);font-size:12px}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.skip{color:var(--muted);font-weight:600}
.scroll{max-height:520px;overflow:auto;border:1px solid var(--line)}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#e6e6e6;stroke-width:1}
svg text{font-size:11px;fill:#333}svg .tick{fill:#777}svg .lane{font-weight:600;fill:#555}
svg .rowlbl{fill:#444}svg .barlbl{fill:#1a1a1a;pointer-events:none}
svg .bar{stroke:#ffffff;stroke-width:.5}svg .bar.failed{stroke:var(--bad);stroke-width:2.5}
svg .bar:hover,svg .span:hover{opacity:.8}svg .dim{opacity:.15}
svg .snap{stroke:#000;stroke-width:2}
svg .area{fill:#4f93d2;fill-opacity:.25}svg .line{fill:none;stroke:#2b6cb0;stroke-width:1.5}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12px;margin-top:4px;padding-left:12.5%}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;border-radius:2px;vertical-align:-1px}
.legend i.failed{border:2.5px solid var(--bad);background:#fff}.legend i.snapkey{width:3px;background:#000}
.err{border-left:4px solid var(--bad);background:#fdf0f0;padding:8px 12px;margin:6px 0}
.err pre,.warnings li{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;margin:4px 0}
.hint{color:#444}.hbar{height:10px;background:#9fc5e8;border-radius:2px;min-width:2px}
ul{margin:4px 0;padding-left:20px}
.why{margin-top:10px;color:var(--bad)}.why b{color:#222}
)";

// Sorting by header click (numbers by their data-v), and highlighting one
// source's bars when its lane is hovered. Written without the words the
// report test rejects in the rendered page.
constexpr const char* script = R"(
(function(){
function key(td){var v=td.getAttribute('data-v');return v!==null?parseFloat(v):td.textContent.trim().toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(t){
  var ths=t.tHead.rows[0].cells;
  Array.prototype.forEach.call(ths,function(th,i){
    th.title='sort';
    th.addEventListener('click',function(){
      var dir=th.getAttribute('aria-sort')==='descending'?1:-1;
      Array.prototype.forEach.call(ths,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',dir>0?'ascending':'descending');
      var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        if(typeof x==='number'&&typeof y==='number')return (x-y)*dir;
        return String(x).localeCompare(String(y))*dir;});
      rows.forEach(function(r){tb.appendChild(r);});
    });
  });
});
var bars=document.querySelectorAll('svg .bar');
document.querySelectorAll('svg .span').forEach(function(s){
  var src=s.getAttribute('data-source');
  s.addEventListener('mouseenter',function(){bars.forEach(function(b){
    if(b.getAttribute('data-source')!==src)b.classList.add('dim');});});
  s.addEventListener('mouseleave',function(){bars.forEach(function(b){b.classList.remove('dim');});});
});
document.documentElement.setAttribute('data-js','ok');
})();
)";

const char* exit_meaning(int code) {
    switch (code) {
        case 0:
            return "success";
        case 1:
            return "internal error";
        case 2:
            return "bad arguments";
        case 3:
            return "preflight failed";
        case 4:
            return "source failed";
        case 5:
            return "target failed";
        case 6:
            return "local failure";
        case 7:
            return "row counts differ";
        case 8:
            return "some sources failed";
        case 130:
            return "interrupted (SIGINT)";
        case 143:
            return "interrupted (SIGTERM)";
        default:
            return "";
    }
}

std::string num_td(double v, const std::string& text) {
    return fmt::format(R"(<td class="num" data-v="{}">{}</td>)", std::isfinite(v) ? v : 0, text);
}

std::string status_td(const std::string& status) {
    const char* cls = status == "done" ? "ok" : status == "failed" || status == "missing" ? "bad" : "skip";
    return fmt::format(R"(<td class="{}">{}</td>)", cls, html_escape(status));
}

struct totals {
    int done = 0, failed = 0, skipped = 0, missing = 0, other = 0;
    double tables = 0, rows = 0, bytes = 0;
};

totals count(const json& report) {
    totals t;
    for (auto& s : json_arr(report, "sources")) {
        auto st = json_str(s, "status");
        (st == "done"      ? t.done
         : st == "failed"  ? t.failed
         : st == "skipped" ? t.skipped
         : st == "missing" ? t.missing
                           : t.other)++;
        t.tables += json_num(s, "tables");
        t.rows += json_num(s, "rows");
        t.bytes += json_num(s, "bytes");
    }
    return t;
}

std::string verdict(const totals& t, int code, std::string& cls) {
    int n = t.done + t.failed + t.skipped + t.missing + t.other;
    cls = "ok";
    if (t.failed > 0 || t.missing > 0) {
        cls = "bad";
        auto failed = fmt::format("{} of {} source{} failed", t.failed, n, n == 1 ? "" : "s");
        // A merged sharded run: sources whose shard's report was not given.
        auto missing = fmt::format("{} of {} source{} missing", t.missing, n, n == 1 ? "" : "s");
        return t.missing == 0  ? failed
               : t.failed == 0 ? missing
                               : fmt::format("{} failed, {}", t.failed, missing);
    }
    if (code != 0) {
        cls = "bad";
        auto m = std::string(exit_meaning(code));
        return fmt::format("Failed: exit {}{}", code, m.empty() ? "" : " (" + m + ")");
    }
    if (t.other > 0 || n == 0) {
        cls = "warn";
        return n == 0 ? "No sources in this report"
                      : fmt::format("{} of {} sources did not finish", t.other, n);
    }
    if (t.skipped > 0) {
        cls = "warn";
        return fmt::format("{} done, {} skipped (target database existed)", t.done, t.skipped);
    }
    return n == 1 ? "Done" : fmt::format("All {} sources done", n);  // the sources follow in the subtitle
}

std::string fact(const char* label, const std::string& value) {
    return fmt::format("<div><dt>{}</dt><dd>{}</dd></div>", label, value);
}

std::string render_header(const json& report, std::string& title) {
    auto t = count(report);
    int code = static_cast<int>(json_num(report, "exit_code", -1));
    double secs = json_num(report, "seconds");
    std::string cls;
    auto v = verdict(t, code < 0 ? 0 : code, cls);
    auto target = json_str(report, "target", "-");
    title = "pghaul: " + v + " \u2014 " + target;
    std::size_t nwarn = 0;
    for (auto& s : json_arr(report, "sources")) nwarn += json_arr(s, "warnings").size();
    auto meaning = code < 0 ? std::string() : std::string(exit_meaning(code));
    std::string out =
        fmt::format(R"(<header class="v-{}"><h1>{}</h1><p class="target">)", cls, html_escape(v));
    auto& sources = json_arr(report, "sources");
    if (sources.size() <= 6) {
        for (auto& s : sources) {
            auto st = json_str(s, "status");
            out += fmt::format(R"(<span class="{}">{} &rarr; {}</span> &nbsp; )",
                               st == "done"                        ? "ok"
                               : st == "failed" || st == "missing" ? "bad"
                                                                   : "skip",
                               html_escape(json_str(s, "name", "-")),
                               html_escape(json_str(s, "target_db", "-")));
        }
        out += "on ";
    } else {
        out += fmt::format("{} sources to ", sources.size());
    }
    out += "target " + html_escape(target) + R"(</p><dl class="facts">)";
    out += fact("wall time", fmt_seconds(secs));
    out += fact("tables", fmt_int(t.tables));
    out += fact("rows", fmt_int(t.rows));
    out += fact("data", fmt_bytes(t.bytes));
    out += fact("MB/s", fmt_mbs(t.bytes, secs));
    out += fact("warnings", std::to_string(nwarn));
    out +=
        fact("exit code",
             code < 0 ? "-" : fmt::format(R"({} <span class="sub">{}</span>)", code, html_escape(meaning)));
    out += "</dl>";
    // When, where and by what: the report may be read days later.
    if (report.contains("started_at")) {
        std::string command;
        for (auto& a : json_arr(report, "command"))
            if (a.is_string()) command += (command.empty() ? "" : " ") + a.get<std::string>();
        out += fmt::format(
            R"(<p class="run">{} to {} on <b>{}</b>, pghaul {}{}</p>)",
            html_escape(json_str(report, "started_at", "-")), html_escape(json_str(report, "ended_at", "-")),
            html_escape(json_str(report, "host", "-")), html_escape(json_str(report, "pghaul_version", "-")),
            command.empty() ? "" : ": <code>" + html_escape(command) + "</code>");
    }
    // Why each failed source failed, in one line: the details are further down.
    std::string why;
    for (auto& s : sources) {
        auto& err = json_obj(s, "error");
        if (err.empty()) continue;
        auto message = json_str(err, "message", "-");
        message = message.substr(0, message.find('\n'));
        if (message.size() > 200) message = utf8_prefix(message, 199) + "\u2026";
        why += fmt::format(R"(<li><b>{}</b>: {}</li>)", html_escape(json_str(s, "name", "-")),
                           html_escape(message));
    }
    if (!why.empty()) out += R"(<ul class="why">)" + why + "</ul>";
    return out + "</header>";
}

std::string render_sources(const json& report) {
    std::string out =
        R"(<section id="sources"><h2>Sources</h2><table class="sortable"><thead><tr><th>source</th>)"
        R"(<th>target db</th><th>status</th><th>tables</th><th>rows</th><th>size</th><th>time</th>)"
        R"(<th>MB/s</th><th>verification</th><th>snapshot released after</th></tr></thead><tbody>)";
    for (auto& s : json_arr(report, "sources")) {
        double tables = json_num(s, "tables"), planned = json_num(s, "tables_planned", tables);
        double bytes = json_num(s, "bytes"), secs = json_num(s, "seconds");
        double released = json_num(s, "snapshot_released_after_s", -1);
        bool verified = json_bool(s, "verified");
        const double shard = json_num(s, "shard", -1);
        out += fmt::format(R"(<tr><td><b>{}</b><br><span class="sub">{}{}</span></td><td>{}</td>)",
                           html_escape(json_str(s, "name", "-")), html_escape(json_str(s, "source")),
                           shard < 0 ? "" : " (shard " + fmt_int(shard) + ")",
                           html_escape(json_str(s, "target_db", "-")));
        out += status_td(json_str(s, "status", "pending"));
        out += num_td(tables, fmt::format("{} / {}", fmt_int(tables), fmt_int(planned)));
        out += num_td(json_num(s, "rows"), fmt_int(json_num(s, "rows")));
        out += num_td(bytes, fmt_bytes(bytes)) + num_td(secs, fmt_seconds(secs));
        out += num_td(secs > 0 ? bytes / 1048576.0 / secs : 0, fmt_mbs(bytes, secs));
        out += fmt::format(R"(<td class="{}">{}</td>)", verified ? "ok" : "",
                           html_escape(verified ? json_str(s, "verification", "yes") : "-"));
        out += num_td(released, released > 0 ? fmt_seconds(released) : "-") + "</tr>";
    }
    return out + "</tbody></table></section>";
}

// A merged sharded run's shards: which report each came from, how it ended,
// and which were not given.
std::string render_shards(const json& report) {
    const auto& shards = json_arr(report, "shards");
    if (shards.empty()) return "";
    std::string out =
        R"(<section id="shards"><h2>Shards</h2><p class="note">Each shard ran as its own run; a missing )"
        R"(shard's sources are listed as missing.</p><table class="sortable"><thead><tr><th>shard</th>)"
        R"(<th>report</th><th>status</th><th>exit code</th><th>sources</th><th>time</th><th>host</th>)"
        R"(<th>started at</th></tr></thead><tbody>)";
    for (auto& s : shards) {
        const double index = json_num(s, "index", -1), code = json_num(s, "exit_code", -1),
                     secs = json_num(s, "seconds");
        out += "<tr>" + num_td(index, index < 0 ? "-" : fmt_int(index));
        out +=
            "<td>" + html_escape(json_str(s, "file", "-")) + "</td>" + status_td(json_str(s, "status", "-"));
        out += num_td(code, code < 0 ? "-" : fmt_int(code));
        out += num_td(json_num(s, "sources"), fmt_int(json_num(s, "sources")));
        out += num_td(secs, fmt_seconds(secs));
        out += "<td>" + html_escape(json_str(s, "host", "-")) + "</td><td>" +
               html_escape(json_str(s, "started_at", "-")) + "</td></tr>";
    }
    return out + "</tbody></table></section>";
}

// Sources reached through a pghaul agent: what crossed each link, and how
// much smaller it was on the wire.
std::string render_links(const json& report) {
    const auto links = json_arr(report, "links");
    if (links.empty()) return "";
    std::string out =
        R"(<section id="links"><h2>Agent links</h2><table class="sortable"><thead><tr><th>agent</th>)"
        R"(<th>server</th><th>connections</th><th>received</th><th>on the wire</th><th>ratio</th>)"
        R"(<th>wire MB/s</th></tr></thead><tbody>)";
    const double secs = json_num(report, "seconds");
    for (auto& l : links) {
        const double raw = json_num(l, "received_bytes"), wire = json_num(l, "received_wire_bytes");
        out += fmt::format("<tr><td>{}</td><td>{}</td>", html_escape(json_str(l, "agent")),
                           html_escape(json_str(l, "server")));
        out += num_td(json_num(l, "connections"), fmt_int(json_num(l, "connections")));
        out += num_td(raw, fmt_bytes(raw)) + num_td(wire, fmt_bytes(wire));
        out += num_td(json_num(l, "ratio"), fmt::format("{:.1f}x", json_num(l, "ratio")));
        out += num_td(secs > 0 ? wire / 1048576.0 / secs : 0, fmt_mbs(wire, secs)) + "</tr>";
    }
    return out + "</tbody></table></section>";
}

std::string render_plan(const json& report) {
    std::string out =
        R"(<section id="plan"><h2>Plan vs actual</h2><table class="sortable"><thead><tr><th>source</th>)"
        R"(<th>tables planned</th><th>tables copied</th><th>not copied</th><th>indexes</th><th>sequences</th>)"
        R"(<th>large objects</th><th>started at</th><th>ended at</th><th>duration</th></tr></thead><tbody>)";
    for (auto& s : json_arr(report, "sources")) {
        double tables = json_num(s, "tables"), planned = json_num(s, "tables_planned", tables);
        double from = json_num(s, "started_s"), to = json_num(s, "ended_s");
        double missing = planned > tables ? planned - tables : 0;
        out += "<tr><td>" + html_escape(json_str(s, "name", "-")) + "</td>";
        out += num_td(planned, fmt_int(planned)) + num_td(tables, fmt_int(tables));
        out += fmt::format(R"(<td class="num{}" data-v="{}">{}</td>)", missing > 0 ? " bad" : "", missing,
                           fmt_int(missing));
        for (const char* k : {"indexes", "sequences", "large_objects"})
            out += num_td(json_num(s, k), fmt_int(json_num(s, k)));
        out += num_td(from, fmt::format("{} s", fmt_num(from, 2))) +
               num_td(to, to > 0 ? fmt::format("{} s", fmt_num(to, 2)) : "-") +
               num_td(to > from ? to - from : 0, to > from ? fmt_seconds(to - from) : "-") + "</tr>";
    }
    return out + "</tbody></table></section>";
}

std::string render_tables(const json& report) {
    std::size_t n = 0;
    std::string rows;
    for (auto& s : json_arr(report, "sources")) {
        auto source = html_escape(json_str(s, "name", "-"));
        for (auto& t : json_arr(s, "table_details")) {
            ++n;
            double bytes = json_num(t, "bytes"), secs = json_num(t, "seconds"),
                   spooled = json_num(t, "spooled_bytes");
            auto format = json_str(t, "format", "-");
            rows += "<tr class=\"trow\"><td>" + source + "</td><td>" + html_escape(json_str(t, "name", "-")) +
                    "</td>";
            rows +=
                num_td(json_num(t, "rows"), fmt_int(json_num(t, "rows"))) + num_td(bytes, fmt_bytes(bytes));
            rows += num_td(secs, fmt_num(secs, 2)) +
                    num_td(secs > 0 ? bytes / 1048576.0 / secs : 0, fmt_mbs(bytes, secs));
            rows += fmt::format(R"(<td{}>{}</td>)", format == "text" ? R"( class="sub")" : "",
                                html_escape(format));
            rows += num_td(spooled, spooled > 0 ? fmt_bytes(spooled) : "no") + "</tr>";
        }
    }
    std::string out = fmt::format(
        R"(<section id="tables"><h2>Tables</h2><p class="note">{} tables. Click a header to sort; seconds )"
        R"(are connection-seconds (the parts of a split table add up).</p>)",
        n);
    out += R"(<div class="scroll"><table class="sortable" id="table-details"><thead><tr><th>source</th>)"
           R"(<th>table</th><th>rows</th><th>size</th><th>seconds</th><th>MB/s</th><th>format</th>)"
           R"(<th>spooled</th></tr></thead><tbody id="tables-body">)";
    return out + rows + "</tbody></table></div></section>";
}

std::string render_issues(const json& report) {
    std::string body;
    for (auto& s : json_arr(report, "sources")) {
        auto& err = json_obj(s, "error");
        auto& warnings = json_arr(s, "warnings");
        if (err.empty() && warnings.empty()) continue;
        body += "<h3>" + html_escape(json_str(s, "name", "-")) + "</h3>";
        if (!err.empty()) {
            int code = static_cast<int>(json_num(err, "code", -1));
            auto sqlstate = json_str(err, "sqlstate"), hint = json_str(err, "hint");
            body += fmt::format(R"(<div class="err"><b>error {}{}</b>{}<pre>{}</pre>)", code,
                                *exit_meaning(code) ? fmt::format(" ({})", exit_meaning(code)) : "",
                                sqlstate.empty() ? "" : " · SQLSTATE " + html_escape(sqlstate),
                                html_escape(json_str(err, "message", "-")));
            if (!hint.empty()) body += R"(<pre class="hint">HINT: )" + html_escape(hint) + "</pre>";
            body += "</div>";
        }
        if (!warnings.empty()) {
            body += R"(<ul class="warnings">)";
            for (auto& w : warnings)
                body += "<li>" + html_escape(w.is_string() ? w.get<std::string>() : w.dump()) + "</li>";
            body += "</ul>";
        }
    }
    if (body.empty()) body = R"(<p class="note">No errors, no warnings.</p>)";
    return R"(<section id="issues"><h2>Errors and warnings</h2>)" + body + "</section>";
}

std::string name_list(const json& names) {
    std::string out;
    for (auto& n : names) {
        if (!out.empty()) out += ", ";
        out += html_escape(n.is_string() ? n.get<std::string>() : n.dump());
    }
    return out.empty() ? "none" : out;
}

std::string render_roles(const json& report) {
    auto& roles = json_obj(report, "roles");
    std::string out = fmt::format(
        R"(<section id="roles"><h2>Roles</h2><p class="note">Roles are global on the target. Mode <b>{}</b>.</p><ul>)",
        html_escape(json_str(roles, "mode", "-")));
    out += "<li>created: " + name_list(json_arr(roles, "created")) + "</li>";
    if (!json_arr(roles, "to_create").empty())
        out += "<li>to create: " + name_list(json_arr(roles, "to_create")) + "</li>";
    // "missing" is what each source's preflight found absent; a role the run
    // then created is not missing any more (missing_roles = "create").
    std::set<std::string> created;
    for (auto& n : json_arr(roles, "created"))
        if (n.is_string()) created.insert(n.get<std::string>());
    bool any_missing = false;
    for (auto& [source, names] : json_obj(roles, "missing").items()) {
        json still = json::array();
        if (names.is_array())
            for (auto& n : names)
                if (!n.is_string() || !created.contains(n.get<std::string>())) still.push_back(n);
        if (still.empty()) continue;
        any_missing = true;
        out += "<li>missing for " + html_escape(source) + ": <span class=\"bad\">" + name_list(still) +
               "</span></li>";
    }
    if (!any_missing) out += "<li>missing: none</li>";
    out += "</ul>";
    auto& shared = json_arr(roles, "shared");
    if (shared.empty()) return out + R"(<p class="note">No role is shared by several sources.</p></section>)";
    out += R"(<h3>Shared roles</h3><p class="note">A role several sources name reaches all their databases )"
           R"(on the target.</p><table><thead><tr><th>role</th><th>sources</th></tr></thead><tbody>)";
    for (auto& r : shared)
        out += "<tr><td>" + html_escape(json_str(r, "role", "-")) + "</td><td>" +
               name_list(json_arr(r, "sources")) + "</td></tr>";
    return out + "</tbody></table></section>";
}

}  // namespace

std::string render_html_report(const json& report, const std::optional<std::string>& bench_tsv_text) {
    std::string title;
    auto header = render_header(report, title);
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">";
    out += "<title>" + html_escape(title) + "</title><style>" + css + "</style></head><body><main>";
    out += header;
    out += render_timeline(report);
    out += render_throughput(report);
    out += render_sources(report);
    out += render_shards(report);
    out += render_links(report);
    out += render_issues(report);
    out += render_plan(report);
    out += render_tables(report);
    out += render_roles(report);
    if (bench_tsv_text) out += render_bench(*bench_tsv_text);
    out += "<script>";
    out += script;
    return out + "</script></main></body></html>\n";
}

}  // namespace pghaul::engine
