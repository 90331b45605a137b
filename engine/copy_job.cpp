// Orchestration of `pghaul copy`. Everything that can be checked is checked
// before the target is touched; once the new database exists, any failure
// drops it again, so a half-done copy never looks complete.
#include "engine/copy_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/catalog.hpp"
#include "engine/data_phase.hpp"
#include "engine/large_objects.hpp"
#include "engine/plan.hpp"
#include "engine/schema.hpp"
#include "engine/snapshot.hpp"
#include "protocol/error.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {
namespace {

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string validate_target_name(const copy_options& opt) {
    auto db = opt.target.dbname();
    if (!db || db->empty())
        throw error(exit_code::usage, "the target connection string names no database",
                    "its dbname is the NEW database to create, e.g. --target 'host=... dbname=app_db_a'");
    if (db->size() > 63)
        throw error(exit_code::usage, "target database name \"" + *db + "\" is longer than 63 bytes");
    if (*db == opt.maintenance_db || *db == "template0" || *db == "template1")
        throw error(exit_code::usage,
                    "target database name \"" + *db + "\" names a system or maintenance database",
                    "choose a new name; pghaul creates the target database itself");
    return *db;
}

// Roles the target lacks, and owner roles the (non-superuser) login cannot act as.
void check_roles(pg::connection& maint, const source_catalog& cat, const copy_options& opt) {
    std::vector<std::string> needed;
    if (!opt.no_owner) needed.insert(needed.end(), cat.owner_roles.begin(), cat.owner_roles.end());
    if (!opt.no_privileges) needed.insert(needed.end(), cat.grant_roles.begin(), cat.grant_roles.end());
    std::sort(needed.begin(), needed.end());
    needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
    std::vector<std::string> missing, not_member;
    for (auto& role : needed) {
        auto r = maint.exec_params(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
            "EXISTS (SELECT FROM pg_roles WHERE rolname = $1), "
            "EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AND pg_has_role(current_user, $1, 'MEMBER')",
            {role}, "checking role " + role + " on the target");
        bool is_owner = std::binary_search(cat.owner_roles.begin(), cat.owner_roles.end(), role);
        if (!r.boolean(0, 1))
            missing.push_back(role);
        else if (!opt.no_owner && is_owner && !r.boolean(0, 0) && !r.boolean(0, 2))
            not_member.push_back(role);
    }
    if (!missing.empty())
        throw error(exit_code::preflight,
                    "roles referenced by the source are missing on the target " + maint.endpoint() + ": " +
                        join(missing),
                    "create them on the target first, or use --no-owner (objects owned by the target login) "
                    "and --no-privileges (grants skipped)");
    if (!not_member.empty())
        throw error(exit_code::preflight,
                    "the target login is not a member of roles that own objects: " + join(not_member),
                    "GRANT " + not_member.front() + " TO <target login>, or use --no-owner");
}

void check_versions(pg::connection& source, pg::connection& maint, const copy_options& opt) {
    int src_major = source.server_version() / 10000;
    int tgt_major = maint.server_version() / 10000;
    int dump_major = pg_dump_major(opt.pg_dump);
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

bool database_exists(pg::connection& maint, const std::string& name) {
    return maint
               .exec_params("SELECT FROM pg_database WHERE datname = $1", {name},
                            "checking the target database")
               .rows() > 0;
}

void create_database(pg::connection& maint, const database_info& src, const std::string& name,
                     const std::string& source_endpoint) {
    std::string sql = "CREATE DATABASE " + sql::ident(name) + " TEMPLATE template0 ENCODING " +
                      sql::literal(src.encoding) + " LC_COLLATE " + sql::literal(src.collate) + " LC_CTYPE " +
                      sql::literal(src.ctype);
    if (maint.server_version() >= 150000) {
        sql += " LOCALE_PROVIDER " + src.locale_provider;
        if (src.locale_provider == "icu") sql += " ICU_LOCALE " + sql::literal(src.icu_locale);
    }
    maint.exec(sql, "creating database \"" + name + "\"");
    // Marks the database as unfinished until the very end replaces the comment.
    maint.exec("COMMENT ON DATABASE " + sql::ident(name) + " IS " +
                   sql::literal("pghaul: INCOMPLETE copy from " + source_endpoint + " in progress"),
               "marking database \"" + name + "\" as in progress");
}

void drop_database(pg::connection& maint, const std::string& name) {
    maint.exec("DROP DATABASE IF EXISTS " + sql::ident(name) + " WITH (FORCE)",
               "dropping database \"" + name + "\"");
}

std::vector<std::string> split_lines_ending_in_semicolon(const std::string& sql) {
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

// Database-level settings, comment, grants and owner follow the copy to its new
// name. Statements a managed target refuses (ALTER ROLE ... IN DATABASE needs
// CREATEROLE) are warnings, not failures: the data is complete.
std::size_t apply_database_entries(pg::connection& conn, const schema_plan& schema, const source_catalog& cat,
                                   const copy_options& opt, const std::string& name) {
    std::size_t warnings = 0;
    conn.exec("COMMENT ON DATABASE " + sql::ident(name) + " IS NULL", "clearing the in-progress marker");
    // One statement at a time (pg_dump writes each on its own line), so one
    // refused ALTER ROLE ... IN DATABASE does not take the others with it.
    for (auto& e : schema.database) {
        for (auto& stmt : split_lines_ending_in_semicolon(e.sql)) {
            try {
                conn.exec(stmt, "applying \"" + stmt.substr(0, stmt.find_last_not_of(" \n;") + 1) + "\"");
            } catch (const error& err) {
                ++warnings;
                spdlog::warn("{}", err.what());
            }
        }
    }
    if (!opt.no_owner && cat.database.owner != conn.exec("SELECT current_user").str(0, 0)) {
        try {
            conn.exec("ALTER DATABASE " + sql::ident(name) + " OWNER TO " + sql::ident(cat.database.owner),
                      "giving database \"" + name + "\" to its source owner \"" + cat.database.owner + "\"");
        } catch (const error& err) {
            ++warnings;
            spdlog::warn("{} (the target login keeps ownership)", err.what());
        }
    }
    return warnings;
}

void set_sequences(pg::connection& conn, const source_catalog& cat) {
    for (auto& s : cat.sequences)
        conn.exec("SELECT pg_catalog.setval(" + sql::literal(sql::qualified(s.schema, s.name)) + ", " +
                      std::to_string(s.last_value) + ", " + (s.is_called ? "true" : "false") + ")",
                  "setting sequence \"" + s.schema + "." + s.name + "\"");
}

// Row counts on the target, compared with what the source held in the snapshot.
void verify_counts(const conninfo& target, const source_catalog& cat, const data_phase_result& data,
                   int jobs) {
    std::vector<std::string> mismatches;
    std::mutex m;
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    auto work = [&] {
        try {
            auto conn = pg::connection::open(target, "pghaul/verify", exit_code::target);
            for (std::size_t i = next++; i < cat.tables.size(); i = next++) {
                auto& t = cat.tables[i];
                auto n = static_cast<std::uint64_t>(
                    conn.exec("SELECT count(*) FROM ONLY " + t.qualified(), "counting rows of " + t.display())
                        .i64(0, 0));
                auto expected = data.rows.at(t.oid);
                if (n != expected) {
                    std::lock_guard lk(m);
                    mismatches.push_back(t.display() + " (source " + std::to_string(expected) + ", target " +
                                         std::to_string(n) + ")");
                }
            }
        } catch (...) {
            std::lock_guard lk(m);
            failure = std::current_exception();
        }
    };
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < std::max(1, jobs); ++i) threads.emplace_back(work);
    }
    if (failure) std::rethrow_exception(failure);
    if (!mismatches.empty())
        throw error(exit_code::verify, "row counts differ after the copy: " + join(mismatches),
                    "the target may have been written to during the copy; rerun with --on-existing replace");
}

}  // namespace

