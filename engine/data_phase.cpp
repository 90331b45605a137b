// Worker pool for the data phase. Plain threads and one mutex: the work items
// are few and long (whole tables), so a queue under a lock costs nothing.
#include "engine/data_phase.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/plan.hpp"
#include "engine/snapshot.hpp"
#include "engine/table_copy.hpp"

namespace pghaul::engine {
namespace {

struct task {
    enum class kind { data, index } k;
    const table_info* table;
};

// Each worker's connections, reachable by others so a failure can cancel them.
struct worker_state {
    std::optional<pg::connection> source;
    std::optional<pg::connection> target;
};

class scheduler {
public:
    explicit scheduler(const source_catalog& cat) {
        for (auto& t : cat.tables) data_.push_back(&t);  // already largest first
    }

    std::optional<task> next() {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return failed_ || !index_.empty() || !data_.empty() || running_ == 0; });
        if (failed_) return std::nullopt;
        // Index builds first: they free the table's slot in the pipeline and
        // their table is hot in the target's cache.
        if (!index_.empty()) {
            ++running_;
            auto t = index_.front();
            index_.pop_front();
            return task{task::kind::index, t};
        }
        if (!data_.empty()) {
            ++running_;
            auto t = data_.front();
            data_.pop_front();
            return task{task::kind::data, t};
        }
        return std::nullopt;  // nothing queued and nothing running: done
    }

    void finish(const table_info* landed_with_indexes) {
        std::lock_guard lk(m_);
        if (landed_with_indexes) index_.push_back(landed_with_indexes);
        --running_;
        cv_.notify_all();
    }

    // Records the first failure; returns true for the first caller. Workers
    // fail a task they took; the calling thread fails with no task.
    bool fail(std::exception_ptr e, bool had_task = true) {
        std::lock_guard lk(m_);
        if (had_task) --running_;
        bool first = !failed_;
        if (first) error_ = e;
        failed_ = true;
        cv_.notify_all();
        return first;
    }

    std::exception_ptr error() const { return error_; }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<const table_info*> data_;
    std::deque<const table_info*> index_;
    int running_ = 0;
    bool failed_ = false;
    std::exception_ptr error_;
};

}  // namespace

pg::connection open_ddl_connection(const conninfo& target, const std::string& preamble,
                                   std::string_view role) {
    auto conn = pg::connection::open(target, role, exit_code::target);
    conn.exec(preamble, "applying pg_dump's session settings");
    // Index builds sort in memory up to this much per connection before spilling.
    conn.exec("SET maintenance_work_mem = '256MB'", "setting maintenance_work_mem");
    return conn;
}

void run_entry(pg::connection& conn, const dump_entry& e) {
    std::string name = e.schema == "-" ? e.name : e.schema + "." + e.name;
    spdlog::trace("{} {}: {}", e.type, name, e.sql);
    conn.exec(e.sql, "creating " + e.type + " \"" + name + "\"");
}

data_phase_result run_data_phase(const data_phase_input& in, const source_catalog& cat,
                                 const std::map<std::uint32_t, std::vector<dump_entry>>& per_table,
                                 const std::function<void()>& while_running) {
    scheduler sched(cat);
    std::mutex state_m;  // guards workers' connection slots and the result
    std::vector<worker_state> workers(static_cast<std::size_t>(in.jobs));
    data_phase_result result;

    auto cancel_all = [&] {
        std::lock_guard lk(state_m);
        for (auto& w : workers) {
            if (w.source) w.source->request_cancel();
            if (w.target) w.target->request_cancel();
        }
    };

    auto work = [&](std::size_t id) {
        auto& w = workers[id];
        const std::string role = "pghaul/worker-" + std::to_string(id + 1);
        while (auto t = sched.next()) {
            try {
                if (!w.target) {
                    auto c = open_ddl_connection(in.target, in.ddl_preamble, role);
                    std::lock_guard lk(state_m);
                    w.target.emplace(std::move(c));
                }
                const table_info& table = *t->table;
                if (t->k == task::kind::data) {
                    if (!w.source) {
                        auto c = pg::connection::open(in.source, role, exit_code::source);
                        import_snapshot(c, in.snapshot);
                        std::lock_guard lk(state_m);
                        w.source.emplace(std::move(c));
                    }
                    auto start = std::chrono::steady_clock::now();
                    auto r = copy_table(*w.source, *w.target, table);
                    double secs =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    // Concise by default: big or slow tables, and format fallbacks, at info.
                    bool notable = r.bytes >= (64u << 20) || secs >= 1.0 || !table.binary();
                    spdlog::log(notable ? spdlog::level::info : spdlog::level::debug,
                                "{}: {} rows, {} in {:.2f} s{}", table.display(), r.rows,
                                format_bytes(static_cast<std::int64_t>(r.bytes)), secs,
                                table.binary() ? "" : " (text format: " + table.text_reason + ")");
                    {
                        std::lock_guard lk(state_m);
                        result.rows[table.oid] = r.rows;
                        result.bytes += r.bytes;
                    }
                    auto it = per_table.find(table.oid);
                    sched.finish(it != per_table.end() ? &table : nullptr);
                } else {
                    auto& entries = per_table.at(table.oid);
                    for (auto& e : entries) run_entry(*w.target, e);
                    spdlog::debug("{}: {} indexes and constraints built", table.display(), entries.size());
                    {
                        std::lock_guard lk(state_m);
                        result.indexes += entries.size();
                    }
                    sched.finish(nullptr);
                }
            } catch (...) {
                if (sched.fail(std::current_exception())) cancel_all();
                return;
            }
        }
    };

    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < workers.size(); ++i) threads.emplace_back(work, i);
    std::exception_ptr local_error;
    try {
        while_running();
    } catch (...) {
        local_error = std::current_exception();
        if (sched.fail(local_error, false)) cancel_all();
    }
    threads.clear();  // joins
    if (auto e = sched.error()) std::rethrow_exception(e);
    return result;
}

}  // namespace pghaul::engine
