// pg_dump as a child process: the reference DDL generator for every object
// kind, always matching the server version. A password reaches it through an
// in-memory pgpass file, never its command line or environment.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "io/process.hpp"
#include "protocol/conninfo.hpp"

namespace pghaul::engine {

struct schema_options {
    std::string pg_dump = "pg_dump";
    bool no_owner = false;
    bool no_privileges = false;
};

// The pg_dump program to run for `name` (a name looked up in PATH, or a
// path). Debian's /usr/bin/pg_dump is pg_wrapper, a Perl script that picks a
// version and execs it: about 130 ms a call here, paid by every dump and
// restore of every source. It is resolved once to the newest installed
// /usr/lib/postgresql/N/bin/pg_dump (a newer pg_dump dumps older servers;
// the preflight still checks it is not older than a source).
std::string resolve_pg_dump(const std::string& name);

// The installed pg_dump's major version; throws if it cannot be run.
int pg_dump_major(const std::string& pg_dump);

// The source's whole schema as of `snapshot` (pre-data and post-data, no
// rows) as one custom-format archive: one pg_dump, one pass over the
// catalog, with `selection` (--exclude-table=..., --exclude-schema=...)
// as further arguments. Throws (source error) naming the endpoint on failure.
std::string dump_schema_archive(const std::string& pg_dump, const conninfo& source,
                                const std::string& snapshot, std::chrono::seconds lock_wait_timeout,
                                const std::vector<std::string>& selection = {});

// One section ("pre-data", "post-data") of such an archive as plain SQL, by
// the pg_restore next to `opt.pg_dump`: locally, no server involved. Owners
// and grants are left out here when `opt` says so; pre-data has --create's
// database-level statements.
std::string restore_section(const schema_options& opt, const std::string& archive,
                            const std::string& section);

}  // namespace pghaul::engine
