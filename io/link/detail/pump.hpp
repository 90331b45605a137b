// Shared by both ends of the link: the header exchange and the two pumps
// that move one connection's bytes, compressing towards the link and
// decompressing from it. Coroutines on one io_context thread per end.
#pragma once

// clang-format off: <utility> first, Boost 1.74's awaitable.hpp uses std::exchange without it
#include <utility>
// clang-format on
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <span>
#include <string>

#include "io/link/zstd_pipe.hpp"

namespace pghaul::link::detail {

// "PGHAUL-LINK 1 CONNECT host:port": the first line the client sends; the
// agent answers "OK" or "ERR <why>", each line ending in '\n'.
inline constexpr const char* hello = "PGHAUL-LINK 1";
inline constexpr std::size_t max_line = 1024;

// How long connecting, the TLS handshake and the request line may take.
inline constexpr std::chrono::seconds setup_timeout{15};

// A timer that runs `expire` (closing the connection's sockets) unless it is
// destroyed first: it lives in the setting-up coroutine's frame, so it goes
// once setup is done.
template <class Executor, class Expire>
boost::asio::steady_timer deadline(const Executor& ex, std::chrono::seconds after, Expire expire) {
    boost::asio::steady_timer t(ex, after);
    t.async_wait([expire](const boost::system::error_code& ec) {
        if (!ec) expire();
    });
    return t;
}

template <class Stream>
boost::asio::awaitable<std::string> read_line(Stream& s, boost::asio::streambuf& buf) {
    co_await boost::asio::async_read_until(s, buf, '\n', boost::asio::use_awaitable);
    std::istream in(&buf);
    std::string line;
    std::getline(in, line);
    co_return line;
}

template <class Stream>
boost::asio::awaitable<void> write_line(Stream& s, std::string line) {
    line += '\n';
    co_await boost::asio::async_write(s, boost::asio::buffer(line), boost::asio::use_awaitable);
}

// The level follows the link, as `zstd --adapt` does: every 4 MB, if the
// pump waited on the link longer than it compressed, the link is the
// bottleneck and a higher level costs nothing (up to `max_level`); if it
// compressed more than twice as long as it waited, the CPU is, and the level goes down
// (into zstd's fast levels, to `min_level`, then to stored frames, which
// cost no CPU on either end). Stored goes back to `min_level` once writing
// to the link takes longer than reading from the server: the link, not the
// server, is then what the bytes wait for. A slow link climbs.
//
// A step is taken only when `streak` windows in a row call for it: each
// step starts a new zstd frame, whose first blocks compress without the
// window, and on cores shared with the servers single windows disagree.
struct adapt {
    int max_level = 0;   // 0: a fixed level
    int min_level = -3;  // zstd's fast levels: less CPU, less ratio, for a link faster than the CPU
    int streak = 2;
    // Whether the level may climb to this one (the agent's memory limit); unset: always.
    std::function<bool(int)> may_climb_to;
    std::chrono::steady_clock::duration reading{}, compressing{}, waiting{};
    std::uint64_t since = 0;
    int calls = 0;  // windows in a row that called for the level `wanted`
    int wanted = 0;
    void after(deflater& z, std::uint64_t raw) {
        if (max_level == 0 || raw - since < (4u << 20)) return;
        const int level = z.level();
        int next = level;
        if (level == deflater::stored) {
            if (waiting > reading) next = min_level;
        } else if (waiting > compressing && level < max_level) {
            next = level == -1 ? 1 : level + 1;  // level 0 is zstd's default (3), not "none": skipped
        } else if (compressing > 2 * waiting) {
            next = level > min_level ? (level == 1 ? -1 : level - 1) : deflater::stored;
        }
        if (next == level)
            calls = 0;
        else
            calls = next == wanted ? calls + 1 : 1;
        wanted = next;
        const bool climb = next > level;  // from stored too: a context to allocate
        if (calls >= streak && (!climb || !may_climb_to || may_climb_to(next))) {
            z.set_level(next);
            calls = 0;
        }
        since = raw;
        reading = compressing = waiting = {};
    }
};

// Which reads let their stream rest (deflater::push, inflater::rest): after
// each one (pghaul's requests, each answered before the next), or
// ends_ready_for_query (the server waits for the next request).
inline bool rest_always(std::span<const char>) noexcept {
    return true;
}
using rest_rule = bool (*)(std::span<const char>) noexcept;

// Reads `from` until it ends, compressing each read into `to`.
// The counters are plain or atomic (read by another thread while they move).
template <class From, class To, class Counter>
boost::asio::awaitable<void> deflate_pump(From& from, To& to, deflater& z, Counter& raw, Counter& wire,
                                          rest_rule rest, adapt a = {}) {
    std::array<char, 128 * 1024> buf;
    for (;;) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto n = co_await from.async_read_some(boost::asio::buffer(buf), boost::asio::use_awaitable);
        raw += n;
        const auto t1 = std::chrono::steady_clock::now();
        auto out = z.push({buf.data(), n}, rest({buf.data(), n}));
        const auto t2 = std::chrono::steady_clock::now();
        co_await boost::asio::async_write(to, boost::asio::buffer(out.data(), out.size()),
                                          boost::asio::use_awaitable);
        a.reading += t1 - t0;
        a.compressing += t2 - t1;
        a.waiting += std::chrono::steady_clock::now() - t2;
        wire += out.size();
        a.after(z, static_cast<std::uint64_t>(raw));
    }
}

// Reads the link `from` until it ends, decompressing into `to`.
template <class From, class To, class Counter>
boost::asio::awaitable<void> inflate_pump(From& from, To& to, inflater& z, Counter& wire, Counter& raw,
                                          rest_rule rest) {
    std::array<char, 128 * 1024> buf;
    for (;;) {
        const auto n = co_await from.async_read_some(boost::asio::buffer(buf), boost::asio::use_awaitable);
        wire += n;
        auto out = z.push({buf.data(), n});
        if (z.between_frames() && rest(out)) z.rest();
        if (out.empty()) continue;
        co_await boost::asio::async_write(to, boost::asio::buffer(out.data(), out.size()),
                                          boost::asio::use_awaitable);
        raw += out.size();
    }
}

// "host:port" or "[v6]:port", split; throws a usage error naming `what`.
std::pair<std::string, std::string> split_address(const std::string& address, const std::string& what);

}  // namespace pghaul::link::detail
