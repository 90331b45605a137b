// The run's spool area under --spool-dir: a private 0700 directory holding
// one file per spilling unit, the shared --spool-limit budget, and the
// compression level. Removed when the run ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "io/memory_budget.hpp"
#include "io/spool_file.hpp"

namespace pghaul {

struct spool_options {
    int compression_level = 1;  // 0 stores; zstd levels otherwise (see frame_encoder)
    bool force_pwrite = false;  // skip io_uring: for tests, and sandboxes that kill on io_uring_setup
};

// Removes spool directories under `parent` left by runs whose process is gone
// (kill -9, a crash); returns how many.
std::size_t sweep_stale_spool_dirs(const std::filesystem::path& parent);

class spool_dir {
public:
    // Creates "pghaul-XXXXXX" (mode 0700) inside `parent`; `limit_bytes` bounds
    // the bytes all spool files hold together. Throws pghaul::error (local).
    spool_dir(const std::filesystem::path& parent, std::size_t limit_bytes, spool_options options = {});
    spool_dir(const spool_dir&) = delete;
    spool_dir& operator=(const spool_dir&) = delete;
    // Removes the directory. Every spool_file made here must be gone first.
    ~spool_dir();

    const std::filesystem::path& path() const noexcept { return path_; }
    memory_budget& budget() noexcept { return budget_; }
    const spool_options& options() const noexcept { return options_; }

    // A new file named after `name` (sanitised) plus a unique number. Once
    // io_uring has been refused, later files use pread/pwrite straight away.
    std::unique_ptr<spool_file> create(std::string_view name);

    // Why io_uring is not used, the first time this is asked after it was
    // refused; nullopt otherwise. Lets the caller say so exactly once.
    std::optional<std::string> take_fallback_notice();
    bool io_uring_refused() const noexcept { return refused_.load(); }

private:
    std::filesystem::path path_;
    memory_budget budget_;
    spool_options options_;
    std::atomic<unsigned> next_id_{0};
    std::atomic<bool> refused_{false};
    std::mutex m_;
    std::string refusal_;
    bool told_ = false;
};

}  // namespace pghaul
