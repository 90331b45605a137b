// Audit checks on access: the roles that own objects or hold grants (and
// their attributes, and whether the target has them), default privileges,
// grants to PUBLIC, who is connected now, and the target login's rights.
#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/audit/detail/checks.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine::detail {
namespace {

std::vector<std::string> sorted_union(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::set<std::string> s(a.begin(), a.end());
    s.insert(b.begin(), b.end());
    return {s.begin(), s.end()};
}

// Objects in user schemas owned by superusers (the database itself aside: pghaul creates it).
std::vector<std::string> superuser_owned(audit_context& ctx) {
    auto r = ctx.src.exec(std::string(R"(
        SELECT kind || ' ' || name || ' (owner ' || pg_get_userbyid(owner) || ')' FROM (
            SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                                  WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind,
                   format('%I.%I', n.nspname, c.relname) AS name, c.relowner AS owner
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND )") +
                              user_relation_filter + R"(
            UNION ALL
            SELECT 'schema', format('%I', nspname), nspowner FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, p.proowner
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype IN ('e', 'i'))  -- extension members, range constructors
            UNION ALL
            SELECT 'large object', l.oid::text, l.lomowner FROM pg_largeobject_metadata l
        ) o JOIN pg_roles r ON r.oid = o.owner WHERE r.rolsuper ORDER BY 1)",
                          "listing objects owned by superusers");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
}

void check_role_attributes(audit_context& ctx, const std::vector<std::string>& roles) {
    auto r = ctx.src.exec_params(R"(
        SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolreplication
        FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1)",
                                 {sql::text_array(roles)}, "reading role attributes");
    std::vector<std::string> login, powerful, bypass;
    for (int i = 0; i < r.rows(); ++i) {
        std::string name = r.str(i, 0);
        std::vector<std::string> attrs;
        if (r.boolean(i, 2)) attrs.push_back("SUPERUSER");
        if (r.boolean(i, 3)) attrs.push_back("BYPASSRLS");
        if (r.boolean(i, 4)) attrs.push_back("CREATEROLE");
        if (r.boolean(i, 5)) attrs.push_back("REPLICATION");
        if (r.boolean(i, 1)) login.push_back(name);
        if (r.boolean(i, 3) && !r.boolean(i, 2)) bypass.push_back(name);
        if (!attrs.empty()) powerful.push_back(name + " (" + join(attrs, " ") + ")");
    }
    if (!login.empty())
        ctx.add(severity::info, owner_group::security, "roles",
                "roles with LOGIN that own objects or hold grants", login,
                "applications connect as these: roles are global, so they are not part of the database and "
                "passwords never travel with it",
                "create them on the target with their passwords (from the secret store, not from the old "
                "server)");
    if (!powerful.empty())
        ctx.add(severity::warning, owner_group::security, "roles",
                "roles with superuser-like attributes own objects or hold grants here", powerful,
                "on a consolidated server such a role reaches every database, and a managed target will not "
                "grant these attributes at all",
                "give the objects to an ordinary role before the move, or map the role (role_map) to one");
    if (!bypass.empty())
        ctx.add(severity::warning, owner_group::security, "roles", "roles that bypass row-level security",
                bypass,
                "row-level security policies do not apply to them; on the target they keep bypassing them",
                "confirm each still needs BYPASSRLS on the consolidated server");
}

void check_missing_roles(audit_context& ctx) {
    std::vector<std::string> missing, not_member;
    for (auto& r : sorted_union(ctx.cat.owner_roles, ctx.cat.grant_roles))
        if (!ctx.login.existing.count(r)) missing.push_back(r);
    for (auto& r : ctx.cat.owner_roles)
        if (ctx.login.existing.count(r) && !ctx.login.superuser && !ctx.login.member_of.count(r))
            not_member.push_back(r);
    if (!missing.empty())
        ctx.add(
            severity::blocker, owner_group::security, "roles",
            "roles the source uses are missing on the target", missing,
            "objects cannot be given to them and their grants cannot be made: the application would connect "
            "(or not) and then fail on every write it was allowed",
            "create them on the target first, or copy with --missing-roles create (NOLOGIN) / owner, or "
            "rename them with --role-map");
    if (!not_member.empty())
        ctx.add(severity::blocker, owner_group::security, "roles",
                "the target login is not a member of roles that own objects", not_member,
                "a non-superuser can only give objects to roles it is a member of",
                owner_hint(std::set<std::string>(not_member.begin(), not_member.end()), ctx.login));
}

void check_default_privileges(audit_context& ctx) {
    auto r = ctx.src.exec(R"(
        SELECT format('for role %s%s on %s: %s', pg_get_userbyid(d.defaclrole),
                      coalesce(' in schema ' || quote_ident(n.nspname), ''),
                      CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                           WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,
                      (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                                         || ' ' || a.privilege_type, ', ' ORDER BY 1)
                       FROM aclexplode(d.defaclacl) a))
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace ORDER BY 1)",
                          "listing default privileges");
    std::vector<std::string> entries;
    for (int i = 0; i < r.rows(); ++i) entries.push_back(r.str(i, 0));
    if (!entries.empty())
        ctx.add(
            severity::info, owner_group::security, "privileges", "default privileges", entries,
            "objects created later get these grants automatically; they are copied with the roles they name",
            "confirm they still make sense on the consolidated server");
}

