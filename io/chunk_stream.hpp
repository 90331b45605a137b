// The bounded pipe between one unit's reader and writer: COPY data goes in as
// pieces of any size and comes out as chunks in the same order. Chunks live in
// memory while the shared memory budget allows; beyond it they are encoded
// (zstd or stored, see frame_codec.hpp) into the unit's spool file; when both
// memory and spool are full the producer waits. One producer thread, one
// consumer thread; cancel() from anywhere.
//
// Outside the budget each stream holds its fill buffer (one chunk) and, once
// it spills, an encode buffer (one chunk), a zstd context (about 0.6 MiB at
// level 1, 1 MiB at level 3), a 0.1 MiB decoder and the decoded chunk the
// writer holds: about 1.5 MiB per spilling unit at 256 KiB chunks. Size
// --memory-limit's budget as the limit less that much per concurrent unit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "io/frame_codec.hpp"
#include "io/memory_budget.hpp"
#include "io/spool_dir.hpp"
#include "io/spool_file.hpp"

namespace pghaul {

struct chunk_stream_options {
    // 256 KiB: large enough that per-chunk costs (a zstd frame header, one
    // write, one lock) vanish, small enough that a 16 MB limit still holds
    // dozens of chunks across units.
    std::size_t chunk_size = 256 * 1024;
    std::string name = "unit";  // names the spool file, e.g. "srca.public.events.3"
    // With memory full, the producer first waits this long for the writer to
    // free some: a target that is only a little slower costs no spooling (and
    // no compression CPU, which a small machine takes from the servers); one
    // that stalls gets its backlog spooled.
    std::chrono::milliseconds spill_after{500};
};

struct chunk_stream_stats {
    std::uint64_t bytes_in = 0;  // pushed by the producer (as of its last full chunk)
    std::uint64_t chunks = 0;    // chunks formed (memory + spool)
    std::uint64_t chunks_spooled = 0;
    std::uint64_t bytes_spooled = 0;        // raw bytes that went through the spool
    std::uint64_t spool_bytes_written = 0;  // the same after compression, headers included
    std::size_t memory_peak = 0;            // most bytes this stream had queued in memory at once
    std::uint64_t producer_waits = 0;       // times memory and spool were both full
    std::chrono::nanoseconds producer_wait_time{0};
    std::uint64_t disk_full = 0;  // appends refused by the file system
};

// One chunk handed to the consumer. An in-memory chunk gives its bytes back to
// the memory budget when destroyed, i.e. once the writer has sent it. The
// budget must outlive the chunk.
class chunk {
public:
    chunk(chunk&& o) noexcept;
    chunk& operator=(chunk&& o) noexcept;
    chunk(const chunk&) = delete;
    chunk& operator=(const chunk&) = delete;
    ~chunk();

    std::string_view data() const noexcept { return {buf_.get(), size_}; }
    bool from_spool() const noexcept { return budget_ == nullptr; }

private:
    friend class chunk_stream;
    chunk(std::unique_ptr<char[]> buf, std::size_t size, memory_budget* budget) noexcept
        : buf_(std::move(buf)), size_(size), budget_(budget) {}

    std::unique_ptr<char[]> buf_;
    std::size_t size_ = 0;
    memory_budget* budget_ = nullptr;  // holds size_ bytes of it, or null (decoded from the spool)
};

class chunk_stream {
public:
    // `memory` (and `spool`, whose budget bounds the spool files) must outlive
    // the stream. With `spool` null nothing spills: the producer waits for
    // memory. `stop` cancels the stream as cancel() does (e.g. the run's SIGINT).
    chunk_stream(memory_budget& memory, spool_dir* spool, chunk_stream_options options = {},
                 std::stop_token stop = {});
    chunk_stream(const chunk_stream&) = delete;
    chunk_stream& operator=(const chunk_stream&) = delete;
    // Gives back whatever is still queued and removes the spool file. Both
    // sides must have stopped using the stream.
    ~chunk_stream();

    // Producer. Copies `data`; blocks while memory and spool are full. False
    // once the stream is cancelled: stop reading and discard. Throws
    // pghaul::error (local) if the spool cannot be written.
    [[nodiscard]] bool push(std::string_view data);
    // Producer, at the end of the data: flushes the last partial chunk.
    [[nodiscard]] bool finish();

    // Consumer. The next chunk in the order pushed; blocks until there is one;
    // nullopt after finish() and the last chunk. A cancelled stream throws
    // pghaul::error (interrupted) so a writer never commits part of a unit as
    // if it were all; corrupt or unreadable spool data throws (local), naming
    // the file, and cancels the stream.
    std::optional<chunk> pop();

    // Any thread: wakes both sides; queued data is dropped and its budget freed.
    void cancel() noexcept;
    bool cancelled() const;

    chunk_stream_stats stats() const;
    // The spool file, once the stream has spilled (tests damage it through this).
    std::optional<std::filesystem::path> spool_path() const;
    // Whether a spool file exists and uses io_uring.
    bool spool_uses_io_uring() const;

private:
    struct entry {
        std::unique_ptr<char[]> buf;  // in memory when set
        std::size_t size = 0;         // raw bytes
        std::uint64_t seq = 0;
        std::uint64_t offset = 0;  // spooled: frame position and length
        std::size_t frame_size = 0;
    };

    bool emit();
    std::span<const std::byte> encode(std::uint64_t seq, std::size_t n);
    bool enqueue(entry e);
    bool place_in_spool(std::span<const std::byte> frame, std::uint64_t seq, std::size_t n);
    chunk read_spooled(const entry& e);
    void release(const entry& e) noexcept;

    memory_budget& memory_;
    spool_dir* spool_;
    chunk_stream_options options_;

    mutable std::mutex m_;
    std::condition_variable cv_;  // consumer: data, finish or cancel
    std::deque<entry> queue_;
    bool finished_ = false;
    bool cancelled_ = false;
    std::size_t queued_in_memory_ = 0;
    chunk_stream_stats stats_;
    std::unique_ptr<spool_file> file_;  // set once, under m_, by the producer
    std::stop_source stop_;

    // Producer thread only.
    std::unique_ptr<char[]> fill_;
    std::size_t fill_size_ = 0;
    std::uint64_t next_seq_ = 0;
    // Producer only: the last chunk went to the spool after the stall wait, so
    // the writer is stalled; the next ones spool at once until memory frees up
    // (waiting spill_after per chunk would throttle the read to 2 chunks/s).
    bool spilling_ = false;
    std::uint64_t pushed_ = 0;
    std::optional<frame_encoder> encoder_;

    // Consumer thread only.
    std::optional<frame_decoder> decoder_;
    std::vector<std::byte> frame_buf_;

    // Last: registered once everything it may touch exists, and deregistered first.
    struct canceller {
        chunk_stream* s;
        void operator()() const noexcept { s->cancel(); }
    };
    std::optional<std::stop_callback<canceller>> on_stop_;
};

}  // namespace pghaul
