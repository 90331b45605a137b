// Progress in one unit: each table's size on the source (pg_table_size), the
// size the dry run, the plan and the per-source lines show. What pghaul reads
// is a COPY stream, larger or smaller than the table on disk (TOAST
// compression, tuple headers), so counting streamed bytes against table sizes
// read "19.8 MB of 13.6 MB (100%)" or ended at 85%.
#pragma once

#include <cstdint>

namespace pghaul::engine {

struct progress_tally {
    std::int64_t planned = 0;         // sizes of the tables of every source not skipped
    std::int64_t finished = 0;        // sizes of the tables whose rows are in
    std::uint64_t finished_read = 0;  // what this run streamed for those
    std::uint64_t read = 0;           // what this run streamed in all

    // A finished table counts its size; the stream of those still loading
    // counts as read, never as much as what is left: 100% means done.
    std::int64_t done() const {
        const auto in_flight = read > finished_read ? static_cast<std::int64_t>(read - finished_read) : 0;
        const auto left = planned - finished;
        if (left <= 0) return finished;
        return finished + (in_flight < left ? in_flight : left - 1);
    }
};

}  // namespace pghaul::engine
