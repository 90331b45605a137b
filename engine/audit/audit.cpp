// The audit's frame (connections, read-only transactions, the context) and
// its first checks: size and copy time, versions, encodings, locales,
// pg_dump and extensions.
#include "engine/audit/audit.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "engine/audit/detail/checks.hpp"
#include "engine/catalog/pg_dump.hpp"
#include "engine/catalog/target_facts.hpp"
#include "protocol/size.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

const char* to_string(severity s) {
    switch (s) {
        case severity::blocker:
            return "blocker";
        case severity::warning:
            return "warning";
        case severity::info:
            return "info";
    }
    return "info";
}

const char* to_string(owner_group g) {
    switch (g) {
        case owner_group::security:
            return "security";
        case owner_group::platform:
            return "platform";
        case owner_group::application:
            return "application";
    }
    return "platform";
}

std::size_t audit_report::count(severity s) const {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [&](const finding& f) { return f.level == s; }));
}

namespace detail {

const char* const user_relation_filter = R"(
    n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
    AND n.nspname NOT LIKE 'pg\_temp%'
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e'))";

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

void audit_context::add(severity s, owner_group g, std::string category, std::string what,
                        std::vector<std::string> objects, std::string why, std::string todo) {
    report.findings.push_back(
        {s, g, std::move(category), std::move(what), std::move(objects), std::move(why), std::move(todo)});
}

std::optional<pg::result> audit_context::try_query(pg::connection& conn, const std::string& sql,
                                                   std::string& error) {
    conn.exec("SAVEPOINT pghaul_check", "setting a savepoint");
    try {
        auto r = conn.exec(sql, "audit check");
        conn.exec("RELEASE SAVEPOINT pghaul_check", "releasing a savepoint");
        return r;
    } catch (const pghaul::error& e) {
        error = e.what();
        conn.exec("ROLLBACK TO SAVEPOINT pghaul_check", "rolling back to a savepoint");
        return std::nullopt;
    }
}

void audit_context::could_not_check(owner_group g, const std::string& category, const std::string& what,
                                    const std::string& error) {
    add(severity::info, g, category, "could not check " + what, {},
        "the audit login may not read it: " + error,
        "run the audit as a superuser (or a member of pg_read_all_stats / pg_read_all_settings) to see it");
}

namespace {

std::string minutes(double seconds) {
    if (seconds < 1) return "under a second";
    if (seconds < 90) return fmt::format("about {:.0f} s", seconds);
    if (seconds < 5400) return fmt::format("about {:.0f} min", seconds / 60);
    return fmt::format("about {:.1f} h", seconds / 3600);
}

}  // namespace

void check_size(audit_context& ctx) {
    const auto& cat = ctx.cat;
    int indexes = 0;
    std::int64_t table_bytes = 0;
    for (auto& t : cat.tables) {
        indexes += t.index_count;
        table_bytes += t.bytes;
    }
    ctx.add(severity::info, owner_group::platform, "size",
            fmt::format("{} on disk: {} tables ({} of data), {} indexes, {} sequences, {} large objects",
                        format_size(cat.database.bytes), cat.tables.size(), format_size(table_bytes), indexes,
                        cat.sequences.size(), cat.large_objects.size()),
            {}, "the size sets the copy window and the space the target needs");
    std::vector<std::string> largest;
    for (std::size_t i = 0; i < std::min<std::size_t>(5, cat.tables.size()); ++i)
        largest.push_back(fmt::format("{} ({}, ~{} rows)", cat.tables[i].display(),
                                      format_size(cat.tables[i].bytes), cat.tables[i].estimated_rows));
    if (!largest.empty())
        ctx.add(severity::info, owner_group::platform, "size", "largest tables", largest,
                "the largest table bounds the copy time unless it is split (--split-tables-larger-than)");
    double seconds = static_cast<double>(cat.database.bytes) / 1048576.0 / ctx.opt.mb_per_s;
    ctx.add(severity::info, owner_group::platform, "size",
            fmt::format("estimated copy time {} at an assumed {:.0f} MB/s (data and index builds)",
                        minutes(seconds), ctx.opt.mb_per_s),
            {}, "a stated default rate, not a measurement: servers, disks and network decide the real one",
            "measure on a copy of a real table (pghaul copy, or bench/compare.sh) before fixing the window");
}

namespace {

void check_versions(audit_context& ctx) {
    auto sv = ctx.src.exec("SHOW server_version", "reading the source's version").str(0, 0);
    std::string tv = ctx.tgt ? ctx.tgt->exec("SHOW server_version", "reading the target's version").str(0, 0)
                             : std::string("(no target given)");
    std::string dump = "(not found)";
    int dump_major = 0;
    try {
        dump_major = pg_dump_major(ctx.opt.pg_dump);
        dump = std::to_string(dump_major);
    } catch (const pghaul::error& e) {
        ctx.add(severity::blocker, owner_group::platform, "versions", "pg_dump cannot be run",
                {ctx.opt.pg_dump}, std::string("pghaul takes the schema from pg_dump: ") + e.what(),
                e.hint());
    }
    ctx.add(severity::info, owner_group::platform, "versions",
            "PostgreSQL " + sv + " on the source, " + tv + " on the target; pg_dump " + dump, {},
            "the schema DDL comes from pg_dump, which must be at least the source's major version");
    // The same judgement as the copy's preflight (engine/catalog/target_facts.hpp).
    for (auto& p : judge_versions(ctx.src.server_version(), ctx.target_version, dump_major)) {
        std::vector<std::string> objects;
        if (p.broken == version_problem::rule::pg_dump_older) objects.push_back(ctx.opt.pg_dump);
        ctx.add(severity::blocker, owner_group::platform, "versions", p.message, objects, p.why, p.hint);
    }
}

// "C.UTF-8" and "C.utf8" name one locale; compare them so.
std::string locale_key(std::string s) {
    std::string out;
    for (char c : s)
        if (c != '-' && c != '_' && c != '.')
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void check_locales(audit_context& ctx) {
    const auto& db = ctx.cat.database;
    std::string src = fmt::format("encoding {}, LC_COLLATE {}, LC_CTYPE {}, provider {}{}", db.encoding,
                                  db.collate, db.ctype, db.locale_provider,
                                  db.icu_locale.empty() ? "" : " (ICU locale " + db.icu_locale + ")");
    if (!ctx.tgt) {
        ctx.add(severity::info, owner_group::platform, "locales", "source database: " + src, {},
                "pghaul creates the new database with the source's encoding and locale");
        return;
    }
    auto t = ctx.tgt->exec(R"(SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database
                              WHERE datname = 'template1')",
                           "reading the target's default locale");
    ctx.add(
        severity::info, owner_group::platform, "locales",
        "source database: " + src + "; target server default: encoding " + t.str(0, 0) + ", LC_COLLATE " +
            t.str(0, 1),
        {},
        "pghaul creates the new database with the source's encoding and locale, not the target's default");
    std::set<std::string> known = {"c", "posix"};
    auto l = ctx.tgt->exec(R"(SELECT collcollate FROM pg_collation WHERE collcollate IS NOT NULL
                              UNION SELECT datcollate FROM pg_database UNION SELECT datctype FROM pg_database)",
                           "listing the target's locales");
    for (int i = 0; i < l.rows(); ++i) known.insert(locale_key(l.str(i, 0)));
    std::vector<std::string> unknown;
    for (auto& loc : {db.collate, db.ctype})
        if (!known.count(locale_key(loc)) && std::find(unknown.begin(), unknown.end(), loc) == unknown.end())
            unknown.push_back(loc);
    if (!unknown.empty())
        ctx.add(severity::warning, owner_group::platform, "locales",
                "the target shows no collation or database with the source's locale", unknown,
                "CREATE DATABASE fails when the target's operating system lacks the locale; pghaul could not "
                "confirm it from the catalog",
                "check `locale -a` on the target host (or the provider's list of locales)");
    if (db.locale_provider == "icu" &&
        ctx.tgt->exec("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'", "looking for ICU")
                .i64(0, 0) == 0)
        ctx.add(severity::blocker, owner_group::platform, "locales",
                "the source uses ICU collation and the target shows no ICU support", {db.icu_locale},
                "the new database cannot be created with the ICU locale provider",
                "use a target built with ICU (most packages and managed services are)");
    if (ctx.cat.icu_indexes.empty()) return;
    const auto icu = read_icu_version(*ctx.tgt);
    if (icu != ctx.cat.icu_version)
        ctx.add(
            severity::warning, owner_group::platform, "locales",
            "the ICU collator version differs: " + ctx.cat.icu_version + " on the source, " +
                (icu.empty() ? std::string("no ICU") : icu) + " on the target",
            ctx.cat.icu_indexes,
            "text sorted by ICU collations (these indexes, ORDER BY, matviews that rank by them) may come "
            "back in another order on the target",
            "check ordering-sensitive queries after the move; pghaul builds the indexes on the target, "
            "and any copied another way (a physical copy, an upgrade in place) must be REINDEXed");
}

void check_extensions(audit_context& ctx) {
    const auto& exts = ctx.cat.extensions;
    if (exts.empty()) return;
    std::vector<std::string> listed;
    if (!ctx.tgt) {
        for (auto& [n, v] : exts) listed.push_back(n + " " + v);
        ctx.add(severity::info, owner_group::platform, "extensions", "extensions used by the source", listed,
                "each must be available on the target; give --target to check");
        return;
    }
    // The same facts and judgement as the copy's preflight (engine/catalog/target_facts.hpp).
    const auto offers = read_extension_offers(*ctx.tgt);
    for (auto& [name, version] : exts) {
        auto it = offers.find(name);
        listed.push_back(name + " " + version + " (target: " +
                         (it == offers.end() ? "not available" : it->second.default_version) + ")");
    }
    const auto verdict = judge_extensions(exts, offers, ctx.login.superuser);
    const auto& missing = verdict.missing;
    std::vector<std::string> other_version;
    for (auto& c : verdict.other_version)
        other_version.push_back(c.name + " " + c.source + " -> " + c.target);
    const auto& superuser_only = verdict.superuser_only;
    ctx.add(severity::info, owner_group::platform, "extensions", "extensions used by the source", listed,
            "pg_dump recreates each with CREATE EXTENSION, which installs the target's default version");
    if (!missing.empty())
        ctx.add(severity::blocker, owner_group::platform, "extensions",
                "extensions the target does not offer", missing,
                "the schema cannot be created without them; pghaul refuses to start",
                "install them on the target server (or ask its provider), or drop them from the source");
    if (!other_version.empty())
        ctx.add(
            severity::warning, owner_group::platform, "extensions",
            "extensions the target offers at another default version", other_version,
            "the new database gets the target's version: functions and types may differ from the source's",
            "compare the versions' release notes; ALTER EXTENSION ... UPDATE where the target lags");
    if (!superuser_only.empty())
        ctx.add(severity::blocker, owner_group::platform, "extensions",
                "extensions only a superuser may create, and the target login is not one", superuser_only,
                "CREATE EXTENSION fails for the target login (pghaul creates the database from template0, so "
                "what template1 holds does not help)",
                "copy with a superuser target login, or keep to the extensions the provider's admin role may "
                "create");
}

}  // namespace

