// The worker pool: threads, their connections, retry with backoff, failure
// and interruption. What runs next is the task graph's decision.
#include "engine/copy/worker_pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/common/fault.hpp"
#include "engine/common/interrupt.hpp"
#include "engine/copy/task_graph.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {
namespace {

struct worker {
    std::size_t id = 0;
    std::optional<pg::connection> target;  // open on target_source's new database
    source_id target_source = 0;
    std::optional<pg::connection> reader;  // open on reader_source
    pg::connection* lent = nullptr;        // or reader_source's snapshot session, lent
    source_id reader_source = 0;
    pg::connection* reading() { return lent ? lent : reader ? &*reader : nullptr; }
    std::optional<source_id> current;  // the source of the task running now
};

// Connection losses (class 08, server shutdown or termination), deadlocks
// and serialization failures are retried for units that are atomic on the
// target: a table or part (rolled back whole), an index build and a
// table's constraint transaction (a retry finds them if the lost
// connection's commit went through). A reader reconnects into the same
// snapshot while its holder lives; if the holder is gone, importing the
// snapshot fails for good and the source fails. Retries go on, backing off
// up to max_backoff, until the run's retry window has passed since the
// unit first failed: a managed server's failover or reboot takes minutes.
constexpr std::chrono::seconds max_backoff{30};

// Tables read on the source's snapshot session (lent, see
// source_job::lend_snapshot_session) are the small ones: a read lost on
// it loses the snapshot (the source waits for --resume) where a reader of
// its own is simply retried, and a long COPY is what a watchdog that ends
// long queries ends. A small source saves a connection; a big table's few
// seconds of connection set-up are nothing beside its read.
constexpr std::int64_t lend_below_bytes = 64LL << 20;

// Data damaged in pghaul's hands (redo_once) is read again once, and only
// while the source's snapshot is held: a second failure says the disk is bad.
bool retryable(const error& e, const task& t, const source_job& job) {
    // prepare is not atomic (a database, then its schema): --resume redoes it.
    if (std::holds_alternative<prepare_step>(t.what)) return false;
    if (e.disposition() == disposition::redo_once) return t.attempt == 0 && job.can_read_again();
    return sqlstate::retry_now(e);
}

// A connection refused mid-run is the source's or target's failure, not
// a preflight one (exit 3 says nothing was written).
template <typename Open>
pg::connection during_run(exit_code side, Open open) {
    try {
        return open();
    } catch (const error& e) {
        if (e.code() != exit_code::preflight) throw;
        throw error(side, e.what(), e.hint(), e.sqlstate(), e.disposition());
    }
}

class pool {
public:
    pool(std::vector<source_job*> jobs, int workers, std::chrono::seconds retry_window, bool log_failures,
         const event_sink& events)
        : jobs_(std::move(jobs)),
          workers_(static_cast<std::size_t>(workers)),
          active_workers_(workers),
          retry_window_(retry_window),
          log_failures_(log_failures),
          events_(events) {
        for (auto* j : jobs_) graph_.add_source(j->config().jobs, j->catalog().data_bytes());
        cleaned_.assign(jobs_.size(), 0);
    }

    pool_stats run() {
        std::jthread watcher([this](std::stop_token st) { watch_interrupts(st); });
        std::vector<std::jthread> threads;
        std::size_t id = 0;
        for (auto& w : workers_) {
            w.id = ++id;
            threads.emplace_back([this, &w] { work(w); });
        }
        threads.clear();  // joins the workers; the watcher stops with its destructor
        return stats_;
    }

private:
    task_graph::worker_view view_of(const worker& w) const {
        task_graph::worker_view v;
        if (w.target) v.target = w.target_source;
        if (w.lent || w.reader) v.reader = w.reader_source;
        return v;
    }

    // The next task for this worker, or nullopt when the graph is drained.
    std::optional<task> next(worker& w) {
        std::unique_lock lk(m_);
        for (;;) {
            auto view = view_of(w);
            if (auto t = graph_.take(w.id, view)) {
                if (view.target && *view.target != t->source) ++stats_.switches;
                w.current = t->source;
                return t;
            }
            if (graph_.drained()) return std::nullopt;
            // Waiting: a reader counted against its source's cap goes back,
            // so another worker may use the slot.
            if (w.reading() && jobs_[w.reader_source]->config().jobs > 0) drop_reader(w);
            cv_.wait(lk);
        }
    }

