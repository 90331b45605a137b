// The flags that choose what of a database a copy takes, as pg_dump names
// them: --table, -n/--schema, -T/--exclude-table, -N/--exclude-schema and
// --exclude-table-data. copy takes them to choose; verify to know what the
// copy left out. (A manifest's source has the same keys: cli/manifest.cpp.)
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "protocol/name_pattern.hpp"

namespace pghaul::cli {

struct selection_flags {
    std::vector<std::string> table, schema, exclude_table, exclude_schema, exclude_table_data;
};

enum class selection_use { copy, verify };

// Adds the five flags to `sub`, worded for what it does with them.
void add_selection_flags(CLI::App& sub, selection_flags& flags, selection_use use);

// The patterns given; throws exit_code::usage naming the flag of one that does not parse.
relation_filter relation_filter_of(const selection_flags& flags);
std::vector<name_pattern> table_data_patterns(const selection_flags& flags);

}  // namespace pghaul::cli