// Grants to PUBLIC beyond PostgreSQL's own defaults (USAGE on schema public,
// EXECUTE on functions, CONNECT/TEMP on the database).
void check_public_grants(audit_context& ctx) {
    auto r = ctx.src.exec(std::string(R"(
        SELECT obj || ' (' || string_agg(priv, ', ' ORDER BY priv) || ')' FROM (
            SELECT format('%I.%I', n.nspname, c.relname) AS obj, a.privilege_type AS priv
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
            WHERE a.grantee = 0 AND )") +
                              user_relation_filter + R"(
            UNION ALL
            SELECT format('%I.%I.%I', n.nspname, c.relname, at.attname), a.privilege_type
            FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(at.attacl) a
            WHERE a.grantee = 0 AND )" +
                              user_relation_filter + R"(
            UNION ALL
            SELECT 'schema ' || quote_ident(n.nspname), a.privilege_type
            FROM pg_namespace n, aclexplode(n.nspacl) a
            WHERE a.grantee = 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\_%' AND NOT (n.nspname = 'public' AND a.privilege_type = 'USAGE')
            UNION ALL
            SELECT 'security definer function ' || p.oid::regprocedure::text, 'EXECUTE'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0))
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e')
            UNION ALL
            SELECT 'large object ' || l.oid, a.privilege_type FROM pg_largeobject_metadata l, aclexplode(l.lomacl) a
            WHERE a.grantee = 0
        ) g GROUP BY obj ORDER BY 1)",
                          "listing grants to PUBLIC");
    std::vector<std::string> grants;
    for (int i = 0; i < r.rows(); ++i) grants.push_back(r.str(i, 0));
    if (!grants.empty())
        ctx.add(
            severity::warning, owner_group::security, "privileges", "grants to PUBLIC", grants,
            "PUBLIC is every role on the server: on a consolidated server that includes the other databases' "
            "application roles",
            "grant to the roles that need it instead, before or right after the move");
}

// What the copy reads on the source with this login: every table and sequence,
// with row security off (so RLS raises an error instead of hiding rows).
void check_source_login(audit_context& ctx) {
    auto r = ctx.src.exec(std::string(R"(
        SELECT format('%I.%I', n.nspname, c.relname),
               NOT has_table_privilege(c.oid, 'SELECT'),
               c.relrowsecurity AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
                 AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm', 'S') AND )") +
                              user_relation_filter + " ORDER BY 1",
                          "checking what the source login can read");
    std::vector<std::string> unreadable, rls;
    for (int i = 0; i < r.rows(); ++i) {
        if (r.boolean(i, 1))
            unreadable.push_back(r.str(i, 0));
        else if (r.boolean(i, 2))
            rls.push_back(r.str(i, 0));
    }
    const std::string todo =
        "run the copy as the owner, a superuser, or a role with BYPASSRLS that is a member of "
        "pg_read_all_data";
    if (!unreadable.empty())
        ctx.add(severity::blocker, owner_group::security, "source login",
                "the source login may not read these tables or sequences", unreadable,
                "the copy reads every one of them", todo);
    if (!rls.empty())
        ctx.add(
            severity::blocker, owner_group::security, "source login",
            "row-level security applies to the source login on these tables", rls,
            "the copy reads with row_security = off so policies cannot silently hide rows; PostgreSQL then "
            "refuses the read",
            todo);
}

}  // namespace

void check_roles(audit_context& ctx) {
    const auto& cat = ctx.cat;
    if (!cat.owner_roles.empty())
        ctx.add(severity::info, owner_group::security, "roles", "roles that own objects", cat.owner_roles,
                "they must exist on the target (or be mapped) with the target login a member of each");
    if (!cat.grant_roles.empty())
        ctx.add(severity::info, owner_group::security, "roles", "roles named in grants", cat.grant_roles,
                "without them on the target their grants cannot be made");
    auto roles = sorted_union(cat.owner_roles, cat.grant_roles);
    if (!roles.empty()) check_role_attributes(ctx, roles);
    auto su = superuser_owned(ctx);
    if (!su.empty())
        ctx.add(
            severity::warning, owner_group::security, "roles", "objects owned by a superuser", su,
            "a managed target's login is not a superuser and cannot give objects to one; and code that runs "
            "as their owner (views, security definer functions) runs with every privilege",
            "ALTER ... OWNER TO an application role before the move, or copy with --no-owner or --role-map");
    if (ctx.tgt) check_missing_roles(ctx);
    check_source_login(ctx);
    check_default_privileges(ctx);
    check_public_grants(ctx);
}

