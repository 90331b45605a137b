// The HTML report's charts, drawn as inline SVG on one time axis: the Gantt
// chart of the run (a lane per source, a row per worker, a bar per task) and
// the throughput the copy tasks achieved over time.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "engine/report/detail/html.hpp"

namespace pghaul::engine::detail {
namespace {

// Both charts share this horizontal geometry, so their time axes line up.
constexpr double chart_width = 1200;
constexpr double gutter = 150;  // row labels
constexpr double right_pad = 24;
constexpr double row_height = 22;
constexpr double bar_height = 16;
constexpr double char_width = 6.4;  // of the 11px label font, for truncation

struct time_axis {
    double end = 1;  // seconds shown
    // Long runs read in clock time: the start's seconds since local midnight
    // and its UTC offset ("+01:00"), from the report's started_at.
    std::optional<int> clock_start;
    std::string zone;
    double x(double t) const {
        return gutter + std::clamp(t, 0.0, end) / end * (chart_width - gutter - right_pad);
    }
    double step() const {
        const double raw = end / 8;
        if (clock_start) {  // steps a clock has: 1-30 s, 1-30 min, 1-6 h; about 8 ticks
            for (double s : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600})
                if (raw <= s) return s;
            return 43200;
        }
        // 1, 2 or 5 times a power of ten, about 8 ticks
        double p = std::pow(10.0, std::floor(std::log10(raw)));
        for (double m : {1.0, 2.0, 5.0})
            if (raw <= m * p) return m * p;
        return 10 * p;
    }
    // The first tick: on the clock's round step (09:00, 09:15) rather than at the start.
    double first_tick(double step) const {
        if (!clock_start) return 0;
        const double into = std::fmod(*clock_start, step);
        return into == 0 ? 0 : step - into;
    }
    std::string label(double t, double step) const {
        if (!clock_start)
            return step < 1 ? fmt::format("{:.{}f}", t, step < 0.1 ? 2 : 1) : fmt::format("{:.0f}", t);
        const auto of_day = static_cast<long>(std::lround(*clock_start + t)) % 86400;
        return step < 60 ? fmt::format("{:02}:{:02}:{:02}", of_day / 3600, of_day / 60 % 60, of_day % 60)
                         : fmt::format("{:02}:{:02}", of_day / 3600, of_day / 60 % 60);
    }
    std::string caption() const {
        return clock_start ? "clock time (UTC" + zone + ")" : std::string("seconds since start");
    }
};

// Runs shorter than this read better in seconds since start.
constexpr double clock_axis_from_s = 120;

time_axis axis_of(const nlohmann::json& report) {
    double end = json_num(report, "seconds");
    for (auto& s : json_arr(report, "sources")) {
        end = std::max(end, json_num(s, "ended_s"));
        for (auto& e : json_arr(s, "timeline")) end = std::max(end, json_num(e, "end_s"));
    }
    time_axis ax{end > 0 ? end : 1, std::nullopt, {}};
    // "2026-12-03T23:40:10+01:00", as the run stamps it.
    const std::string started = json_str(report, "started_at", "");
    int h = 0, m = 0, sec = 0;
    char sign = 0;
    int zh = 0, zm = 0;
    if (ax.end >= clock_axis_from_s && started.size() == 25 &&
        std::sscanf(started.c_str() + 11, "%2d:%2d:%2d%c%2d:%2d", &h, &m, &sec, &sign, &zh, &zm) == 6 &&
        (sign == '+' || sign == '-') && h < 24 && m < 60 && sec < 61) {
        ax.clock_start = h * 3600 + m * 60 + sec;
        ax.zone = started.substr(19);
    }
    return ax;
}

std::string fit(const std::string& text, double width) {
    auto n = static_cast<std::size_t>(std::max(0.0, (width - 8) / char_width));
    if (text.size() <= n) return text;
    return n < 4 ? std::string() : utf8_prefix(text, n - 1) + "\u2026";
}

// Vertical grid lines from y0 to y1 and the tick labels below y1.
std::string grid(const time_axis& ax, double y0, double y1) {
    std::string out;
    const double step = ax.step();
    for (double t = ax.first_tick(step); t <= ax.end + step * 1e-6; t += step) {
        double x = ax.x(t);
        out += fmt::format(R"(<line class="grid" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}"/>)", x, y0, y1);
        out += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", x,
                           y1 + 14, ax.label(t, step));
    }
    return out;
}

