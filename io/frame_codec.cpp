// zstd runs with its content checksum on and the content size in the frame;
// our header adds a CRC-32C over the payload so a stored frame is as well
// guarded as a compressed one, and a damaged frame is caught before zstd sees it.
#include "io/frame_codec.hpp"

#include <zstd.h>

#include <cstring>
#include <limits>
#include <string>

#include "io/detail/crc32c.hpp"
#include "protocol/error.hpp"

namespace pghaul {

namespace detail {
void zstd_cctx_free::operator()(void* p) const noexcept {
    ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(p));
}
void zstd_dctx_free::operator()(void* p) const noexcept {
    ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(p));
}
}  // namespace detail

namespace {

constexpr unsigned char magic[4] = {'P', 'G', 'H', 'Z'};
constexpr std::uint8_t version = 1;
constexpr std::uint8_t codec_stored = 0;
constexpr std::uint8_t codec_zstd = 1;

void put_u32(std::byte* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (8 * i));
}
void put_u64(std::byte* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = std::byte(v >> (8 * i));
}
std::uint32_t get_u32(const std::byte* p) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(p[i]) << (8 * i);
    return v;
}
std::uint64_t get_u64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
    return v;
}

[[noreturn]] void corrupt(std::string_view where, const std::string& why) {
    throw error(exit_code::local, "corrupt spool data in " + std::string(where) + ": " + why,
                "the file system under --spool-dir returned other bytes than pghaul wrote; "
                "check the disk, then copy the unit again",
                {}, disposition::redo_once);
}

void check_zstd(std::size_t rc, const char* what) {
    if (ZSTD_isError(rc)) {
        throw error(exit_code::local, std::string(what) + ": " + ZSTD_getErrorName(rc));
    }
}

}  // namespace

frame_encoder::frame_encoder(int level) : level_(level) {
    if (level_ != 0 && (level_ < ZSTD_minCLevel() || level_ > ZSTD_maxCLevel())) {
        throw error(exit_code::usage,
                    "compression level " + std::to_string(level_) + " is outside " +
                        std::to_string(ZSTD_minCLevel()) + ".." + std::to_string(ZSTD_maxCLevel()),
                    "0 stores without compressing; 1..3 suit spooling");
    }
}

std::size_t frame_encoder::max_frame_size(std::size_t raw_size) const noexcept {
    std::size_t payload = level_ == 0 ? raw_size : std::max(raw_size, ZSTD_compressBound(raw_size));
    return frame_header_size + payload;
}

std::span<const std::byte> frame_encoder::encode(std::uint64_t seq, std::span<const std::byte> raw) {
    if (raw.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw error(exit_code::internal,
                    "spool chunk of " + std::to_string(raw.size()) + " bytes is too large");
    }
    buf_.resize(max_frame_size(raw.size()));
    std::byte* payload = buf_.data() + frame_header_size;
    std::uint8_t codec = codec_stored;
    std::size_t payload_size = raw.size();
    if (level_ != 0) {
        if (!cctx_) {
            cctx_.reset(ZSTD_createCCtx());
            if (!cctx_) throw error(exit_code::local, "cannot allocate a zstd compression context");
            auto* c = static_cast<ZSTD_CCtx*>(cctx_.get());
            check_zstd(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level_), "zstd level");
            check_zstd(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1), "zstd checksum flag");
        }
        std::size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_.get()), payload,
                                       buf_.size() - frame_header_size, raw.data(), raw.size());
        check_zstd(n, "zstd compression failed");
        // Incompressible data (already compressed bytea, random keys) is
        // stored: same size on disk and no decompression on the way back.
        if (n < raw.size()) {
            codec = codec_zstd;
            payload_size = n;
        }
    }
    if (codec == codec_stored && !raw.empty()) std::memcpy(payload, raw.data(), raw.size());

    std::byte* h = buf_.data();
    std::memcpy(h, magic, 4);
    h[4] = std::byte(version);
    h[5] = std::byte(codec);
    h[6] = h[7] = std::byte(0);
    put_u64(h + 8, seq);
    put_u32(h + 16, static_cast<std::uint32_t>(raw.size()));
    put_u32(h + 20, static_cast<std::uint32_t>(payload_size));
    put_u32(h + 24, detail::crc32c({payload, payload_size}));
    put_u32(h + 28, detail::crc32c({h, 28}));
    return {buf_.data(), frame_header_size + payload_size};
}

frame_decoder::frame_decoder() {
    dctx_.reset(ZSTD_createDCtx());
    if (!dctx_) throw error(exit_code::local, "cannot allocate a zstd decompression context");
}

std::size_t frame_decoder::decode(std::span<const std::byte> frame, std::uint64_t expected_seq,
                                  std::span<std::byte> out, std::string_view where) {
    if (frame.size() < frame_header_size) {
        corrupt(where, "truncated frame header (" + std::to_string(frame.size()) + " bytes)");
    }
    const std::byte* h = frame.data();
    if (std::memcmp(h, magic, 4) != 0 || h[4] != std::byte(version)) corrupt(where, "bad frame header magic");
    if (get_u32(h + 28) != detail::crc32c({h, 28})) corrupt(where, "frame header checksum mismatch");
    auto codec = std::to_integer<std::uint8_t>(h[5]);
    if ((codec != codec_stored && codec != codec_zstd) || h[6] != std::byte(0) || h[7] != std::byte(0)) {
        corrupt(where, "bad frame header");
    }
    std::uint64_t seq = get_u64(h + 8);
    if (seq != expected_seq) {
        corrupt(where, "frame " + std::to_string(seq) + " found where frame " + std::to_string(expected_seq) +
                           " was written");
    }
    std::size_t raw_size = get_u32(h + 16);
    std::size_t payload_size = get_u32(h + 20);
    if (payload_size != frame.size() - frame_header_size) {
        corrupt(where, "frame length " + std::to_string(payload_size) + " does not match the " +
                           std::to_string(frame.size() - frame_header_size) + " bytes read");
    }
    if (raw_size > out.size() || (codec == codec_stored && raw_size != payload_size)) {
        corrupt(where, "bad raw length " + std::to_string(raw_size));
    }
    auto payload = frame.subspan(frame_header_size);
    if (get_u32(h + 24) != detail::crc32c(payload)) corrupt(where, "payload checksum mismatch");

    if (codec == codec_stored) {
        if (raw_size > 0) std::memcpy(out.data(), payload.data(), raw_size);
        return raw_size;
    }
    std::size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx_.get()), out.data(), raw_size,
                                        payload.data(), payload.size());
    if (ZSTD_isError(n)) corrupt(where, std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != raw_size) {
        corrupt(where,
                "zstd frame holds " + std::to_string(n) + " bytes, header says " + std::to_string(raw_size));
    }
    return n;
}

}  // namespace pghaul
