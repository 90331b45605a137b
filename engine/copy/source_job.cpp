// One source's copy: its preflight, the plan it hands the task graph, its
// snapshot lease and its clean-up. The steps themselves are in step_*.cpp.
// Everything that can be checked is checked in preflight, before the target
// is written; once the new database exists it is marked INCOMPLETE until
// finish() commits, and a failure either drops it or, if a --resume can get
// past it, keeps it with its journal (source_resume.cpp).
#include "engine/copy/source_job.hpp"
#include "protocol/sql_quote.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <stop_token>

#include "engine/catalog/pg_dump.hpp"
#include "engine/catalog/target_facts.hpp"
#include "engine/common/credentials.hpp"
#include "engine/common/interrupt.hpp"
#include "engine/common/via.hpp"
#include "engine/copy/detail/steps.hpp"
#include "engine/copy/target_database.hpp"
#include "protocol/size.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

using steps::since;

namespace {

// The same judgement as pghaul audit (engine/catalog/target_facts.hpp); the
// first problem stops this source.
void check_versions(pg::connection& source, int target_version, const std::string& pg_dump) {
    // An unsupported source is said before pg_dump is run: its version is no matter then.
    const int version = source.server_version();
    const auto problems = judge_versions(version, target_version, version < 120000 ? 0 : pg_dump_major(pg_dump));
    if (!problems.empty()) throw error(exit_code::preflight, problems.front().message, problems.front().hint);
}

}  // namespace

source_job::source_job(source_config cfg, const run_config& run, fresh_credentials& target)
    : cfg_(std::move(cfg)),
      run_(run),
      target_creds_(target),
      source_creds_(cfg_.endpoint, "source \"" + cfg_.name + "\"", run.password_command_timeout,
                    run.password_max_age) {
    schema_opt_.pg_dump = resolve_pg_dump(run.pg_dump);
    schema_opt_.no_owner = run.missing_roles == missing_roles_mode::owner;
    schema_opt_.no_privileges = run.no_privileges;
}

void source_job::fail(const error& e) {
    outcome_.add_failure(e);  // a dry run's second problem is listed after the first
    outcome_.set_status(source_status::failed);
}

void source_job::note_problem(const error& e) {
    outcome_.add_failure(e);
}

void source_job::warn(std::string message) {
    spdlog::warn("[{}] {}", cfg_.name, message);
    outcome_.add_warning(std::move(message));
}

bool source_job::preflight_earlier(pg::connection& maint, bool dry_run) {
    outcome_.update([](outcome_fields& o) { o.started = std::chrono::steady_clock::now(); });
    // Before anything looks at the database: a second pghaul into it (another
    // state directory, another machine) is refused, never raced.
    if (!try_claim_database(maint, cfg_.target_db))
        throw error(
            exit_code::preflight,
            "another pghaul is copying into \"" + cfg_.target_db + "\" on " + maint.endpoint() + " right now",
            "wait for it to end, or stop it first; nothing was written");
    if (!settle_earlier_attempt(maint, dry_run)) return false;
    // on_existing skip is decided before the source is opened: a skipped
    // source costs it no connection, snapshot, locks or pg_dump.
    if (run_.existing == on_existing::skip && !resuming_ && !drop_unprepared_ &&
        database_exists(maint, cfg_.target_db) && !marked_incomplete(maint, cfg_.target_db)) {
        spdlog::info("[{}] target database \"{}\" exists: skipped (on_existing skip)", cfg_.name,
                     cfg_.target_db);
        outcome_.skip_because("the target database exists (on_existing skip)");
        return false;
    }
    return true;
}

