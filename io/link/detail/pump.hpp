// Shared by both ends of the link: the header exchange and the two pumps
// that move one connection's bytes, compressing towards the link and
// decompressing from it. Coroutines on one io_context thread per end.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <istream>
#include <string>
#include <utility>  // before Asio: 1.74's awaitable.hpp uses std::exchange unincluded

#include "io/link/zstd_pipe.hpp"

namespace pghaul::link::detail {

// "PGHAUL-LINK 1 CONNECT host:port": the first line the client sends; the
// agent answers "OK" or "ERR <why>", each line ending in '\n'.
inline constexpr const char* hello = "PGHAUL-LINK 1";
inline constexpr std::size_t max_line = 1024;

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

// Reads `from` until it ends, compressing each read into `to`.
template <class From, class To>
boost::asio::awaitable<void> deflate_pump(From& from, To& to, deflater& z, std::uint64_t& raw,
                                          std::uint64_t& wire) {
    std::array<char, 128 * 1024> buf;
    for (;;) {
        const auto n = co_await from.async_read_some(boost::asio::buffer(buf), boost::asio::use_awaitable);
        raw += n;
        auto out = z.push({buf.data(), n});
        co_await boost::asio::async_write(to, boost::asio::buffer(out.data(), out.size()),
                                          boost::asio::use_awaitable);
        wire += out.size();
    }
}

// Reads the link `from` until it ends, decompressing into `to`.
template <class From, class To>
boost::asio::awaitable<void> inflate_pump(From& from, To& to, inflater& z, std::uint64_t& wire,
                                          std::uint64_t& raw) {
    std::array<char, 128 * 1024> buf;
    for (;;) {
        const auto n = co_await from.async_read_some(boost::asio::buffer(buf), boost::asio::use_awaitable);
        wire += n;
        auto out = z.push({buf.data(), n});
        if (out.empty()) continue;
        co_await boost::asio::async_write(to, boost::asio::buffer(out.data(), out.size()),
                                          boost::asio::use_awaitable);
        raw += out.size();
    }
}

// "host:port" or "[v6]:port", split; throws a usage error naming `what`.
std::pair<std::string, std::string> split_address(const std::string& address, const std::string& what);

}  // namespace pghaul::link::detail
