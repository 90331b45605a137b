// The worker pool. Each worker holds at most one target connection and one
// source reader at a time, so open connections stay within the budgets.
#include "engine/copy/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "engine/common/interrupt.hpp"
#include "engine/copy/schema_plan.hpp"

namespace pghaul::engine {
namespace {

struct task {
    // In order of preference: a landed table's indexes (they may build side by
    // side), the steps that need all of them, finishing and preparing sources,
    // then tables largest first.
    enum class kind { index, attach, foreign_key, finish, prepare, data } k;
    source_job* job;
    const table_info* table = nullptr;
    const dump_entry* entry = nullptr;             // index: the one to build
    const table_info::page_range* part = nullptr;  // data: a split table's part
    int attempt = 0;
    const schema_plan::foreign_key* fk = nullptr;  // foreign_key: the one to add
    std::int64_t bytes() const {                   // largest first: a part counts its share
        return part ? table->bytes / static_cast<std::int64_t>(table->parts.size()) : table->bytes;
    }
};

// Per-source progress the queue needs.
struct source_track {
    int cap = 0;                  // reader connections allowed (0: unlimited)
    int readers = 0;              // reader connections open
    int running = 0;              // tasks of this source running now
    std::size_t outstanding = 0;  // tables not yet loaded and indexed
    std::map<const table_info*, std::size_t> indexes_left;
    std::map<const table_info*, std::size_t> parts_left;
    std::int64_t queued_bytes = 0;                             // data tasks of this source still in the queue
    std::set<std::uint32_t> done_tables;                       // loaded, indexed, constrained
    std::vector<const schema_plan::foreign_key*> fks_waiting;  // for one of their tables
    bool failed = false;
};

struct worker {
    std::optional<pg::connection> target;
    std::string target_db;
    std::optional<pg::connection> reader;
    source_job* reader_job = nullptr;
    source_job* current = nullptr;  // the job of the task running now
    int id = 0;
};

// The timeline bar for a task.
timeline_entry describe(const task& t, int worker) {
    timeline_entry e;
    e.worker = worker;
    switch (t.k) {
        case task::kind::prepare:
            e.phase = "schema";
            break;
        case task::kind::finish:
            e.phase = "finish";
            break;
        case task::kind::data:
            e.phase = t.part ? "part" : "copy";
            e.object = t.table->display();
            if (t.part)
                e.object += " pages " + std::to_string(t.part->first) + "-" +
                            (t.part->end < 0 ? std::string("end") : std::to_string(t.part->end));
            break;
        case task::kind::index:
            e.phase = "index";
            e.object = t.entry->schema + "." + t.entry->name;
            break;
        case task::kind::attach:
            e.phase = "constraints";
            e.object = t.table->display();
            break;
        case task::kind::foreign_key:
            e.phase = "foreign key";
            e.object = t.fk->add.schema + "." + t.fk->add.name;
            break;
    }
    return e;
}

class pool {
public:
    pool(std::vector<source_job*> jobs, int workers, bool log_failures, const event_sink& events)
        : workers_(static_cast<std::size_t>(workers)), log_failures_(log_failures), events_(events) {
        for (auto* j : jobs) {
            track_[j].cap = j->config().jobs;
            queue_.push_back({task::kind::prepare, j});
        }
    }

    void run() {
        std::jthread watcher([this](std::stop_token st) { watch_interrupts(st); });
        std::vector<std::jthread> threads;
        int id = 0;
        for (auto& w : workers_) {
            w.id = ++id;
            threads.emplace_back([this, &w] { work(w); });
        }
        threads.clear();  // joins the workers; the watcher stops with its destructor
    }

private:
    // The best runnable task for this worker, or nullopt when all is done.
    std::optional<task> next(worker& w) {
        std::unique_lock lk(m_);
        for (;;) {
            if (auto t = pick(w)) {
                ++track_[t->job].running;
                w.current = t->job;
                return t;
            }
            if (queue_.empty() && running_total() == 0) return std::nullopt;
            // Waiting: give the reader back so another worker may use the slot.
            drop_reader(w);
            cv_.wait(lk);
        }
    }

    int running_total() {
        int n = 0;
        for (auto& [j, t] : track_) n += t.running;
        return n;
    }

    // A source whose queued tables add up to little is in its tail: those go
    // before other sources' big tables, so the source finishes (and releases
    // its snapshot and locks) as soon as its big tables are done instead of
    // at the end of the whole run. Largest first otherwise.
    static constexpr std::int64_t tail_bytes = 64LL << 20;

