// Shared by the io unit tests: a replayable seed, a scratch directory,
// COPY-like test data (part compressible text, part random bytes) and a
// string's bytes.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <string>

namespace pghaul::test {

// PGHAUL_TEST_SEED replays a run; otherwise a fresh seed, printed.
inline std::uint64_t test_seed() {
    std::uint64_t seed;
    if (const char* s = std::getenv("PGHAUL_TEST_SEED")) {
        seed = std::strtoull(s, nullptr, 10);
    } else {
        seed = (std::uint64_t(std::random_device{}()) << 32) | std::random_device{}();
    }
    MESSAGE("seed " << seed << " (replay with PGHAUL_TEST_SEED=" << seed << ")");
    return seed;
}

class scratch_dir {
public:
    scratch_dir() {
        std::string t = (std::filesystem::temp_directory_path() / "pghaul-test-XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path_ = t;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// `n` bytes that look a little like binary COPY rows: words from a small
// vocabulary, counters, field headers and some random bytes; zstd makes them
// about 2-3 times smaller, as it does typical table data.
inline std::string copy_like_data(std::size_t n, std::mt19937_64& rng) {
    static const char* words[] = {"alpha", "bravo",   "charlie",         "delta",
                                  "echo",  "foxtrot", "\x00\x00\x00\x04"};
    std::string s;
    s.reserve(n + 32);
    std::uint32_t id = 0;
    while (s.size() < n) {
        switch (rng() % 8) {
            case 0:
            case 1:
            case 2:
                s += words[rng() % 7];
                break;
            case 3:
            case 4:
                ++id;
                s.append(reinterpret_cast<const char*>(&id), 4);
                break;
            case 5:
                for (int i = 0; i < 4; ++i) s += static_cast<char>(rng());
                break;
            default:
                s.append("\x00\x03\x00\x00\x00\x08", 6);
        }
    }
    s.resize(n);
    return s;
}

// "" when equal, else where they part: a failing check must not print megabytes.
inline std::string difference(const std::string& got, const std::string& want) {
    if (got == want) return "";
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    return "got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size()) +
           "; first difference at byte " + std::to_string(i);
}

inline std::span<const std::byte> bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace pghaul::test
