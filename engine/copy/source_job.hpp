// One source database's way through a run: preflight (snapshot, catalog,
// checks), prepare (schema dump, new database, pre-data), its tables (run by
// the shared scheduler) and finish (post-data, sequences, large objects,
// grants, database settings). A failure anywhere drops its new database and
// leaves every other source alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <string>
#include <vector>

#include "engine/catalog/catalog.hpp"
#include "engine/catalog/snapshot.hpp"
#include "engine/common/credentials.hpp"
#include "engine/copy/data_path.hpp"
#include "engine/copy/journal.hpp"
#include "engine/copy/outcome.hpp"
#include "engine/copy/run_config.hpp"
#include "engine/copy/schema_plan.hpp"
#include "engine/copy/task_graph.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {

// The run's connection to the target's maintenance database, shared by the
// workers for CREATE DATABASE: each new connection costs the server a backend
// (about 40 ms of CPU on the 2-core development VM, as much as the statement).
struct shared_maintenance {
    pg::connection& conn;
    std::mutex mu;
};

class source_job {
public:
    // `target` is the run's target server credentials (shared by all sources).
    source_job(source_config cfg, const run_config& run, fresh_credentials& target);

    const source_config& config() const { return cfg_; }
    const std::string& name() const { return cfg_.name; }
    const std::string& target_db() const { return cfg_.target_db; }
    // How the snapshot's connection to the source is protected (connection::transport).
    const std::string& source_transport() const { return source_transport_; }
    const source_catalog& catalog() const { return cat_; }
    // For a new connection: password_command runs again once its last
    // result is older than the run's password_max_age.
    conninfo source_conninfo() { return source_creds_.get(); }
    conninfo target_conninfo() { return target_creds_.get().with_dbname(cfg_.target_db); }
    conninfo server_conninfo() { return target_creds_.get().with_dbname(run_.maintenance_db); }
    const std::string& snapshot_id() const { return snapshot_id_; }
    const schema_plan& schema() const { return schema_; }
    // Grants to these roles (target names) are left out: the target lacks them
    // (missing_roles = "owner"). Set by settle_roles before the data phase.
    void skip_grants_to(std::set<std::string> roles) { grants_skipped_to_ = std::move(roles); }
    const std::set<std::string>& grants_skipped_to() const { return grants_skipped_to_; }

    // Preflight, in three parts, none of which writes to the target.
    // What an earlier attempt's journal says: false when there is nothing to
    // do (it finished the copy). A dry run neither drops nor forgets anything.
    bool preflight_earlier(pg::connection& maint, bool dry_run = false);
    // Connects to the source, exports the snapshot, reads the catalog (which
    // COPY format each table needs depends on `target_version`) and locks the
    // tables. Touches only the source, so several run side by side. With a
    // `dump_gate` (not in a dry run), pg_dump starts as soon as the snapshot
    // exists (see start_schema_dump).
    void preflight_source(int target_version, std::counting_semaphore<>* dump_gate);
    // Whether the target database exists: false when it does and on_existing
    // is skip; throws when it does and on_existing is fail, or when it is an
    // unfinished pghaul copy this run has no state for (dropped on --restart).
    bool preflight_target(pg::connection& maint, bool dry_run = false);
    // Roles the copy needs on the target, after role_map: owners and grantees.
    std::vector<std::string> needed_owner_roles() const;
    std::vector<std::string> needed_grant_roles() const;

    // How many units (tables, parts) the pool will read; when the last has
    // been read the snapshot may be released early (see unit_read).
    void expect_reads(std::size_t units);
    // Starts the read of table `table` (position in catalog().tables) on `reader`, in the snapshot.
    void begin_read(pg::connection& reader, std::size_t table);
    // Ends it once the source has sent everything: COMMIT, or on the lent
    // snapshot session the read's savepoint (and a release deferred meanwhile).
    void end_read(pg::connection& reader, const std::string& what);
    // The snapshot session, lent to a worker as its reader (its source's
    // first): one connection fewer per source, no snapshot to import, the
    // catalog already cached in its backend (a new connection was ~5 ms of
    // CPU on both ends here, a fleet of small databases' main cost). Each
    // read on it is a savepoint in its transaction. Null when it is gone or
    // lent already. Until it comes back it is not closed: a release (or
    // clean-up) meanwhile ends its transaction and keeps the connection.
    pg::connection* lend_snapshot_session();
    // Back from the worker; a read that failed on it is rolled back to its
    // savepoint (if that fails too, the snapshot is gone: --resume).
    void return_snapshot_session() noexcept;
    // The snapshot is still held: a unit can be read again in this run.
    bool can_read_again() const;

    // The run's shared bounded data path; set before the pool starts.
    void set_data_path(data_path* p) { data_path_ = p; }
    // The shared maintenance connection; without it prepare opens its own.
    void set_maintenance(shared_maintenance* m) { maintenance_ = m; }

