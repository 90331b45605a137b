// One source database's way through a run: preflight (snapshot, catalog,
// checks), prepare (schema dump, new database, pre-data), its tables (run by
// the shared scheduler) and finish (post-data, sequences, large objects,
// grants, database settings). A failure anywhere drops its new database and
// leaves every other source alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/catalog/catalog.hpp"
#include "engine/copy/data_path.hpp"
#include "engine/copy/journal.hpp"
#include "engine/copy/run_config.hpp"
#include "engine/copy/schema_plan.hpp"
#include "engine/catalog/snapshot.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {

enum class source_status { pending, skipped, failed, done };

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

class source_job {
public:
    source_job(source_config cfg, const run_config& run, conninfo target_server);

    const source_config& config() const { return cfg_; }
    const std::string& name() const { return cfg_.name; }
    const std::string& target_db() const { return cfg_.target_db; }
    const source_catalog& catalog() const { return cat_; }
    const conninfo& source_conninfo() const { return source_; }
    const conninfo& target_conninfo() const { return target_; }
    const std::string& snapshot_id() const { return snapshot_id_; }
    const schema_plan& schema() const { return schema_; }
    schema_options& schema_opts() { return schema_opt_; }

    // Connects, exports the snapshot, reads the catalog and checks what can be
    // checked on the target without writing. Returns false when the target
    // database exists and on_existing is skip, or an earlier attempt finished it.
    // A dry run reads the state journal but neither drops nor forgets anything.
    bool preflight(pg::connection& maint, bool dry_run = false);
    // Roles the copy needs on the target, after role_map: owners and grantees.
    std::vector<std::string> needed_owner_roles() const;
    std::vector<std::string> needed_grant_roles() const;

    // How many units (tables, parts) the scheduler will read; when the last
    // has been read the snapshot may be released early (see unit_read).
    void expect_reads(std::size_t units);
    // Starts a unit's read on `reader` in the source's snapshot.
    void begin_read(pg::connection& reader, const table_info& t);

    // The run's shared bounded data path; set before the scheduler starts.
    void set_data_path(data_path* p) { data_path_ = p; }

    // Dumps the schema, (re)creates the target database, runs pre-data. On
    // --resume into a database an earlier attempt prepared: checks the schema
    // is unchanged, re-counts the tables it loaded and truncates split tables
    // it did not finish; what is left is what the scheduler gets.
    void prepare();
    bool resuming() const { return resuming_; }
    // On resume, what an earlier attempt already did and need not be redone.
    bool loaded_earlier(const table_info& t) const { return kept_.contains(t.oid); }
    bool step_done(const dump_entry& e) const;
    bool step_done(const schema_plan::foreign_key& fk) const;
    bool attached_earlier(const table_info& t) const;
    // Copies one table, or one part of a split table, on the given connections
    // (the writer is on target_db). A whole table is verified at once; a split
    // one by verify_split() when its last part has landed.
    // `attempt` > 0: a retry, whose first try may have committed.
    table_result copy(pg::connection& reader, pg::connection& writer, const table_info& t,
                      const table_info::page_range* part = nullptr, int attempt = 0);
    void verify_split(pg::connection& writer, const table_info& t);
    // ANALYZE after the load (unless the run says not to), so the planner is
    // not blind on the new database until autovacuum gets to it.
    bool analyzes() const { return run_.analyze; }
    void analyze(pg::connection& writer, const table_info& t);
    // One of a table's index builds, counted and recorded. `redo`: a retry
    // after a lost connection (the first try may have committed).
    void build_index(pg::connection& writer, const dump_entry& e, bool redo = false);
    // A foreign key between two loaded tables: added NOT VALID, then validated.
    void add_foreign_key(pg::connection& writer, const schema_plan::foreign_key& fk, bool redo = false);
    // A table's constraints that need its indexes (one transaction), then ANALYZE.
    void attach(pg::connection& writer, const table_info& t, bool redo = false);
    // Post-data, sequences, large objects, grants, database settings; `worker`
    // labels the verification's own bar in the timeline.
    void finish(int worker);
    // The whole run is done: its journal (kept so a --resume skips finished
    // sources) goes.
    void forget_state() noexcept;
    // Cancels the statement running on prepare()'s or finish()'s connection.
    void cancel_running() noexcept;
    // After a failure: drops the new database if this job created it, unless
    // the failure is one a --resume can get past (an interruption, a lost
    // server, a full disk), or the database came from an earlier attempt: then
    // it stays, marked INCOMPLETE, with its journal.
    void clean_up() noexcept;

