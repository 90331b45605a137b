// Progress rendering. Numbers come only from the engine's events (bytes read
// from the sources, planned sizes), so watching costs the servers nothing.
#include "cli/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "protocol/size.hpp"

namespace pghaul::cli {
namespace {

std::string eta_text(double seconds) {
    if (seconds < 0 || seconds > 7 * 86400) return "?";
    int s = static_cast<int>(seconds + 0.5);
    return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60)
           : s >= 60 ? fmt::format("{}m{:02}s", s / 60, s % 60)
                     : fmt::format("{}s", s);
}

std::size_t terminal_width() {
    winsize w{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 20) return w.ws_col;
    return 80;
}

std::string fit(std::string s, std::size_t width) {
    if (s.size() >= width) s.resize(width - 1);
    return s;
}

}  // namespace

void eta_estimate::add(double elapsed_s, double work_done) {
    samples_.emplace_back(elapsed_s, work_done);
    // Keep one sample older than the window, so the window is always whole.
    while (samples_.size() > 2 && samples_[1].first <= elapsed_s - window_) samples_.erase(samples_.begin());
}

double eta_estimate::rate() const {
    if (samples_.empty()) return 0;
    const auto& [t1, w1] = samples_.back();
    const auto& [t0, w0] = samples_.front();
    // A few seconds of window say little: the average since the start, then.
    if (t1 - t0 >= std::min(window_, 5.0) && w1 > w0) return (w1 - w0) / (t1 - t0);
    return t1 > 0 ? w1 / t1 : 0;
}

double eta_estimate::seconds_left(double work_planned) const {
    const double r = rate();
    if (samples_.empty() || r <= 0) return -1;
    return std::max(0.0, work_planned - samples_.back().second) / r;
}

progress_mode parse_progress_mode(const std::string& s, bool stderr_is_terminal) {
    if (s == "none") return progress_mode::none;
    if (s == "plain") return progress_mode::plain;
    if (s == "bar") return progress_mode::bar;
    if (s == "json") return progress_mode::json;
    return stderr_is_terminal ? progress_mode::bar : progress_mode::plain;
}

progress_display::progress_display(progress_mode mode, std::chrono::seconds plain_interval)
    : mode_(mode), interval_(plain_interval) {
    last_plain_ = std::chrono::steady_clock::now();
}

progress_display::~progress_display() {
    std::lock_guard lk(m_);
    clear();
}

std::string progress_display::headline() const {
    if (last_.is_null()) return "pghaul: starting";
    double elapsed = last_.value("elapsed_s", 0.0);
    // Both in the tables' sizes on the source (engine/copy/progress_tally.hpp).
    auto done = last_.value("bytes_done", std::int64_t{0});
    auto planned = last_.value("bytes_planned", std::int64_t{0});
    double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    double pct =
        planned > 0 ? std::min(100.0, 100.0 * static_cast<double>(done) / static_cast<double>(planned)) : 0;
    // The ETA covers the index builds too (eta_estimate); with nothing to
    // index it is the rows'. Once all is counted, "ETA 0s" alone would read
    // as finished while constraints, keys and statistics still run: say so.
    const auto index_planned = last_.value("index_work_planned", std::int64_t{0});
    double eta = eta_.seconds_left(static_cast<double>(planned + index_planned));
    std::size_t building = 0;
    for (auto& [w, t] : running_)
        if (t.phase != "copy" && t.phase != "part" && t.phase != "schema") ++building;
    const std::string after =
        done >= planned && building > 0
            ? fmt::format(", {} index and constraint step{} running", building, building == 1 ? "" : "s")
            : "";
    return fmt::format("pghaul {:.0f}s  {} of {} copied ({:.0f}%)  {:.1f} MB/s  ETA {}{}", elapsed,
                       format_size(done), format_size(planned), pct, rate / 1048576.0, eta_text(eta), after);
}

