// What the target is and what its login may do, asked of the target (see
// the header).
#include "engine/catalog/target_facts.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

std::vector<version_problem> judge_versions(int source_version, int target_version, int pg_dump_major) {
    using rule = version_problem::rule;
    const int source = source_version / 10000, target = target_version / 10000;
    std::vector<version_problem> problems;
    // 11 and older: out of community support since 2023.
    if (source < 12)
        problems.push_back(
            {rule::source_unsupported,
             fmt::format("the source server is PostgreSQL {}, older than the oldest pghaul supports (12)",
                         source),
             "pghaul's catalog queries and COPY paths are tested on 12-18 only",
             "upgrade it first, or move it with pg_dump -Fc and pg_restore of PostgreSQL 15 (they read "
             "servers back to 9.2)"});
    if (pg_dump_major > 0 && pg_dump_major < source)
        problems.push_back(
            {rule::pg_dump_older,
             fmt::format("pg_dump {} is older than the source server ({})", pg_dump_major, source),
             "pghaul takes the schema from pg_dump, which refuses to dump a server newer than itself",
             fmt::format("install postgresql-client-{} or newer, or pass --pg-dump PATH", source)});
    if (target_version > 0 && target < source)
        problems.push_back(
            {rule::target_older,
             fmt::format("the target server ({}) is older than the source ({})", target, source),
             "DDL and data of a newer server may not load into an older one; pghaul refuses",
             "copy into a server of the same or a newer major version"});
    return problems;
}

target_login read_target_login(pg::connection& conn) {
    target_login t;
    auto r = conn.exec(
        "SELECT rolname, pg_has_role(current_user, oid, 'MEMBER'), rolname = current_user AND rolsuper, "
        "rolname = current_user AND (rolsuper OR rolcreaterole), rolsuper, current_user FROM pg_roles",
        "listing the target's roles");
    for (int i = 0; i < r.rows(); ++i) {
        t.name = r.str(i, 5);
        t.existing.insert(r.str(i, 0));
        if (r.boolean(i, 1)) t.member_of.insert(r.str(i, 0));
        if (r.boolean(i, 2)) t.superuser = true;
        if (r.boolean(i, 3)) t.create_role = true;
        if (r.boolean(i, 4)) t.superusers.insert(r.str(i, 0));
    }
    return t;
}

// What to do when the login cannot act as the source's owners. The usual
// non-prod case is objects owned by postgres: granting a superuser role to
// the login is impossible on a managed server and unwise anywhere, so the
// hint maps the owner to the login (or lets the login own everything), and
// offers the GRANT only for ordinary roles.
std::string owner_hint(const std::set<std::string>& not_member, const target_login& t) {
    // The example maps the superuser owner where there is one: the usual case.
    auto example = std::find_if(not_member.begin(), not_member.end(),
                                [&](const std::string& r) { return t.superusers.count(r) > 0; });
    const auto& first = example != not_member.end() ? *example : *not_member.begin();
    std::string hint = "give their objects to a role the login can act as, e.g. --role-map " + first + "=" +
                       t.name + " (in a manifest: role_map = { " + sql::ident(first) + " = \"" + t.name +
                       "\" }), or let the login own everything: --no-owner (missing_roles = \"owner\")";
    std::string grantable;
    for (auto& r : not_member)
        if (!t.superusers.count(r)) grantable += (grantable.empty() ? "" : ", ") + sql::readable(r);
    if (!grantable.empty()) hint += "; or GRANT " + grantable + " TO " + sql::readable(t.name);
    return hint;
}

std::string read_icu_version(pg::connection& conn) {
    return conn
        .exec(
            "SELECT coalesce((SELECT pg_collation_actual_version(oid) FROM pg_collation WHERE collname = "
            "'und-x-icu' LIMIT 1), '')",
            "reading the target's ICU version")
        .str(0, 0);
}

std::map<std::string, extension_offer> read_extension_offers(pg::connection& conn) {
    // Trusted extensions (which the database's owner may create) are 13+.
    const std::string superuser_only =
        conn.server_version() >= 130000 ? "v.superuser AND NOT v.trusted" : "v.superuser";
    auto r = conn.exec(
        "SELECT a.name, coalesce(a.default_version, ''), coalesce(bool_or(" + superuser_only +
            ") FILTER (WHERE v.version = a.default_version), false) "
            "FROM pg_available_extensions a LEFT JOIN pg_available_extension_versions v USING (name) "
            "GROUP BY a.name, a.default_version",
        "listing the target's extensions");
    std::map<std::string, extension_offer> offers;
    for (int i = 0; i < r.rows(); ++i) offers[r.str(i, 0)] = {r.str(i, 1), r.boolean(i, 2)};
    return offers;
}

extension_verdict judge_extensions(const std::vector<std::pair<std::string, std::string>>& used,
                                   const std::map<std::string, extension_offer>& offers,
                                   bool login_superuser) {
    extension_verdict v;
    for (const auto& [name, version] : used) {
        auto it = offers.find(name);
        if (it == offers.end()) {
            v.missing.push_back(name + " " + version);
            continue;
        }
        // pg_dump's CREATE EXTENSION names no version: the target's default is what comes.
        if (it->second.default_version != version)
            v.other_version.push_back({name, version, it->second.default_version});
        if (!login_superuser && it->second.superuser_only) v.superuser_only.push_back(name);
    }
    return v;
}

bool may_create_event_triggers(pg::connection& conn) {
    try {
        conn.exec(
            "BEGIN; CREATE FUNCTION pg_temp.pghaul_probe() RETURNS event_trigger LANGUAGE plpgsql AS "
            "$$BEGIN END$$; CREATE EVENT TRIGGER pghaul_probe ON ddl_command_end "
            "EXECUTE FUNCTION pg_temp.pghaul_probe()",
            "asking whether the target login may create event triggers");
        conn.exec("ROLLBACK", "rolling the event-trigger probe back");
        return true;
    } catch (const error& e) {
        conn.rollback();
        return !sqlstate::insufficient_privilege(e);
    }
}

}  // namespace pghaul::engine