    void drop_reader(worker& w) {  // under m_
        if (!w.reading()) return;
        graph_.reader_closed(w.reader_source);
        if (w.lent) jobs_[w.reader_source]->return_snapshot_session();
        w.lent = nullptr;
        w.reader.reset();
    }

    void close_target(worker& w) {
        std::lock_guard lk(m_);  // fail() may be cancelling through it
        w.target.reset();
    }

    // fail() cancels the statements running on the workers' connections. A
    // connection still opening then (tens of ms, a new backend) or a statement
    // not yet sent would escape it, and a long COPY or index build on it would
    // run to its end after a Ctrl-C: a step about to start checks first.
    void stop_if_failed(source_id s) {
        std::lock_guard lk(m_);
        if (graph_.failed(s))
            throw error(exit_code::internal, "stopped: source \"" + jobs_[s]->name() + "\" has failed");
    }

    // The worker's target connection, on source s's new database: kept from
    // its last task when it is there already.
    pg::connection& target_for(worker& w, source_id s) {
        {
            std::lock_guard lk(m_);
            if (w.target && w.target_source == s) return *w.target;
            w.target.reset();
            ++stats_.target_opened;
        }
        auto& j = *jobs_[s];
        auto c = during_run(exit_code::target, [&] {
            return open_ddl_connection(j.target_conninfo(), j.schema().preamble, "pghaul/worker");
        });
        j.check_target(c);  // reconnecting by name must not land in someone else's database
        j.end_orphans(c);
        std::lock_guard lk(m_);
        w.target.emplace(std::move(c));
        w.target_source = s;
        return *w.target;
    }

    pg::connection& reader_for(worker& w, source_id s, std::int64_t unit_bytes) {
        const bool small = unit_bytes < lend_below_bytes;
        {
            std::unique_lock lk(m_);
            if (w.reading() && w.reader_source == s && (small || !w.lent)) return *w.reading();
            drop_reader(w);
            graph_.reader_opened(s);  // counted before it opens, so the cap holds
            // Its snapshot session, if no other worker has it: nothing to open.
            if (auto* lent = small ? jobs_[s]->lend_snapshot_session() : nullptr) {
                w.lent = lent;
                w.reader_source = s;
                ++stats_.snapshot_sessions_lent;
                lk.unlock();
                fault_point("reader-opened");
                return *lent;
            }
            ++stats_.reader_opened;
        }
        pg::connection c = [&] {
            try {
                return during_run(exit_code::source, [&] {
                    auto c =
                        pg::connection::open(jobs_[s]->source_conninfo(), "pghaul/reader", exit_code::source);
                    fault_point("reader-opened");
                    return c;
                });
            } catch (...) {
                std::lock_guard lk(m_);
                graph_.reader_closed(s);
                throw;
            }
        }();
        std::lock_guard lk(m_);
        w.reader.emplace(std::move(c));
        w.reader_source = s;
        return *w.reader;
    }

    void execute(worker& w, const task& t) {
        const source_id s = t.source;
        auto& j = *jobs_[s];
        const bool redo = t.attempt > 0;
        std::visit(
            [&](const auto& step) {
                using step_type = std::decay_t<decltype(step)>;
                if constexpr (std::is_same_v<step_type, prepare_step>) {
                    close_target(w);  // prepare opens its own: stay within the budget
                    auto ddl = j.prepare();
                    auto plan = j.plan();
                    std::size_t units = 0;
                    for (auto& table : plan.tables)
                        if (!table.loaded_earlier) units += std::max<std::size_t>(1, table.parts);
                    j.expect_reads(units);
                    std::lock_guard lk(m_);
                    ++stats_
                          .target_opened;  // the new database's (CREATE DATABASE ran on the run's shared one)
                    w.target.emplace(std::move(ddl));
                    w.target_source = s;
                    graph_.prepared(s, std::move(plan));
                } else if constexpr (std::is_same_v<step_type, load_step>) {
                    auto& reader = reader_for(w, s, j.catalog().tables.at(step.table).bytes);
                    // Each unit reads in a transaction of its own, ended as soon
                    // as its read is (so the snapshot is not pinned by idle readers).
                    j.begin_read(reader, step.table);
                    auto& target = target_for(w, s);
                    stop_if_failed(s);
                    j.copy(reader, target, step.table, step.part, t.attempt);
                } else if constexpr (std::is_same_v<step_type, landed_step>) {
                    j.verify_split(target_for(w, s), step.table);
                } else if constexpr (std::is_same_v<step_type, index_step>) {
                    auto& target = target_for(w, s);
                    stop_if_failed(s);
                    j.build_index(target, step.table, step.index, redo);
                } else if constexpr (std::is_same_v<step_type, attach_step>) {
                    j.attach(target_for(w, s), step.table, redo);
                } else if constexpr (std::is_same_v<step_type, table_post_step>) {
                    j.post_small(target_for(w, s), step.tables, step.analyze, redo);
                } else if constexpr (std::is_same_v<step_type, foreign_key_step>) {
                    j.add_foreign_keys(target_for(w, s), step.foreign_keys, redo);
                } else if constexpr (std::is_same_v<step_type, finish_step>) {
                    std::vector<std::size_t> analyze;
                    {
                        std::lock_guard lk(m_);
                        analyze = graph_.deferred_analyze(s);
                    }
                    j.finish(target_for(w, s), static_cast<int>(w.id), analyze, redo);
                }
            },
            t.what);
    }