    int rank(const task& t) {
        int k = static_cast<int>(t.k);
        if (t.k != task::kind::data) return 2 * k;
        // The tail's reads go even before index builds: a few small copies
        // delay them little, and once they are read the source's snapshot is
        // released (bench/spill.sh: otherwise, with --jobs 2, the last small
        // tables were read only after the big ones were loaded and indexed).
        return track_[t.job].queued_bytes <= tail_bytes ? -1 : 2 * k;
    }

    std::optional<task> pick(worker& w) {
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            auto& t = queue_[i];
            if (t.k == task::kind::data) {
                auto& tr = track_[t.job];
                bool has_reader = w.reader && w.reader_job == t.job;
                if (tr.cap > 0 && !has_reader && tr.readers >= tr.cap) continue;
            }
            if (!best) {
                best = i;
                continue;
            }
            auto& b = queue_[*best];
            if (rank(t) < rank(b) || (rank(t) == rank(b) && t.k == task::kind::data && t.bytes() > b.bytes()))
                best = i;
        }
        if (!best) return std::nullopt;
        task t = queue_[*best];
        queue_.erase(queue_.begin() + static_cast<long>(*best));
        if (t.k == task::kind::data) track_[t.job].queued_bytes -= t.bytes();
        return t;
    }

    void drop_reader(worker& w) {  // under m_
        if (w.reader_job) --track_[w.reader_job].readers;
        w.reader.reset();
        w.reader_job = nullptr;
    }

    void close_target(worker& w) {
        std::lock_guard lk(m_);  // fail() may be cancelling through it
        w.target.reset();
        w.target_db.clear();
    }

    // A connection refused mid-run is the source's or target's failure, not
    // a preflight one (exit 3 says nothing was written).
    template <typename Open>
    static pg::connection during_run(exit_code side, Open open) {
        try {
            return open();
        } catch (const error& e) {
            if (e.code() != exit_code::preflight) throw;
            throw error(side, e.what(), e.hint(), e.sqlstate());
        }
    }

    // Connections for the task, opened outside the lock.
    pg::connection& target_for(worker& w, source_job& j) {
        if (!w.target || w.target_db != j.target_db()) {
            close_target(w);
            auto c = during_run(exit_code::target, [&] {
                return open_ddl_connection(j.target_conninfo(), j.schema().preamble, "pghaul/worker");
            });
            std::lock_guard lk(m_);
            w.target.emplace(std::move(c));
            w.target_db = j.target_db();
        }
        return *w.target;
    }

    pg::connection& reader_for(worker& w, source_job& j) {
        if (w.reader && w.reader_job == &j) return *w.reader;
        {
            std::lock_guard lk(m_);
            drop_reader(w);
            ++track_[&j].readers;  // counted before it opens, so the cap holds
            w.reader_job = &j;
        }
        auto c = during_run(exit_code::source, [&] {
            return pg::connection::open(j.source_conninfo(), "pghaul/reader", exit_code::source);
        });
        std::lock_guard lk(m_);
        w.reader.emplace(std::move(c));
        return *w.reader;
    }

