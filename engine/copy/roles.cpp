// Role settlement across sources.
#include "engine/copy/roles.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "engine/catalog/target_facts.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {
namespace {

std::string join(const std::set<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

bool live(const source_job& j) {
    return j.status() == source_status::pending;
}

// CREATE ROLE ... NOLOGIN for each, memberships among them as on the sources,
// and membership for the login in owner roles so it can give objects to them.
void create_roles(pg::connection& maint, const std::set<std::string>& to_create,
                  const std::set<std::string>& login_needs,
                  const std::vector<std::unique_ptr<source_job>>& jobs, const target_login& t) {
    for (auto& r : to_create) {
        maint.exec("CREATE ROLE " + sql::ident(r) + " NOLOGIN", "creating role \"" + r + "\"");
        spdlog::info("created role \"{}\" (NOLOGIN) on the target", r);
    }
    std::set<std::pair<std::string, std::string>> grants;
    for (auto& j : jobs) {
        if (!live(*j)) continue;
        for (auto& [role, member] : j->catalog().memberships) {
            auto r = j->config().target_role(role), m = j->config().target_role(member);
            bool touches_new = to_create.count(r) || to_create.count(m);
            bool both_exist =
                (to_create.count(r) || t.existing.count(r)) && (to_create.count(m) || t.existing.count(m));
            if (touches_new && both_exist) grants.emplace(r, m);
        }
    }
    for (auto& [r, m] : grants)
        maint.exec("GRANT " + sql::ident(r) + " TO " + sql::ident(m),
                   "granting role \"" + r + "\" to \"" + m + "\"");
    if (!t.superuser)
        for (auto& r : login_needs)
            maint.exec("GRANT " + sql::ident(r) + " TO CURRENT_USER",
                       "granting role \"" + r + "\" to the target login (it gives objects to that role)");
}

}  // namespace

nlohmann::json settle_roles(const std::vector<std::unique_ptr<source_job>>& jobs, pg::connection& maint,
                            const run_config& cfg, bool dry_run) {
    // The same facts as pghaul audit (engine/catalog/target_facts.hpp).
    const auto t = read_target_login(maint);
    std::map<std::string, std::set<std::string>> users;  // target role -> sources that need it
    std::set<std::string> to_create, login_needs;
    std::map<std::string, std::set<std::string>> needed_by;  // role to create -> sources
    nlohmann::json missing_json = nlohmann::json::object();

    for (auto& jp : jobs) {
        auto& j = *jp;
        if (!live(j)) continue;
        auto owners = j.needed_owner_roles();
        auto grants = j.needed_grant_roles();
        std::set<std::string> missing, not_member, missing_grants;
        for (auto& r : owners) {
            users[r].insert(j.name());
            if (!t.existing.count(r))
                missing.insert(r);
            else if (!t.superuser && !t.member_of.count(r))
                not_member.insert(r);
        }
        for (auto& r : grants) {
            users[r].insert(j.name());
            if (!t.existing.count(r)) {
                missing.insert(r);
                missing_grants.insert(r);
            }
        }
        if (!missing.empty()) missing_json[j.name()] = missing;
        switch (cfg.missing_roles) {
            case missing_roles_mode::fail:
                if (!missing.empty())
                    j.fail(error(
                        exit_code::preflight,
                        "roles referenced by the source are missing on the target " + maint.endpoint() +
                            ": " + join(missing),
                        "create them on the target first, or let pghaul: --missing-roles create (NOLOGIN) "
                        "or owner (missing_roles in a manifest; copy's --no-owner is owner), and grants "
                        "to them are left out with --no-privileges"));
                else if (!not_member.empty())
                    j.fail(error(exit_code::preflight,
                                 "the target login " + sql::readable(t.name) +
                                     " is not a member of roles that own objects: " + join(not_member),
                                 owner_hint(not_member, t)));
                break;
            case missing_roles_mode::owner:
                if (!missing_grants.empty()) {
                    // Only those roles' grants: the others' come as usual.
                    j.skip_grants_to(missing_grants);
                    j.outcome().add_warning("grants to roles missing on the target skipped: " +
                                            join(missing_grants));
                    spdlog::warn("[{}] grants to roles missing on the target are skipped: {}", j.name(),
                                 join(missing_grants));
                }
                break;
            case missing_roles_mode::create:
                // Found now, not at the first CREATE ROLE after other sources began.
                if (!missing.empty() && !t.create_role) {
                    j.fail(
                        error(exit_code::preflight,
                              "missing_roles = \"create\" needs roles the target login on " +
                                  maint.endpoint() + " may not create (no CREATEROLE): " + join(missing),
                              "ALTER ROLE " + sql::readable(t.name) +
                                  " CREATEROLE, create the roles first, or use "
                                  "missing_roles = \"owner\" (--no-owner --no-privileges with pghaul copy)"));
                    break;
                }
                for (auto& r : missing) {
                    to_create.insert(r);
                    needed_by[r].insert(j.name());
                }
                for (auto& r : owners) login_needs.insert(r);
                for (auto& r : not_member) needed_by[r].insert(j.name());
                break;
        }
    }
    // Erase roles the login already acts as, and roles it will create and so own.
    std::erase_if(login_needs, [&](const std::string& r) { return t.member_of.count(r) > 0; });

    nlohmann::json shared = nlohmann::json::array();
    for (auto& [role, srcs] : users)
        if (srcs.size() > 1) {
            shared.push_back({{"role", role}, {"sources", srcs}});
            spdlog::warn(
                "role \"{}\" owns or is granted objects from several sources ({}): on the target it reaches "
                "all their databases; use role_map to keep them apart",
                role, join(srcs));
        }

    if (!dry_run && !to_create.empty()) {
        try {
            create_roles(maint, to_create, login_needs, jobs, t);
        } catch (const error& e) {
            for (auto& jp : jobs)
                for (auto& [r, srcs] : needed_by)
                    if (srcs.count(jp->name()) && live(*jp)) jp->fail(e);
        }
    }
    return {{"mode", cfg.missing_roles == missing_roles_mode::fail     ? "fail"
                     : cfg.missing_roles == missing_roles_mode::create ? "create"
                                                                       : "owner"},
            {"missing", missing_json},
            {"created", dry_run ? std::set<std::string>{} : to_create},
            {"to_create", to_create},
            {"shared", shared}};
}

void check_extensions(const std::vector<std::unique_ptr<source_job>>& jobs, pg::connection& maint) {
    // The same facts and judgement as pghaul audit (engine/catalog/target_facts.hpp).
    const auto offers = read_extension_offers(maint);
    const bool login_superuser = read_target_login(maint).superuser;
    const std::string target_icu = read_icu_version(maint);
    std::optional<bool> event_triggers_allowed;  // asked once, of the first source that has some
    for (auto& jp : jobs) {
        if (!live(*jp)) continue;
        // pg_dump's DDL creates event triggers last, after the data: refused
        // then, the whole copy is lost, so it is decided here.
        if (const auto& evt = jp->catalog().event_triggers; !evt.empty()) {
            if (!event_triggers_allowed) event_triggers_allowed = may_create_event_triggers(maint);
            if (!*event_triggers_allowed) {
                std::string names;
                for (auto& n : evt) names += (names.empty() ? "" : ", ") + n;
                jp->fail(error(exit_code::preflight,
                               "the source has event triggers (" + names + ") and the target login on " +
                                   maint.endpoint() + " may not create them (only a superuser may)",
                               "drop them on the source before the copy (DROP EVENT TRIGGER) and have the "
                               "target's administrator recreate them in the new database, or copy with a "
                               "superuser target login; nothing was written"));
                continue;
            }
        }
        const auto verdict = judge_extensions(jp->catalog().extensions, offers, login_superuser);
        for (auto& c : verdict.other_version)
            jp->warn(
                "extension " + c.name + " will be version " + c.target + " on the target (" + c.source +
                " on the source): the target installs its default version; check that extension's release "
                "notes for what changed between them");
        // The audit calls these blockers; the copy warns (before, it failed at its schema step
        // without a word): a managed service may let its admin role create some of them.
        if (!verdict.superuser_only.empty())
            jp->warn(
                "extensions only a superuser may create (not marked trusted on the target), and the target "
                "login is not one: " +
                join(std::set<std::string>(verdict.superuser_only.begin(), verdict.superuser_only.end())) +
                ". CREATE EXTENSION in the schema step fails for them unless the provider lets its admin "
                "role create them, as managed services do for some; a superuser target login avoids it");
        if (!verdict.missing.empty())
            jp->fail(error(exit_code::preflight,
                           "extensions used by the source are not available on the target: " +
                               join(std::set<std::string>(verdict.missing.begin(), verdict.missing.end())),
                           "install them on the target server (or ask its provider), then rerun"));
        const auto& cat = jp->catalog();
        if (!cat.icu_indexes.empty() && cat.icu_version != target_icu) {
            std::set<std::string> names(cat.icu_indexes.begin(), cat.icu_indexes.end());
            jp->warn("ICU collation version " + cat.icu_version + " on the source, " +
                     (target_icu.empty() ? std::string("no ICU") : target_icu) +
                     " on the target: results sorted by ICU-collated text may come back in another order. "
                     "The indexes on it are built on the target, consistent with its ICU (REINDEX them "
                     "whenever the target's ICU library changes): " +
                     join(names));
        }
    }
}

}  // namespace pghaul::engine
