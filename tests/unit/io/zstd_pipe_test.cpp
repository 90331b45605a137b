#include "io/link/zstd_pipe.hpp"

#include "io/link/detail/pump.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "protocol/error.hpp"

using namespace pghaul::link;

TEST_CASE("the link's zstd stream: every push decodes whole at once, and the window outlives the flushes") {
    deflater d(1);
    inflater u;
    std::string sent, received;
    std::size_t wire = 0;
    std::mt19937 rng(7);
    // Protocol-sized pieces of a repetitive COPY-like stream, each decodable
    // as soon as it arrives (a query must not wait for more bytes).
    for (int i = 0; i < 2000; ++i) {
        std::string piece = "row " + std::to_string(i % 50) + "\tsome text that repeats\t" +
                            std::to_string(rng() % 100) + "\n";
        if (i % 97 == 0) piece.assign(70000, static_cast<char>('a' + i % 26));  // bigger than a block
        auto z = d.push({piece.data(), piece.size()});
        wire += z.size();
        auto out = u.push(z);
        CHECK(std::string(out.data(), out.size()) == piece);
        sent += piece;
        received.append(out.data(), out.size());
    }
    CHECK(received == sent);
    CHECK(wire * 4 < sent.size());  // the flushes do not throw the window away
}

TEST_CASE("the link's zstd stream: bytes that are not one are an error, not garbage passed on") {
    inflater u;
    const std::string junk = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    CHECK_THROWS_AS(u.push({junk.data(), junk.size()}), pghaul::error);
}

TEST_CASE("the agent's level follows the link: up while it waits on the link, down while it waits on the CPU") {
    using namespace std::chrono_literals;
    deflater z(1);
    pghaul::link::detail::adapt a;
    a.max_level = 3;
    std::uint64_t raw = 0;
    auto step = [&](auto compressing, auto waiting) {
        a.compressing += compressing;
        a.waiting += waiting;
        raw += 4u << 20;
        a.after(z, raw);
        return z.level();
    };
    CHECK(step(1ms, 10ms) == 2);  // the link is the bottleneck: compress harder
    CHECK(step(1ms, 10ms) == 3);
    CHECK(step(1ms, 10ms) == 3);  // not past max_level
    CHECK(step(10ms, 1ms) == 2);  // the CPU is: back down
    CHECK(step(10ms, 1ms) == 1);
    CHECK(step(10ms, 1ms) == -1);  // into the fast levels, past 0 (zstd's default, 3)
    CHECK(step(10ms, 1ms) == -2);
    CHECK(step(10ms, 1ms) == -3);
    CHECK(step(10ms, 1ms) == -3);  // not below min_level
    CHECK(step(1ms, 10ms) == -2);
    CHECK(step(1ms, 10ms) == -1);
    CHECK(step(1ms, 10ms) == 1);
    a.compressing += 1ms;
    a.waiting += 50ms;
    a.after(z, raw + 1000);  // less than 4 MB since the last decision: nothing yet
    CHECK(z.level() == 1);
    pghaul::link::detail::adapt fixed;  // max_level 0: the level stays
    fixed.waiting += 50ms;
    fixed.after(z, raw + (8u << 20));
    CHECK(z.level() == 1);
}
