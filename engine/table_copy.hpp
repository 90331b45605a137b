// Copies one table: binary (or text) COPY out of the source snapshot, streamed
// into the target inside one transaction that truncates first, so a failed
// table is rolled back whole and never looks complete.
#pragma once

#include <cstdint>

#include "engine/catalog.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine {

struct table_copy_result {
    std::uint64_t rows = 0;   // rows the source sent (in the snapshot) = rows loaded
    std::uint64_t bytes = 0;  // COPY stream bytes relayed
};

// `source` is inside the imported snapshot; `target` is idle on the new database.
table_copy_result copy_table(pg::connection& source, pg::connection& target, const table_info& table);

}  // namespace pghaul::engine