    // Starts pg_dump of the schema in the background (at most as many at once
    // as `gate` lets through, none if it is null), so it overlaps the catalog
    // reads, other sources' preflight and the creation of the database.
    void start_schema_dump(std::counting_semaphore<>* gate);
    std::vector<std::string> dump_selection() const;
    // Dumps the schema, (re)creates the target database, runs pre-data, and
    // returns the connection it used, open on the new database (the worker
    // keeps it for this source's next steps). On --resume into a database an
    // earlier attempt prepared: checks the schema is unchanged, re-counts the
    // tables it loaded and truncates split tables it did not finish.
    pg::connection prepare();
    bool resuming() const { return resuming_; }
    // What prepare does to a database of the same name first, for the dry
    // run: "" (none there), or how it is dropped or continued.
    std::string existing_target() const;
    // What the task graph needs, once prepared: tables, the post-data still
    // to run for each, the foreign keys still to add.
    source_plan plan() const;

    // The steps the worker pool runs; tables, indexes and foreign keys are
    // positions in catalog().tables, a table's schema().per_table indexes and
    // schema().foreign_keys. `redo`: a retry whose first try may have
    // committed. Each names what it ran in its errors.
    //
    // One table, or one part of a split table (verified by verify_split once
    // its last part has landed). `attempt` > 0: a retry.
    void copy(pg::connection& reader, pg::connection& writer, std::size_t table,
              std::optional<std::size_t> part = std::nullopt, int attempt = 0);
    void verify_split(pg::connection& writer, std::size_t table);
    // A big table's index build, counted and recorded.
    void build_index(pg::connection& writer, std::size_t table, std::size_t index, bool redo = false);
    // A big table's constraints that need its indexes (one transaction), then ANALYZE.
    void attach(pg::connection& writer, std::size_t table, bool redo = false);
    // Small tables: every index build and constraint left, all in one
    // transaction (their ANALYZE is finish's).
    void post_small(pg::connection& writer, const std::vector<std::size_t>& tables,
                    const std::vector<std::size_t>& analyze = {}, bool redo = false);
    // Foreign keys between loaded tables: added NOT VALID, then validated;
    // several (between small tables) in one transaction.
    void add_foreign_keys(pg::connection& writer, const std::vector<std::size_t>& fks, bool redo = false);
    // Throws (and marks the database as not this run's to drop) when the
    // connection's database is not the one this run created or resumes: it
    // was replaced under the same name. Called on every new target connection.
    void check_target(pg::connection& conn);
    // A target connection of this source was lost with its server process
    // perhaps still alive (the network, not the server, went away): that
    // process keeps its transaction and locks until the server notices, hours
    // later with default keepalives, and a redo's TRUNCATE or index build
    // would wait on it. end_orphans, on the next new connection, ends it.
    void lost_target_backend(int pid);
    void end_orphans(pg::connection& conn);
    // The object a step works on, for logs, events and the timeline.
    std::string object_of(const step& s) const;
    // Post-data, sequences, large objects, grants, database settings, and one
    // ANALYZE of the small tables in `analyze`, on `ddl` (open on the new
    // database); `worker` labels the verification's own bar in the timeline.
    // `redo`: a retry after a lost connection, whose post-data may have committed.
    void finish(pg::connection& ddl, int worker, const std::vector<std::size_t>& analyze, bool redo = false);
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

    // What the copy came to so far, under its own lock (outcome.hpp).
    source_outcome& outcome() { return outcome_; }
    const source_outcome& outcome() const { return outcome_; }
    source_status status() const { return outcome_.status(); }
    void fail(const error& e);          // records the failure; the source has failed
    void note_problem(const error& e);  // the dry run's: recorded, the source still checked
    void warn(std::string message);     // logs and records a warning

private:
    void release_snapshot();
    void refuse_source_as_target(pg::connection& maint);
    void unit_read(std::uint32_t table, std::int64_t first_page);
    void verify_against_snapshot(pg::connection& ddl, int worker);
    void verify_count(pg::connection& writer, const table_info& t, std::uint64_t expected);
    // A small table's post-data statements still to run (indexes not built
    // earlier, then its constraints unless attached earlier).
    std::vector<const dump_entry*> post_entries(std::size_t table) const;
    void post_small_one_by_one(pg::connection& writer, const std::vector<std::size_t>& tables, bool redo);
    void log_table(const table_info& t, const table_result& r);
    void create_target_database();
    schema_plan read_schema();
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
    void refuse_replace_while_in_use(pg::connection& maint);
    bool settle_earlier_attempt(pg::connection& maint, bool dry_run);
    void recover_temporary_grants(pg::connection& ddl);
    void open_journal(const std::string& source_endpoint);
    void resume_prepared(pg::connection& ddl);
    void finish_post_data(pg::connection& ddl);
    void record(const std::string& event, nlohmann::json fields = nlohmann::json::object());
    void record_all(std::vector<std::pair<std::string, nlohmann::json>> records);  // one flush
    // The same for per-table records, which need no wait for the disk (journal.hpp).
    void note(const std::string& event, nlohmann::json fields);
    void note_all(std::vector<std::pair<std::string, nlohmann::json>> records);
    // `small`: finish's tables under 1 MB, which autovacuum may do instead.
    void update_statistics(pg::connection& conn, const std::vector<std::size_t>& tables, bool small = false);
    std::vector<std::size_t> not_left_to_autovacuum(pg::connection& conn,
                                                    const std::vector<std::size_t>& tables);
    std::vector<std::size_t> restore_statistics(pg::connection& conn, const std::vector<std::size_t>& tables);
    // True when `e` failed because a resumed or retried unit had committed
    // before the crash or connection loss, unrecorded: its objects exist.
    bool committed_before(const error& e, bool redo) const;
    static std::string schema_hash(const schema_plan& s);
    static std::string step_key(const dump_entry& e);  // a post-data step's name in the journal
    // On resume, what an earlier attempt already did and need not be redone.
    bool step_done(const dump_entry& e) const;
    bool step_done(const schema_plan::foreign_key& fk) const;
    bool attached_earlier(const table_info& t) const;
    const schema_plan::table_post_data* post_of(const table_info& t) const;

