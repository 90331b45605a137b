// The copy plan as data: tables in the order they will be copied, with what
// the user needs to judge it (sizes, formats, index counts). Printed by --dry-run.
#pragma once

#include <cstdint>
#include <string>

#include "engine/catalog/catalog.hpp"

namespace pghaul::engine {

// The tables in copy order (largest first) with sizes, index counts, how many
// parts a split table is copied in, and the COPY format.
std::string describe_tables(const source_catalog& cat);

}  // namespace pghaul::engine
