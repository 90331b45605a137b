// zstd streams for the link (see the header).
#include "io/link/zstd_pipe.hpp"

#define ZSTD_STATIC_LINKING_ONLY  // the memory estimates
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "io/memory_budget.hpp"
#include "protocol/error.hpp"

namespace pghaul::link {

namespace {

// zstd's allocations, charged: from the credit first, then the budget. Each
// block carries what it took of each in front (whole max_align_t units, so the
// pointer zstd gets keeps malloc's alignment), for the free, which is not
// told the size. Null when the budget cannot give the rest.
struct charged_block {
    std::size_t from_credit, from_budget, overdrawn;
};
constexpr std::size_t charge_header = 2 * alignof(std::max_align_t);
static_assert(sizeof(charged_block) <= charge_header);

void* charged_alloc(void* opaque, std::size_t size) {
    auto* c = static_cast<memory_charge*>(opaque);
    const std::size_t total = size + charge_header;
    charged_block b{std::min(total, c->credit), 0, 0};
    b.from_budget = total - b.from_credit;
    if (b.from_budget > 0 && !c->budget->try_acquire(b.from_budget)) {
        if (!c->overdraw) return nullptr;
        b.overdrawn = std::exchange(b.from_budget, 0);
    }
    auto* block = static_cast<char*>(std::malloc(total));
    if (!block) {
        if (b.from_budget > 0) c->budget->release(b.from_budget);
        return nullptr;
    }
    c->credit -= b.from_credit;
    c->overdrawn += b.overdrawn;
    c->most_overdrawn = std::max(c->most_overdrawn, c->overdrawn);
    std::memcpy(block, &b, sizeof b);
    return block + charge_header;
}

void charged_free(void* opaque, void* address) {
    if (!address) return;
    auto* c = static_cast<memory_charge*>(opaque);
    auto* block = static_cast<char*>(address) - charge_header;
    charged_block b{};
    std::memcpy(&b, block, sizeof b);
    std::free(block);
    c->credit += b.from_credit;
    c->overdrawn -= b.overdrawn;
    if (b.from_budget > 0) c->budget->release(b.from_budget);
}

ZSTD_customMem charged_to(memory_charge& c) {
    return {charged_alloc, charged_free, &c};
}

}  // namespace

deflater::deflater(int level, memory_budget* budget) : charge_{budget, 0}, level_(level) {}

void deflater::set_level(int level) {
    level_changed_ = level_changed_ || level != level_;
    level_ = level;
}

void* deflater::context() {
    if (!ctx_) {
        auto* c = charge_.budget ? ZSTD_createCCtx_advanced(charged_to(charge_)) : ZSTD_createCCtx();
        if (!c) {
            if (!charge_.budget) throw error(exit_code::local, "out of memory for a zstd compressor");
            return nullptr;
        }
        ctx_.reset(c);
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level_);
    }
    return ctx_.get();
}

namespace {

// A zstd frame of raw blocks (RFC 8878, 3.1.1): the magic number, a frame
// header with no content size and a 128 KiB window, then blocks of at most
// 128 KiB, each a 3-byte header (last flag, type 0 = raw, size) and the bytes.
constexpr std::size_t stored_block = 128 << 10;
constexpr std::size_t stored_frame_header = 6;

std::size_t append_stored_frame(char* out, std::span<const char> in) {
    // The magic number (little-endian); no content size, not single-segment,
    // no checksum, no dictionary; a window of 2^17 (exponent 17 - 10, mantissa 0).
    static constexpr unsigned char header[] = {0x28, 0xB5, 0x2F, 0xFD, 0x00, (17 - 10) << 3};
    static_assert(sizeof header == stored_frame_header);
    std::memcpy(out, header, sizeof header);
    std::size_t at = sizeof header;
    std::size_t done = 0;
    do {
        const auto n = std::min(stored_block, in.size() - done);
        const bool last = done + n == in.size();
        const auto block = static_cast<std::uint32_t>(n << 3 | (last ? 1u : 0u));
        out[at++] = static_cast<char>(block & 0xff);
        out[at++] = static_cast<char>(block >> 8 & 0xff);
        out[at++] = static_cast<char>(block >> 16 & 0xff);
        if (n > 0) std::memcpy(out + at, in.data() + done, n);
        at += n;
        done += n;
    } while (done < in.size());
    return at;
}

}  // namespace