void source_job::preflight_source(int target_version, std::counting_semaphore<>* dump_gate) {
    const auto source = source_conninfo();
    source_endpoint_ = source.endpoint();
    // Between two steps of a lock wait the stop is looked at too: a cancel
    // sent before the statement was would have missed it.
    const lock_wait lock{run_.lock_wait_timeout, [&](const std::string& what) {
                             if (run_stop_token().stop_requested())
                                 throw error(exit_code::interrupted, "stopped while " + what);
                             spdlog::warn("[{}] {}", cfg_.name, what);
                         }};
    // A table rewritten between the snapshot and its lock would copy as empty
    // (see source_catalog::rewritten_after_snapshot): once the locks are held
    // nothing can rewrite it again, so a fresh snapshot taken now is whole.
    constexpr int snapshot_attempts = 3;
    for (int attempt = 1;; ++attempt) {
        auto conn = pg::connection::open(source, "pghaul/snapshot", exit_code::source);
        if (cfg_.snapshot.empty()) {
            holder_ = std::make_unique<snapshot_holder>(std::move(conn));
        } else {
            try {
                holder_ = std::make_unique<snapshot_holder>(std::move(conn), cfg_.snapshot);
            } catch (const error& e) {
                // A snapshot held outside pghaul that is gone (its session
                // ended) or mistyped: found before anything is written.
                if (e.sqlstate() != "22023" && e.sqlstate() != "55000") throw;
                throw error(exit_code::preflight,
                            "the snapshot " + cfg_.snapshot + " given with --snapshot cannot be imported on " +
                                source.endpoint() + ": " + first_line(e.what()),
                            "the session that exported it must stay open in its transaction (BEGIN ISOLATION "
                            "LEVEL REPEATABLE READ; SELECT pg_export_snapshot();) until pghaul ends; export "
                            "a new one and pass its id; nothing was written",
                            e.sqlstate());
            }
            spdlog::info("[{}] copying as of the snapshot {} held outside pghaul", cfg_.name, cfg_.snapshot);
        }
        check_versions(holder_->connection(), target_version, schema_opt_.pg_dump);
        snapshot_id_ = holder_->id();
        source_security_labels_ = holder_->security_labels();
        // pg_dump needs nothing but the snapshot: it reads the catalog while we do.
        // (Unless it must be told what the catalog leaves out: dump_selection.)
        if (dump_gate && !cfg_.exclude.chooses()) start_schema_dump(dump_gate);
        try {
            // Ctrl-C here (a lock wait may last as long as another session
            // holds its lock): cancel the read and stop before anything is written.
            std::stop_callback cancel(run_stop_token(), [this] { holder_->connection().request_cancel(); });
            if (run_stop_token().stop_requested()) throw error(exit_code::interrupted, "stopped");
            cat_ = read_catalog(holder_->connection(), target_version, &lock, cfg_.exclude);
        } catch (const error& e) {
            if (!run_stop_token().stop_requested()) throw;
            throw error(static_cast<exit_code>(128 + interrupt_signal()),
                        interrupted_by() + " while reading the catalog of " + source.endpoint(),
                        "nothing was written; run the same command again", e.sqlstate());
        }
        if (cat_.rewritten_after_snapshot.empty()) break;
        std::string tables;
        for (auto& t : cat_.rewritten_after_snapshot) tables += (tables.empty() ? "" : ", ") + t;
        if (!cfg_.snapshot.empty() || attempt == snapshot_attempts)
            throw error(exit_code::source,
                        "another session rewrote " + tables + " on " + source_endpoint_ +
                            " after the snapshot " + snapshot_id_ +
                            " was taken (TRUNCATE, VACUUM FULL, CLUSTER or ALTER TABLE): that " +
                            "snapshot sees those tables as empty",
                        cfg_.snapshot.empty()
                            ? "run again when the batch that rewrites them is over; nothing was written"
                            : "take a new snapshot after that session ends and pass it to --snapshot");
        spdlog::warn("[{}] another session rewrote {} after the snapshot was taken; taking a new snapshot",
                     cfg_.name, tables);
        // The schema dump under the old snapshot is thrown away (it may fail
        // once that snapshot is gone).
        if (archive_.valid()) try {
                archive_.get();
            } catch (const std::exception&) {
            }
        holder_.reset();
    }
    std::string guarded;
    for (auto& t : cat_.tables) {
        t.data_excluded = any_matches(cfg_.exclude_table_data, t.schema, t.name);
        if (t.data_excluded) t.statistics.clear();  // the source's would describe rows not copied
        if (t.row_security_applies && !t.data_excluded)
            guarded += (guarded.empty() ? "" : ", ") + t.display();
    }
    // A standby has no rows of an unlogged table (reading one fails): they
    // come empty, as pg_dump leaves their data out there, and say so.
    if (cat_.standby) {
        std::string unlogged;
        for (auto& t : cat_.tables)
            if (t.unlogged && !t.data_excluded) {
                t.data_excluded = true;
                t.statistics.clear();
                unlogged += (unlogged.empty() ? "" : ", ") + t.display();
            }
        if (!unlogged.empty())
            warn("the source " + source_endpoint_ + " is a standby, which has no rows of unlogged tables: " +
                 unlogged + " created without rows (copy from the primary for them)");
    }
    if (!cat_.unreadable_large_objects.empty())
        throw error(exit_code::preflight,
                    "the source login " + source_endpoint_ + " may not read " +
                        std::to_string(cat_.unreadable_large_objects.size()) + " of the " +
                        std::to_string(cat_.large_objects.size()) + " large objects (the first: " +
                        std::to_string(cat_.unreadable_large_objects.front()) +
                        "); they are copied last, and the copy would fail there",
                    "GRANT SELECT ON LARGE OBJECT ... to the login, or copy as their owner or a superuser "
                    "(pg_read_all_data does not cover large objects); nothing was written");
    // Found here rather than by the first COPY of such a table, after the
    // schema and other tables were already in.
    if (!guarded.empty())
        throw error(
            exit_code::preflight,
            "row-level security applies to the source login " + source_endpoint_ + " on " + guarded +
                ": pghaul reads with row_security off, so it cannot read them, and will not copy them "
                "filtered",
            "give the login BYPASSRLS (ALTER ROLE ... BYPASSRLS), or copy as the tables' owner or a "
            "superuser; nothing was written");
    if (!cat_.excluded_dependents.empty()) {
        std::string what;
        for (auto& d : cat_.excluded_dependents) what += "\n  " + d;
        throw error(
            exit_code::preflight,
            "left out by " + cfg_.exclude.describe() + " on " + source_endpoint_ +
                ", but needed by what stays:" + what,
            "leave those out too (-T for a table or view), or let what they need come (choose it too with "
            "--table or -n, or take it without its rows with --exclude-table-data); nothing was written");
    }
    plan_splits(cat_, run_.split_tables_larger_than, run_.split_part_size);
    if (cat_.database.locale_provider == "builtin" && target_version < 170000)
        throw error(exit_code::preflight,
                    "source database \"" + cat_.database.name + "\" uses the builtin locale provider (" +
                        cat_.database.icu_locale + "), which the target (" +
                        std::to_string(target_version / 10000) + ") does not have",
                    "copy into a PostgreSQL 17 or newer server");
    source_transport_ = holder_->connection().transport();
    // libpq's own view ends at the forwarder: the link itself is TLS.
    if (cfg_.endpoint.route)
        source_transport_ = "TLS and zstd to the agent, " + source_transport_ + " beyond it";
    // Not in a dry run (no dump gate there): it only looks.
    if (dump_gate && cfg_.endpoint.route && cfg_.snapshot.empty()) ask_agent_to_hold();
    std::int64_t table_bytes = 0;  // as the plan, the progress and the report count them
    for (auto& t : cat_.tables)
        if (!t.data_excluded) table_bytes += t.bytes;
    spdlog::info("[{}] source {} ({}): {} tables, {} ({} database on disk), snapshot {}", cfg_.name,
                 holder_->connection().endpoint(), source_transport_, cat_.tables.size(),
                 format_size(table_bytes), format_size(cat_.database.bytes), snapshot_id_);
    if (!cat_.excluded.empty()) {
        std::string list;
        for (auto& e : cat_.excluded) list += (list.empty() ? "" : ", ") + e;
        spdlog::info("[{}] left out ({}): {}", cfg_.name, cfg_.exclude.describe(), list);
    }
}

