// The first step of a source: its schema from pg_dump, the new database
// (marked INCOMPLETE until finish), load-time grants, and pre-data.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <optional>

#include "engine/catalog/pg_dump.hpp"
#include "engine/common/fault.hpp"
#include "engine/copy/detail/steps.hpp"
#include "engine/copy/source_job.hpp"
#include "engine/copy/target_database.hpp"
#include "protocol/role_map.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

using steps::since;

namespace {

void map_entries(std::vector<dump_entry>& entries, const std::map<std::string, std::string>& role_map) {
    for (auto& e : entries) e.sql = map_roles(e.type, e.sql, role_map);
}

}  // namespace

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
    // The schema's owner now (pre-data may have given public to one of the
    // roles granted CREATE for the load): its CREATE is the owner's own, and
    // taking it back would leave the owner without it.
    const std::string public_owner =
        temporary_public_grants_.empty()
            ? std::string()
            : ddl.exec("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'",
                       "reading the owner of schema public")
                  .str(0, 0);
    for (auto& [source_role, role] : temporary_public_grants_) {
        auto& kept = cat_.public_create_grantees;
        if (std::find(kept.begin(), kept.end(), source_role) != kept.end() || role == public_owner) continue;
        ddl.exec("REVOKE CREATE ON SCHEMA public FROM " + sql::ident(role),
                 "taking back role \"" + role + "\"'s load-time CREATE on schema public");
    }
    // Before 15 the target's public belongs to its bootstrap superuser: a
    // login that is not its owner cannot grant on it, and the server only
    // says "no privileges were granted". Say which grant did not carry over
    // (the explicit grant: PUBLIC may still hold CREATE there, as before 15).
    for (auto& source_role : cat_.public_create_grantees) {
        const auto role = cfg_.target_role(source_role);
        auto r = ddl.exec_params(
            "SELECT NOT EXISTS (SELECT FROM aclexplode(n.nspacl) a WHERE a.grantee = r.oid "
            "AND a.privilege_type = 'CREATE'), pg_get_userbyid(n.nspowner) "
            "FROM pg_roles r, pg_namespace n WHERE r.rolname = $1 AND n.nspname = 'public'",
            {role}, "checking role \"" + role + "\"'s CREATE on schema public");
        if (r.rows() > 0 && r.boolean(0, 0))
            warn("CREATE on schema public for role \"" + role +
                 "\" did not carry over: on the target, public "
                 "belongs to \"" +
                 r.str(0, 1) +
                 "\", which alone can grant it (as that role: GRANT CREATE ON "
                 "SCHEMA public TO " +
                 sql::ident(role) + ")");
    }
}

// Drops what on_existing replace or an unprepared earlier attempt left,
// creates the database with the source's encoding and locale, and marks it
// unfinished until finish() replaces the comment. On the run's shared
// maintenance connection, or else its own, closed before pre-data opens one
// on the new database: a worker holds one target connection at a time.
void source_job::create_target_database() {
    std::optional<pg::connection> own;
    std::unique_lock<std::mutex> shared;
    if (maintenance_)
        shared = std::unique_lock(maintenance_->mu);
    else
        own.emplace(pg::connection::open(server_conninfo(), "pghaul/admin", exit_code::target));
    auto& maint = maintenance_ ? maintenance_->conn : *own;
    active_guard guard(*this, maint);
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
        // 17's builtin provider (LOCALE 'C.UTF-8'); the check in preflight
        // refuses it for older targets.
        if (db.locale_provider == "builtin") create += " BUILTIN_LOCALE " + sql::literal(db.icu_locale);
    }
    maint.exec(create, "creating database \"" + cfg_.target_db + "\"");
    {
        std::lock_guard lk(mu_);
        created_ = true;
        db_oid_ = database_oid(maint, cfg_.target_db);
    }
    record("database", {{"oid", db_oid_}});
    maint.exec(
        "COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS " +
            sql::literal(std::string(incomplete_marker) + " copy from " + source_endpoint_ + " in progress"),
        "marking database \"" + cfg_.target_db + "\" as in progress");
}

// pg_dump's share of the relation filter. -T and -N pass as written; a
// choice (-t, -n) has no pg_dump equivalent (pg_dump's own -t and -n leave out
// every schema, type and function), so what the catalog left out is named
// one by one, which needs the catalog first.
std::vector<std::string> source_job::dump_selection() const {
    if (!cfg_.exclude.chooses()) return cfg_.exclude.pg_dump_args();
    std::vector<std::string> out;
    for (auto& [schema, name] : cat_.excluded_relations)
        out.push_back("--exclude-table=" + exact_pattern(schema, name));
    for (auto& schema : cat_.excluded_schemas) out.push_back("--exclude-schema=" + exact_pattern(schema));
    return out;
}

