// The run's bounded data path: one memory budget shared by every unit's
// stream (--memory-limit) and, when the target is slower than the source, a
// spool directory for what does not fit (--spool-dir, --spool-limit).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/copy/run_config.hpp"
#include "io/memory_budget.hpp"
#include "io/spool_dir.hpp"

namespace pghaul::engine {

// Where pghaul's own time goes on the data path, summed over all units
// (connection-seconds): each unit's reader and writer thread, their CPU, and
// what they waited for. Cheap enough to keep always: two thread-CPU reads per
// unit and a clock read per 256 KiB chunk.
struct data_profile {
    std::atomic<std::uint64_t> units{0};
    std::atomic<std::uint64_t> reader_wall_ns{0}, reader_cpu_ns{0},
        reader_held_ns{0};  // held: memory+spool full
    std::atomic<std::uint64_t> writer_wall_ns{0}, writer_cpu_ns{0},
        writer_starved_ns{0};  // starved: no data yet
};

class data_path {
public:
    explicit data_path(const run_config& cfg);

    memory_budget& memory() { return memory_; }
    // Bytes read from sources so far, all units together (for progress).
    std::atomic<std::uint64_t>& bytes_read() { return bytes_read_; }
    spool_dir* spool() { return spool_.get(); }
    data_profile& profile() { return profile_; }
    // "io_uring not available ..." the first time it is refused, for one log line.
    std::optional<std::string> take_notice();

private:
    memory_budget memory_;
    std::unique_ptr<spool_dir> spool_;
    std::atomic<std::uint64_t> bytes_read_{0};
    data_profile profile_;
    std::size_t stale_ = 0;  // spool directories of killed runs swept at start
};

}  // namespace pghaul::engine
