// Binary COPY stream format (sans-I/O): header, tuples, trailer. The data path
// forwards bytes untouched; this parser validates streams and counts tuples
// where that is asked for (tests, spool checks, OID rewriting later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace pghaul::copy_binary {

inline constexpr std::size_t header_size = 19;  // signature(11) + flags(4) + extension length(4)

// A field of one tuple: a view into the fed bytes, or NULL.
struct field {
    bool is_null = false;
    std::span<const std::byte> bytes;
};

// One parsed tuple; views stay valid as long as the fed buffer does.
struct tuple {
    std::vector<field> fields;
    std::size_t size = 0;  // bytes the tuple occupies in the stream
};

// The 19-byte header that starts every binary COPY stream (no OIDs, no extension).
std::vector<std::byte> header();
// The two-byte trailer (field count -1) that ends it.
std::vector<std::byte> trailer();

// Incremental parser over a stream that arrives in arbitrary pieces.
// feed() returns the bytes consumed; a tuple split across pieces is left
// unconsumed until the caller feeds it again with the rest appended.
class parser {
public:
    explicit parser(std::optional<int> expected_fields = std::nullopt) : expected_fields_(expected_fields) {}

    // Throws pghaul::error (code local) on a malformed stream.
    std::size_t feed(std::span<const std::byte> data);

    bool header_seen() const { return header_seen_; }
    bool finished() const { return finished_; }
    std::uint64_t tuples() const { return tuples_; }

    // Parses one tuple at the start of data: nullopt means "need more bytes".
    // Throws on structural corruption.
    static std::optional<tuple> parse_tuple(std::span<const std::byte> data);

private:
    std::optional<int> expected_fields_;
    bool header_seen_ = false;
    bool finished_ = false;
    std::uint64_t tuples_ = 0;
};

}  // namespace pghaul::copy_binary
