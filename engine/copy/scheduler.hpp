// One scheduler for the whole run: every source's steps and tables in one
// queue, worked by `jobs` workers (the target connection budget). Index builds
// first (their table just landed), then finishing and preparing sources, then
// tables largest first across all sources, each source within its own
// connection cap. A failed step fails only its source.
#pragma once

#include <memory>
#include <vector>

#include "engine/common/events.hpp"
#include "engine/copy/source_job.hpp"

namespace pghaul::engine {

// Runs every job that passed preflight to done or failed. With `log_failures`
// a source's failure is logged as it happens (a long multi-source run);
// otherwise the caller reports it once at the end.
// `events` (may be empty) hears every task start and finish.
void run_scheduler(std::vector<source_job*> jobs, int workers, bool log_failures, const event_sink& events);

}  // namespace pghaul::engine
