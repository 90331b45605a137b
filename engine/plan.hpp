// The copy plan as data: tables in the order they will be copied, with what
// the user needs to judge it (sizes, formats, index counts). Printed by --dry-run.
#pragma once

#include <cstdint>
#include <string>

#include "engine/catalog.hpp"

namespace pghaul::engine {

std::string format_bytes(std::int64_t bytes);

// Human-readable plan; `target_endpoint` and `target_db` say where it goes.
std::string describe_plan(const source_catalog& cat, const std::string& source_endpoint,
                          const std::string& target_endpoint, const std::string& target_db, int jobs);

}  // namespace pghaul::engine
