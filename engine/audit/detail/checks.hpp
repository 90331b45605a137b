// The audit's checks, one function per theme, sharing one context: the open
// read-only connections, what was learnt about the target, and the report.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/audit/audit.hpp"
#include "engine/catalog/catalog.hpp"
#include "engine/catalog/target_facts.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine::detail {

struct audit_context {
    pg::connection& src;
    pg::connection* tgt = nullptr;  // null without a target
    const audit_options& opt;
    const source_catalog& cat;
    audit_report& report;
    // What the target is, when there is one.
    int target_version = 0;
    target_login login;
    bool target_may_create_event_triggers = true;  // asked only when the source has some

    void add(severity s, owner_group g, std::string category, std::string what,
             std::vector<std::string> objects, std::string why, std::string todo = {});
    // Runs a query under a savepoint: on "permission denied" (or any error) the
    // transaction goes on and the error text comes back instead of a result.
    std::optional<pg::result> try_query(pg::connection& conn, const std::string& sql, std::string& error);
    // An info finding saying what could not be checked, and why.
    void could_not_check(owner_group g, const std::string& category, const std::string& what,
                         const std::string& error);
};

// "a, b, c" for messages.
std::string join(const std::vector<std::string>& v, const char* sep = ", ");

// The user-schema filter for pg_class rows aliased c with namespace n, skipping
// objects that belong to extensions.
extern const char* const user_relation_filter;

void check_size(audit_context& ctx);
void check_platform(audit_context& ctx);      // versions, encodings, locales, pg_dump, extensions
void check_roles(audit_context& ctx);         // owners, grantees, attributes, missing, defaults, PUBLIC
void check_activity(audit_context& ctx);      // pg_stat_activity, pg_stat_database
void check_integrations(audit_context& ctx);  // FDW, dblink, publications, subscriptions, slots, ...
void check_data_shape(audit_context& ctx);    // large objects, keys, unlogged, invalid indexes, ...
void check_target(audit_context& ctx);        // name taken, connections, CREATEDB

}  // namespace pghaul::engine::detail