void check_platform(audit_context& ctx) {
    check_versions(ctx);
    check_locales(ctx);
    check_extensions(ctx);
}

}  // namespace detail

audit_report run_audit(const conninfo& source, const std::optional<conninfo>& target,
                       const audit_options& opt) {
    audit_report report;
    auto src = pg::connection::open(source, "pghaul/audit", exit_code::source);
    report.source_endpoint = src.endpoint();
    // One read-only snapshot: every check sees the same catalog, and nothing is written.
    src.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "starting a read-only transaction");
    report.source_db = src.exec("SELECT current_database()", "reading the database name").str(0, 0);

    std::optional<pg::connection> tgt;
    if (target) {
        auto name = opt.target_db ? opt.target_db : target->dbname();
        if (name && *name != opt.maintenance_db) report.target_db = *name;
        tgt.emplace(
            pg::connection::open(target->with_dbname(opt.maintenance_db), "pghaul/audit", exit_code::target));
        report.target_endpoint = tgt->endpoint();
    }

    source_catalog cat;
    try {
        cat = read_catalog(src, tgt ? tgt->server_version() : src.server_version());
    } catch (const pghaul::error& e) {
        if (!sqlstate::insufficient_privilege(e)) throw;
        throw pghaul::error(
            e.code(), e.what(),
            "the audit reads what the copy reads: run it as the owner, a superuser, or a member of "
            "pg_read_all_data",
            e.sqlstate());
    }
    detail::audit_context ctx{src, tgt ? &*tgt : nullptr, opt, cat, report, 0, {}};
    if (tgt) {
        // Asked the way the copy's preflight asks, before the read-only
        // transaction: a probe, rolled back.
        if (!cat.event_triggers.empty()) ctx.target_may_create_event_triggers = may_create_event_triggers(*tgt);
        tgt->exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "starting a read-only transaction");
        ctx.target_version = tgt->server_version();
        ctx.login = read_target_login(*tgt);
    }
    detail::check_size(ctx);
    detail::check_platform(ctx);
    detail::check_roles(ctx);
    detail::check_activity(ctx);
    detail::check_integrations(ctx);
    detail::check_data_shape(ctx);
    if (tgt) detail::check_target(ctx);

    src.exec("COMMIT", "ending the read-only transaction");
    if (tgt) tgt->exec("COMMIT", "ending the read-only transaction");
    spdlog::debug("audit: {} findings", report.findings.size());
    return report;
}

}  // namespace pghaul::engine