// The target database is the source database itself (swapped or pasted
// twice, or a server folded into itself): same cluster (a standby shares its
// primary's identifier) and same name. on_existing replace would drop the
// source, so it is refused whatever on_existing says.
void source_job::refuse_source_as_target(pg::connection& maint) {
    if (cfg_.target_db != cat_.database.name || !holder_) return;
    // A server may not let the login read it (a managed one): then there is
    // nothing to compare. The source side runs in the snapshot's transaction,
    // under a savepoint so a refusal does not abort it.
    auto read_id = [](pg::connection& conn, bool in_transaction) -> std::optional<std::string> {
        const std::string sp = in_transaction ? "SAVEPOINT pghaul_sysid; " : "";
        try {
            auto r = conn.exec(sp + "SELECT system_identifier::text FROM pg_control_system()",
                               "reading the server's system identifier");
            if (in_transaction) conn.exec("RELEASE SAVEPOINT pghaul_sysid", "releasing a savepoint");
            return r.str(0, 0);
        } catch (const error& e) {
            if (sqlstate::connection_lost(e)) throw;
            if (in_transaction) conn.exec("ROLLBACK TO SAVEPOINT pghaul_sysid", "rolling back to a savepoint");
            return std::nullopt;
        }
    };
    const auto target_id = read_id(maint, false);
    if (!target_id || target_id != read_id(holder_->connection(), true)) return;
    throw error(exit_code::preflight,
                "target database \"" + cfg_.target_db + "\" on " + maint.endpoint() +
                    " is the source database itself (same server, system identifier " + *target_id + ")",
                "check --source and --target (swapped, or the same twice?): nothing was written");
}

