// --watch durations.
#include <doctest/doctest.h>

#include "protocol/duration.hpp"
#include "protocol/error.hpp"

using namespace std::chrono_literals;

TEST_CASE("durations with and without units") {
    CHECK(pghaul::parse_duration("0") == 0s);
    CHECK(pghaul::parse_duration("90") == 90s);
    CHECK(pghaul::parse_duration("30s") == 30s);
    CHECK(pghaul::parse_duration("5m") == 300s);
    CHECK(pghaul::parse_duration("2H") == 7200s);
    CHECK(pghaul::parse_duration("1h30m") == 5400s);
    CHECK(pghaul::parse_duration("1d") == 86400s);
}

TEST_CASE("bad or too long durations are usage errors naming the text") {
    for (const char* bad : {"", "m", "5x", "-5s", "1.5h", "5m30", "1 h", "8d", "99999999999999999999"}) {
        CAPTURE(bad);
        try {
            pghaul::parse_duration(bad);
            FAIL("expected an error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
            CHECK(std::string(e.what()).find(std::string("\"") + bad + "\"") != std::string::npos);
        }
    }
}
