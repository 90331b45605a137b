// Order is kept by one queue holding both kinds of entry (a buffer, or the
// place of a frame in the spool file): the consumer takes the front whatever
// it is, so memory and spool interleave exactly as the data arrived. A chunk
// goes to memory if the budget has room, else to the spool if its budget has
// room, else the producer waits for whichever frees first.
#include "io/chunk_stream.hpp"

#include <array>
#include <cstring>

#include "protocol/error.hpp"

namespace pghaul {

chunk::chunk(chunk&& o) noexcept
    : buf_(std::move(o.buf_)), size_(std::exchange(o.size_, 0)), budget_(std::exchange(o.budget_, nullptr)) {}

chunk& chunk::operator=(chunk&& o) noexcept {
    if (this != &o) {
        if (budget_) budget_->release(size_);
        buf_ = std::move(o.buf_);
        size_ = std::exchange(o.size_, 0);
        budget_ = std::exchange(o.budget_, nullptr);
    }
    return *this;
}

chunk::~chunk() {
    if (budget_) budget_->release(size_);
}

chunk_stream::chunk_stream(memory_budget& memory, spool_dir* spool, chunk_stream_options options,
                           std::stop_token stop)
    : memory_(memory), spool_(spool), options_(std::move(options)) {
    if (options_.chunk_size == 0) throw error(exit_code::internal, "chunk size must not be zero");
    on_stop_.emplace(std::move(stop), canceller{this});
}

chunk_stream::~chunk_stream() {
    on_stop_.reset();
    for (const auto& e : queue_) release(e);
}

void chunk_stream::release(const entry& e) noexcept {
    if (e.buf) {
        memory_.release(e.size);
    } else {
        spool_->budget().release(e.frame_size);
    }
}

bool chunk_stream::push(std::string_view data) {
    // Called once per COPY row: no lock here, the stop flag is atomic and
    // the byte count is published with each chunk.
    if (stop_.stop_requested()) return false;
    pushed_ += data.size();
    while (!data.empty()) {
        if (!fill_) fill_ = std::make_unique_for_overwrite<char[]>(options_.chunk_size);
        std::size_t n = std::min(data.size(), options_.chunk_size - fill_size_);
        std::memcpy(fill_.get() + fill_size_, data.data(), n);
        fill_size_ += n;
        data.remove_prefix(n);
        if (fill_size_ == options_.chunk_size && !emit()) return false;
    }
    return true;
}

bool chunk_stream::finish() {
    if (stop_.stop_requested()) return false;
    if (fill_size_ > 0 && !emit()) return false;
    {
        std::lock_guard lk(m_);
        stats_.bytes_in = pushed_;
        finished_ = true;
    }
    cv_.notify_all();
    return true;
}

// fill_[0, fill_size_) is one chunk: put it in memory, or the spool, or wait.
bool chunk_stream::emit() {
    std::size_t n = std::exchange(fill_size_, 0);
    std::uint64_t seq = next_seq_++;
    if (memory_.try_acquire(n)) {
        spilling_ = false;
        return enqueue({std::move(fill_), n, seq});
    }
    if (spool_ && !spilling_ && options_.spill_after.count() > 0 && n <= memory_.limit()) {
        auto waited = acquire_until(memory_, n, std::chrono::steady_clock::now() + options_.spill_after,
                                    stop_.get_token());
        if (waited == acquire_status::acquired) return enqueue({std::move(fill_), n, seq});
        if (waited == acquire_status::stopped) return false;
    }

    std::span<const std::byte> frame;
    bool spill = false;  // whether to wait for spool space too
    if (spool_) {
        frame = encode(seq, n);
        spill = true;
        if (spool_->budget().try_acquire(frame.size())) {
            if (place_in_spool(frame, seq, n)) return spilling_ = true;
            spill = false;  // the disk is full: wait for memory only
        }
    }

    // Both full: wait for memory (listed first: no encoding needed) or spool space.
    auto t0 = std::chrono::steady_clock::now();
    struct count_wait {
        chunk_stream& s;
        std::chrono::steady_clock::time_point t0;
        ~count_wait() {
            std::lock_guard lk(s.m_);
            s.stats_.producer_waits++;
            s.stats_.producer_wait_time += std::chrono::steady_clock::now() - t0;
        }
    } counted{*this, t0};
    for (;;) {
        std::array<budget_request, 2> req{budget_request{&memory_, n}, {}};
        if (spill) req[1] = {&spool_->budget(), frame.size()};
        auto got = acquire_any(std::span(req.data(), spill ? 2 : 1), stop_.get_token());
        if (!got) return false;
        if (*got == 0) return enqueue({std::move(fill_), n, seq});
        if (place_in_spool(frame, seq, n)) return spilling_ = true;
        spill = false;
    }
}

std::span<const std::byte> chunk_stream::encode(std::uint64_t seq, std::size_t n) {
    if (!encoder_) encoder_.emplace(spool_->options().compression_level);
    return encoder_->encode(seq, std::as_bytes(std::span(fill_.get(), n)));
}

// Writes a frame whose spool budget is already held; false (budget given
// back) when the disk is full or the stream was cancelled meanwhile.
bool chunk_stream::place_in_spool(std::span<const std::byte> frame, std::uint64_t seq, std::size_t n) {
    std::optional<std::uint64_t> at;
    try {
        if (!file_) {
            auto f = spool_->create(options_.name);
            std::lock_guard lk(m_);
            file_ = std::move(f);
        }
        at = file_->try_append(frame);
    } catch (...) {
        spool_->budget().release(frame.size());
        throw;
    }
    if (!at) {
        spool_->budget().release(frame.size());
        std::lock_guard lk(m_);
        stats_.disk_full++;
        return false;
    }
    entry e{nullptr, n, seq, *at, frame.size()};
    {
        std::lock_guard lk(m_);
        stats_.chunks_spooled++;
        stats_.bytes_spooled += n;
        stats_.spool_bytes_written += frame.size();
    }
    return enqueue(std::move(e));
}

bool chunk_stream::enqueue(entry e) {
    {
        std::lock_guard lk(m_);
        if (cancelled_) {
            release(e);
            return false;
        }
        stats_.chunks++;
        stats_.bytes_in = pushed_;
        if (e.buf) {
            queued_in_memory_ += e.size;
            stats_.memory_peak = std::max(stats_.memory_peak, queued_in_memory_);
        }
        queue_.push_back(std::move(e));
    }
    cv_.notify_all();
    return true;
}

std::optional<chunk> chunk_stream::pop() {
    entry e;
    {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return !queue_.empty() || finished_ || cancelled_; });
        if (cancelled_) {
            throw error(exit_code::interrupted, "the data stream of \"" + options_.name + "\" was cancelled");
        }
        if (queue_.empty()) return std::nullopt;
        e = std::move(queue_.front());
        queue_.pop_front();
        if (e.buf) queued_in_memory_ -= e.size;
    }
    if (e.buf) return chunk(std::move(e.buf), e.size, &memory_);
    try {
        return read_spooled(e);
    } catch (...) {
        cancel();
        throw;
    }
}