bool source_job::preflight_target(pg::connection& maint, bool dry_run) {
    if (resuming_ || drop_unprepared_) return true;  // the database is this copy's own
    const bool exists = database_exists(maint, cfg_.target_db);
    if (exists) refuse_source_as_target(maint);  // before the dry run can say it DROPS it
    target_existed_ = exists;
    // pghaul's own INCOMPLETE marker counts wherever the journal is: such a
    // database is never "done", whatever on_existing says.
    if (target_existed_ && marked_incomplete(maint, cfg_.target_db)) {
        if (run_.earlier == run_config::earlier_state::restart) {
            if (!dry_run) drop_database(maint, cfg_.target_db);
            spdlog::info("[{}] --restart: {} the unfinished database \"{}\" (no state for it in {})",
                         cfg_.name, dry_run ? "would drop" : "dropped", cfg_.target_db,
                         journal_path_.parent_path().string());
            target_existed_ = dry_run;
            restart_drops_ = dry_run;
            return true;
        }
        if (run_.existing != on_existing::replace)
            throw error(exit_code::preflight,
                        "target database \"" + cfg_.target_db + "\" on " + maint.endpoint() +
                            " is an unfinished pghaul copy (its comment says INCOMPLETE), and " +
                            journal_path_.parent_path().string() + " has no state for it",
                        "run the same command with --resume and the --state-dir of the interrupted run to "
                        "finish it, or with --restart to drop it and copy again");
    }
    if (target_existed_ && run_.existing == on_existing::skip) {
        spdlog::info("[{}] target database \"{}\" exists: skipped (on_existing skip)", cfg_.name,
                     cfg_.target_db);
        outcome_.skip_because("the target database exists (on_existing skip)");
        holder_.reset();
        return false;
    }
    if (target_existed_ && run_.existing == on_existing::fail)
        throw error(exit_code::preflight,
                    "target database \"" + cfg_.target_db + "\" already exists on " + maint.endpoint(),
                    "choose another name, or use --on-existing replace (drops it) or --on-existing skip");
    if (target_existed_ && run_.existing == on_existing::replace) refuse_replace_while_in_use(maint);
    return true;
}

std::string source_job::existing_target() const {
    if (resuming_) return "continues the unfinished database of the interrupted run (--resume)";
    if (restart_drops_) return "DROPS the unfinished database first (--restart), then copies";
    if (drop_unprepared_) return "DROPS the unfinished database of an earlier run first, then copies";
    if (target_existed_ && run_.existing == on_existing::replace)
        return "DROPS the existing database first (on_existing replace), then copies";
    return "";
}

void source_job::lost_target_backend(int pid) {
    std::lock_guard lk(mu_);
    if (pid > 0) orphans_.push_back(pid);
}

// Only this login's pghaul sessions in this database: a pid the server has
// since given to someone else is left alone.
void source_job::end_orphans(pg::connection& conn) {
    std::vector<int> pids;
    {
        std::lock_guard lk(mu_);
        pids.swap(orphans_);
    }
    if (pids.empty()) return;
    std::string list;
    for (auto pid : pids) list += (list.empty() ? "{" : ",") + std::to_string(pid);
    // OFFSET 0 keeps the filter ahead of the (volatile) terminate.
    auto r = conn.exec_params(
        std::string(
            "SELECT pid FROM (SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND datname = "
            "current_database() AND usename = current_user AND application_name LIKE 'pghaul/%' "
            "OFFSET 0) mine WHERE ") +
            (conn.server_version() >= 140000 ? "pg_terminate_backend(pid, 10000)"
                                             : "pg_terminate_backend(pid)"),
        {list + "}"}, "ending the sessions lost connections left on the target");
    if (r.rows() > 0)
        warn(
            fmt::format("ended {} session(s) a lost connection left running on the target (pid {}), so the "
                        "redo does not wait on their locks",
                        r.rows(), r.str(0, 0)));
}

