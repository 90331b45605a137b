// The link's compression: one zstd stream per direction for the life of a
// connection, flushed after every read so the other side gets each protocol
// message at once. The window survives flushes, so a COPY stream compresses
// nearly as well as the whole table at once while a query still gets its
// answer without waiting for more bytes.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "io/detail/zstd_free.hpp"

namespace pghaul::link {

class deflater {
public:
    explicit deflater(int level);
    // `in` compressed and flushed: the returned bytes decode to all of it.
    // Valid until the next call.
    std::span<const char> push(std::span<const char> in);
    int level() const noexcept { return level_; }
    void set_level(int level);  // takes effect at the next push

private:
    std::unique_ptr<void, pghaul::detail::zstd_cctx_free> ctx_;
    std::vector<char> out_;
    int level_;
};

// What one link session can hold in memory with its compressor at `level`:
// zstd's own estimate of both streams' contexts, the pumps' buffers and TLS.
// The agent decompresses with a window of at most this (pghaul's side
// compresses the little it sends at level 1, whose window is smaller).
inline constexpr int agent_window_log = 20;
std::size_t session_memory(int level);

class inflater {
public:
    // `max_window_log` (0: zstd's default): frames that need a bigger window
    // are refused, which bounds the context's memory (the agent's limit).
    explicit inflater(int max_window_log = 0);
    // Whatever of the stream `in` completes, decoded; throws pghaul::error
    // (naming the link) on bytes that are not a zstd stream. Valid until the next call.
    std::span<const char> push(std::span<const char> in);

private:
    std::unique_ptr<void, pghaul::detail::zstd_dctx_free> ctx_;
    std::vector<char> out_;
};

}  // namespace pghaul::link
