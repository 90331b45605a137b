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

TEST_CASE("progress: once the rows and index work are counted, the line says which steps still run") {
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
    CHECK(building.find("ETA 0s, 2 index and constraint steps running") != std::string::npos);
}

TEST_CASE("progress: the ETA counts index builds as work, at the recent rate") {
    using pghaul::cli::eta_estimate;
    eta_estimate e(30);
    CHECK(e.seconds_left(100) < 0);  // nothing done yet: unknown
    e.add(1, 0);
    CHECK(e.seconds_left(100) < 0);
    // 10 units a second from the start: 50 of 100 left after 5 s.
    for (int t = 2; t <= 5; ++t) e.add(t, 10.0 * (t - 0) - 0);
    CHECK(e.seconds_left(100) == doctest::Approx(5.0).epsilon(0.1));
    // The rate changes: 1 unit a second for the last 30 s. The average since the
    // start would say about 1.6/s; the window says 1/s.
    double done = 50;
    for (int t = 6; t <= 60; ++t) e.add(t, done += 1);
    CHECK(e.rate() == doctest::Approx(1.0));
    CHECK(e.seconds_left(200) == doctest::Approx(200 - done));
    CHECK(e.seconds_left(done) == 0);  // all counted
}

TEST_CASE("progress: the ETA of a copy whose rows are in still covers its index builds") {
    // 100 MB copied in 10 s; 100 MB of index work planned, none done: about 10 s more.
    auto e = progress(100 << 20, 100 << 20);
    e["index_work_planned"] = 100 << 20;
    e["index_work_done"] = 0;
    const auto line = plain_lines({e});
    CHECK(line.find("ETA 10s") != std::string::npos);
    e["index_work_done"] = 100 << 20;
    CHECK(plain_lines({e}).find("ETA 0s") != std::string::npos);
}

// F27: whatever the samples say (no time passed, time running backwards
// after a clock jump, work counted down by a retry's reload), the ETA is a
// finite, non-negative number of seconds or "unknown" (negative): never a
// division by zero, NaN or infinity on the screen.
TEST_CASE("progress: the ETA stays finite and non-negative on samples no clock should give") {
    using pghaul::cli::eta_estimate;
    const std::vector<std::vector<std::pair<double, double>>> cases = {
        {{0, 0}, {0, 10}, {0, 20}},                // no time passes
        {{5, 10}, {3, 20}, {1, 30}},               // time runs backwards
        {{1, 10}, {2, 20}, {-40, 30}, {-39, 40}},  // a jump to before the start
        {{1, 50}, {2, 40}, {8, 20}, {40, 10}},     // work counted down
        {{1e-12, 1e9}},                            // a huge rate
        {{1e9, 1}},                                // a tiny one
    };
    for (const auto& samples : cases) {
        eta_estimate e(30);
        for (auto [t, w] : samples) {
            e.add(t, w);
            for (double planned : {0.0, 5.0, 100.0, 1e12}) {
                const double left = e.seconds_left(planned);
                CAPTURE(t);
                CAPTURE(w);
                CAPTURE(planned);
                CHECK(std::isfinite(left));
                CHECK(std::isfinite(e.rate()));
                CHECK(e.rate() >= 0);
                CHECK((left >= 0 || left == -1));
            }
        }
    }
}