// replace drops the database, which only ends sessions this login may end
// (its own; anyone's for a superuser): others' would fail the drop after
// the run has started. Said now, with who, while nothing is written.
void source_job::refuse_replace_while_in_use(pg::connection& maint) {
    auto r = maint.exec_params(
        "SELECT count(*), coalesce(string_agg(DISTINCT coalesce(usename::text, '?') || coalesce(' (' || "
        "nullif(application_name, '') || ')', ''), ', '), '') FROM pg_stat_activity "
        // usename: NULL for autovacuum (DROP DATABASE stops it); backend_type
        // is hidden from a login without pg_read_all_stats.
        "WHERE datname = $1 AND pid <> pg_backend_pid() AND usename <> current_user "
        "AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
        {cfg_.target_db}, "checking who is connected to \"" + cfg_.target_db + "\"");
    if (r.i64(0, 0) == 0) return;
    throw error(exit_code::preflight,
                "on_existing replace would drop \"" + cfg_.target_db + "\" on " + maint.endpoint() +
                    ", but " + std::to_string(r.i64(0, 0)) +
                    " session(s) of other users are connected to it (" + r.str(0, 1) +
                    "), which this login cannot end",
                "have them disconnect (pghaul clients --target ... lists them), or end them as a superuser: "
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
                    sql::literal(cfg_.target_db) + "; nothing was written");
}

std::vector<std::string> source_job::needed_owner_roles() const {
    std::vector<std::string> out;
    if (schema_opt_.no_owner) return out;
    for (auto& r : cat_.owner_roles) out.push_back(cfg_.target_role(r));
    return out;
}

std::vector<std::string> source_job::needed_grant_roles() const {
    std::vector<std::string> out;
    if (schema_opt_.no_privileges) return out;
    for (auto& r : cat_.grant_roles) out.push_back(cfg_.target_role(r));
    return out;
}


source_plan source_job::plan() const {
    source_plan p;
    p.analyze = run_.analyze;
    std::map<std::uint32_t, std::size_t> position;
    for (std::size_t i = 0; i < cat_.tables.size(); ++i) {
        const auto& t = cat_.tables[i];
        position[t.oid] = i;
        source_plan::table pt;
        pt.bytes = t.bytes;
        pt.parts = t.parts.size();
        pt.loaded_earlier = kept_.contains(t.oid);
        pt.attached_earlier = attached_earlier(t);
        if (auto* post = post_of(t)) {
            for (std::size_t x = 0; x < post->indexes.size(); ++x)
                if (!step_done(post->indexes[x])) pt.indexes.push_back(x);
            pt.has_after = !post->after.empty();
        }
        p.tables.push_back(std::move(pt));
    }
    for (std::size_t f = 0; f < schema_.foreign_keys.size(); ++f) {
        const auto& fk = schema_.foreign_keys[f];
        if (!step_done(fk)) p.foreign_keys.push_back({f, position.at(fk.table), position.at(fk.referenced)});
    }
    return p;
}

std::string source_job::object_of(const step& s) const {
    auto table = [&](std::size_t i) { return cat_.tables.at(i).display(); };
    if (auto* l = std::get_if<load_step>(&s)) {
        if (!l->part) return table(l->table);
        const auto& r = cat_.tables.at(l->table).parts.at(*l->part);
        return table(l->table) + " pages " + std::to_string(r.first) + "-" +
               (r.end < 0 ? std::string("end") : std::to_string(r.end));
    }
    if (auto* d = std::get_if<landed_step>(&s)) return table(d->table);
    if (auto* x = std::get_if<index_step>(&s)) {
        const auto& e = post_of(cat_.tables.at(x->table))->indexes.at(x->index);
        return sql::readable_qualified(e.schema, e.name);
    }
    if (auto* a = std::get_if<attach_step>(&s)) return table(a->table);
    if (auto* p = std::get_if<table_post_step>(&s))
        return p->tables.size() == 1 ? table(p->tables[0]) : std::to_string(p->tables.size()) + " tables";
    if (auto* f = std::get_if<foreign_key_step>(&s)) {
        if (f->foreign_keys.size() != 1) return std::to_string(f->foreign_keys.size()) + " foreign keys";
        const auto& add = schema_.foreign_keys.at(f->foreign_keys[0]).add;
        return entry_object(add);  // "t_parent_fkey on public.t"
    }
    return {};
}

