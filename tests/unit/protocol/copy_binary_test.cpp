// Binary COPY parsing on byte fixtures: whole streams, every truncation point,
// and corrupt input.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "protocol/copy_binary.hpp"
#include "protocol/error.hpp"

namespace cb = pghaul::copy_binary;

namespace {

void put_i16(std::vector<std::byte>& v, std::int16_t x) {
    v.push_back(std::byte(static_cast<std::uint16_t>(x) >> 8));
    v.push_back(std::byte(x & 0xff));
}
void put_i32(std::vector<std::byte>& v, std::int32_t x) {
    auto u = static_cast<std::uint32_t>(x);
    for (int s = 24; s >= 0; s -= 8) v.push_back(std::byte((u >> s) & 0xff));
}
void put_field(std::vector<std::byte>& v, const char* s) {
    if (!s) return put_i32(v, -1);
    put_i32(v, static_cast<std::int32_t>(std::strlen(s)));
    for (const char* p = s; *p; ++p) v.push_back(std::byte(*p));
}

// header, two tuples of two fields (one NULL), trailer
std::vector<std::byte> sample_stream() {
    auto v = cb::header();
    put_i16(v, 2);
    put_field(v, "abc");
    put_field(v, nullptr);
    put_i16(v, 2);
    put_field(v, "");
    put_field(v, "x\ty\\z");
    auto t = cb::trailer();
    v.insert(v.end(), t.begin(), t.end());
    return v;
}

}  // namespace

TEST_CASE("a whole stream parses into its tuples") {
    auto s = sample_stream();
    cb::parser p(2);
    CHECK(p.feed(s) == s.size());
    CHECK(p.header_seen());
    CHECK(p.finished());
    CHECK(p.tuples() == 2);
}

TEST_CASE("parse_tuple exposes fields and NULLs") {
    auto s = sample_stream();
    auto t = cb::parser::parse_tuple(std::span(s).subspan(cb::header_size));
    REQUIRE(t);
    REQUIRE(t->fields.size() == 2);
    CHECK(t->fields[0].bytes.size() == 3);
    CHECK(t->fields[1].is_null);
}

TEST_CASE("the stream may arrive split at any byte") {
    auto s = sample_stream();
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
        CAPTURE(cut);
        cb::parser p(2);
        std::vector<std::byte> pending(s.begin(), s.begin() + static_cast<long>(cut));
        auto used = p.feed(pending);
        pending.erase(pending.begin(), pending.begin() + static_cast<long>(used));
        pending.insert(pending.end(), s.begin() + static_cast<long>(cut), s.end());
        CHECK(p.feed(pending) == pending.size());
        CHECK(p.finished());
        CHECK(p.tuples() == 2);
    }
}

TEST_CASE("a truncated stream is never reported finished") {
    auto s = sample_stream();
    for (std::size_t len = 0; len < s.size(); ++len) {
        CAPTURE(len);
        cb::parser p(2);
        p.feed(std::span(s).first(len));
        CHECK_FALSE(p.finished());
    }
}

TEST_CASE("corrupt input is rejected with an error") {
    SUBCASE("bad signature") {
        auto s = sample_stream();
        s[0] = std::byte{'X'};
        CHECK_THROWS_AS(cb::parser().feed(s), pghaul::error);
    }
    SUBCASE("OIDs flag") {
        auto s = sample_stream();
        s[12] = std::byte{1};  // bit 16 of the big-endian flags
        CHECK_THROWS_AS(cb::parser().feed(s), pghaul::error);
    }
    SUBCASE("field length below -1") {
        auto s = cb::header();
        put_i16(s, 1);
        put_i32(s, -7);
        CHECK_THROWS_AS(cb::parser().feed(s), pghaul::error);
    }
    SUBCASE("wrong field count for the table") {
        auto s = sample_stream();
        CHECK_THROWS_AS(cb::parser(3).feed(s), pghaul::error);
    }
    SUBCASE("data after the trailer") {
        auto s = sample_stream();
        put_i16(s, 0);
        CHECK_THROWS_AS(cb::parser(2).feed(s), pghaul::error);
    }
    SUBCASE("negative field count") {
        auto s = cb::header();
        put_i16(s, -5);
        CHECK_THROWS_AS(cb::parser().feed(s), pghaul::error);
    }
}

TEST_CASE("a zero-column table's tuples have no fields") {
    auto s = cb::header();
    for (int i = 0; i < 3; ++i) put_i16(s, 0);
    auto t = cb::trailer();
    s.insert(s.end(), t.begin(), t.end());
    cb::parser p(0);
    CHECK(p.feed(s) == s.size());
    CHECK(p.tuples() == 3);
}
