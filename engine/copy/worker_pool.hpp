// The worker pool: `jobs` threads that run what the task graph hands out, on
// connections each worker keeps while they stay useful.
//
// Threads of a run (pghaul copy / pghaul run):
//
//   main ─ preflight (source by source) ─ run_pool() blocks until the graph drains
//    ├ ticker: a progress event every second (run.cpp)
//    ├ watcher: waits on the run's stop token (engine/common/interrupt.hpp) and
//    │   fails every live source as interrupted, cancelling their statements
//    ├ worker 1..jobs: take a task, run it, report back; each holds at most one
//    │   target connection and one reader connection at a time
//    │   └ per load: one reader thread (table_copy.cpp); the worker writes
//    │   └ per prepare: pg_dump children (catalog/pg_dump.cpp)
//    └ (--verify) the verification's own threads (verify/verify.cpp)
//
// Locks: the pool's mutex guards the graph and every worker's connection
// slots (fail() cancels through them from other threads); a source_job's own
// mutex guards its outcome. The pool's is never taken while holding a job's.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/common/events.hpp"
#include "engine/copy/source_job.hpp"

namespace pghaul::engine {

// How often workers opened connections: a worker that stays on its source
// opens them once; each switch to another source opens them again.
struct pool_stats {
    std::uint64_t target_opened = 0;  // target connections (new databases and maintenance)
    std::uint64_t reader_opened = 0;  // source reader connections
    std::uint64_t snapshot_sessions_lent = 0;  // readers that were their source's snapshot session
    std::uint64_t switches = 0;       // tasks that moved a worker to another source
};

// Runs every job that passed preflight to done or failed. With `log_failures`
// a source's failure is logged as it happens (a long multi-source run);
// otherwise the caller reports it once at the end. `events` (may be empty)
// hears every task start and finish.
// Failed units are retried (see protocol/sqlstate.hpp) until `retry_window`
// has passed since they first failed.
pool_stats run_pool(std::vector<source_job*> jobs, int workers, std::chrono::seconds retry_window,
                    bool log_failures, const event_sink& events);

}  // namespace pghaul::engine
