// Where --shards gets the sources' sizes: from their servers
// (pg_database_size, one connection per server), or from the file a dry run
// wrote, so that shards started at different times split the run alike.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/copy/run_config.hpp"

namespace pghaul::engine {

using source_sizes = std::map<std::string, std::int64_t>;  // source name -> bytes on disk

// Each source's database size, read on one connection per server and login
// (the databases of a `databases = [...]` entry share one). A size that cannot
// be read (a server down, a database gone) throws one preflight error naming
// every such source; `lenient` (a dry run, which shows those failures in its
// plan) counts them 0 bytes with a warning instead.
source_sizes read_live_sizes(const run_config& cfg, bool lenient);

// The file: {"sources": {"<name>": bytes, ...}, "written": "<UTC time>"}.
void write_sizes_file(const std::string& path, const source_sizes& sizes);
// The file's sizes of `sources`. Throws a usage error for a file that does not
// read or parse, or that lacks any of them (all named); names it has that
// `sources` lack are ignored with a warning.
source_sizes read_sizes_file(const std::string& path, const std::vector<source_config>& sources);

}  // namespace pghaul::engine