std::span<const char> deflater::push(std::span<const char> in, bool rest) {
    const auto stored_bound = stored_frame_header + (in.size() / stored_block + 1) * 3 + in.size();
    // Grown, never shrunk: a resize up zero-fills, and this runs per read.
    if (const auto bound = ZSTD_compressBound(in.size()) + stored_bound + 64; out_.size() < bound)
        out_.resize(bound);
    std::size_t written = 0;
    // False when zstd could not allocate: only where a frame starts, before
    // it writes anything of it.
    auto compress = [&](ZSTD_inBuffer& src, ZSTD_EndDirective how) {
        auto* cctx = static_cast<ZSTD_CCtx*>(ctx_.get());
        for (;;) {
            ZSTD_outBuffer dst{out_.data() + written, out_.size() - written, 0};
            const auto left = ZSTD_compressStream2(cctx, &dst, &src, how);
            if (ZSTD_isError(left)) {
                if (ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation && !in_frame_ && dst.pos == 0)
                    return false;
                throw error(exit_code::local,
                            std::string("compressing for the link: ") + ZSTD_getErrorName(left));
            }
            written += dst.pos;
            if (left == 0 && src.pos == src.size) return true;
            out_.resize(out_.size() * 2);
        }
    };
    if (level_changed_) {
        if (in_frame_) {
            ZSTD_inBuffer none{nullptr, 0, 0};
            compress(none, ZSTD_e_end);
            in_frame_ = false;
        }
        if (level_ == stored)
            ctx_.reset();  // stored needs no context: its memory goes back
        else if (ctx_)
            ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(ctx_.get()), ZSTD_c_compressionLevel, level_);
        level_changed_ = false;
    }
    if (level_ != stored) {
        ZSTD_inBuffer src{in.data(), in.size(), 0};
        if (context() && compress(src, rest ? ZSTD_e_end : ZSTD_e_flush)) {
            in_frame_ = !rest;
            if (rest) ctx_.reset();
            return {out_.data(), written};
        }
        // The budget has no memory for this level now: stored, until adapt
        // climbs again.
        ++starved_;
        ctx_.reset();
        level_ = stored;
    }
    if (out_.size() < written + stored_bound) out_.resize(written + stored_bound);
    written += append_stored_frame(out_.data() + written, in);
    return {out_.data(), written};
}

std::string level_name(int level) {
    return level == deflater::stored ? "stored" : std::to_string(level);
}

inflater::inflater(int max_window_log, memory_charge charge)
    : charge_(charge), max_window_log_(max_window_log) {}

void* inflater::context() {
    if (!ctx_) {
        auto* d = charge_.budget ? ZSTD_createDCtx_advanced(charged_to(charge_)) : ZSTD_createDCtx();
        if (!d) throw error(exit_code::local, "out of memory for a zstd decompressor");
        ctx_.reset(d);
        if (max_window_log_ > 0) ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, max_window_log_);
    }
    return ctx_.get();
}

void inflater::rest() {
    if (between_frames_) ctx_.reset();
}

std::size_t request_decoder_credit() {
    return 128 << 10;
}

std::size_t session_buffers() {
    // Each pump's 128 KiB read buffer and the codecs' output buffers, and TLS's records.
    return 4 * (128 << 10) + (64 << 10) + request_decoder_credit();
}

std::size_t compressor_memory(int level) {
    return level == deflater::stored ? 0 : ZSTD_estimateCStreamSize(level);
}

std::size_t session_memory(int level) {
    return compressor_memory(level) + ZSTD_estimateDStreamSize(std::size_t{1} << agent_window_log) +
           session_buffers();
}

bool ends_ready_for_query(std::span<const char> bytes) noexcept {
    if (bytes.size() < 6) return false;
    const auto* z = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - 6);
    return z[0] == 'Z' && z[1] == 0 && z[2] == 0 && z[3] == 0 && z[4] == 5 &&
           (z[5] == 'I' || z[5] == 'T' || z[5] == 'E');
}

std::span<const char> inflater::push(std::span<const char> in) {
    if (in.empty()) return {};
    auto* dctx = static_cast<ZSTD_DCtx*>(context());
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    std::size_t written = 0;
    // Until the input is used up and zstd leaves room in the output (else it
    // may hold more decoded bytes back).
    for (;;) {
        if (out_.size() - written < ZSTD_DStreamOutSize()) out_.resize(written + 2 * ZSTD_DStreamOutSize());
        ZSTD_outBuffer dst{out_.data() + written, out_.size() - written, 0};
        const auto r = ZSTD_decompressStream(dctx, &dst, &src);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
                throw error(exit_code::local, "no memory left under the limit to decompress the link's data");
            throw error(exit_code::source,
                        std::string("the link's data is not a pghaul zstd stream: ") + ZSTD_getErrorName(r));
        }
        written += dst.pos;
        between_frames_ = r == 0;  // a frame ended, decoded and flushed, and none began
        if (src.pos == src.size && dst.pos < dst.size) break;
    }
    return {out_.data(), written};
}

}  // namespace pghaul::link
