// Audit checks on what ties the database to other systems (foreign servers,
// dblink, publications, subscriptions, slots, event triggers, addresses in
// function bodies) and on data that copies badly or slowly.
#include <fmt/format.h>

#include "engine/audit/address_scan.hpp"
#include "engine/audit/detail/checks.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/size.hpp"

namespace pghaul::engine::detail {
namespace {

std::vector<std::string> column(const pg::result& r, int col = 0) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, col));
    return out;
}

// Never a password: options go through the same redaction as connection strings.
void check_foreign_servers(audit_context& ctx) {
    auto s = ctx.src.exec(R"(
        SELECT format('%s (%s%s)', quote_ident(s.srvname), w.fdwname,
                      coalesce(': ' || array_to_string(s.srvoptions, ' '), ''))
        FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY 1)",
                          "listing foreign servers");
    std::vector<std::string> servers;
    for (auto& v : column(s)) servers.push_back(redact_conninfo_text(v));
    if (!servers.empty())
        ctx.add(severity::warning, owner_group::application, "integrations",
                "foreign servers: this database reads other databases", servers,
                "queries through them must still reach those hosts from the target server (network paths, "
                "firewalls, security groups differ between accounts)",
                "confirm the target can reach each host; whoever owns them must know the new client");
    // umoptions hold passwords: only their keys are named.
    auto m = ctx.src.exec(R"(
        SELECT format('%s on server %s%s', CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(u.usename) END,
                      quote_ident(u.srvname),
                      coalesce(' (options: ' || (SELECT string_agg(split_part(o, '=', 1), ', ')
                                                 FROM unnest(u.umoptions) o) || ')', ''))
        FROM pg_user_mappings u ORDER BY 1)",
                          "listing user mappings");
    if (m.rows() > 0)
        ctx.add(severity::warning, owner_group::security, "integrations",
                "user mappings: stored credentials for foreign servers", column(m),
                "they carry another server's passwords; they are copied only when the login can read them",
                "recreate or rotate these credentials deliberately on the target");
    for (auto& [name, version] : ctx.cat.extensions)
        if (name == "dblink")
            ctx.add(
                severity::warning, owner_group::application, "integrations",
                "dblink is installed: code can open connections to other databases", {"dblink " + version},
                "its connection strings live in code and data, not in the catalog",
                "see the functions with addresses below, and search the application's queries for dblink");
}

void check_replication(audit_context& ctx) {
    auto p = ctx.src.exec(R"(
        SELECT quote_ident(pubname) || CASE WHEN puballtables THEN ' (all tables)'
               ELSE (SELECT ' (' || count(*) || CASE WHEN count(*) = 1 THEN ' table)' ELSE ' tables)' END
                     FROM pg_publication_rel r WHERE r.prpubid = p.oid) END
        FROM pg_publication p ORDER BY 1)",
                          "listing publications");
    if (p.rows() > 0)
        ctx.add(severity::warning, owner_group::application, "integrations",
                "publications: other databases may subscribe to this one", column(p),
                "subscribers keep reading the old server; the copy starts with no replication slots; one for "
                "all tables is left out (with a warning) where the target login is not a superuser",
                "list the subscribers (pg_stat_replication on the old server), recreate their subscriptions "
                "against the new database and resynchronize");
    // subconninfo is readable by superusers only; the other columns by everyone.
    // Column privileges are checked when a query starts, so ask first.
    std::string err;
    const bool conninfo_visible =
        ctx.src
            .exec("SELECT has_column_privilege('pg_subscription', 'subconninfo', 'SELECT')",
                  "checking access to subscriptions")
            .boolean(0, 0);
    auto s = ctx.try_query(ctx.src,
                           std::string(R"(
        SELECT quote_ident(subname) || CASE WHEN subenabled THEN '' ELSE ' (disabled)' END || ' of '
               || array_to_string(subpublications, ', ') || )") +
                               (conninfo_visible ? "' from ' || subconninfo" : "''") + R"(
        FROM pg_subscription
        WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1)",
                           err);
    if (!s) {
        ctx.could_not_check(owner_group::application, "integrations", "subscriptions", err);
    } else if (s->rows() > 0) {
        std::vector<std::string> subs;
        for (auto& v : column(*s)) subs.push_back(redact_conninfo_text(v));
        ctx.add(severity::warning, owner_group::application, "integrations",
                "subscriptions: this database replicates from another server", subs,
                "pghaul does not copy subscriptions (a copy would pull from the publisher a second time)",
                "after cutover create the subscriptions on the new database (copy_data = false if the data "
                "is already there) and drop them on the old one");
    }
    auto slots = ctx.try_query(ctx.src, R"(
        SELECT quote_ident(slot_name) || ' (' || coalesce(plugin, slot_type) || CASE WHEN active THEN ', active'
               ELSE ', inactive' END || ')'
        FROM pg_replication_slots WHERE database = current_database() ORDER BY 1)",
                               err);
    if (!slots)
        ctx.could_not_check(owner_group::application, "integrations", "replication slots", err);
    else if (slots->rows() > 0)
        ctx.add(severity::warning, owner_group::application, "integrations",
                "logical replication slots: something streams changes from this database", column(*slots),
                "change data capture (Debezium, a subscriber, an ETL tool) loses its position at the move",
                "find the consumer of each slot and plan its switch to the new database");
    if (!ctx.cat.event_triggers.empty()) {
        bool blocks = ctx.tgt && !ctx.target_may_create_event_triggers;
        ctx.add(blocks ? severity::blocker : severity::warning, owner_group::platform, "integrations",
                "event triggers: code that runs on DDL", ctx.cat.event_triggers,
                blocks ? "the target login may not create event triggers (only a superuser may): the copy "
                         "refuses to start"
                       : "they fire on the target's DDL too; a non-superuser target login cannot create them",
                "drop them before the copy and have the target's administrator recreate them");
    }
}