void source_job::start_schema_dump(std::counting_semaphore<>* gate) {
    // Taken now, not read while the task runs beside preflight; the grants
    // settle_roles decides to skip are dropped from the plan by read_schema.
    auto opt = schema_opt_;
    auto selection = dump_selection();
    if (!source_security_labels_) selection.push_back("--no-security-labels");
    archive_ = std::async(std::launch::async, [this, gate, opt, selection] {
        std::string archive;
        {
            // A few at a time: each is a process and a pass over a source's catalog.
            if (gate) gate->acquire();
            struct release {
                std::counting_semaphore<>* g;
                ~release() {
                    if (g) g->release();
                }
            } guard{gate};
            archive = dump_schema_archive(schema_opt_.pg_dump, source_conninfo(), snapshot_id_,
                                          run_.lock_wait_timeout, selection);
        }
        // The archive's two sections as SQL, each by its own pg_restore, side
        // by side, while CREATE DATABASE runs (about 100 ms of a small
        // database's critical path when they ran after it).
        auto post =
            std::async(std::launch::async, [&] { return restore_section(opt, archive, "post-data"); });
        std::string pre = restore_section(opt, archive, "pre-data");
        return schema_sections{std::move(pre), post.get()};
    });
}

schema_plan source_job::read_schema() {
    if (!archive_.valid()) start_schema_dump(nullptr);
    const auto sections = archive_.get();
    auto plan = build_schema_plan(sections.pre_data, sections.post_data, cat_, cfg_.target_db);
    if (!cfg_.role_map.empty()) {
        map_entries(plan.pre_data, cfg_.role_map);
        map_entries(plan.post_data, cfg_.role_map);
        map_entries(plan.acl, cfg_.role_map);
        map_entries(plan.database, cfg_.role_map);
        for (auto& [oid, post_data] : plan.per_table) {
            map_entries(post_data.indexes, cfg_.role_map);
            map_entries(post_data.after, cfg_.role_map);
        }
    }
    // Grants to roles the target lacks (missing_roles = "owner"), by their target names.
    drop_grants_to(plan, grants_skipped_to_);
    return plan;
}

pg::connection source_job::prepare() {
    open_journal(source_endpoint_);
    if (resuming_) {
        schema_ = read_schema();
        if (schema_hash(schema_) != earlier_->schema_hash)
            throw error(exit_code::source,
                        "the schema of source \"" + cfg_.name +
                            "\" changed since the interrupted attempt: its copy cannot be continued",
                        "run the same command with --restart to copy it again from the start");
        auto ddl = open_ddl_connection(target_conninfo(), schema_.preamble, "pghaul/worker");
        check_target(ddl);
        {
            active_guard guard(*this, ddl);
            resume_prepared(ddl);
        }
        return ddl;
    }
    // While pg_dump (started after preflight) may still run: a pg_dump failure
    // then drops the database this attempt created, like any failure that
    // would fail again.
    const auto t0 = std::chrono::steady_clock::now();
    create_target_database();
    const double created_s = since(t0);
    schema_ = read_schema();
    const double schema_read_s = since(t0);
    const auto hash = schema_hash(schema_);

    auto ddl = open_ddl_connection(target_conninfo(), schema_.preamble, "pghaul/worker");
    check_target(ddl);
    {
        active_guard guard(*this, ddl);
        grant_public_for_owners(ddl);
        // A few hundred statements a transaction, one round trip each, as
        // pg_restore --transaction-size: each separate commit is a WAL flush.
        constexpr std::size_t batch = 250;
        for (std::size_t first = 0; first < schema_.pre_data.size(); first += batch) {
            std::vector<const dump_entry*> entries;
            for (std::size_t i = first; i < std::min(first + batch, schema_.pre_data.size()); ++i)
                entries.push_back(&schema_.pre_data[i]);
            run_entries(ddl, entries, "creating the schema of \"" + cfg_.target_db + "\"");
            fault_point("schema");
        }
    }
    record("prepared", {{"snapshot", snapshot_id_}, {"schema", hash}});
    spdlog::debug(
        "[{}] prepare: database created after {:.3f} s, schema read after {:.3f} s, pre-data done after "
        "{:.3f} s",
        cfg_.name, created_s, schema_read_s, since(t0));
    spdlog::info("[{}] schema: {} objects created in \"{}\" ({:.1f} s)", cfg_.name, schema_.pre_data.size(),
                 cfg_.target_db, since(outcome_.started()));
    return ddl;
}

}  // namespace pghaul::engine
