// Binary COPY format as documented in the COPY reference page ("Binary Format").
#include "protocol/copy_binary.hpp"

#include <array>
#include <cstring>
#include <string>

#include "protocol/error.hpp"

namespace pghaul::copy_binary {
namespace {

constexpr std::array<unsigned char, 11> signature = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};

std::uint32_t read_u32(const std::byte* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           std::uint32_t(p[3]);
}
std::int16_t read_i16(const std::byte* p) {
    return static_cast<std::int16_t>((std::uint16_t(p[0]) << 8) | std::uint16_t(p[1]));
}

[[noreturn]] void corrupt(const std::string& what) {
    throw error(exit_code::local, "malformed binary COPY stream: " + what);
}

}  // namespace

std::vector<std::byte> header() {
    std::vector<std::byte> out(header_size, std::byte{0});
    std::memcpy(out.data(), signature.data(), signature.size());
    return out;  // flags 0, extension length 0
}

std::vector<std::byte> trailer() {
    return {std::byte{0xff}, std::byte{0xff}};
}

std::optional<tuple> parser::parse_tuple(std::span<const std::byte> data) {
    if (data.size() < 2) return std::nullopt;
    std::int16_t count = read_i16(data.data());
    if (count < 0) corrupt("negative field count " + std::to_string(count) + " where a tuple was expected");
    tuple t;
    t.fields.reserve(static_cast<std::size_t>(count));
    std::size_t pos = 2;
    for (int i = 0; i < count; ++i) {
        if (data.size() - pos < 4) return std::nullopt;
        auto len = static_cast<std::int32_t>(read_u32(data.data() + pos));
        pos += 4;
        if (len == -1) {
            t.fields.push_back({true, {}});
            continue;
        }
        if (len < -1) corrupt("field " + std::to_string(i + 1) + " has length " + std::to_string(len));
        if (data.size() - pos < static_cast<std::size_t>(len)) return std::nullopt;
        t.fields.push_back({false, data.subspan(pos, static_cast<std::size_t>(len))});
        pos += static_cast<std::size_t>(len);
    }
    t.size = pos;
    return t;
}

std::size_t parser::feed(std::span<const std::byte> data) {
    std::size_t pos = 0;
    if (!header_seen_) {
        if (data.size() < header_size) return 0;
        if (std::memcmp(data.data(), signature.data(), signature.size()) != 0) corrupt("bad signature");
        std::uint32_t flags = read_u32(data.data() + 11);
        if (flags & 0xfffe0000u) corrupt("unknown critical flags in header");
        if (flags & 0x00010000u) corrupt("streams with OIDs are not supported");
        std::uint32_t ext = read_u32(data.data() + 15);
        if (data.size() < header_size + ext) return 0;
        pos = header_size + ext;
        header_seen_ = true;
    }
    while (pos < data.size()) {
        if (finished_) corrupt("data after the end-of-stream marker");
        auto rest = data.subspan(pos);
        if (rest.size() < 2) break;
        if (read_i16(rest.data()) == -1) {
            finished_ = true;
            pos += 2;
            continue;
        }
        auto t = parse_tuple(rest);
        if (!t) break;
        if (expected_fields_ && static_cast<int>(t->fields.size()) != *expected_fields_)
            corrupt("tuple " + std::to_string(tuples_ + 1) + " has " + std::to_string(t->fields.size()) +
                    " fields, expected " + std::to_string(*expected_fields_));
        ++tuples_;
        pos += t->size;
    }
    return pos;
}

}  // namespace pghaul::copy_binary