void check_activity(audit_context& ctx) {
    std::string err;
    auto r = ctx.try_query(ctx.src, R"(
        SELECT coalesce(usename, '?'), coalesce(application_name, ''),
               CASE WHEN client_port = -1 THEN 'local socket' ELSE host(client_addr) END,
               client_hostname, count(*), bool_or(query = '<insufficient privilege>')
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3)",
                           err);
    if (!r) {
        ctx.could_not_check(owner_group::application, "clients", "who is connected (pg_stat_activity)", err);
    } else {
        std::vector<std::string> clients, raw_ip;
        bool hidden = false;
        for (int i = 0; i < r->rows(); ++i) {
            std::string addr = r->is_null(i, 2) ? "(hidden)" : r->str(i, 2);
            std::string host = r->is_null(i, 3) ? "" : " (" + r->str(i, 3) + ")";
            std::string app = r->str(i, 1).empty() ? "no application_name" : "\"" + r->str(i, 1) + "\"";
            clients.push_back(
                fmt::format("{} from {}{}, {}: {} session(s)", r->str(i, 0), addr, host, app, r->i64(i, 4)));
            hidden = hidden || r->boolean(i, 5);
            if (!r->is_null(i, 2) && addr != "local socket" && r->is_null(i, 3) && r->str(i, 1).empty())
                raw_ip.push_back(r->str(i, 0) + " from " + addr);
        }
        if (clients.empty())
            ctx.add(severity::info, owner_group::application, "clients",
                    "no other sessions are connected now", {},
                    "a quiet moment is not proof of no clients: run pghaul clients --watch over a business "
                    "cycle");
        else
            ctx.add(
                severity::info, owner_group::application, "clients",
                "sessions connected now, by role, address and application", clients,
                "every one of these must be pointed at the new server and database name at cutover",
                "find each owner; after cutover, pghaul clients --watch on the old server shows stragglers");
        if (!raw_ip.empty())
            ctx.add(severity::warning, owner_group::application, "clients",
                    "clients known only by a raw IP address (no application_name, no host name)", raw_ip,
                    "nothing says who runs them, so nobody will repoint them; they keep using the old server",
                    "identify the machine behind each address and have it set application_name");
        if (hidden)
            ctx.could_not_check(owner_group::application, "clients", "the address of other roles' sessions",
                                "pg_stat_activity hides them without pg_read_all_stats");
    }
    auto d = ctx.src.exec(R"(
        SELECT numbackends, xact_commit, xact_rollback, sessions,
               coalesce(to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), 'server start')
        FROM pg_stat_database WHERE datname = current_database())",
                          "reading the database's counters");
    ctx.add(severity::info, owner_group::application, "clients",
            fmt::format("since {}: {} commits, {} rollbacks, {} sessions; {} backends now", d.str(0, 4),
                        d.i64(0, 1), d.i64(0, 2), d.i64(0, 3), d.i64(0, 0)),
            {}, "a database that still commits is in use by someone");
}

void check_target(audit_context& ctx) {
    auto& t = *ctx.tgt;
    if (ctx.report.target_db.empty()) {
        ctx.add(severity::info, owner_group::platform, "target", "no new database name to check", {},
                "the target conninfo names the maintenance database", "pass --target-db NAME");
    } else if (t.exec_params("SELECT FROM pg_database WHERE datname = $1", {ctx.report.target_db},
                             "looking up the new database name")
                   .rows() > 0) {
        ctx.add(severity::blocker, owner_group::platform, "target",
                "the new database name is taken on the target", {ctx.report.target_db},
                "pghaul creates the new database itself and will not write into another",
                "choose another name, or --on-existing replace if that database is a previous attempt");
    }
    auto r = t.exec(R"(
        SELECT rolsuper, rolcreatedb, rolconnlimit,
               current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
               - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
               current_user
        FROM pg_roles WHERE rolname = current_user)",
                    "reading the target login's rights");
    const bool super = r.boolean(0, 0);
    const std::int64_t free = r.i64(0, 3), limit = r.i64(0, 2), needed = ctx.opt.jobs + 2;
    if (!super && !r.boolean(0, 1))
        ctx.add(severity::blocker, owner_group::platform, "target",
                "the target login may not create databases", {r.str(0, 4)},
                "pghaul creates the new database itself",
                "ALTER ROLE " + r.str(0, 4) + " CREATEDB (or ask the provider)");
    std::string conn = fmt::format("{} connections free on the target now; a copy with --jobs {} uses {}",
                                   free, ctx.opt.jobs, needed);
    if (free < 2)
        ctx.add(severity::blocker, owner_group::platform, "target", conn, {},
                "pghaul needs at least an admin and a load connection",
                "raise max_connections or free sessions");
    else if (free < needed)
        ctx.add(severity::warning, owner_group::platform, "target", conn, {},
                "the copy will get fewer connections than planned, or fail to open them",
                "lower --jobs or raise max_connections");
    else
        ctx.add(severity::info, owner_group::platform, "target", conn, {},
                "other databases on the consolidated server share these connections");
    if (limit >= 0 && limit < needed)
        ctx.add(severity::warning, owner_group::platform, "target",
                fmt::format("the target login may open only {} connections (CONNECTION LIMIT)", limit),
                {r.str(0, 4)},
                "a copy with --jobs " + std::to_string(ctx.opt.jobs) + " needs " + std::to_string(needed),
                "lower --jobs or raise the role's CONNECTION LIMIT");
}

}  // namespace pghaul::engine::detail