    // Outcome, filled as the job runs (guarded by mu()).
    std::mutex& mu() { return mu_; }
    source_status status = source_status::pending;
    std::optional<error> failure;
    std::vector<std::string> warnings;
    std::map<std::uint32_t, table_result> results;
    std::size_t indexes_built = 0;
    std::uint64_t large_object_bytes = 0;
    std::chrono::steady_clock::time_point started, ended;
    std::chrono::steady_clock::time_point snapshot_released;
    std::vector<timeline_entry> timeline;
    std::string verified = "rows match";  // what the end-of-copy check found
    void fail(const error& e);            // records the first failure (locks mu())

private:
    void warn(std::string message);
    void release_snapshot();
    void unit_read(std::uint32_t table, std::int64_t first_page);
    void verify_against_snapshot(pg::connection& ddl, int worker);
    void verify_count(pg::connection& writer, const table_info& t, std::uint64_t expected);
    void log_table(const table_info& t, const table_result& r);
    void grant_public_for_owners(pg::connection& ddl);
    // Registers a connection for cancel_running() while it lives.
    struct active_guard {
        source_job& job;
        active_guard(source_job& j, pg::connection& c) : job(j) {
            std::lock_guard lk(job.mu_);
            job.active_ = &c;
        }
        ~active_guard() {
            std::lock_guard lk(job.mu_);
            job.active_ = nullptr;
        }
    };
    void revoke_temporary_grants(pg::connection& ddl);
    bool settle_earlier_attempt(pg::connection& maint, bool dry_run);
    void recover_temporary_grants(pg::connection& ddl);
    void open_journal(const std::string& source_endpoint);
    void resume_prepared(pg::connection& ddl);
    void finish_post_data(pg::connection& ddl);
    void record(const std::string& event, nlohmann::json fields = nlohmann::json::object());
    // True when `e` failed because a resumed or retried unit had committed
    // before the crash or connection loss, unrecorded: its objects exist.
    bool committed_before(const error& e, bool redo) const;
    static std::string schema_hash(const schema_plan& s);
    static std::string step_key(const dump_entry& e);  // a post-data step's name in the journal

    source_config cfg_;
    const run_config& run_;
    conninfo server_;  // the target server, maintenance database
    conninfo source_;
    conninfo target_;  // the new database
    schema_options schema_opt_;
    std::unique_ptr<snapshot_holder> holder_;  // guarded by snapshot_mu_ once tables are copied
    std::string snapshot_id_;
    std::mutex snapshot_mu_;
    std::size_t reads_expected_ = 0;
    std::set<std::pair<std::uint32_t, std::int64_t>> units_read_;  // (table, first page or -1)
    source_catalog cat_;
    schema_plan schema_;
    // Owner roles given CREATE on the new database's public schema for the load
    // only (source role, target role): see prepare().
    std::vector<std::pair<std::string, std::string>> temporary_public_grants_;
    bool target_existed_ = false;
    bool created_ = false;
    // The state journal and what earlier attempts recorded in it.
    std::filesystem::path journal_path_;
    std::unique_ptr<journal> journal_;
    std::optional<journal_state> earlier_;
    bool resuming_ = false;          // continuing in a database an earlier attempt prepared
    bool drop_unprepared_ = false;   // an earlier attempt created it but died in pre-data
    bool finished_earlier_ = false;  // and its post-data transaction committed
    std::set<std::uint32_t> kept_;   // tables whose earlier load stands
    data_path* data_path_ = nullptr;
    pg::connection* active_ = nullptr;  // prepare()/finish()'s connection, for cancel_running()
    std::mutex mu_;
};

}  // namespace pghaul::engine
