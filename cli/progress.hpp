// Live progress of copy and run, drawn from the engine's events: a bar redrawn
// in place on a terminal, a plain line every N seconds for logs and cron mail,
// newline-delimited JSON events for other tools, or nothing.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pghaul::cli {

enum class progress_mode { none, plain, bar, json };

// "auto" is bar on a terminal, plain otherwise.
progress_mode parse_progress_mode(const std::string& s, bool stderr_is_terminal);

// The time left for the whole copy, not only its rows: the work is the
// tables' bytes to copy plus their index builds, each costing its table's
// size (one scan and one sort), at the rate of the last `window` of work (a
// night's rate changes as big tables give way to many small ones). Before
// the window has anything to say, the average since the start. Pure.
class eta_estimate {
public:
    explicit eta_estimate(double window_s = 30) : window_(window_s) {}
    // One sample per progress event: seconds since the start, work done.
    void add(double elapsed_s, double work_done);
    // Seconds left for `work_planned`; negative when unknown (no work done yet).
    double seconds_left(double work_planned) const;
    double rate() const;  // work per second

private:
    double window_;
    std::vector<std::pair<double, double>> samples_;  // (elapsed, done), oldest first
};

class progress_display {
public:
    progress_display(progress_mode mode, std::chrono::seconds plain_interval);
    ~progress_display();

    // The engine's event sink (thread-safe).
    void on_event(const nlohmann::json& event);
    // A log line, printed above the bar so the two never tangle.
    void print_above(std::string_view line);
    // Takes the bar off the screen for good, so what is printed next (a
    // fatal error) stays the last thing there.
    void stop();
    progress_mode mode() const { return mode_; }

private:
    struct task_view {
        std::string source, phase, object;
        std::chrono::steady_clock::time_point started;
    };
    void redraw(bool force);  // under m_
    void clear();             // under m_
    bool stopped_ = false;    // under m_
    std::string headline() const;
    std::vector<std::string> lines() const;

    progress_mode mode_;
    std::chrono::seconds interval_;
    std::mutex m_;
    nlohmann::json last_;  // the latest progress event
    eta_estimate eta_;
    std::map<int, task_view> running_;  // by worker
    std::size_t drawn_ = 0;             // lines of the bar on screen
    std::chrono::steady_clock::time_point last_draw_{}, last_plain_{};
};

}  // namespace pghaul::cli
