// The copy's plan as data: every source's steps, what each waits for, and
// which one a worker should run next given the connections it holds. Pure:
// no connections, no threads, no clocks; the worker pool (worker_pool.hpp)
// runs what it hands out and reports back, under its own lock.
//
// Per source:   prepare ─▶ load (each table, or each part of a split table)
//   a table, once loaded ─▶ its post-data: index builds, then its constraints
//   (big tables: one task per index so they build side by side, then attach;
//   small tables: all of it in one transaction, batched with the source's
//   other small tables that are ready)
//   both tables of a foreign key complete ─▶ the foreign key (ready ones batched)
//   everything complete ─▶ finish
//
// Which task: a worker stays on the source its connections are open on
// (switching costs a reconnect and a snapshot import), unless a much bigger
// load waits elsewhere; a worker with nothing left there goes to a source no
// other worker is on (so J workers run J sources' pipelines from the first
// second), and only then helps another worker's source. Within a source:
// a big table's post-data first (the table just landed and is in cache; it
// unlocks foreign keys and finish), then loads largest first, then small
// tables' post-data (batched), except that a source's last small loads go
// before everything (once read, its snapshot is released), and that while
// no other worker reads from a source whose loads wait, a worker reads
// rather than build a big table's indexes (the source's link stays busy).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace pghaul::engine {

using source_id = std::size_t;

// What the graph needs to know of a prepared source (indexes into the
// source's own catalog and schema plan; the graph never looks inside them).
struct source_plan {
    struct table {
        std::int64_t bytes = 0;
        std::size_t parts = 0;             // 0: loaded as one unit; else that many page ranges
        bool loaded_earlier = false;       // --resume: its rows stand, only post-data may be left
        std::vector<std::size_t> indexes;  // index builds still to run (positions in the schema plan)
        bool has_after = false;            // constraints that need the indexes
        bool attached_earlier = false;     // --resume: its constraints (and ANALYZE) are done
    };
    struct foreign_key {
        std::size_t id = 0;                     // position in the schema plan
        std::size_t table = 0, referenced = 0;  // positions in `tables`
    };
    std::vector<table> tables;
    std::vector<foreign_key> foreign_keys;  // those still to add
    bool analyze = true;                    // ANALYZE a big table once its constraints are on
};

struct graph_options {
    // Tables up to this size get their post-data in one transaction, batched
    // with their source's other small tables: each separate commit costs a
    // WAL flush on the target.
    std::int64_t small_table_bytes = 8LL << 20;
    // Small tables up to this size are analyzed in finish's single statement,
    // where a round trip each would cost more than the ANALYZE. Bigger ones
    // are analyzed in their post-data step, on whichever worker runs it: twelve
    // 4.5 MB tables of long text and jsonb took 560 ms to analyze at finish, on
    // one connection while the other worker waited.
    std::int64_t analyze_together_bytes = 1LL << 20;
    // A source whose queued loads add up to at most this is in its tail: its
    // loads go first, so its snapshot and locks are released early.
    std::int64_t tail_bytes = 64LL << 20;
    // A worker leaves its source for a load elsewhere only if that load is at
    // least this big and much bigger than the best it has at home.
    std::int64_t switch_bytes = 64LL << 20;
    std::size_t max_batch_tables = 100;  // small tables' post-data per transaction
};

// One unit of work. Steps that name several tables or foreign keys run them
// in one transaction on one connection.
struct prepare_step {};
struct load_step {
    std::size_t table = 0;
    std::optional<std::size_t> part;  // a split table's page range
};
struct landed_step {  // every part of a split table loaded: its count is checked
    std::size_t table = 0;
};
struct index_step {  // one index build of a big table
    std::size_t table = 0;
    std::size_t index = 0;
};
struct attach_step {  // a big table's constraints, then its ANALYZE
    std::size_t table = 0;
};
struct table_post_step {  // small tables: every index build and constraint, one transaction
    std::vector<std::size_t> tables;
    std::vector<std::size_t> analyze;  // those of them whose ANALYZE runs here, after that commit
};
struct foreign_key_step {
    std::vector<std::size_t> foreign_keys;  // ids from source_plan::foreign_key
    bool small = false;                     // between small tables: batched with others ready
};
struct finish_step {};
using step = std::variant<prepare_step, load_step, landed_step, index_step, attach_step, table_post_step,
                          foreign_key_step, finish_step>;