    void work(worker& w) {
        while (auto t = next(w)) {
            auto& j = *jobs_[t->source];
            timeline_entry bar{step_name(t->what),
                               j.object_of(t->what),
                               static_cast<int>(w.id),
                               std::chrono::steady_clock::now(),
                               {},
                               true};
            if (events_)
                events_({{"event", "task_started"},
                         {"source", j.name()},
                         {"phase", bar.phase},
                         {"object", bar.object},
                         {"worker", w.id}});
            std::optional<error> failure;
            try {
                execute(w, *t);
            } catch (const error& e) {
                failure = e;
            } catch (const std::exception& e) {
                failure = error(exit_code::internal, e.what());
            }
            bar.end = std::chrono::steady_clock::now();
            bar.ok = !failure;
            if (events_)
                events_({{"event", "task_finished"},
                         {"source", j.name()},
                         {"phase", bar.phase},
                         {"object", bar.object},
                         {"worker", w.id},
                         {"ok", bar.ok},
                         {"seconds", std::chrono::duration<double>(bar.end - bar.start).count()}});
            j.outcome().add_bar(std::move(bar));
            if (!failure)
                ended(w, *t, [&] { graph_.completed(*t); });
            else if (!failed(w, *t, *failure))
                break;
        }
        std::lock_guard lk(m_);
        w.target.reset();
        drop_reader(w);
        graph_.worker_left(w.id);
    }