    source_config cfg_;
    const run_config& run_;
    fresh_credentials& target_creds_;
    fresh_credentials source_creds_;
    std::string source_endpoint_;  // user@host:port/db, for messages and the journal
    std::string source_transport_;
    std::set<std::string> grants_skipped_to_;
    schema_options schema_opt_;
    std::unique_ptr<snapshot_holder> holder_;  // guarded by snapshot_mu_ once tables are copied
    // The holder's connection as a worker's reader (lend_snapshot_session), guarded by snapshot_mu_:
    bool holder_lent_ = false;
    bool holder_reading_ = false;    // between begin_read and end_read on it
    bool release_deferred_ = false;  // released mid-read: end_read or the return releases it
    bool drop_deferred_ = false;     // cleaned up while lent: closed when it comes back
    bool holder_lost_ = false;       // its connection failed under a read: the snapshot is gone
    // Behind an agent: the link session of the holder's connection, which the
    // agent was asked to keep open if the link drops (empty: not asked, or
    // refused). Then a failed holder connection is detached, not lost: its
    // transaction lives on at the agent, and readers still import the snapshot.
    std::string agent_hold_;
    bool holder_detached_ = false;
    void ask_agent_to_hold();
    std::unique_ptr<snapshot_holder> released_holder_;  // released while lent: closed when it comes back
    void release_holder_locked(bool held_by_agent = false);  // COMMIT and close (or keep, while lent)
    error snapshot_gone(const table_info& t, const std::string& sqlstate) const;
    void lose_holder_locked();    // its connection failed: the snapshot is gone (or detached, held by the agent)
    void retire_holder_locked();  // no longer the holder; kept (while lent) until it comes back
    std::string snapshot_id_;
    bool source_security_labels_ = true;  // snapshot_holder::security_labels
    mutable std::mutex snapshot_mu_;
    std::size_t reads_expected_ = 0;
    std::set<std::pair<std::uint32_t, std::int64_t>> units_read_;  // (table, first page or -1)
    source_catalog cat_;
    schema_plan schema_;
    // Owner roles given CREATE on the new database's public schema for the load
    // only (source role, target role): see prepare().
    std::vector<std::pair<std::string, std::string>> temporary_public_grants_;
    bool target_existed_ = false;
    bool created_ = false;
    std::uint32_t db_oid_ = 0;  // the target database this run created or resumes (0: none yet)
    bool replaced_ = false;     // ... and it was replaced under the same name
    // The state journal and what earlier attempts recorded in it.
    std::filesystem::path journal_path_;
    std::unique_ptr<journal> journal_;
    std::optional<journal_state> earlier_;
    bool resuming_ = false;          // continuing in a database an earlier attempt prepared
    bool restart_drops_ = false;     // a dry run's --restart would drop an unfinished one
    bool drop_unprepared_ = false;   // an earlier attempt created it but died in pre-data
    bool finished_earlier_ = false;  // and its post-data transaction committed
    std::set<std::uint32_t> kept_;   // tables whose earlier load stands
    data_path* data_path_ = nullptr;
    shared_maintenance* maintenance_ = nullptr;
    struct schema_sections {
        std::string pre_data, post_data;  // pg_restore's SQL of each
    };
    std::future<schema_sections> archive_;  // pg_dump's schema, from start_schema_dump
    std::vector<int> orphans_;              // lost target connections' server processes (mu_)
    pg::connection* active_ = nullptr;      // prepare()/finish()'s connection, for cancel_running()
    std::mutex mu_;                         // active_, orphans_, replaced_, created_
    source_outcome outcome_;
};

}  // namespace pghaul::engine