chunk chunk_stream::read_spooled(const entry& e) {
    struct give_back {  // the frame's spool bytes, whatever happens below
        spool_dir* s;
        std::size_t n;
        ~give_back() { s->budget().release(n); }
    } guard{spool_, e.frame_size};

    frame_buf_.resize(e.frame_size);
    file_->read(e.offset, frame_buf_);
    file_->discard_before(e.offset + e.frame_size);
    if (!decoder_) decoder_.emplace();
    auto out = std::make_unique_for_overwrite<char[]>(e.size);
    std::string where = "spool file \"" + file_->path().string() + "\" at offset " + std::to_string(e.offset);
    std::size_t n =
        decoder_->decode(frame_buf_, e.seq, std::as_writable_bytes(std::span(out.get(), e.size)), where);
    if (n != e.size) {
        throw error(exit_code::local, "corrupt spool data in " + where + ": " + std::to_string(n) +
                                          " bytes where " + std::to_string(e.size) + " were written");
    }
    return chunk(std::move(out), n, nullptr);
}

void chunk_stream::cancel() noexcept {
    std::deque<entry> dropped;
    {
        std::lock_guard lk(m_);
        if (cancelled_) return;
        cancelled_ = true;
        dropped.swap(queue_);
        queued_in_memory_ = 0;
    }
    stop_.request_stop();  // wakes a producer waiting in acquire_any
    cv_.notify_all();
    for (const auto& e : dropped) release(e);
}

bool chunk_stream::cancelled() const {
    std::lock_guard lk(m_);
    return cancelled_;
}

chunk_stream_stats chunk_stream::stats() const {
    std::lock_guard lk(m_);
    return stats_;
}

std::optional<std::filesystem::path> chunk_stream::spool_path() const {
    std::lock_guard lk(m_);
    if (!file_) return std::nullopt;
    return file_->path();
}

bool chunk_stream::spool_uses_io_uring() const {
    std::lock_guard lk(m_);
    return file_ && file_->uses_io_uring();
}

}  // namespace pghaul
