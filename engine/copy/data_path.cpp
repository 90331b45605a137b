// Sizing the data path from the run's settings.
#include "engine/copy/data_path.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <spdlog/spdlog.h>

namespace pghaul::engine {
namespace {

// Each streaming unit holds about 1.5 MiB outside the budget (fill and encode
// buffers, a zstd context, the chunk the writer sends): see chunk_stream.hpp.
constexpr std::int64_t per_unit_overhead = 3 << 19;
constexpr std::int64_t min_budget = 2 << 20;

std::size_t budget_for(const run_config& cfg) {
    std::int64_t units = std::max(1, cfg.jobs);
    return static_cast<std::size_t>(std::max(min_budget, cfg.memory_limit - units * per_unit_overhead));
}

}  // namespace

data_path::data_path(const run_config& cfg) : memory_(budget_for(cfg)) {
    if (cfg.spool_limit <= 0) return;
    auto dir =
        cfg.spool_dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(cfg.spool_dir);
    // Killed runs (kill -9, a crash, a reboot) cannot remove their spool: the
    // next run on this machine does, so the temp folder does not fill up.
    if (auto n = sweep_stale_spool_dirs(dir))
        spdlog::info("removed {} spool director{} left in {} by runs that were killed", n,
                     n == 1 ? "y" : "ies", dir.string());
    spool_ = std::make_unique<spool_dir>(dir, static_cast<std::size_t>(cfg.spool_limit),
                                         spool_options{.compression_level = cfg.compression_level});
}

std::optional<std::string> data_path::take_notice() {
    return spool_ ? spool_->take_fallback_notice() : std::nullopt;
}

}  // namespace pghaul::engine
