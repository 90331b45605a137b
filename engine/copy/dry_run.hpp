// What --dry-run prints of a source: its tables (sizes, formats, index
// counts) and the steps the task graph would hand out for it.
#pragma once

#include <cstdint>
#include <string>

#include "engine/catalog/catalog.hpp"
#include "engine/copy/task_graph.hpp"

namespace pghaul::engine {

// The tables in copy order (largest first) with sizes, index counts, how many
// parts a split table is copied in, and the COPY format.
std::string describe_tables(const source_catalog& cat);

// The task graph's plan for the source as one worker would run it, with
// consecutive steps of a kind folded: "schema -> copy x34 -> post-data (30
// tables) -> foreign key (26) -> finish". Built from the catalog alone (a dry
// run does not dump the schema), so index builds are counted from pg_index.
std::string describe_steps(const source_catalog& cat, bool analyze);

}  // namespace pghaul::engine
