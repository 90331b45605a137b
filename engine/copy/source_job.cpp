// The steps of one source's copy. Everything that can be checked is checked in
// preflight, before the target is written; once the new database exists it is
// marked INCOMPLETE until finish() commits, and a failure either drops it or,
// if a --resume can get past it, keeps it with its journal (source_resume.cpp).
#include "engine/copy/source_job.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>

#include "engine/common/credentials.hpp"
#include "engine/common/fault.hpp"
#include "engine/copy/large_objects.hpp"
#include "engine/copy/schema_plan.hpp"
#include "engine/copy/table_copy.hpp"
#include "engine/copy/target_database.hpp"
#include "engine/verify/verify.hpp"
#include "protocol/role_map.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/size.hpp"

namespace pghaul::engine {
namespace {

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void check_versions(pg::connection& source, pg::connection& maint, const std::string& pg_dump) {
    int src_major = source.server_version() / 10000;
    int tgt_major = maint.server_version() / 10000;
    int dump_major = pg_dump_major(pg_dump);
    if (dump_major < src_major)
        throw error(
            exit_code::preflight,
            "pg_dump " + std::to_string(dump_major) + " is older than the source server (" +
                std::to_string(src_major) + ")",
            "install postgresql-client-" + std::to_string(src_major) + " or newer, or pass --pg-dump PATH");
    if (tgt_major < src_major)
        throw error(exit_code::preflight,
                    "the target server (" + std::to_string(tgt_major) + ") is older than the source (" +
                        std::to_string(src_major) + ")",
                    "copy into a server of the same or a newer major version");
}

// pg_dump writes each database-level statement on its own line(s), ending in ';'.
std::vector<std::string> split_statements(const std::string& sql) {
    std::vector<std::string> out;
    std::string cur;
    std::size_t pos = 0;
    while (pos < sql.size()) {
        auto end = sql.find('\n', pos);
        if (end == std::string::npos) end = sql.size();
        cur.append(sql, pos, end - pos + 1);
        pos = end + 1;
        auto last = cur.find_last_not_of(" \n");
        if (last != std::string::npos && cur[last] == ';') {
            out.push_back(cur);
            cur.clear();
        }
    }
    if (cur.find_first_not_of(" \n") != std::string::npos) out.push_back(cur);
    return out;
}

void map_entries(std::vector<dump_entry>& entries, const std::map<std::string, std::string>& role_map) {
    for (auto& e : entries) e.sql = map_roles(e.type, e.sql, role_map);
}

// Failures a --resume can get past: the run was stopped, a server went away,
// or a resource (disk, memory, connections) ran out. Anything else would fail
// again the same way.
bool resumable(const error& e) {
    const int code = static_cast<int>(e.code());
    const auto& s = e.sqlstate();
    return code >= 128 || e.code() == exit_code::local || s.starts_with("08") || s.starts_with("53") ||
           s == "57P01" || s == "57P02" || s == "57P03";
}

}  // namespace

source_job::source_job(source_config cfg, const run_config& run, conninfo target_server)
    : cfg_(std::move(cfg)), run_(run), server_(std::move(target_server)) {
    schema_opt_.pg_dump = run.pg_dump;
    schema_opt_.no_owner = run.missing_roles == missing_roles_mode::owner;
    schema_opt_.no_privileges = run.no_privileges;
    target_ = server_.with_dbname(cfg_.target_db);
}

void source_job::fail(const error& e) {
    std::lock_guard lk(mu_);
    if (!failure) failure = e;
    status = source_status::failed;
}

void source_job::warn(std::string message) {
    spdlog::warn("[{}] {}", cfg_.name, message);
    std::lock_guard lk(mu_);
    warnings.push_back(std::move(message));
}

bool source_job::preflight(pg::connection& maint, bool dry_run) {
    started = std::chrono::steady_clock::now();
    if (!settle_earlier_attempt(maint, dry_run)) return false;
    source_ = resolve_credentials(cfg_.endpoint, "source \"" + cfg_.name + "\"");
    auto conn = pg::connection::open(source_, "pghaul/snapshot", exit_code::source);
    if (cfg_.snapshot.empty()) {
        holder_ = std::make_unique<snapshot_holder>(std::move(conn));
    } else {
        holder_ = std::make_unique<snapshot_holder>(std::move(conn), cfg_.snapshot);
        spdlog::info("[{}] copying as of the snapshot {} held outside pghaul", cfg_.name, cfg_.snapshot);
    }
    check_versions(holder_->connection(), maint, run_.pg_dump);
    cat_ = read_catalog(holder_->connection(), maint.server_version());
    plan_splits(cat_, run_.split_tables_larger_than, run_.split_part_size);
    lock_tables(holder_->connection(), cat_);
    snapshot_id_ = holder_->id();
    spdlog::info("[{}] source {}: {} tables, {}, snapshot {}", cfg_.name, holder_->connection().endpoint(),
                 cat_.tables.size(), format_size(cat_.database.bytes), snapshot_id_);

    if (resuming_ || drop_unprepared_) return true;  // the database is this copy's own
    target_existed_ = database_exists(maint, cfg_.target_db);
    if (target_existed_ && run_.existing == on_existing::skip) {
        spdlog::info("[{}] target database \"{}\" exists: skipped (on_existing skip)", cfg_.name,
                     cfg_.target_db);
        holder_.reset();
        return false;
    }
    if (target_existed_ && run_.existing == on_existing::fail)
        throw error(exit_code::preflight,
                    "target database \"" + cfg_.target_db + "\" already exists on " + maint.endpoint(),
                    "choose another name, or use --on-existing replace (drops it) or --on-existing skip");
    return true;
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

// A non-superuser can give an object to a role only if that role may create
// in the object's schema. On the source the owner may have needed no grant on
// public (a superuser, the old database's owner); on the new database public
// belongs to the target login, so the owners get CREATE on it for the load,
// taken back in finish() unless the source granted it too.
void source_job::grant_public_for_owners(pg::connection& ddl) {
    if (schema_opt_.no_owner) return;
    const std::string login = ddl.exec("SELECT current_user").str(0, 0);
    for (auto& source_role : cat_.owner_roles) {
        const std::string role = cfg_.target_role(source_role);
        if (role == login) continue;
        auto can = ddl.exec_params("SELECT has_schema_privilege($1, 'public', 'CREATE')", {role},
                                   "checking role \"" + role + "\" on schema public");
        if (can.boolean(0, 0)) continue;
        ddl.exec("GRANT CREATE ON SCHEMA public TO " + sql::ident(role),
                 "letting role \"" + role + "\" own objects in schema public");
        temporary_public_grants_.emplace_back(source_role, role);
    }
}

void source_job::revoke_temporary_grants(pg::connection& ddl) {
    for (auto& [source_role, role] : temporary_public_grants_) {
        auto& kept = cat_.public_create_grantees;
        if (std::find(kept.begin(), kept.end(), source_role) != kept.end()) continue;
        ddl.exec("REVOKE CREATE ON SCHEMA public FROM " + sql::ident(role),
                 "taking back role \"" + role + "\"'s load-time CREATE on schema public");
    }
}

void source_job::prepare() {
    // The schema is dumped before anything is written: a pg_dump failure
    // leaves the target untouched.
    schema_ = dump_schema(source_, snapshot_id_, cat_, cfg_.target_db, schema_opt_);
    if (!cfg_.role_map.empty()) {
        map_entries(schema_.pre_data, cfg_.role_map);
        map_entries(schema_.post_data, cfg_.role_map);
        map_entries(schema_.acl, cfg_.role_map);
        map_entries(schema_.database, cfg_.role_map);
        for (auto& [oid, post] : schema_.per_table) {
            map_entries(post.indexes, cfg_.role_map);
            map_entries(post.after, cfg_.role_map);
        }
    }
    const auto hash = schema_hash(schema_);
    open_journal(source_.endpoint());
    if (resuming_) {
        if (hash != earlier_->schema_hash)
            throw error(exit_code::source,
                        "the schema of source \"" + cfg_.name +
                            "\" changed since the interrupted attempt: its copy cannot be continued",
                        "run the same command with --restart to copy it again from the start");
        auto ddl = open_ddl_connection(target_, schema_.preamble, "pghaul/schema");
        active_guard guard(*this, ddl);
        resume_prepared(ddl);
        return;
    }
    auto maint = pg::connection::open(server_, "pghaul/admin", exit_code::target);
    if (target_existed_ || drop_unprepared_) {
        spdlog::info(
            "[{}] dropping {} target database \"{}\"", cfg_.name,
            drop_unprepared_ ? "the interrupted attempt's unprepared" : "the existing (on_existing replace)",
            cfg_.target_db);
        drop_database(maint, cfg_.target_db);
    }
    record("created");
    const auto& db = cat_.database;
    std::string create = "CREATE DATABASE " + sql::ident(cfg_.target_db) + " TEMPLATE template0 ENCODING " +
                         sql::literal(db.encoding) + " LC_COLLATE " + sql::literal(db.collate) +
                         " LC_CTYPE " + sql::literal(db.ctype);
    if (maint.server_version() >= 150000) {
        create += " LOCALE_PROVIDER " + db.locale_provider;
        if (db.locale_provider == "icu") create += " ICU_LOCALE " + sql::literal(db.icu_locale);
    }
    maint.exec(create, "creating database \"" + cfg_.target_db + "\"");
    {
        std::lock_guard lk(mu_);
        created_ = true;
    }
    // Marks the database as unfinished until finish() replaces the comment.
    maint.exec("COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS " +
                   sql::literal(std::string(incomplete_marker) + " copy from " + source_.endpoint() +
                                " in progress"),
               "marking database \"" + cfg_.target_db + "\" as in progress");

    auto ddl = open_ddl_connection(target_, schema_.preamble, "pghaul/schema");
    active_guard guard(*this, ddl);
    grant_public_for_owners(ddl);
    for (auto& e : schema_.pre_data) {
        run_entry(ddl, e);
        fault_point("schema");
    }
    record("prepared", {{"snapshot", snapshot_id_}, {"schema", hash}});
    spdlog::info("[{}] schema: {} objects created in \"{}\" ({:.1f} s)", cfg_.name, schema_.pre_data.size(),
                 cfg_.target_db, since(started));
}

// TRUNCATE + COPY FREEZE saves the table a later anti-wraparound vacuum, but
// TRUNCATE makes new files for the table, its TOAST table and index: with
// thousands of small tables that was most of the copy (2000 tables of 20 rows:
// 3.5 ms a table, the kernel busy creating inodes). A small table that is
// certainly still empty (created by this attempt's pre-data, first try) is
// just loaded; a retry or a resumed reload truncates, so it cannot double rows.
constexpr std::int64_t freeze_from_bytes = 8LL << 20;

table_result source_job::copy(pg::connection& reader, pg::connection& writer, const table_info& t,
                              const table_info::page_range* part, int attempt) {
    auto start = std::chrono::steady_clock::now();
    const bool truncate = t.bytes >= freeze_from_bytes || resuming_ || attempt > 0;
    auto r = copy_table(reader, writer, t, part, truncate, *data_path_,
                        [&] { unit_read(t.oid, part ? part->first : -1); });
    if (r.disk_full > 0)
        warn(
            fmt::format("{}: the spool's disk was full ({} writes refused); the source read waited {:.1f} s "
                        "for the target instead (--spool-dir on a bigger disk, or a lower --spool-limit)",
                        t.display(), r.disk_full, r.reader_waited_s));
    table_result res{r.rows, r.bytes, since(start), r.spooled_bytes, r.spool_file_bytes, snapshot_id_};
    if (part) {
        record(
            "part",
            {{"table", t.display()}, {"first", part->first}, {"rows", r.rows}, {"snapshot", snapshot_id_}});
        spdlog::debug("[{}] {} pages {}-{}: {} rows, {} in {:.2f} s", cfg_.name, t.display(), part->first,
                      part->end, r.rows, format_size(static_cast<std::int64_t>(r.bytes)), res.seconds);
        std::lock_guard lk(mu_);
        auto& total = results[t.oid];
        total.rows += res.rows;
        total.bytes += res.bytes;
        total.seconds += res.seconds;
        total.spooled_bytes += res.spooled_bytes;
        total.spool_file_bytes += res.spool_file_bytes;
        total.snapshot = res.snapshot;
        return res;
    }
    verify_count(writer, t, r.rows);
    record("table", {{"table", t.display()}, {"rows", r.rows}, {"snapshot", snapshot_id_}});
    fault_point("data");
    log_table(t, res);
    std::lock_guard lk(mu_);
    results[t.oid] = res;
    return res;
}

void source_job::verify_split(pg::connection& writer, const table_info& t) {
    table_result total;
    {
        std::lock_guard lk(mu_);
        total = results[t.oid];
    }
    verify_count(writer, t, total.rows);
    log_table(t, total);
}

// The load is committed; its count is the verification: nothing later in the
// run changes table rows, and row security and grants (which could hide rows
// from this login) arrive only in finish().
void source_job::verify_count(pg::connection& writer, const table_info& t, std::uint64_t expected) {
    auto n = static_cast<std::uint64_t>(
        writer.exec("SELECT count(*) FROM ONLY " + t.qualified(), "verifying " + t.display()).i64(0, 0));
    if (n != expected)
        throw error(
            exit_code::verify,
            "row count of \"" + t.display() + "\" differs after the copy: source " +
                std::to_string(expected) + " in the snapshot, target " + std::to_string(n),
            "something else wrote into the new database during the copy; rerun with on_existing replace");
}

void source_job::log_table(const table_info& t, const table_result& r) {
    bool notable =
        r.bytes >= (64u << 20) || r.seconds >= 1.0 || !t.binary() || !t.parts.empty() || r.spooled_bytes;
    spdlog::log(
        notable ? spdlog::level::info : spdlog::level::debug, "[{}] {}: {} rows, {} in {:.2f} s{}{}{}",
        cfg_.name, t.display(), r.rows, format_size(static_cast<std::int64_t>(r.bytes)), r.seconds,
        t.parts.empty() ? "" : fmt::format(" (connection-seconds, {} parts)", t.parts.size()),
        t.binary() ? "" : " (text format: " + t.text_reason + ")",
        r.spooled_bytes
            ? fmt::format(" ({} spooled as {})", format_size(static_cast<std::int64_t>(r.spooled_bytes)),
                          format_size(static_cast<std::int64_t>(r.spool_file_bytes)))
            : "");
}

void source_job::analyze(pg::connection& writer, const table_info& t) {
    if (!run_.analyze) return;
    writer.exec("ANALYZE " + t.qualified(), "analyzing " + t.display());
}

// NOT VALID first: adding it takes SHARE ROW EXCLUSIVE on both tables only
// for a moment, and VALIDATE then scans under locks that let other foreign
// keys of the same tables validate at the same time.
void source_job::add_foreign_key(pg::connection& writer, const schema_plan::foreign_key& fk, bool redo) {
    try {
        run_entry(writer, fk.add);
    } catch (const error& err) {
        if (!committed_before(err, redo)) throw;  // added before; VALIDATE is idempotent
    }
    run_entry(writer, fk.validate);
    record("step", {{"name", "fk " + step_key(fk.add)}});
    std::lock_guard lk(mu_);
    ++indexes_built;
}

void source_job::build_index(pg::connection& writer, const dump_entry& e, bool redo) {
    try {
        run_entry(writer, e);
    } catch (const error& err) {
        if (!committed_before(err, redo)) throw;
        spdlog::info("[{}] {} exists: built before the {}", cfg_.name, step_key(e),
                     redo ? "connection was lost" : "interruption");
    }
    fault_point("index-unrecorded");
    record("step", {{"name", step_key(e)}});
    fault_point("index");
    std::lock_guard lk(mu_);
    ++indexes_built;
}

// One transaction, so a crash leaves all of a table's constraints or none.
void source_job::attach(pg::connection& writer, const table_info& t, bool redo) {
    auto it = schema_.per_table.find(t.oid);
    if (it != schema_.per_table.end() && !it->second.after.empty()) {
        writer.exec("BEGIN", "starting the constraints of " + t.display());
        std::size_t ran = 0;
        try {
            for (auto& e : it->second.after) {
                run_entry(writer, e);
                ++ran;
            }
            writer.exec("COMMIT", "committing the constraints of " + t.display());
        } catch (const error& err) {
            writer.rollback();
            // Only the first statement can tell: the transaction committed all or none.
            if (ran > 0 || !committed_before(err, redo)) throw;
            spdlog::info("[{}] the constraints of {} exist: added before the {}", cfg_.name, t.display(),
                         redo ? "connection was lost" : "interruption");
        }
        fault_point("constraints-unrecorded");
        std::lock_guard lk(mu_);
        indexes_built += it->second.after.size();
    }
    analyze(writer, t);
    record("attached", {{"table", t.display()}});
}

void source_job::finish(int worker) {
    auto ddl = open_ddl_connection(target_, schema_.preamble, "pghaul/finish");
    active_guard guard(*this, ddl);
    const bool verifying = run_.verify != run_config::verify_level::none;
    if (!finished_earlier_) {
        // Written with lo_put at fixed offsets: a resumed attempt rewrites them harmlessly.
        // (Without large objects the snapshot may be gone already: see unit_read.)
        if (!cat_.large_objects.empty())
            large_object_bytes = copy_large_objects(holder_->connection(), ddl, cat_.large_objects);
        // Every reader is done: the source's snapshot can go, unless the end-of-copy
        // verification is to compare against it.
        if (!verifying) release_snapshot();
        spdlog::info("[{}] data: {} tables and {} indexes/constraints done ({:.1f} s)", cfg_.name,
                     cat_.tables.size(), indexes_built, since(started));
        finish_post_data(ddl);
        record("finished");
    } else if (!verifying) {
        release_snapshot();
    }
    if (verifying) verify_against_snapshot(ddl, worker);
    record("done");  // kept until the whole run is done: a --resume skips this source
    ended = std::chrono::steady_clock::now();
    std::lock_guard lk(mu_);
    status = source_status::done;
}

// Post-data, sequences, grants and database settings in one transaction that
// also clears the INCOMPLETE comment: after a crash it either all happened
// (and the comment says so) or none of it did, so a resume never runs a step twice.
void source_job::finish_post_data(pg::connection& ddl) {
    ddl.exec("BEGIN", "starting the post-data transaction");
    for (auto& e : schema_.post_data) run_entry(ddl, e);
    // setval is not transactional, and idempotent: a redo sets the same value.
    for (auto& s : cat_.sequences)
        ddl.exec("SELECT pg_catalog.setval(" + sql::literal(sql::qualified(s.schema, s.name)) + ", " +
                     std::to_string(s.last_value) + ", " + (s.is_called ? "true" : "false") + ")",
                 "setting sequence \"" + s.schema + "." + s.name + "\"");
    for (auto& e : schema_.acl) run_entry(ddl, e);
    revoke_temporary_grants(ddl);

    // Database-level settings, comment, grants and owner follow the copy to its
    // new name, one statement at a time: a managed target refuses ALTER ROLE ...
    // IN DATABASE without CREATEROLE, which must not take the others with it.
    ddl.exec("COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS NULL",
             "clearing the in-progress marker");
    auto tolerated = [&](const std::string& stmt, const std::string& what, const std::string& note) {
        ddl.exec("SAVEPOINT pghaul_setting", "setting a savepoint");
        try {
            ddl.exec(stmt, what);
            ddl.exec("RELEASE SAVEPOINT pghaul_setting", "releasing the savepoint");
        } catch (const error& err) {
            if (err.sqlstate().starts_with("08")) throw;
            ddl.exec("ROLLBACK TO SAVEPOINT pghaul_setting", "rolling back to the savepoint");
            warn(err.what() + note);
        }
    };
    for (auto& e : schema_.database)
        for (auto& stmt : split_statements(e.sql))
            tolerated(stmt, "applying \"" + stmt.substr(0, stmt.find_last_not_of(" \n;") + 1) + "\"", "");
    const std::string owner = cfg_.target_role(cat_.database.owner);
    if (!schema_opt_.no_owner && owner != ddl.exec("SELECT current_user").str(0, 0))
        tolerated("ALTER DATABASE " + sql::ident(cfg_.target_db) + " OWNER TO " + sql::ident(owner),
                  "giving database \"" + cfg_.target_db + "\" to its source owner \"" + owner + "\"",
                  " (the target login keeps ownership)");
    fault_point("post-data");
    ddl.exec("COMMIT", "committing post-data");
    spdlog::info("[{}] post-data: {} steps, {} sequences, grants and database settings done ({:.1f} s)",
                 cfg_.name, schema_.post_data.size(), cat_.sequences.size(), since(started));
}

void source_job::release_snapshot() {
    std::lock_guard lk(snapshot_mu_);
    if (!holder_) return;
    holder_->connection().exec("COMMIT", "releasing the source snapshot");
    holder_.reset();
    snapshot_released = std::chrono::steady_clock::now();
}

void source_job::begin_read(pg::connection& reader, const table_info& t) {
    {
        std::lock_guard lk(snapshot_mu_);
        if (!holder_)  // released once every unit was read (unit_read)
            throw error(exit_code::source,
                        "cannot read " + t.display() +
                            " again: the source snapshot was released once every "
                            "table had been read",
                        "run the same command with --resume: it loads again what did not commit",
                        "08007");  // as a part's unknown commit: not retried here, kept for --resume
    }
    import_snapshot(reader, snapshot_id_);
}

void source_job::expect_reads(std::size_t units) {
    std::lock_guard lk(snapshot_mu_);
    reads_expected_ = units;
}

// The source's part is over once every unit has been read (what is left drains
// from memory and spool into the target): its snapshot and locks go at once
// instead of when the last load commits, unless something still needs them:
// large objects (read in finish), the end-of-copy verification, a retry.
void source_job::unit_read(std::uint32_t table, std::int64_t first_page) {
    {
        std::lock_guard lk(snapshot_mu_);
        units_read_.emplace(table, first_page);
        if (units_read_.size() < reads_expected_ || !holder_) return;
        if (run_.verify != run_config::verify_level::none || !cat_.large_objects.empty()) return;
    }
    release_snapshot();
    spdlog::info("[{}] every table read: source snapshot released after {:.1f} s", cfg_.name, since(started));
}

// The whole database against the source as of the copy's own snapshot (so a
// live source cannot cause false differences): row counts or checksums,
// sequences, schema objects, owners and privileges through the role map,
// settings. A mismatch fails the source but keeps its database, marked, for
// inspection.
void source_job::verify_against_snapshot(pg::connection& ddl, int worker) {
    timeline_entry bar{"verify", "", worker, std::chrono::steady_clock::now(), {}, true};
    verify_options opt;
    opt.checksums = run_.verify == run_config::verify_level::checksums;
    opt.jobs = std::max(1, run_.jobs);
    opt.role_map = cfg_.role_map;
    opt.source_snapshot = snapshot_id_;
    opt.privileges = !schema_opt_.no_privileges;
    if (schema_opt_.no_owner) {
        // Everything belongs to the target login, and so do the owners' own rights.
        const std::string login = ddl.exec("SELECT current_user").str(0, 0);
        for (auto& r : cat_.owner_roles) opt.role_map[r] = login;
    }
    {
        std::lock_guard lk(mu_);
        for (auto& w : warnings)
            if (w.find("ALTER ROLE") != std::string::npos) opt.role_settings = false;
    }
    auto r = verify_databases(source_, target_, opt);
    release_snapshot();
    bar.end = std::chrono::steady_clock::now();
    bar.ok = r.equal();
    {
        std::lock_guard lk(mu_);
        timeline.push_back(bar);
    }
    verified = r.equal() ? (opt.checksums ? "checksums match" : "counts match") : "MISMATCH";
    if (r.equal()) {
        spdlog::info(
            "[{}] verified: {} tables{}, {} sequences, {} objects, {} privileges, {} settings ({:.1f} s)",
            cfg_.name, r.tables, opt.checksums ? " with checksums" : "", r.sequences, r.objects, r.privileges,
            r.settings, r.seconds);
        return;
    }
    std::string list;
    for (std::size_t i = 0; i < r.mismatches.size() && i < 10; ++i) {
        auto& m = r.mismatches[i];
        list += "\n  " + m.kind + " " + m.object + ": source " + (m.source.empty() ? "(none)" : m.source) +
                ", target " + (m.target.empty() ? "(none)" : m.target);
    }
    ddl.exec("COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS " +
                 sql::literal("pghaul: copy FAILED verification against " + source_.endpoint()),
             "marking database \"" + cfg_.target_db + "\" as failed");
    throw error(
        exit_code::verify,
        std::to_string(r.mismatches.size()) + " differences between the source and \"" + cfg_.target_db +
            "\" after the copy:" + list,
        "the database is kept for inspection (its comment says it failed); run pghaul verify for the full "
        "list, then rerun with on_existing replace");
}

void source_job::cancel_running() noexcept {
    std::lock_guard lk(mu_);
    if (active_) active_->request_cancel();
}

void source_job::clean_up() noexcept {
    {
        std::lock_guard lk(snapshot_mu_);
        holder_.reset();
    }
    ended = std::chrono::steady_clock::now();
    std::optional<error> why;
    bool created, mismatch;
    {
        std::lock_guard lk(mu_);
        why = failure;
        created = created_;
        mismatch = verified == "MISMATCH";
    }
    if (mismatch) {
        spdlog::warn("[{}] kept \"{}\" for inspection: it differs from the source", cfg_.name,
                     cfg_.target_db);
        if (journal_) journal_->remove();  // its hint is on_existing replace, not --resume
        return;
    }
    // What an earlier attempt made is not this one's to drop; what this one
    // made stays for --resume when the failure is one a rerun can get past.
    if (journal_ && (resuming_ || (created && why && resumable(*why)))) {
        spdlog::warn(
            "[{}] kept the unfinished database \"{}\" (its comment says INCOMPLETE) and its state in {}: "
            "run the same command with --resume to continue, or --restart to start over",
            cfg_.name, cfg_.target_db, journal_path_.string());
        return;
    }
    if (journal_) journal_->remove();
    if (!created) return;
    try {
        auto maint = pg::connection::open(server_, "pghaul/admin", exit_code::target);
        drop_database(maint, cfg_.target_db);
        spdlog::info("[{}] dropped the incomplete target database \"{}\"", cfg_.name, cfg_.target_db);
    } catch (const std::exception& e) {
        spdlog::error(
            "[{}] the incomplete target database \"{}\" could not be dropped ({}); its comment marks it "
            "INCOMPLETE: "
            "drop it, or rerun with on_existing replace",
            cfg_.name, cfg_.target_db, e.what());
    }
}

}  // namespace pghaul::engine
