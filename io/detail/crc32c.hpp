// CRC-32C (Castagnoli) of a byte range: guards every spool frame, stored or
// compressed. Uses the SSE4.2 instruction where the CPU has it.
#pragma once

#include <cstdint>
#include <span>

namespace pghaul::detail {

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

}  // namespace pghaul::detail