    // A failed task: retried, or its source failed. False: this worker stops.
    bool failed(worker& w, const task& t, const error& e) {
        // This worker's connections may be mid-statement or in an aborted transaction.
        {
            std::lock_guard lk(m_);
            // libpq may not know yet that the connection is dead (a write
            // that timed out): its server process is ended on the next
            // connection either way, harmlessly if it already went.
            if (w.target) jobs_[w.target_source]->lost_target_backend(w.target->backend_pid());
            w.target.reset();
            drop_reader(w);
        }
        const auto now = std::chrono::steady_clock::now();
        task again = t;
        if (again.attempt == 0) again.first_failure = now;
        if (sqlstate::classify(e.sqlstate()) == sqlstate::family::too_many_connections && park(w)) {
            // The server has no slot for this worker: fewer workers, not a failure.
            spdlog::warn("[{}] {}: the target refuses more connections; going on with {} worker(s)",
                         jobs_[t.source]->name(), e.what(), active_workers_);
            ended(w, again, [&] { graph_.retry(again); });
            return false;
        }
        const auto stop = run_stop_token();
        if (retryable(e, t, *jobs_[t.source]) && now - again.first_failure < retry_window_ &&
            !stop.stop_requested()) {
            const auto delay = std::min<std::chrono::seconds>(
                std::chrono::seconds(1LL << std::min(t.attempt, 5)), max_backoff);
            spdlog::warn("[{}] {} (attempt {}); retrying in {} s, for up to {} s after the first failure",
                         jobs_[t.source]->name(), e.what(), t.attempt + 1, delay.count(),
                         retry_window_.count());
            pause_until(now + delay, stop);
            // Its source failed meanwhile (or the run was interrupted): nothing to redo.
            ended(w, again, [&] { graph_.retry(again); });
            return true;
        }
        if (retryable(e, t, *jobs_[t.source]) && !stop.stop_requested()) {
            // The window ran out: say so, and what gets past it.
            fail(t.source, error(e.code(),
                                 std::string(e.what()) + " (still failing " +
                                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                        now - again.first_failure)
                                                        .count()) +
                                     " s after the first failure: --retry-window " +
                                     std::to_string(retry_window_.count()) + " s)",
                                 "run the same command with --resume once the server is reachable again, or "
                                 "allow a longer "
                                 "--retry-window",
                                 e.sqlstate(), e.disposition()));
        } else {
            fail(t.source, e);
        }
        ended(w, t, [&] { graph_.abandon(t); });
        return true;
    }

    // This worker stops for good, unless it is the last one.
    bool park(worker& w) {
        std::lock_guard lk(m_);
        if (active_workers_ <= 1) return false;
        --active_workers_;
        w.target.reset();
        drop_reader(w);
        return true;
    }

    // The task is over: the graph hears how (under the lock), and the last
    // task of a failed source to end cleans up after it.
    template <typename Report>
    void ended(worker& w, const task& t, Report report) {
        bool clean = false;
        {
            std::lock_guard lk(m_);
            report();
            w.current.reset();
            if (graph_.failed(t.source)) {
                if (w.reading() && w.reader_source == t.source) drop_reader(w);
                clean = graph_.running(t.source) == 0 && !std::exchange(cleaned_[t.source], 1);
            }
            cv_.notify_all();
        }
        if (clean) jobs_[t.source]->clean_up();
    }

    // Stops everything on SIGINT/SIGTERM: each source fails as interrupted
    // (so its new database is dropped), running statements are cancelled.
    // Waits for the run's stop request, or for `done` (the pool's end).
    void watch_interrupts(std::stop_token done) {
        const auto run = run_stop_token();
        std::mutex m;
        std::condition_variable_any woken;
        std::stop_callback wake(run, [&] {
            std::lock_guard lk(m);
            woken.notify_all();
        });
        {
            std::unique_lock lk(m);
            if (!woken.wait(lk, done, [&] { return run.stop_requested(); })) return;
        }
        const int sig = interrupt_signal();
        error interrupted(static_cast<exit_code>(128 + sig), interrupted_by(),
                          "run the same command with --resume to continue (or --restart to start over)");
        for (source_id s = 0; s < jobs_.size(); ++s) {
            {
                std::lock_guard lk(m_);
                if (graph_.failed(s) || graph_.done(s)) continue;
            }
            // Done sources stay done: their databases are complete.
            if (jobs_[s]->status() == source_status::done) continue;
            fail(s, interrupted);
            // A source with nothing running has nobody to clean up after it.
            bool clean = false;
            {
                std::lock_guard lk(m_);
                clean = graph_.running(s) == 0 && !std::exchange(cleaned_[s], 1);
                cv_.notify_all();
            }
            if (clean) jobs_[s]->clean_up();
        }
    }

    void fail(source_id s, const error& e) {
        auto& j = *jobs_[s];
        std::lock_guard lk(m_);
        // A failed source's cancelled statements echo its failure: not news.
        if (graph_.failed(s)) return;
        // After an interrupt the cancelled statements' errors are its echo, too.
        if (log_failures_ && !run_stop_token().stop_requested())
            spdlog::error("[{}] {}{}", j.name(), e.what(), e.hint().empty() ? "" : "\nHINT: " + e.hint());
        j.fail(e);
        graph_.fail_source(s);
        // Its queued steps went with it; its running ones are cancelled.
        for (auto& w : workers_) {
            if (w.current != s) continue;
            if (auto* r = w.reading()) r->request_cancel();
            if (w.target) w.target->request_cancel();
        }
        j.cancel_running();  // prepare runs on the job's own connections
    }

    std::vector<source_job*> jobs_;  // by source_id
    std::mutex m_;
    std::condition_variable cv_;
    task_graph graph_;
    std::vector<worker> workers_;
    std::vector<char> cleaned_;  // per source: clean_up() ran
    int active_workers_;         // workers not parked (guarded by m_)
    std::chrono::seconds retry_window_;
    pool_stats stats_;
    bool log_failures_;
    const event_sink& events_;
};

}  // namespace

pool_stats run_pool(std::vector<source_job*> jobs, int workers, std::chrono::seconds retry_window,
                    bool log_failures, const event_sink& events) {
    if (jobs.empty()) return {};
    pool p(std::move(jobs), std::max(1, workers), retry_window, log_failures, events);
    return p.run();
}

}  // namespace pghaul::engine