copy_summary run_copy(const copy_options& opt) {
    auto started = std::chrono::steady_clock::now();
    const std::string target_db = validate_target_name(opt);
    const conninfo target_new = opt.target;
    const conninfo target_maint = opt.target.with_dbname(opt.maintenance_db);
    copy_summary summary;

    // Preflight: read-only on both servers.
    auto maint = pg::connection::open(target_maint, "pghaul/admin", exit_code::target);
    snapshot_holder holder(pg::connection::open(opt.source, "pghaul/snapshot", exit_code::source));
    check_versions(holder.connection(), maint, opt);
    auto cat = read_catalog(holder.connection(), maint.server_version());
    lock_tables(holder.connection(), cat);
    spdlog::info("source {}: {} tables, {}, snapshot {}", holder.connection().endpoint(), cat.tables.size(),
                 format_bytes(cat.database.bytes), holder.id());

    bool exists = database_exists(maint, target_db);
    if (exists && opt.existing == on_existing::skip) {
        spdlog::info("target database \"{}\" exists: skipped (--on-existing skip)", target_db);
        summary.skipped = true;
        return summary;
    }
    if (exists && opt.existing == on_existing::fail)
        throw error(exit_code::preflight,
                    "target database \"" + target_db + "\" already exists on " + maint.endpoint(),
                    "choose another name, or use --on-existing replace (drops it) or --on-existing skip");
    check_roles(maint, cat, opt);
    auto login = maint.exec("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user");
    if (!login.boolean(0, 0))
        throw error(exit_code::preflight,
                    "the target login on " + maint.endpoint() + " may not create databases",
                    "ALTER ROLE <login> CREATEDB, or ask the server's administrator");

    if (opt.dry_run) {
        summary.plan =
            describe_plan(cat, holder.connection().endpoint(), maint.endpoint(), target_db, opt.jobs);
        summary.tables = cat.tables.size();
        return summary;
    }

    // The schema is dumped before anything is written, so a pg_dump failure
    // leaves the target untouched.
    auto schema =
        dump_schema(opt.source, holder.id(), cat, target_db,
                    {.pg_dump = opt.pg_dump, .no_owner = opt.no_owner, .no_privileges = opt.no_privileges});

    if (exists) {
        spdlog::info("dropping existing target database \"{}\" (--on-existing replace)", target_db);
        drop_database(maint, target_db);
    }
    create_database(maint, cat.database, target_db, holder.connection().endpoint());
    try {
        auto ddl = open_ddl_connection(target_new, schema.preamble, "pghaul/schema");
        for (auto& e : schema.pre_data) run_entry(ddl, e);
        spdlog::info("schema: {} objects created in \"{}\" ({:.1f} s)", schema.pre_data.size(), target_db,
                     since(started));

        data_phase_input in{opt.source, target_new, holder.id(), schema.preamble, std::max(1, opt.jobs)};
        std::uint64_t lo_bytes = 0;
        auto data = run_data_phase(in, cat, schema.per_table, [&] {
            lo_bytes = copy_large_objects(holder.connection(), ddl, cat.large_objects);
        });
        // Every reader has finished: the source's snapshot can go.
        holder.connection().exec("COMMIT", "releasing the source snapshot");
        spdlog::info("data: {} tables and their {} indexes/constraints done, snapshot released ({:.1f} s)",
                     cat.tables.size(), data.indexes, since(started));

        // Counted before row security and grants arrive (both may hide rows from
        // the target login); nothing after this point changes table contents.
        verify_counts(target_new, cat, data, opt.jobs);
        spdlog::info("verify: row counts of {} tables match ({:.1f} s)", cat.tables.size(), since(started));
        for (auto& e : schema.post_data) run_entry(ddl, e);
        set_sequences(ddl, cat);
        for (auto& e : schema.acl) run_entry(ddl, e);
        summary.warnings += apply_database_entries(ddl, schema, cat, opt, target_db);
        spdlog::info("post-data: {} steps, {} sequences, grants and database settings done ({:.1f} s)",
                     schema.post_data.size(), cat.sequences.size(), since(started));

        summary.tables = cat.tables.size();
        for (auto& [oid, n] : data.rows) summary.rows += n;
        summary.bytes = data.bytes + lo_bytes;
        summary.indexes = data.indexes;
        summary.sequences = cat.sequences.size();
        summary.large_objects = cat.large_objects.size();
    } catch (...) {
        // The caller reports the error itself; here the half-made database goes.
        try {
            drop_database(maint, target_db);
            spdlog::info("dropped the incomplete target database \"{}\"", target_db);
        } catch (const error& drop_error) {
            spdlog::error(
                "the incomplete target database \"{}\" could not be dropped ({}); it is marked INCOMPLETE "
                "in its comment: drop it, or rerun with --on-existing replace",
                target_db, drop_error.what());
        }
        throw;
    }
    summary.seconds = since(started);
    return summary;
}

}  // namespace pghaul::engine
