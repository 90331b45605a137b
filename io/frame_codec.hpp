// The compression stage of the spool: one chunk becomes one self-checking
// frame (our header + a zstd frame, or the raw bytes when storing), and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "io/detail/zstd_free.hpp"

namespace pghaul {

// Frame layout (little-endian):
//   0  magic "PGHZ"        4  version (1)        5  codec (0 stored, 1 zstd)
//   6  reserved, zero     8  sequence number (u64)
//  16  raw length (u32)   20  payload length (u32)
//  24  CRC-32C of the payload                    28  CRC-32C of bytes 0..27
//  32  payload: a zstd frame with its content checksum, or the raw bytes
// The sequence number makes a frame read from the wrong place (reordered,
// stale, or half-overwritten) fail instead of passing as valid data.
inline constexpr std::size_t frame_header_size = 32;

class frame_encoder {
public:
    // level 0 stores without compressing (unlike zstd's own API, where 0 means
    // its default level); levels 1..19 and negative (faster) levels use zstd.
    explicit frame_encoder(int level);

    int level() const noexcept { return level_; }
    // The largest frame encode() can produce for `raw_size` bytes.
    std::size_t max_frame_size(std::size_t raw_size) const noexcept;
    // Encodes `raw` as one frame. The result points into this encoder and
    // stays valid until the next call. Data zstd cannot shrink is stored.
    std::span<const std::byte> encode(std::uint64_t seq, std::span<const std::byte> raw);

private:
    int level_;
    std::unique_ptr<void, detail::zstd_cctx_free> cctx_;  // created on first compressing use
    std::vector<std::byte> buf_;
};

class frame_decoder {
public:
    frame_decoder();

    // Decodes exactly one frame into `out` and returns the raw length. Checks
    // header, sequence number, lengths, CRC-32C and the zstd checksum; on any
    // mismatch throws pghaul::error (local) naming `where` (the spool file
    // and offset): corrupt spool data must never reach the target.
    std::size_t decode(std::span<const std::byte> frame, std::uint64_t expected_seq, std::span<std::byte> out,
                       std::string_view where);

private:
    std::unique_ptr<void, detail::zstd_dctx_free> dctx_;
};

}  // namespace pghaul
