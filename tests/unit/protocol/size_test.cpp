// Size strings as options and manifests take them.
#include <doctest/doctest.h>

#include "protocol/error.hpp"
#include "protocol/size.hpp"

TEST_CASE("sizes with and without units") {
    CHECK(pghaul::parse_size("4096") == 4096);
    CHECK(pghaul::parse_size("16MB") == 16LL << 20);
    CHECK(pghaul::parse_size("512MiB") == 512LL << 20);
    CHECK(pghaul::parse_size("2GB") == 2LL << 30);
    CHECK(pghaul::parse_size("1.5G") == 3LL << 29);
    CHECK(pghaul::parse_size("1 tb") == 1LL << 40);
    CHECK(pghaul::parse_size("0") == 0);
}

TEST_CASE("bad sizes are usage errors naming the text") {
    for (const char* bad : {"", "MB", "12XB", "-5MB", "1e999GB", "nan"}) {
        CAPTURE(bad);
        try {
            pghaul::parse_size(bad);
            FAIL("expected an error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
        }
    }
}
