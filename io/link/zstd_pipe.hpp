// The link's compression: one zstd stream per direction for the life of a
// connection, flushed after every read so the other side gets each protocol
// message at once. The window survives flushes, so a COPY stream compresses
// nearly as well as the whole table at once while a query still gets its
// answer without waiting for more bytes.
//
// A new level starts a new frame: single-threaded zstd applies a level set
// mid-frame only to the next frame (measured: 1 set to 9 mid-stream gave
// level 1's bytes and speed), and a session is otherwise one frame.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/detail/zstd_free.hpp"

namespace pghaul::link {

class deflater {
public:
    // Below zstd's fastest level: each push goes as a zstd frame of raw
    // blocks, which costs neither end more than a copy. For a link faster
    // than this host can compress for; any zstd decoder reads it.
    static constexpr int stored = std::numeric_limits<int>::min();

    explicit deflater(int level);
    // `in` compressed and flushed: the returned bytes decode to all of it.
    // Valid until the next call.
    std::span<const char> push(std::span<const char> in);
    int level() const noexcept { return level_; }
    // Takes effect at the next push, which ends the frame under way.
    void set_level(int level);

private:
    std::unique_ptr<void, pghaul::detail::zstd_cctx_free> ctx_;
    std::vector<char> out_;
    int level_;
    bool in_frame_ = false;  // a zstd frame is open (flushed, not ended)
    bool level_changed_ = false;
};

// "stored", or the zstd level's number (for logs).
std::string level_name(int level);

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