std::string row_label(double y, const std::string& text, const std::string& full) {
    return fmt::format(
        R"(<text class="rowlbl" x="{}" y="{:.1f}" text-anchor="end"><title>{}</title>{}</text>)", gutter - 8,
        y + row_height / 2 + 4, html_escape(full), html_escape(fit(text, gutter - 8)));
}

const char* status_colour(const std::string& status) {
    if (status == "done") return "#d9ead3";
    if (status == "failed") return "#f4cccc";
    return "#eeeeee";
}

// One lane per source: when it started and ended, and when its snapshot went.
std::string source_lanes(const nlohmann::json& report, const time_axis& ax, double& y) {
    std::string out;
    for (auto& s : json_arr(report, "sources")) {
        auto name = json_str(s, "name", "?"), status = json_str(s, "status", "pending");
        double from = json_num(s, "started_s"), to = std::max(from, json_num(s, "ended_s"));
        double x0 = ax.x(from), w = std::max(2.0, ax.x(to) - x0);
        out += row_label(y, name, name);
        out += fmt::format(
            R"(<rect class="span" data-source="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{}" )"
            R"(fill="{}" stroke="{}"><title>{}: {} from {} to {} s</title></rect>)",
            html_escape(name), x0, y + (row_height - bar_height) / 2, w, bar_height, status_colour(status),
            status == "failed" ? "#cc0000" : "#999999", html_escape(name), html_escape(status),
            fmt_num(from, 2), fmt_num(to, 2));
        out += fmt::format(R"(<text class="barlbl" x="{:.1f}" y="{:.1f}">{}</text>)", x0 + 4,
                           y + row_height / 2 + 4, html_escape(fit(status, w)));
        double released = json_num(s, "snapshot_released_after_s");
        if (released > 0) {
            double xr = ax.x(from + released);
            out += fmt::format(R"(<line class="snap" x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}">)"
                               R"(<title>{3}: snapshot released after {4} s</title></line>)",
                               xr, y + 1, y + row_height - 1, html_escape(name), fmt_num(released, 2));
        }
        y += row_height;
    }
    return out;
}

std::string bar(const nlohmann::json& e, const std::string& source, const time_axis& ax, double y) {
    auto phase = json_str(e, "phase", "?"), object = json_str(e, "object");
    double from = json_num(e, "start_s"), to = std::max(from, json_num(e, "end_s"));
    bool ok = json_bool(e, "ok", true);
    double x0 = ax.x(from), w = std::max(1.0, ax.x(to) - x0);
    auto what = object.empty() ? phase + " " + source : object;
    std::string out = fmt::format(
        R"(<rect class="bar{}" data-phase="{}" data-source="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" )"
        R"(height="{}" fill="{}"><title>{} · {} · {} · {}{}</title></rect>)",
        ok ? "" : " failed", html_escape(phase), html_escape(source), x0, y + (row_height - bar_height) / 2,
        w, bar_height, phase_colour(phase), html_escape(source), html_escape(phase),
        html_escape(object.empty() ? "-" : object), fmt_seconds(to - from), ok ? "" : " · FAILED");
    auto label = fit(what, w);
    if (!label.empty())
        out += fmt::format(R"(<text class="barlbl" x="{:.1f}" y="{:.1f}">{}</text>)", x0 + 4,
                           y + row_height / 2 + 4, html_escape(label));
    return out;
}

}  // namespace