    void execute(worker& w, const task& t) {
        auto& j = *t.job;
        switch (t.k) {
            case task::kind::prepare: {
                close_target(w);  // prepare opens its own: stay within the budget
                j.prepare();
                std::lock_guard lk(m_);
                auto& tr = track_[&j];
                tr.outstanding = j.catalog().tables.size();
                for (auto& fk : j.schema().foreign_keys)
                    if (!j.step_done(fk)) {
                        tr.fks_waiting.push_back(&fk);
                        ++tr.outstanding;
                    }
                std::size_t units = 0;
                for (auto& table : j.catalog().tables) {
                    if (j.loaded_earlier(table)) {  // --resume: only its post-data may be left
                        queue_post_data(j, table);
                        continue;
                    }
                    units += std::max<std::size_t>(1, table.parts.size());
                    if (table.parts.empty()) queue_.push_back({task::kind::data, &j, &table});
                    for (auto& p : table.parts) queue_.push_back({task::kind::data, &j, &table, nullptr, &p});
                    if (!table.parts.empty()) tr.parts_left[&table] = table.parts.size();
                    tr.queued_bytes += table.bytes;
                }
                j.expect_reads(units);
                // (With tables, the last table_done or unit_done queues it.)
                if (j.catalog().tables.empty()) queue_.push_back({task::kind::finish, &j});
                break;
            }
            case task::kind::data: {
                auto& reader = reader_for(w, j);
                // Each unit reads in a transaction of its own, ended as soon
                // as its read is (so the snapshot is not pinned by idle readers).
                j.begin_read(reader, *t.table);
                auto& writer = target_for(w, j);
                j.copy(reader, writer, *t.table, t.part, t.attempt);
                bool last_part = false;
                if (t.part) {
                    std::lock_guard lk(m_);
                    last_part = --track_[&j].parts_left[t.table] == 0;
                    if (!last_part) break;
                }
                if (last_part) j.verify_split(writer, *t.table);
                std::lock_guard lk(m_);
                queue_post_data(j, *t.table);
                break;
            }
            case task::kind::index: {
                j.build_index(target_for(w, j), *t.entry, t.attempt > 0);
                std::lock_guard lk(m_);
                if (--track_[&j].indexes_left[t.table] == 0) after_indexes(j, *t.table);
                break;
            }
            case task::kind::attach: {
                j.attach(target_for(w, j), *t.table, t.attempt > 0);
                std::lock_guard lk(m_);
                table_done(j, *t.table);
                break;
            }
            case task::kind::foreign_key: {
                j.add_foreign_key(target_for(w, j), *t.fk, t.attempt > 0);
                std::lock_guard lk(m_);
                unit_done(j);
                break;
            }
            case task::kind::finish:
                close_target(w);
                j.finish(w.id);
                break;
        }
    }

    void queue_post_data(source_job& j, const table_info& t) {  // under m_
        std::size_t left = 0;
        if (auto it = j.schema().per_table.find(t.oid); it != j.schema().per_table.end())
            for (auto& e : it->second.indexes)
                if (!j.step_done(e)) {
                    queue_.push_back({task::kind::index, &j, &t, &e});
                    ++left;
                }
        if (left == 0) return after_indexes(j, t);
        track_[&j].indexes_left[&t] = left;
    }

    // Constraints that need the table's indexes, then ANALYZE: one task.
    void after_indexes(source_job& j, const table_info& t) {  // under m_
        auto it = j.schema().per_table.find(t.oid);
        bool has_after = it != j.schema().per_table.end() && !it->second.after.empty();
        if ((!has_after && !j.analyzes()) || j.attached_earlier(t)) return table_done(j, t);
        queue_.push_back({task::kind::attach, &j, &t});
    }

    // A table is complete: the foreign keys waiting for it and a table it
    // references (or itself) can go.
    void table_done(source_job& j, const table_info& t) {  // under m_
        auto& tr = track_[&j];
        tr.done_tables.insert(t.oid);
        std::erase_if(tr.fks_waiting, [&](const schema_plan::foreign_key* fk) {
            if (!tr.done_tables.contains(fk->table) || !tr.done_tables.contains(fk->referenced)) return false;
            task add{task::kind::foreign_key, &j};
            add.fk = fk;
            queue_.push_back(add);
            return true;
        });
        unit_done(j);
    }

    void unit_done(source_job& j) {  // under m_
        if (--track_[&j].outstanding == 0) queue_.push_back({task::kind::finish, &j});
    }

    // Connection losses (class 08, server shutdown or termination), deadlocks
    // and serialization failures are retried for units that are atomic on the
    // target: a table or part (rolled back whole), an index build and a
    // table's constraint transaction (a retry finds them if the lost
    // connection's commit went through). A reader
    // reconnects into the same snapshot while its holder lives; if the holder
    // is gone, importing the snapshot fails for good and the source fails.
    static constexpr int max_attempts = 4;

    static bool retryable(const error& e, const task& t) {
        if (t.k == task::kind::prepare || t.k == task::kind::finish) return false;
        const auto& s = e.sqlstate();
        // transaction_resolution_unknown: a part's commit (table_copy.cpp), or a
        // unit whose snapshot is gone (source_job::begin_read): left to --resume.
        if (s == "08007") return false;
        return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03" || s == "40001" ||
               s == "40P01" || s == "53300";
    }

