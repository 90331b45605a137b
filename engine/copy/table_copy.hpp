// Copies one table: binary (or text) COPY out of the source snapshot, streamed
// into the target inside one transaction that truncates first, so a failed
// table is rolled back whole and never looks complete.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/catalog/catalog.hpp"
#include "engine/copy/data_path.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine {

struct table_copy_result {
    std::uint64_t rows = 0;              // rows the source sent (in the snapshot) = rows loaded
    std::uint64_t bytes = 0;             // COPY stream bytes relayed
    std::uint64_t spooled_bytes = 0;     // of those, how many went through the spool
    std::uint64_t spool_file_bytes = 0;  // what they took on disk (compressed)
    std::uint64_t disk_full = 0;         // spool appends the file system refused
    double reader_waited_s = 0;          // the source read held back: memory and spool full
};

// `source` is inside the imported snapshot; `target` is idle on the new database.
// Without `part`, with `truncate` the table is truncated and loaded with
// FREEZE in one transaction, without it (an empty table, just created) only
// loaded; a part loads its page range in a transaction of its own (other
// parts write the same table concurrently, so no TRUNCATE or FREEZE).
// Once the source has sent everything `read_done` runs, while the rest may
// still drain from the spool into the target: it ends the source's read
// (so it no longer pins the snapshot; source_job::end_read).
table_copy_result copy_table(pg::connection& source, pg::connection& target, const table_info& table,
                             const table_info::page_range* part, bool truncate, data_path& path,
                             const std::function<void()>& read_done);

}  // namespace pghaul::engine