std::string render_timeline(const nlohmann::json& report) {
    auto ax = axis_of(report);
    // A row per worker; in a merged sharded run's report, per shard and worker
    // (each shard's worker 1 is another process, on its own time axis from 0).
    using worker_id = std::pair<int, int>;  // shard (-1: none), worker
    auto worker_of = [](const nlohmann::json& s, const nlohmann::json& e) {
        return worker_id{static_cast<int>(json_num(s, "shard", -1)), static_cast<int>(json_num(e, "worker"))};
    };
    std::set<worker_id> workers;
    std::size_t bars = 0;
    for (auto& s : json_arr(report, "sources"))
        for (auto& e : json_arr(s, "timeline")) {
            workers.insert(worker_of(s, e));
            ++bars;
        }
    std::map<worker_id, int> row_of;
    for (auto w : workers) row_of.emplace(w, static_cast<int>(row_of.size()));

    double y = 26;
    std::string body = R"(<text class="lane" x="8" y="16">sources</text>)";
    body += source_lanes(report, ax, y);
    double workers_top = y + 10;
    body += fmt::format(R"(<text class="lane" x="8" y="{:.1f}">workers</text>)", workers_top + 6);
    workers_top += 14;
    for (auto& [w, row] : row_of) {
        auto label = w.first < 0 ? fmt::format("worker {}", w.second)
                                 : fmt::format("shard {} \u00b7 worker {}", w.first, w.second);
        body += row_label(workers_top + row * row_height, label, label);
    }
    for (auto& s : json_arr(report, "sources")) {
        auto source = json_str(s, "name", "?");
        for (auto& e : json_arr(s, "timeline")) {
            int row = row_of[worker_of(s, e)];
            body += bar(e, source, ax, workers_top + row * row_height);
        }
    }
    double bottom = workers_top + static_cast<double>(row_of.size()) * row_height + 4;
    double height = bottom + 34;

    std::string out = R"(<section id="timeline"><h2>Timeline</h2>)";
    out += fmt::format(
        R"(<p class="note">{} tasks on {} workers. Top: each source from start to end (the tick marks when )"
        R"(its snapshot was released). Below: what each worker ran. Hover a bar for details; hover a )"
        R"(source to highlight its tasks.{}</p>)",
        bars, workers.size(),
        !workers.empty() && workers.rbegin()->first >= 0
            ? " The shards ran as separate runs: each shard's times count from its own start."
            : "");
    out += fmt::format(R"(<svg class="chart" viewBox="0 0 {} {:.0f}" role="img" aria-label="run timeline">)",
                       chart_width, height);
    out += grid(ax, 4, bottom);
    out += body;
    out += fmt::format(R"(<text class="tick" x="{}" y="{:.0f}" text-anchor="end">{}</text>)",
                       chart_width - right_pad, bottom + 30, html_escape(ax.caption()));
    out += "</svg>";
    out += R"(<div class="legend">)";
    for (const char* p :
         {"schema", "copy", "part", "index", "constraints", "foreign key", "finish", "verify"})
        out += fmt::format(R"(<span><i style="background:{}"></i>{}</span>)", phase_colour(p), p);
    out += R"(<span><i class="failed"></i>failed task</span>)"
           R"(<span><i class="snapkey"></i>snapshot released</span></div></section>)";
    return out;
}

namespace {

// Bytes each copy or part bar moved: its table's bytes, split evenly over the
// table's successful part bars (a failed attempt rolled back: it moved none
// that stayed).
struct moved {
    double start, end, bytes;
};

std::string table_of(const std::string& phase, const std::string& object) {
    if (phase != "part") return object;
    auto at = object.rfind(" pages ");
    return at == std::string::npos ? object : object.substr(0, at);
}

std::vector<moved> copy_bars(const nlohmann::json& report) {
    std::vector<moved> out;
    for (auto& s : json_arr(report, "sources")) {
        std::map<std::string, double> bytes;
        for (auto& t : json_arr(s, "table_details")) bytes[json_str(t, "name")] = json_num(t, "bytes");
        std::map<std::string, int> bars_of;
        for (auto& e : json_arr(s, "timeline")) {
            auto phase = json_str(e, "phase");
            if ((phase == "copy" || phase == "part") && json_bool(e, "ok", true))
                ++bars_of[table_of(phase, json_str(e, "object"))];
        }
        for (auto& e : json_arr(s, "timeline")) {
            auto phase = json_str(e, "phase");
            if ((phase != "copy" && phase != "part") || !json_bool(e, "ok", true)) continue;
            auto table = table_of(phase, json_str(e, "object"));
            auto it = bytes.find(table);
            if (it == bytes.end()) continue;
            out.push_back({json_num(e, "start_s"), json_num(e, "end_s"), it->second / bars_of[table]});
        }
    }
    return out;
}

}  // namespace

