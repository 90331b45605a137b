// The data phase: `jobs` workers, each with a source reader (in the snapshot)
// and a target writer, take tables largest first; as soon as a table has
// landed its indexes and PK/UNIQUE constraints are queued ahead of further
// copies, so index builds overlap with other tables still copying.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/catalog.hpp"
#include "engine/schema.hpp"
#include "protocol/conninfo.hpp"

namespace pghaul::engine {

struct data_phase_input {
    conninfo source;
    conninfo target;  // the new database
    std::string snapshot;
    std::string ddl_preamble;
    int jobs = 1;
};

struct data_phase_result {
    std::map<std::uint32_t, std::uint64_t> rows;  // per table oid, as read in the snapshot
    std::uint64_t bytes = 0;
    std::size_t indexes = 0;
};

// Runs until every table and its per-table post-data are done; on the first
// failure, cancels the other workers' statements and rethrows it. `while_running`
// runs on the calling thread meanwhile (large objects use it).
data_phase_result run_data_phase(const data_phase_input& in, const source_catalog& cat,
                                 const std::map<std::uint32_t, std::vector<dump_entry>>& per_table,
                                 const std::function<void()>& while_running);

// Opens a target connection ready to run pg_dump's DDL.
pg::connection open_ddl_connection(const conninfo& target, const std::string& preamble,
                                   std::string_view role);

// Runs one pg_dump entry, naming it in any error.
void run_entry(pg::connection& conn, const dump_entry& e);

}  // namespace pghaul::engine
