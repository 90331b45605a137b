#include "io/link/zstd_pipe.hpp"

#include "io/link/detail/pump.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "io/memory_budget.hpp"
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
    a.streak = 1;  // a step per window here; the streak has its own case
    std::uint64_t raw = 0;
    auto step = [&](auto compressing, auto waiting, std::chrono::milliseconds reading = 0ms) {
        a.reading += reading;
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
    CHECK(step(10ms, 1ms) == deflater::stored);  // below min_level: no compression at all
    // The server is slower than the link: stored stays.
    CHECK(step(0ms, 1ms, 10ms) == deflater::stored);
    CHECK(step(0ms, 10ms, 1ms) == -3);  // the link is what the bytes wait for again
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

TEST_CASE("the agent's level moves only when windows in a row agree: each step restarts the zstd frame") {
    using namespace std::chrono_literals;
    deflater z(1);
    pghaul::link::detail::adapt a;
    a.max_level = 9;
    std::vector<int> asked;
    a.may_climb_to = [&](int level) {
        asked.push_back(level);
        return true;
    };
    std::uint64_t raw = 0;
    auto step = [&](auto compressing, auto waiting) {
        a.compressing += compressing;
        a.waiting += waiting;
        raw += 4u << 20;
        a.after(z, raw);
        return z.level();
    };
    CHECK(step(1ms, 10ms) == 1);  // one window says climb: not yet
    CHECK(asked.empty());         // nor is memory reserved for it
    CHECK(step(10ms, 1ms) == 1);  // the next says the opposite: still 1
    CHECK(step(1ms, 10ms) == 1);
    CHECK(step(1ms, 10ms) == 2);  // two in a row
    CHECK(asked == std::vector<int>{2});
    CHECK(step(1ms, 10ms) == 2);  // the streak starts again after a step
    CHECK(step(1ms, 10ms) == 3);
    CHECK(step(5ms, 5ms) == 3);  // neither: the streak is broken
    CHECK(step(10ms, 1ms) == 3);
    CHECK(step(10ms, 1ms) == 2);
}

namespace {

// A COPY-like stream that compresses well at high levels and less at low ones.
std::string copy_like(std::size_t size) {
    std::mt19937 rng(11);
    std::string s;
    while (s.size() < size)
        s += std::to_string(rng() % 100000) + "\tcustomer " + std::to_string(rng() % 5000) + "\t2024-0" +
             std::to_string(rng() % 9 + 1) + "-1" + std::to_string(rng() % 9) + "\t" + std::to_string(rng()) +
             "\n";
    return s;
}

// Pushes `data` in 128 KiB reads, switching to `then` halfway; returns the
// wire bytes of the second half, checking that every push decodes whole.
std::size_t second_half_wire(const std::string& data, int first, int then, int max_window_log = 0) {
    deflater d(first);
    inflater u(max_window_log);
    std::size_t wire = 0;
    for (std::size_t at = 0; at < data.size(); at += 128 << 10) {
        if (at == data.size() / 2 / (128 << 10) * (128 << 10)) {
            d.set_level(then);
            wire = 0;
        }
        const auto piece = std::string_view(data).substr(at, 128 << 10);
        auto z = d.push({piece.data(), piece.size()});
        wire += z.size();
        auto out = u.push(z);
        REQUIRE(std::string_view(out.data(), out.size()) == piece);
    }
    return wire;
}

}  // namespace

TEST_CASE("the link's zstd stream: a new level changes the bytes from the next push on") {
    const auto data = copy_like(8 << 20);
    const auto stay = second_half_wire(data, 1, 1);
    // zstd applies a level set mid-frame only to the next frame: were the
    // frame left open, both would be level 1's bytes.
    CHECK(second_half_wire(data, 1, 12) * 100 < stay * 95);
    CHECK(second_half_wire(data, 1, -5) * 95 > stay * 100);
}

TEST_CASE(
    "the link's zstd stream: stored frames cost a few bytes a block and decode under the agent's window") {
    const auto data = copy_like(4 << 20);
    const auto half = data.size() - data.size() / 2 / (128 << 10) * (128 << 10);
    const auto wire = second_half_wire(data, 1, deflater::stored, agent_window_log);
    CHECK(wire >= half);
    CHECK(wire <= half + half / (128 << 10) * 16);
    // And back: from stored to a level, in the same stream.
    CHECK(second_half_wire(data, deflater::stored, 3) * 2 < half);
    // A push bigger than a block, and an empty one.
    deflater d(deflater::stored);
    inflater u(agent_window_log);
    const std::string big(300000, 'x');
    auto z = d.push({big.data(), big.size()});
    CHECK(z.size() == big.size() + 6 + 3 * 3);
    auto out = u.push(z);
    CHECK(std::string_view(out.data(), out.size()) == big);
    CHECK(u.push(d.push({})).empty());
    CHECK(level_name(deflater::stored) == "stored");
    CHECK(level_name(-3) == "-3");
}

TEST_CASE(
    "the link's zstd contexts are charged to a budget, go back when the stream rests, and a level with no "
    "room goes stored") {
    pghaul::memory_budget budget(64u << 20);
    const std::string rows = copy_like(300 << 10);
    const std::string ready = std::string("Z\0\0\0\5I", 6);
    CHECK(ends_ready_for_query({ready.data(), ready.size()}));
    CHECK_FALSE(ends_ready_for_query({rows.data(), rows.size()}));

    deflater d(1, &budget);
    inflater u(agent_window_log, {&budget, 0});
    CHECK(budget.used() == 0);  // nothing until bytes flow
    auto z = d.push({rows.data(), rows.size()});
    const auto compressing = budget.used();
    CHECK(compressing > (1u << 20));  // level 1's context: about 1.4 MB
    auto out = u.push(z);
    CHECK(std::string(out.data(), out.size()) == rows);
    CHECK(budget.used() > compressing);              // and the decompressor's
    CHECK_FALSE(u.between_frames());                 // the frame goes on
    z = d.push({ready.data(), ready.size()}, true);  // the server waits: the frame ends
    out = u.push(z);
    CHECK(std::string(out.data(), out.size()) == ready);
    CHECK(u.between_frames());
    u.rest();
    CHECK(budget.used() == 0);               // both contexts went back
    z = d.push({rows.data(), rows.size()});  // and come again with the next bytes
    out = u.push(z);
    CHECK(std::string(out.data(), out.size()) == rows);
    CHECK(d.level() == 1);
    CHECK(d.starved() == 0);

    // A budget with no room for a compressor: the bytes go stored, the level with them.
    pghaul::memory_budget small(256u << 10);
    deflater tight(1, &small);
    inflater any;
    z = tight.push({rows.data(), rows.size()});
    CHECK(z.size() > rows.size());  // raw blocks, no compression
    out = any.push(z);
    CHECK(std::string(out.data(), out.size()) == rows);
    CHECK(tight.starved() == 1);
    CHECK(tight.level() == deflater::stored);
    CHECK(small.used() == 0);

    // An older pghaul's requests: one long frame, whose decompressor outgrows
    // the credit. The agent's decoder goes past the budget rather than end
    // the session, and says by how much; a strict one refuses the frame.
    deflater old_client(1);
    z = old_client.push({rows.data(), rows.size()});
    const std::string frame(z.data(), z.size());
    inflater lenient(agent_window_log, {.budget = &small, .credit = 128 << 10, .overdraw = true});
    out = lenient.push({frame.data(), frame.size()});
    CHECK(std::string(out.data(), out.size()) == rows);
    CHECK(lenient.most_overdrawn() > 0);
    inflater strict(agent_window_log, {.budget = &small, .credit = 128 << 10});
    CHECK_THROWS_AS(strict.push({frame.data(), frame.size()}), pghaul::error);
}
