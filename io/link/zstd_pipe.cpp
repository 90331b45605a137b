// zstd streams for the link (see the header).
#include "io/link/zstd_pipe.hpp"

#define ZSTD_STATIC_LINKING_ONLY  // the memory estimates
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "protocol/error.hpp"

namespace pghaul::link {

deflater::deflater(int level) : ctx_(ZSTD_createCCtx()), level_(level) {
    if (!ctx_) throw error(exit_code::local, "out of memory for a zstd compressor");
    if (level != stored)
        ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(ctx_.get()), ZSTD_c_compressionLevel, level);
}

void deflater::set_level(int level) {
    level_changed_ = level_changed_ || level != level_;
    level_ = level;
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

std::span<const char> deflater::push(std::span<const char> in) {
    auto* cctx = static_cast<ZSTD_CCtx*>(ctx_.get());
    const auto stored_bound = stored_frame_header + (in.size() / stored_block + 1) * 3 + in.size();
    // Grown, never shrunk: a resize up zero-fills, and this runs per read.
    if (const auto bound = ZSTD_compressBound(in.size()) + stored_bound + 64; out_.size() < bound)
        out_.resize(bound);
    std::size_t written = 0;
    auto compress = [&](ZSTD_inBuffer& src, ZSTD_EndDirective how) {
        for (;;) {
            ZSTD_outBuffer dst{out_.data() + written, out_.size() - written, 0};
            const auto left = ZSTD_compressStream2(cctx, &dst, &src, how);
            if (ZSTD_isError(left))
                throw error(exit_code::local,
                            std::string("compressing for the link: ") + ZSTD_getErrorName(left));
            written += dst.pos;
            if (left == 0 && src.pos == src.size) return;
            out_.resize(out_.size() * 2);
        }
    };
    if (level_changed_) {
        if (in_frame_) {
            ZSTD_inBuffer none{nullptr, 0, 0};
            compress(none, ZSTD_e_end);
            in_frame_ = false;
        }
        if (level_ != stored) ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level_);
        level_changed_ = false;
    }
    if (level_ == stored) {
        if (out_.size() < written + stored_bound) out_.resize(written + stored_bound);
        written += append_stored_frame(out_.data() + written, in);
        return {out_.data(), written};
    }
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    compress(src, ZSTD_e_flush);
    in_frame_ = true;
    return {out_.data(), written};
}

std::string level_name(int level) {
    return level == deflater::stored ? "stored" : std::to_string(level);
}

inflater::inflater(int max_window_log) : ctx_(ZSTD_createDCtx()) {
    if (!ctx_) throw error(exit_code::local, "out of memory for a zstd decompressor");
    if (max_window_log > 0)
        ZSTD_DCtx_setParameter(static_cast<ZSTD_DCtx*>(ctx_.get()), ZSTD_d_windowLogMax, max_window_log);
}

std::size_t session_memory(int level) {
    // Each pump's 128 KiB read buffer and the codecs' output buffers, and TLS's records.
    constexpr std::size_t buffers = 4 * (128 << 10) + (64 << 10);
    // Stored needs no more than the context holds already.
    return ZSTD_estimateCStreamSize(level == deflater::stored ? 1 : level) +
           ZSTD_estimateDStreamSize(std::size_t{1} << agent_window_log) + buffers;
}

std::span<const char> inflater::push(std::span<const char> in) {
    auto* dctx = static_cast<ZSTD_DCtx*>(ctx_.get());
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    std::size_t written = 0;
    // Until the input is used up and zstd leaves room in the output (else it
    // may hold more decoded bytes back).
    for (;;) {
        if (out_.size() - written < ZSTD_DStreamOutSize()) out_.resize(written + 2 * ZSTD_DStreamOutSize());
        ZSTD_outBuffer dst{out_.data() + written, out_.size() - written, 0};
        const auto r = ZSTD_decompressStream(dctx, &dst, &src);
        if (ZSTD_isError(r))
            throw error(exit_code::source,
                        std::string("the link's data is not a pghaul zstd stream: ") + ZSTD_getErrorName(r));
        written += dst.pos;
        if (src.pos == src.size && dst.pos < dst.size) break;
    }
    return {out_.data(), written};
}

}  // namespace pghaul::link
