// Large object contents, read in the snapshot and written into the objects
// pg_dump's pre-data already created (with their owners and grants).
#pragma once

#include <cstdint>
#include <vector>

#include "io/pg/connection.hpp"

namespace pghaul::engine {

// Returns the bytes copied.
std::uint64_t copy_large_objects(pg::connection& source, pg::connection& target,
                                 const std::vector<std::uint32_t>& oids);

}  // namespace pghaul::engine
