// The [run] settings that copy and run both take on the command line,
// declared once here: each is a flag (and, like every option, a PGHAUL_*
// variable) on both commands, with the same name as its manifest key
// (`--memory-limit` is [run] memory_limit, read by cli/manifest.cpp). A flag
// given wins over the environment, which wins over the manifest; copy starts
// from run_config's defaults, which the help shows.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "engine/copy/run_config.hpp"

namespace pghaul::cli {

struct run_setting_flags {
    std::optional<int> jobs, compression_level;
    std::optional<std::string> on_existing, missing_roles, verify, memory_limit, spool_dir, spool_limit,
        split_tables_larger_than, split_part_size, retry_window, lock_wait_timeout, pg_dump, maintenance_db,
        password_command_timeout, password_max_age;
    bool no_analyze = false, analyze_all = false, no_privileges = false;
};

// Adds the flags to `sub` (copy or run), each in its help group, its default
// shown as run_config has it.
void add_run_setting_flags(CLI::App& sub, run_setting_flags& flags);

// The flags that were given, over `cfg` (the manifest's settings, or the
// defaults). Throws exit_code::usage for a size or duration that does not parse.
void apply_run_setting_flags(const run_setting_flags& flags, engine::run_config& cfg);

engine::on_existing parse_on_existing(const std::string& s);
engine::missing_roles_mode parse_missing_roles(const std::string& s);

}  // namespace pghaul::cli
