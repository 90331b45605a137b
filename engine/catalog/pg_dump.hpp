// pg_dump as a child process: the reference DDL generator for every object
// kind, always matching the server version. A password reaches it through an
// in-memory pgpass file, never its command line or environment.
#pragma once

#include <string>

#include "io/process.hpp"
#include "protocol/conninfo.hpp"

namespace pghaul::engine {

struct schema_options {
    std::string pg_dump = "pg_dump";
    bool no_owner = false;
    bool no_privileges = false;
};

// The installed pg_dump's major version; throws if it cannot be run.
int pg_dump_major(const std::string& pg_dump);

// One section (pre-data, post-data) of the source's schema as of `snapshot`,
// as plain SQL text; throws (source error) naming the endpoint on failure.
process_result run_pg_dump(const schema_options& opt, const conninfo& source, const std::string& snapshot,
                           const std::string& section);

}  // namespace pghaul::engine