struct task {
    source_id source = 0;
    step what;
    int attempt = 0;         // > 0: a retry, whose earlier try may have committed
    std::int64_t bytes = 0;  // loads: the unit's share of its table (largest first)
    std::size_t worker = 0;  // who runs it (set by take)
    // When it first failed (set by the pool, carried along by retry()).
    std::chrono::steady_clock::time_point first_failure{};
};

// The name of a step's kind, as the report's timeline shows it.
std::string step_name(const step& s);

class task_graph {
public:
    explicit task_graph(graph_options opt = {}) : opt_(opt) {}

    // A source to copy; its prepare is queued. `reader_cap`: at most this many
    // reader connections to it at once (0: no cap of its own). `bytes`: its
    // tables' size in all, so the biggest sources are prepared first (a big
    // database listed after forty small ones would otherwise start last and
    // be the night's tail).
    source_id add_source(int reader_cap, std::int64_t bytes = 0);
    // Its prepare ran: its tables, post-data and foreign keys join the graph.
    void prepared(source_id s, source_plan plan);

    // Where a worker's connections are open: the graph prefers tasks there.
    struct worker_view {
        std::optional<source_id> target;  // the source whose new database its target connection is on
        std::optional<source_id> reader;  // the source its reader connection is on
    };
    // The task `worker` should run now, or nullopt when none can run now
    // (see drained()). The task is running until completed(), retry() or
    // fail_source(). Records the view, so other workers know who is where.
    std::optional<task> take(std::size_t worker, const worker_view& view);
    void completed(const task& t);
    // A retryable failure: queued again with attempt + 1. False when its
    // source failed meanwhile (nothing to redo).
    bool retry(const task& t);
    // A failed source: its queued tasks go; running ones end by failing.
    void fail_source(source_id s);
    // A running task ended without effect (its source failed, or the run stops).
    void abandon(const task& t);

    // Reader connections the pool holds, for the per-source cap.
    void reader_opened(source_id s) { ++sources_.at(s).readers; }
    void reader_closed(source_id s) { --sources_.at(s).readers; }
    // A worker holds no connections any more (it left or ended).
    void worker_left(std::size_t worker) { where_.erase(worker); }

    bool drained() const { return queue_.empty() && running_ == 0; }
    bool failed(source_id s) const { return sources_.at(s).failed; }
    bool done(source_id s) const { return sources_.at(s).done; }
    int running(source_id s) const { return sources_.at(s).running; }
    std::size_t queued() const { return queue_.size(); }
    // Small tables whose ANALYZE waits for finish's one statement.
    const std::vector<std::size_t>& deferred_analyze(source_id s) const {
        return sources_.at(s).analyze_later;
    }

private:
    struct source_state {
        int reader_cap = 0;
        int readers = 0;
        int running = 0;
        int loading = 0;  // its loads running
        bool prepared = false, failed = false, done = false;
        source_plan plan;
        std::int64_t queued_load_bytes = 0;
        std::size_t outstanding = 0;  // tables not complete + foreign keys not added
        std::map<std::size_t, std::size_t> parts_left, indexes_left;
        std::set<std::size_t> complete;  // tables loaded, indexed, constrained
        std::vector<source_plan::foreign_key> fks_waiting;
        std::vector<std::size_t> analyze_later;
        bool small_fks_running = false;  // one batch at a time: two would lock each other's tables
    };

    bool runnable(const task& t, const worker_view& v) const;
    int rank(const task& t) const;
    bool better(const task& a, const task& b) const;
    task pop(std::size_t i);
    void coalesce(task& t, int sharing);
    void queue(source_id s, step what, std::int64_t bytes = 0);
    void queue_post_data(source_id s, std::size_t table);
    void indexed(source_id s, std::size_t table);
    void table_complete(source_id s, std::size_t table);
    void unit_complete(source_id s);
    bool small(source_id s, std::size_t table) const;
    int workers_on(source_id s, std::size_t except) const;
    int sharers_on(source_id s, std::size_t except) const;
    void ended(const task& t);

    graph_options opt_;
    std::vector<source_state> sources_;
    std::deque<task> queue_;
    int running_ = 0;
    std::map<std::size_t, source_id> where_;  // worker -> source its target connection is on
    std::set<std::size_t> posting_;           // workers running a small tables' post-data batch
};

}  // namespace pghaul::engine
