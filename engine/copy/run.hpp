// `pghaul run` (and `pghaul copy`, its one-source shorthand): preflight every
// source, settle roles across sources, then one scheduler for all the work,
// and a report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/common/events.hpp"
#include "engine/copy/run_config.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {

struct run_result {
    exit_code code = exit_code::ok;
    std::string plan;          // dry runs: what would be done and what will go wrong
    std::string summary;       // the terminal summary table
    std::string summary_line;  // one line: tables, rows, bytes, seconds, MB/s
    nlohmann::json report;
    std::vector<error> failures;  // per failed source, in manifest order
};

// Never throws for a single source's failure (that source fails, the others go
// on); throws pghaul::error only when nothing can run at all (the target is
// unreachable).
// `events` (may be empty) receives run, task and progress events as they happen.
run_result run(const run_config& cfg, bool dry_run, const event_sink& events = {});

}  // namespace pghaul::engine
