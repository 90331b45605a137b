#include "cli/progress.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace {

// The plain progress lines a sequence of events makes, as logged.
std::string plain_lines(const std::vector<nlohmann::json>& events) {
    std::ostringstream out;
    auto previous = spdlog::default_logger();
    auto logger =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
    {
        pghaul::cli::progress_display display(pghaul::cli::progress_mode::plain, std::chrono::seconds(0));
        for (auto& e : events) display.on_event(e);
    }
    spdlog::set_default_logger(previous);
    return out.str();
}

nlohmann::json progress(std::int64_t done, std::int64_t planned) {
    return {{"event", "progress"},      {"elapsed_s", 10.0},  {"bytes_done", done},
            {"bytes_planned", planned}, {"bytes_read", done}, {"sources", nlohmann::json::array()}};
}

}  // namespace

TEST_CASE("progress: the ETA is the rows'; once they are in, the line says index builds still run") {
    const auto copying = plain_lines({progress(50 << 20, 100 << 20)});
    CHECK(copying.find("50.0 MB of 100.0 MB copied (50%)") != std::string::npos);
    CHECK(copying.find("then") == std::string::npos);

    const auto building = plain_lines({progress(100 << 20, 100 << 20),
                                       {{"event", "task_started"},
                                        {"worker", 0},
                                        {"source", "a"},
                                        {"phase", "index"},
                                        {"object", "t_pkey"}},
                                       {{"event", "task_started"},
                                        {"worker", 1},
                                        {"source", "a"},
                                        {"phase", "constraints"},
                                        {"object", "t"}},
                                       progress(100 << 20, 100 << 20)});
    CHECK(building.find("(100%)") != std::string::npos);
    CHECK(building.find("then 2 index and constraint steps running") != std::string::npos);
}
