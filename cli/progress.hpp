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

namespace pghaul::cli {

enum class progress_mode { none, plain, bar, json };

// "auto" is bar on a terminal, plain otherwise.
progress_mode parse_progress_mode(const std::string& s, bool stderr_is_terminal);

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
    nlohmann::json last_;               // the latest progress event
    std::map<int, task_view> running_;  // by worker
    std::size_t drawn_ = 0;             // lines of the bar on screen
    std::chrono::steady_clock::time_point last_draw_{}, last_plain_{};
};

}  // namespace pghaul::cli