void source_job::check_target(pg::connection& conn) {
    if (db_oid_ == 0) return;
    const auto now =
        static_cast<std::uint32_t>(conn.exec("SELECT oid FROM pg_database WHERE datname = current_database()",
                                             "checking the target database")
                                       .i64(0, 0));
    if (now == db_oid_) return;
    {
        std::lock_guard lk(mu_);
        replaced_ = true;
    }
    throw error(exit_code::target,
                "database \"" + cfg_.target_db + "\" on " + conn.endpoint() +
                    " is not the one this run created: it was dropped and created again while the copy ran",
                "another process replaced it (a second pghaul with --on-existing replace and another state "
                "directory, or a person); this run leaves it alone. Copy again when nothing else writes it",
                {}, disposition::resume_later);
}

void source_job::cancel_running() noexcept {
    std::lock_guard lk(mu_);
    if (active_) active_->request_cancel();
}

void source_job::clean_up() noexcept {
    std::string held;
    {
        std::lock_guard lk(snapshot_mu_);
        held = std::exchange(agent_hold_, {});
    }
    release_hold(cfg_.endpoint, held);  // first: the close below is not a dropped link
    {
        std::lock_guard lk(snapshot_mu_);
        if (holder_lent_)
            drop_deferred_ = true;  // a worker may be in libpq on it: closed when it comes back
        else
            holder_.reset();
    }
    std::optional<error> why;
    bool created, mismatch;
    {
        std::lock_guard lk(mu_);
        created = created_;
    }
    outcome_.update([&](outcome_fields& o) {
        o.ended = std::chrono::steady_clock::now();
        why = o.failure;
        mismatch = o.verified == verification::mismatch;
    });
    if (replaced_) {  // someone else's database now: not ours to keep state for, or to drop
        if (journal_) journal_->remove();
        return;
    }
    if (mismatch) {
        spdlog::warn("[{}] kept \"{}\" for inspection: it differs from the source", cfg_.name,
                     cfg_.target_db);
        if (journal_) journal_->remove();  // its hint is on_existing replace, not --resume
        return;
    }
    // What an earlier attempt made is not this one's to drop; what this one
    // made stays for --resume when the failure is one a rerun can get past.
    if (journal_ && (resuming_ || (created && why && sqlstate::resumable(*why)))) {
        spdlog::warn(
            "[{}] kept the unfinished database \"{}\" (its comment says INCOMPLETE) and its state in {}: "
            "run the same command with --resume to continue, or --restart to start over",
            cfg_.name, cfg_.target_db, journal_path_.string());
        return;
    }
    if (!created) {
        if (journal_) journal_->remove();
        return;
    }
    try {
        auto maint = pg::connection::open(server_conninfo(), "pghaul/admin", exit_code::target);
        // Only the database this run created: the name may be someone else's by now.
        if (auto oid = database_oid(maint, cfg_.target_db); oid != db_oid_) {
            spdlog::warn("[{}] left \"{}\" alone: it is not the database this run created", cfg_.name,
                         cfg_.target_db);
            return;
        }
        drop_database(maint, cfg_.target_db);
        if (journal_) journal_->remove();  // only now: a database that stays keeps its state
        spdlog::info("[{}] dropped the incomplete target database \"{}\"", cfg_.name, cfg_.target_db);
    } catch (const std::exception& e) {
        spdlog::error(
            "[{}] the incomplete target database \"{}\" could not be dropped ({}); its comment marks it "
            "INCOMPLETE and its state stays in {}: run the same command with --restart to drop it and copy "
            "again",
            cfg_.name, cfg_.target_db, e.what(), journal_path_.string());
    }
}

}  // namespace pghaul::engine