std::string render_throughput(const nlohmann::json& report) {
    auto ax = axis_of(report);
    auto bars = copy_bars(report);
    std::string out = R"(<section id="throughput"><h2>Throughput</h2>)";
    if (bars.empty()) return out + R"(<p class="note">No table was copied: nothing to chart.</p></section>)";

    // Spread each bar's bytes evenly over its duration, into fixed buckets.
    constexpr int buckets = 240;
    double width = ax.end / buckets, total = 0;
    std::vector<double> bytes(buckets, 0.0);
    for (auto& b : bars) {
        total += b.bytes;
        double dur = b.end - b.start;
        if (dur <= 0) {
            bytes[std::clamp(static_cast<int>(b.start / width), 0, buckets - 1)] += b.bytes;
            continue;
        }
        int first = std::clamp(static_cast<int>(b.start / width), 0, buckets - 1);
        int last = std::clamp(static_cast<int>(b.end / width), 0, buckets - 1);
        for (int i = first; i <= last; ++i) {
            double overlap = std::min(b.end, (i + 1) * width) - std::max(b.start, i * width);
            if (overlap > 0) bytes[i] += b.bytes * overlap / dur;
        }
    }
    double peak = 0;
    std::vector<double> mbs(buckets);
    for (int i = 0; i < buckets; ++i) {
        mbs[i] = bytes[i] / (1024.0 * 1024.0) / width;
        peak = std::max(peak, mbs[i]);
    }
    double top = peak > 0 ? peak * 1.1 : 1, plot_top = 12, plot_bottom = 132;
    auto yv = [&](double v) { return plot_bottom - v / top * (plot_bottom - plot_top); };

    std::string line, area = fmt::format("{:.1f},{:.1f}", ax.x(0), plot_bottom);
    for (int i = 0; i < buckets; ++i) {
        auto pt = fmt::format(" {:.1f},{:.1f} {:.1f},{:.1f}", ax.x(i * width), yv(mbs[i]),
                              ax.x((i + 1) * width), yv(mbs[i]));
        line += pt;
        area += pt;
    }
    area += fmt::format(" {:.1f},{:.1f}", ax.x(ax.end), plot_bottom);

    out += fmt::format(
        R"(<p class="note">MB/s moved by copy tasks (each table's bytes spread over its copy or parts). )"
        R"(Peak {} MB/s; {} in all.</p>)",
        fmt_num(peak, 1), fmt_bytes(total));
    out += fmt::format(R"(<svg class="chart" viewBox="0 0 {} {:.0f}" role="img" aria-label="throughput">)",
                       chart_width, plot_bottom + 34);
    out += grid(ax, plot_top, plot_bottom);
    for (double v : {0.0, peak / 2, peak})
        out += fmt::format(R"(<line class="grid" x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}"/>)"
                           R"(<text class="tick" x="{3}" y="{4:.1f}" text-anchor="end">{5} MB/s</text>)",
                           gutter, chart_width - right_pad, yv(v), gutter - 8, yv(v) + 4,
                           v == 0 ? "0" : fmt_num(v, v < 10 ? 1 : 0));
    out += fmt::format(R"(<polygon class="area" points="{}"/><polyline class="line" points="{}"/>)", area,
                       line.substr(1));
    out += "</svg></section>";
    return out;
}

}  // namespace pghaul::engine::detail
