// Roles are global on the target while every source brings its own: before
// anything is written, list the roles each source needs (after role_map),
// which the target lacks, and which two sources would share; then fail,
// create or drop ownership as missing_roles says.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/copy/source_job.hpp"

namespace pghaul::engine {

// Fails the sources whose roles cannot be settled; creates roles (unless
// dry_run) in `create` mode. Returns the roles section of the report.
nlohmann::json settle_roles(const std::vector<std::unique_ptr<source_job>>& jobs, pg::connection& maint,
                            const run_config& cfg, bool dry_run);

// Fails sources that use extensions the target does not offer, or event
// triggers the target login may not create.
void check_extensions(const std::vector<std::unique_ptr<source_job>>& jobs, pg::connection& maint);

}  // namespace pghaul::engine
