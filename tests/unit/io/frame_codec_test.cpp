// Spool frames: round trips at every level, and every damaged byte, every
// truncation and every misplaced frame is an error, never wrong data.
#include "io/frame_codec.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "protocol/error.hpp"
#include "test_support.hpp"

using pghaul::frame_decoder;
using pghaul::frame_encoder;

using pghaul::test::bytes;

namespace {

std::string decode_to_string(frame_decoder& d, std::span<const std::byte> frame, std::uint64_t seq,
                             std::size_t cap) {
    std::string out(cap, '\0');
    std::size_t n =
        d.decode(frame, seq, std::as_writable_bytes(std::span(out.data(), out.size())), "test frame");
    out.resize(n);
    return out;
}

void expect_corrupt(frame_decoder& d, std::span<const std::byte> frame, std::uint64_t seq, std::size_t cap) {
    try {
        decode_to_string(d, frame, seq, cap);
        FAIL("damaged frame decoded");
    } catch (const pghaul::error& e) {
        CHECK(e.code() == pghaul::exit_code::local);
        CHECK(std::string(e.what()).find("corrupt spool data in test frame") != std::string::npos);
    }
}

}  // namespace

TEST_CASE("frames round-trip at store, zstd 1 and 3, and a fast level") {
    std::mt19937_64 rng(pghaul::test::test_seed());
    std::string raw = pghaul::test::copy_like_data(100000, rng);
    frame_decoder d;
    for (int level : {0, 1, 3, -5}) {
        CAPTURE(level);
        frame_encoder e(level);
        auto frame = e.encode(42, bytes(raw));
        CHECK(frame.size() <= e.max_frame_size(raw.size()));
        if (level != 0) CHECK(frame.size() < raw.size() / 2);  // the data compresses
        CHECK(pghaul::test::difference(decode_to_string(d, frame, 42, raw.size()), raw) == "");
    }
}

TEST_CASE("incompressible chunks are stored, and empty chunks work") {
    std::mt19937_64 rng(7);
    std::string raw(50000, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    frame_encoder e(3);
    auto frame = e.encode(1, bytes(raw));
    CHECK(frame.size() == pghaul::frame_header_size + raw.size());
    frame_decoder d;
    CHECK(pghaul::test::difference(decode_to_string(d, frame, 1, raw.size()), raw) == "");
    std::string empty;
    CHECK(decode_to_string(d, e.encode(2, bytes(empty)), 2, 0).empty());
}

TEST_CASE("every flipped byte of a frame is detected, stored or compressed") {
    std::mt19937_64 rng(pghaul::test::test_seed());
    std::string raw = pghaul::test::copy_like_data(3000, rng);
    frame_decoder d;
    for (int level : {0, 1}) {
        CAPTURE(level);
        frame_encoder e(level);
        auto f = e.encode(9, bytes(raw));
        std::vector<std::byte> frame(f.begin(), f.end());
        for (std::size_t i = 0; i < frame.size(); ++i) {
            CAPTURE(i);
            auto damaged = frame;
            damaged[i] ^= std::byte(1u << (rng() % 8));
            expect_corrupt(d, damaged, 9, raw.size());
        }
        CHECK(pghaul::test::difference(decode_to_string(d, frame, 9, raw.size()), raw) == "");
    }
}

TEST_CASE("every truncation of a frame is detected") {
    std::mt19937_64 rng(5);
    std::string raw = pghaul::test::copy_like_data(2000, rng);
    frame_encoder e(1);
    auto f = e.encode(3, bytes(raw));
    std::vector<std::byte> frame(f.begin(), f.end());
    frame_decoder d;
    for (std::size_t len = 0; len < frame.size(); ++len) {
        CAPTURE(len);
        expect_corrupt(d, std::span(frame.data(), len), 3, raw.size());
    }
}

TEST_CASE("a frame read in place of another (wrong sequence number) is detected") {
    std::string raw = "some rows";
    frame_encoder e(1);
    auto f = e.encode(7, bytes(raw));
    std::vector<std::byte> frame(f.begin(), f.end());
    frame_decoder d;
    expect_corrupt(d, frame, 8, raw.size());
    expect_corrupt(d, frame, 6, raw.size());
    // A raw length larger than the reader's chunk is refused, not written past.
    expect_corrupt(d, frame, 7, raw.size() - 1);
}

TEST_CASE("levels outside zstd's range are usage errors") {
    CHECK_THROWS_AS(frame_encoder(99), pghaul::error);
    CHECK_NOTHROW(frame_encoder(0));
    CHECK_NOTHROW(frame_encoder(19));
}
