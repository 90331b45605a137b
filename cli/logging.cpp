// spdlog sinks: JSON lines built with a real encoder (names may hold quotes
// and newlines), and a console sink that prints above the progress bar.
#include "cli/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "io/pg/connection.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

std::string json_line(const spdlog::details::log_msg& msg) {
    auto ts = std::chrono::duration<double>(msg.time.time_since_epoch()).count();
    nlohmann::json j = {{"ts", ts},
                        {"level", spdlog::level::to_string_view(msg.level).data()},
                        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Writes JSON lines to a FILE* (stderr or an opened log file).
class json_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit json_sink(std::FILE* f) : f_(f) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        auto line = json_line(msg);
        std::fwrite(line.data(), 1, line.size(), f_);
    }
    void flush_() override { std::fflush(f_); }

private:
    std::FILE* f_;
};

// Text (or JSON) lines routed through the progress display, so a log line
// appears above the bar instead of through it.
class above_bar_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
    above_bar_sink(progress_display& d, bool json) : d_(d), json_(json) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        if (json_) return d_.print_above(json_line(msg));
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        d_.print_above(std::string_view(buf.data(), buf.size()));
    }
    void flush_() override {}

private:
    progress_display& d_;
    bool json_;
};

// Where log_fatal writes: the log file and a JSON stderr, not the terminal text.
std::vector<spdlog::sink_ptr> fatal_sinks;

}  // namespace

void log_fatal(const error& e) {
    if (fatal_sinks.empty()) return;
    spdlog::logger fatal("pghaul", fatal_sinks.begin(), fatal_sinks.end());
    fatal.error("{}{}", e.what(), e.hint().empty() ? "" : "\nHINT: " + e.hint());
    fatal.flush();
}

namespace {

// A server's WARNING or NOTICE (a DDL statement's "no privileges were
// granted", say): into the log with the server named, in its format.
void log_notice(const std::string& endpoint, std::string_view message) {
    spdlog::info("server {}: {}", endpoint, message);
}

}  // namespace

void set_up_logging(const logging_options& opt, progress_display* display) {
    pg::set_notice_sink(&log_notice);
    const bool json = opt.format == "json";
    const bool terminal = isatty(STDERR_FILENO);
    std::vector<spdlog::sink_ptr> sinks;
    if (display && display->mode() == progress_mode::bar)
        sinks.push_back(std::make_shared<above_bar_sink>(*display, json));
    else if (json) {
        sinks.push_back(std::make_shared<json_sink>(stderr));
        fatal_sinks.push_back(sinks.back());
    } else
        sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    // Timestamps only where nobody watches the terminal (logs, cron mail).
    sinks.back()->set_pattern(terminal ? "%^%l%$: %v" : "%Y-%m-%d %H:%M:%S.%e %l: %v");
    if (!opt.file.empty()) {
        try {
            if (json) {
                std::FILE* f = std::fopen(opt.file.c_str(), "a");
                if (!f) throw spdlog::spdlog_ex("cannot open " + opt.file, errno);
                sinks.push_back(std::make_shared<json_sink>(f));  // open for the process's life
            } else {
                sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(opt.file));
                sinks.back()->set_pattern("%Y-%m-%d %H:%M:%S.%e %l: %v");
            }
            fatal_sinks.push_back(sinks.back());
        } catch (const spdlog::spdlog_ex& e) {
            throw error(exit_code::usage, "cannot write the log file \"" + opt.file + "\": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("pghaul", sinks.begin(), sinks.end());
    spdlog::set_default_logger(logger);
    spdlog::set_level(opt.quiet           ? spdlog::level::warn
                      : opt.verbosity > 1 ? spdlog::level::trace
                      : opt.verbosity > 0 ? spdlog::level::debug
                                          : spdlog::level::info);
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace pghaul::cli
