// What one source's copy came to, as it runs: written by its job and the
// worker pool, read by the progress line, role settlement and the report.
// The record has its own lock and is only touched through it (read/update),
// so no reader sees half a write and no writer forgets the lock; the job's
// own state (connections, snapshot, journal) stays the job's.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/error.hpp"

namespace pghaul::engine {

enum class source_status { pending, skipped, failed, done };
// "pending", "skipped", "failed", "done": the report's and the JSON's words.
std::string_view status_name(source_status s);

// What the end-of-copy check found. rows_match: the COPY row counts of both
// servers agreed table by table (no --verify); the others are --verify's.
enum class verification { rows_match, counts_match, checksums_match, mismatch };
std::string_view verification_name(verification v);  // "rows match", ..., "MISMATCH"

// One bar of the run's timeline: a task a worker ran (for the report's Gantt chart).
struct timeline_entry {
    std::string phase;   // schema, copy, part, index, constraints, finish
    std::string object;  // table or index name; empty for whole-source steps
    int worker = 0;
    std::chrono::steady_clock::time_point start, end;
    bool ok = true;
};

struct table_result {
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    double seconds = 0;
    std::uint64_t spooled_bytes = 0;  // of bytes, how many went through the spool
    std::uint64_t spool_file_bytes = 0;
    std::string snapshot;  // the source snapshot the rows were read in
    bool earlier = false;  // loaded by an earlier attempt, kept on --resume
};

struct outcome_fields {
    source_status status = source_status::pending;
    std::string skipped_because;  // with status skipped: why, as the dry run says it
    std::optional<error> failure;
    // What a dry run found wrong besides the first failure: it goes on
    // checking a source whose target side failed (a run stops at the first).
    std::vector<error> more_failures;
    std::vector<std::string> warnings;
    std::map<std::uint32_t, table_result> results;  // by table oid
    std::size_t indexes_built = 0;
    // Index builds done, in their tables' bytes (one scan and sort each): the
    // progress ETA counts them as work, as it counts the bytes copied.
    std::int64_t index_work_done = 0;
    // Planner statistics: tables given the source's (18+ targets), analyzed,
    // and left to the target's autovacuum (run_config::analyze_all).
    std::size_t statistics_restored = 0, statistics_analyzed = 0, statistics_left_to_autovacuum = 0;
    std::uint64_t large_object_bytes = 0;
    std::chrono::steady_clock::time_point started, ended;
    std::chrono::steady_clock::time_point snapshot_released;
    std::vector<timeline_entry> timeline;
    verification verified = verification::rows_match;
};

class source_outcome {
public:
    // `f` sees (or changes) the fields under the record's lock; keep it short.
    template <class F>
    decltype(auto) read(F&& f) const {
        std::lock_guard lk(mu_);
        return std::forward<F>(f)(std::as_const(fields_));
    }
    template <class F>
    decltype(auto) update(F&& f) {
        std::lock_guard lk(mu_);
        return std::forward<F>(f)(fields_);
    }
    // A consistent copy of the whole record (the report's).
    outcome_fields copy() const {
        return read([](const outcome_fields& o) { return o; });
    }

    source_status status() const {
        return read([](const outcome_fields& o) { return o.status; });
    }
    void set_status(source_status s) {
        update([s](outcome_fields& o) { o.status = s; });
    }
    std::chrono::steady_clock::time_point started() const {
        return read([](const outcome_fields& o) { return o.started; });
    }
    std::optional<error> failure() const {
        return read([](const outcome_fields& o) { return o.failure; });
    }
    // Why a source is left alone (its status is set by the run).
    void skip_because(std::string why) {
        update([&](outcome_fields& o) { o.skipped_because = std::move(why); });
    }
    // The first failure is the source's; later ones are kept (up to a
    // listing's worth) for the dry run, which goes on checking.
    void add_failure(const error& e);
    void add_warning(std::string message);
    void add_bar(timeline_entry bar);

private:
    mutable std::mutex mu_;
    outcome_fields fields_;
};

}  // namespace pghaul::engine
