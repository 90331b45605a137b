// One unit's spool file: private (0600, created O_EXCL), append-only on the
// producer side, read in order on the consumer side, removed on destruction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "io/detail/unique_fd.hpp"

namespace pghaul {

namespace detail {
class uring;
}

class spool_file {
public:
    // Creates `path`, which must not exist. With `use_io_uring`, reads and
    // writes go through io_uring; if the kernel refuses a ring, through
    // pread/pwrite instead, and fallback_reason() says why.
    spool_file(std::filesystem::path path, bool use_io_uring);
    spool_file(const spool_file&) = delete;
    spool_file& operator=(const spool_file&) = delete;
    ~spool_file();  // closes and unlinks

    const std::filesystem::path& path() const noexcept { return path_; }
    bool uses_io_uring() const noexcept { return writer_ != nullptr; }
    // Empty unless io_uring was asked for and refused.
    const std::string& fallback_reason() const noexcept { return fallback_reason_; }

    // Producer side. Appends `data` and returns its offset, or nullopt when the
    // disk is full (ENOSPC, EDQUOT, EFBIG): then nothing was appended and the
    // caller may wait for memory instead. Other failures throw pghaul::error.
    std::optional<std::uint64_t> try_append(std::span<const std::byte> data);

    // Consumer side. Reads exactly out.size() bytes at `offset`; a short file
    // or an I/O error throws pghaul::error (local) naming the file.
    void read(std::uint64_t offset, std::span<std::byte> out);
    // Gives the disk blocks before `offset` back (data already consumed), so
    // disk use follows the spool budget and not the file's length. Offsets
    // must not decrease. Best effort: file systems without hole punching keep
    // the blocks until the file is removed.
    void discard_before(std::uint64_t offset) noexcept;

private:
    std::filesystem::path path_;
    detail::unique_fd fd_;
    // One ring per side: an io_uring submission queue is single-producer, and
    // the producer and consumer threads use the file concurrently.
    std::unique_ptr<detail::uring> writer_;
    std::unique_ptr<detail::uring> reader_;
    std::string fallback_reason_;
    std::uint64_t end_ = 0;        // producer thread only
    std::uint64_t discarded_ = 0;  // consumer thread only
    bool punch_holes_ = true;      // consumer thread only
};

}  // namespace pghaul