    // Puts the task back after a backoff; false when it should fail instead.
    bool retry(const task& t, const error& e) {
        if (!retryable(e, t) || t.attempt + 1 >= max_attempts || interrupt_signal() != 0) return false;
        auto delay = std::chrono::seconds(1 << t.attempt);
        spdlog::warn("[{}] {} (attempt {} of {}); retrying in {} s", t.job->name(), e.what(), t.attempt + 1,
                     max_attempts, delay.count());
        for (auto until = std::chrono::steady_clock::now() + delay;
             std::chrono::steady_clock::now() < until && interrupt_signal() == 0;)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::lock_guard lk(m_);
        if (track_[t.job].failed) return true;  // its source failed meanwhile: nothing to redo
        task again = t;
        ++again.attempt;
        queue_.push_back(again);
        if (again.k == task::kind::data) track_[t.job].queued_bytes += again.bytes();
        return true;
    }

    void work(worker& w) {
        while (auto t = next(w)) {
            std::optional<error> failure;
            auto bar = describe(*t, w.id);
            bar.start = std::chrono::steady_clock::now();
            if (events_)
                events_({{"event", "task_started"},
                         {"source", t->job->name()},
                         {"phase", bar.phase},
                         {"object", bar.object},
                         {"worker", w.id}});
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
                         {"source", t->job->name()},
                         {"phase", bar.phase},
                         {"object", bar.object},
                         {"worker", w.id},
                         {"ok", bar.ok},
                         {"seconds", std::chrono::duration<double>(bar.end - bar.start).count()}});
            {
                std::lock_guard lk(t->job->mu());
                t->job->timeline.push_back(std::move(bar));
            }
            if (failure) {
                // This worker's connections may be mid-statement or in an aborted transaction.
                close_target(w);
                {
                    std::lock_guard lk(m_);
                    drop_reader(w);
                }
                if (!retry(*t, *failure)) fail(*t->job, *failure);
            }
            finish_task(w, *t->job);
        }
        close_target(w);
        std::lock_guard lk(m_);
        drop_reader(w);
    }

    // Stops everything on SIGINT/SIGTERM: each source fails as interrupted
    // (so its new database is dropped), running statements are cancelled.
    void watch_interrupts(std::stop_token stop) {
        while (!stop.stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            int sig = interrupt_signal();
            if (sig == 0) continue;
            error interrupted(static_cast<exit_code>(128 + sig),
                              std::string("interrupted by ") + (sig == 2    ? "SIGINT"
                                                                : sig == 15 ? "SIGTERM"
                                                                            : "a signal"),
                              "run the same command with --resume to continue (or --restart to start over)");
            std::vector<source_job*> jobs;
            {
                std::lock_guard lk(m_);
                for (auto& [j, tr] : track_)
                    if (!tr.failed) jobs.push_back(j);
            }
            // Sources already done stay done: their databases are complete.
            std::erase_if(jobs, [](source_job* j) {
                std::lock_guard lk(j->mu());
                return j->status == source_status::done;
            });
            for (auto* j : jobs) fail(*j, interrupted);
            return;
        }
    }

    void fail(source_job& j, const error& e) {
        // After an interrupt the cancelled statements' errors are its echo, not news.
        if (log_failures_ && interrupt_signal() == 0)
            spdlog::error("[{}] {}{}", j.name(), e.what(), e.hint().empty() ? "" : "\nHINT: " + e.hint());
        j.fail(e);
        std::lock_guard lk(m_);
        auto& tr = track_[&j];
        if (tr.failed) return;
        tr.failed = true;
        // Its queued steps go; its running ones are cancelled.
        std::erase_if(queue_, [&](const task& t) { return t.job == &j; });
        for (auto& w : workers_) {
            if (w.current != &j) continue;
            if (w.reader) w.reader->request_cancel();
            if (w.target) w.target->request_cancel();
        }
        j.cancel_running();  // prepare/finish run on the job's own connection
    }

    void finish_task(worker& w, source_job& j) {
        bool clean = false;
        {
            std::lock_guard lk(m_);
            w.current = nullptr;
            auto& tr = track_[&j];
            --tr.running;
            if (w.reader_job == &j && tr.failed) drop_reader(w);
            clean = tr.failed && tr.running == 0 && !std::exchange(cleaned_[&j], true);
            cv_.notify_all();
        }
        if (clean) j.clean_up();
    }

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<task> queue_;
    std::map<source_job*, source_track> track_;
    std::map<source_job*, bool> cleaned_;
    std::vector<worker> workers_;
    bool log_failures_;
    const event_sink& events_;
};

}  // namespace

void run_scheduler(std::vector<source_job*> jobs, int workers, bool log_failures, const event_sink& events) {
    if (jobs.empty()) return;
    pool p(std::move(jobs), std::max(1, workers), log_failures, events);
    p.run();
}

}  // namespace pghaul::engine