std::vector<std::string> progress_display::lines() const {
    std::vector<std::string> out{headline()};
    if (!last_.is_null())
        for (auto& s : last_["sources"]) {
            // What its workers do now: schema, copy, index, ...
            std::string phases;
            for (auto& [w, t] : running_)
                if (t.source == s.value("source", "") && phases.find(t.phase) == std::string::npos)
                    phases += (phases.empty() ? "  " : ", ") + t.phase;
            // Its rate since the run began (its tables' sizes, as the headline's).
            const double elapsed = last_.value("elapsed_s", 0.0);
            const auto done = s.value("bytes_done", std::int64_t{0});
            if (const auto wire = s.value("link_wire_bytes", std::int64_t{0}); wire > 0)
                phases += fmt::format("  link {} on the wire ({:.1f}x, {:.1f} MB/s)", format_size(wire),
                                      static_cast<double>(s.value("link_bytes", std::int64_t{0})) /
                                          static_cast<double>(wire),
                                      elapsed > 0 ? static_cast<double>(wire) / elapsed / 1048576.0 : 0.0);
            out.push_back(
                fmt::format("  {:<20} {:<8} {}/{} tables  {} of {}  {:.1f} MB/s{}", s.value("source", ""),
                            s.value("status", ""), s.value("tables_done", std::size_t{0}),
                            s.value("tables", std::size_t{0}), format_size(done),
                            format_size(s.value("bytes_planned", std::int64_t{0})),
                            elapsed > 0 ? static_cast<double>(done) / elapsed / 1048576.0 : 0.0, phases));
        }
    auto now = std::chrono::steady_clock::now();
    for (auto& [w, t] : running_)
        out.push_back(fmt::format("  [{}] {} {} {} ({:.0f}s)", w, t.source, t.phase, t.object,
                                  std::chrono::duration<double>(now - t.started).count()));
    return out;
}

void progress_display::clear() {
    if (mode_ != progress_mode::bar || drawn_ == 0) return;
    std::fprintf(stderr, "\033[%zuA\r\033[J", drawn_);
    drawn_ = 0;
}

void progress_display::stop() {
    std::lock_guard lk(m_);
    clear();
    stopped_ = true;
}

void progress_display::redraw(bool force) {
    if (stopped_) return;
    auto now = std::chrono::steady_clock::now();
    // A calm rate: at most four frames a second.
    if (!force && now - last_draw_ < std::chrono::milliseconds(250)) return;
    last_draw_ = now;
    auto width = terminal_width();
    std::string frame;
    if (drawn_) frame += fmt::format("\033[{}A", drawn_);
    auto ls = lines();
    for (auto& l : ls) frame += "\r\033[K" + fit(l, width) + "\n";
    frame += "\033[J";
    std::fputs(frame.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = ls.size();
}

void progress_display::on_event(const nlohmann::json& event) {
    if (mode_ == progress_mode::none) return;
    std::lock_guard lk(m_);
    const std::string kind = event.value("event", "");
    if (mode_ == progress_mode::json) {
        nlohmann::json e = event;
        e["ts"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        std::fputs((e.dump() + "\n").c_str(), stdout);
        std::fflush(stdout);
        return;
    }
    if (kind == "progress" || kind == "run_started") last_ = event;
    if (kind == "progress")
        eta_.add(event.value("elapsed_s", 0.0),
                 static_cast<double>(event.value("bytes_done", std::int64_t{0}) +
                                     event.value("index_work_done", std::int64_t{0})));
    if (kind == "task_started")
        running_[event["worker"].get<int>()] = {event["source"], event["phase"], event["object"],
                                                std::chrono::steady_clock::now()};
    if (kind == "task_finished") running_.erase(event["worker"].get<int>());
    if (mode_ == progress_mode::bar) {
        if (kind == "run_finished")
            clear();
        else
            redraw(false);
        return;
    }
    // plain: one line every interval, on the progress tick, and a last one.
    auto now = std::chrono::steady_clock::now();
    if ((kind == "progress" && now - last_plain_ >= interval_) ||
        (kind == "run_finished" && !last_.is_null() && last_.value("bytes_done", std::int64_t{0}) > 0)) {
        last_plain_ = now;
        std::string line = headline();
        for (auto& s : last_["sources"])
            line += fmt::format("; {} {}/{} tables", s["source"].get<std::string>(),
                                s["tables_done"].get<std::size_t>(), s["tables"].get<std::size_t>());
        spdlog::info("{}", line);
    }
}

void progress_display::print_above(std::string_view line) {
    std::lock_guard lk(m_);
    clear();
    std::fwrite(line.data(), 1, line.size(), stderr);
    if (mode_ == progress_mode::bar && !last_.is_null()) redraw(true);
}

}  // namespace pghaul::cli
