// The link's compression: one zstd stream per direction for the life of a
// connection, flushed after every read so the other side gets each protocol
// message at once. The window survives flushes, so a COPY stream compresses
// nearly as well as the whole table at once while a query still gets its
// answer without waiting for more bytes.
//
// A new level starts a new frame: single-threaded zstd applies a level set
// mid-frame only to the next frame (measured: 1 set to 9 mid-stream gave
// level 1's bytes and speed), and a session is otherwise one frame.
//
// A connection that waits (a query answered, nothing asked yet) rests: its
// frame ends and its contexts go (1.4 MB at level 1, 17.6 MB at level 9), so
// a run that holds a snapshot session per source through one agent does not
// hold a compressor per source. The agent charges the contexts to its
// --memory-limit as zstd allocates them; a level whose memory is not there
// goes out as stored frames instead of waiting.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/detail/zstd_free.hpp"

namespace pghaul {
class memory_budget;
}

namespace pghaul::link {

// What a codec's zstd allocations are charged to: `credit` bytes paid for
// already (taken first), then the budget. None: nothing is counted.
// `overdraw`: what the budget refuses is allocated anyway and counted in
// `overdrawn` (the agent's decompressor: an older pghaul sends its requests
// in one long frame, whose context outgrows the credit, and failing it
// would end the session mid-way).
struct memory_charge {
    memory_budget* budget = nullptr;
    std::size_t credit = 0;
    bool overdraw = false;
    std::size_t overdrawn = 0;  // now, past the budget
    std::size_t most_overdrawn = 0;
};

class deflater {
public:
    // Below zstd's fastest level: each push goes as a zstd frame of raw
    // blocks, which costs neither end more than a copy. For a link faster
    // than this host can compress for; any zstd decoder reads it.
    static constexpr int stored = std::numeric_limits<int>::min();

    // `budget`: what the compressor's allocations are charged to (none: not
    // counted). When it cannot give them, the bytes go stored and the level
    // with them (adapt climbs again from there).
    explicit deflater(int level, memory_budget* budget = nullptr);
    deflater(const deflater&) = delete;  // zstd holds the charge's address
    deflater& operator=(const deflater&) = delete;
    // `in` compressed and flushed: the returned bytes decode to all of it.
    // `rest`: the frame ends with them and the compressor's memory goes
    // (the next push allocates it again). Valid until the next call.
    std::span<const char> push(std::span<const char> in, bool rest = false);
    int level() const noexcept { return level_; }
    // Takes effect at the next push, which ends the frame under way.
    void set_level(int level);
    // Pushes sent stored because the budget had no memory for the level.
    std::uint64_t starved() const noexcept { return starved_; }

private:
    void* context();  // the compressor, made if it rested; null when the budget refuses

    memory_charge charge_;  // before ctx_, which frees into it
    std::unique_ptr<void, pghaul::detail::zstd_cctx_free> ctx_;
    std::vector<char> out_;
    int level_;
    bool in_frame_ = false;  // a zstd frame is open (flushed, not ended)
    bool level_changed_ = false;
    std::uint64_t starved_ = 0;
};

// "stored", or the zstd level's number (for logs).
std::string level_name(int level);

// The agent decompresses with a window of at most this (pghaul's side
// compresses the little it sends at level 1, whose window is smaller).
inline constexpr int agent_window_log = 20;
// What one link session holds however idle: the pumps' buffers, the codecs'
// output buffers, TLS's records and the decompressor of pghaul's requests
// (each a frame of its own, decoded straight into the output: zstd's 96 KB
// context). The agent takes it when a session starts; the decompressor's
// part is its credit (request_decoder_credit).
std::size_t session_buffers();
std::size_t request_decoder_credit();
// What one link session can hold in memory with its compressor at `level`:
// zstd's own estimate of both streams' contexts, and the buffers.
std::size_t session_memory(int level);
// zstd's estimate of a compressor at `level` (nothing for stored).
std::size_t compressor_memory(int level);

class inflater {
public:
    // `max_window_log` (0: zstd's default): frames that need a bigger window
    // are refused, which bounds the context's memory (the agent's limit).
    // `charge`: what the decompressor's allocations are charged to (none:
    // not counted); a frame it has no memory for is an error.
    explicit inflater(int max_window_log = 0, memory_charge charge = {});
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;
    // Whatever of the stream `in` completes, decoded; throws pghaul::error
    // (naming the link) on bytes that are not a zstd stream. Valid until the next call.
    std::span<const char> push(std::span<const char> in);
    // The last push ended a frame and left nothing of the next: rest() may go.
    bool between_frames() const noexcept { return between_frames_; }
    // Frees the decompressor (the next push makes it again). Between frames only.
    void rest();
    // The most its context held past the budget at once (see memory_charge::overdraw).
    std::size_t most_overdrawn() const noexcept { return charge_.most_overdrawn; }

private:
    void* context();

    memory_charge charge_;
    std::unique_ptr<void, pghaul::detail::zstd_dctx_free> ctx_;
    int max_window_log_;
    std::vector<char> out_;
    bool between_frames_ = true;
};

// The bytes end with PostgreSQL's ReadyForQuery ('Z', length 5, a status):
// the server has answered and waits for the client, so the stream from it
// can rest.
bool ends_ready_for_query(std::span<const char> bytes) noexcept;

}  // namespace pghaul::link
