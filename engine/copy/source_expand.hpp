// A [[source]] that names several databases of one server, or all of them
// (`databases = ["*"]`), becomes one source per database before preflight:
// each its own snapshot, journal, report entry and failure domain.
#pragma once

#include <string>
#include <vector>

#include "engine/copy/run_config.hpp"

namespace pghaul::engine {

// Whether `name` matches the shell-style pattern (`*` any run, `?` one character).
bool glob_match(std::string_view pattern, std::string_view name);

// The databases of `all` that `include` matches and `exclude` does not, in
// the server's order. `postgres` is left out unless a pattern names it
// literally (template databases are never listed by the server query).
std::vector<std::string> select_databases(const std::vector<std::string>& all,
                                          const std::vector<std::string>& include,
                                          const std::vector<std::string>& exclude);

// A target_db template with {source} and {database} filled in.
std::string expand_target_name(const std::string& pattern, const std::string& source,
                               const std::string& database);

// A source name for one database of a multi-database source: "<source>.<database>",
// with characters other than letters, digits, '-', '_' and '.' made '_'.
std::string expanded_source_name(const std::string& source, const std::string& database);

// Replaces each multi-database source in `cfg.sources` by one source per
// matching database (listed on the server, credentials resolved as for the
// copy). Throws preflight errors: a server that cannot be listed, a pattern
// that matches nothing, target names that collide or are not valid database
// names. `matched` gets one line per multi-database source for the dry run.
void expand_sources(run_config& cfg, std::vector<std::string>& matched);

}  // namespace pghaul::engine
