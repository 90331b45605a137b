// `pghaul copy`: one source database into a new, renamed database on a target
// server, end to end: preflight, schema, data, post-data, sequences, large
// objects, database settings, verification.
#pragma once

#include <cstdint>
#include <string>

#include "protocol/conninfo.hpp"

namespace pghaul::engine {

enum class on_existing { fail, replace, skip };

struct copy_options {
    conninfo source;
    conninfo target;  // its dbname is the new database's name
    std::string maintenance_db = "postgres";
    int jobs = 4;
    on_existing existing = on_existing::fail;
    bool no_owner = false;
    bool no_privileges = false;
    bool dry_run = false;
    std::string pg_dump = "pg_dump";
};

struct copy_summary {
    bool skipped = false;
    std::string plan;  // filled by dry runs
    std::size_t tables = 0;
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    std::size_t indexes = 0;
    std::size_t sequences = 0;
    std::size_t large_objects = 0;
    std::size_t warnings = 0;
    double seconds = 0;
};

// Throws pghaul::error; its code is the exit code.
copy_summary run_copy(const copy_options& opt);

}  // namespace pghaul::engine
