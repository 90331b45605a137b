// zstd streams for the link (see the header).
#include "io/link/zstd_pipe.hpp"

#define ZSTD_STATIC_LINKING_ONLY  // the memory estimates
#include <zstd.h>

#include <string>

#include "protocol/error.hpp"

namespace pghaul::link {

deflater::deflater(int level) : ctx_(ZSTD_createCCtx()), level_(level) {
    if (!ctx_) throw error(exit_code::local, "out of memory for a zstd compressor");
    set_level(level);
}

void deflater::set_level(int level) {
    level_ = level;
    ZSTD_CCtx_setParameter(static_cast<ZSTD_CCtx*>(ctx_.get()), ZSTD_c_compressionLevel, level);
}

std::span<const char> deflater::push(std::span<const char> in) {
    auto* cctx = static_cast<ZSTD_CCtx*>(ctx_.get());
    // Grown, never shrunk: a resize up zero-fills, and this runs per read.
    if (const auto bound = ZSTD_compressBound(in.size()) + 64; out_.size() < bound) out_.resize(bound);
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    std::size_t written = 0;
    for (;;) {
        ZSTD_outBuffer dst{out_.data() + written, out_.size() - written, 0};
        const auto left = ZSTD_compressStream2(cctx, &dst, &src, ZSTD_e_flush);
        if (ZSTD_isError(left))
            throw error(exit_code::local,
                        std::string("compressing for the link: ") + ZSTD_getErrorName(left));
        written += dst.pos;
        if (left == 0 && src.pos == src.size) break;
        out_.resize(out_.size() * 2);
    }
    return {out_.data(), written};
}

inflater::inflater(int max_window_log) : ctx_(ZSTD_createDCtx()) {
    if (!ctx_) throw error(exit_code::local, "out of memory for a zstd decompressor");
    if (max_window_log > 0)
        ZSTD_DCtx_setParameter(static_cast<ZSTD_DCtx*>(ctx_.get()), ZSTD_d_windowLogMax, max_window_log);
}

std::size_t session_memory(int level) {
    // Each pump's 128 KiB read buffer and the codecs' output buffers, and TLS's records.
    constexpr std::size_t buffers = 4 * (128 << 10) + (64 << 10);
    return ZSTD_estimateCStreamSize(level) + ZSTD_estimateDStreamSize(std::size_t{1} << agent_window_log) + buffers;
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