void check_function_addresses(audit_context& ctx) {
    auto r = ctx.src.exec(R"(
        SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.lanname NOT IN ('c', 'internal')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
        ORDER BY 1)",
                          "reading function bodies");
    std::vector<std::string> found;
    for (int i = 0; i < r.rows(); ++i) {
        std::vector<std::string> addrs;
        for (auto& m : find_addresses(r.text(i, 1))) addrs.push_back(m.kind + " " + m.text);
        if (!addrs.empty()) found.push_back(r.str(i, 0) + ": " + join(addrs, "; "));
    }
    if (!found.empty())
        ctx.add(severity::warning, owner_group::application, "integrations",
                "functions with host names, IP addresses or connection strings in their code", found,
                "they are copied as written: after the move they point at the old places (or at nothing)",
                "have the owners move these addresses into configuration, or update them at cutover");
}

}  // namespace

void check_integrations(audit_context& ctx) {
    check_foreign_servers(ctx);
    check_replication(ctx);
    check_function_addresses(ctx);
}

void check_data_shape(audit_context& ctx) {
    const auto& cat = ctx.cat;
    if (!cat.large_objects.empty()) {
        auto size = ctx.src.exec("SELECT pg_total_relation_size('pg_largeobject')", "sizing large objects");
        ctx.add(cat.large_objects.size() > 100000 ? severity::warning : severity::info,
                owner_group::application, "data",
                fmt::format("{} large objects ({})", cat.large_objects.size(), format_size(size.i64(0, 0))),
                {},
                "large objects are copied one by one after the tables, with their owners and grants: many "
                "small ones are slow",
                cat.large_objects.size() > 100000 ? "consider moving them into bytea columns" : "");
    }
    auto nokey = ctx.src.exec(std::string(R"(
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.relreplident IN ('d', 'n')
          AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AND )") +
                                  user_relation_filter + " ORDER BY 1",
                              "listing tables without a key");
    if (nokey.rows() > 0)
        ctx.add(severity::warning, owner_group::application, "data",
                "tables without a primary key or replica identity", column(nokey),
                "pghaul copies them, but rows cannot be told apart: duplicates go unnoticed, and logical "
                "replication (for a low-downtime cutover) cannot carry their updates and deletes",
                "add a primary key, or REPLICA IDENTITY FULL where none exists");
    auto unlogged = ctx.src.exec(std::string(R"(
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'u' AND )") +
                                     user_relation_filter + " ORDER BY 1",
                                 "listing unlogged tables");
    if (unlogged.rows() > 0)
        ctx.add(severity::info, owner_group::application, "data", "unlogged tables", column(unlogged),
                "they are copied, but on the target (as on the source) a crash or failover empties them, and "
                "replicas never see them",
                "confirm the application treats them as a cache");
    auto invalid = ctx.src.exec(R"(
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid ORDER BY 1)",
                                "listing invalid indexes");
    if (invalid.rows() > 0)
        ctx.add(
            severity::warning, owner_group::platform, "data", "invalid indexes", column(invalid),
            "a failed CREATE INDEX CONCURRENTLY left them; the copy builds them for real, which fails for a "
            "unique index whose data has duplicates",
            "drop or REINDEX them on the source before the move");
    std::vector<std::string> text;
    for (auto& t : cat.tables)
        if (!t.binary()) text.push_back(t.display() + " (" + t.text_reason + ")");
    if (!text.empty())
        ctx.add(
            severity::info, owner_group::platform, "data", "tables copied in text format", text,
            "their binary form carries server-specific OIDs or the type has no binary I/O; text is slower",
            "");
    auto wide = ctx.src.exec(std::string(R"(
        SELECT format('%I.%I', n.nspname, c.relname) || ' (~' ||
               pg_size_pretty((pg_table_size(c.oid) / c.reltuples)::bigint) || ' per row)'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.reltuples > 0 AND pg_table_size(c.oid) / c.reltuples > 262144 AND )") +
                                 user_relation_filter + " ORDER BY 1",
                             "looking for very wide rows");
    if (wide.rows() > 0)
        ctx.add(
            severity::info, owner_group::platform, "data",
            "tables with very wide rows (over 256 kB on average)", column(wide),
            "each row travels as one message: such tables copy slower per byte and need more memory per row",
            "");
}

}  // namespace pghaul::engine::detail
