// What the target is and what its login may do, asked of the target server
// itself, for the copy's preflight and `pghaul audit` alike (one answer,
// judged by each).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/pg/connection.hpp"

namespace pghaul::engine {

// What stands in the way of the copy among the server and pg_dump
// versions, in the order the copy finds them (it stops at the first; the
// audit lists them all). Each says what is wrong, why, and what to do.
struct version_problem {
    enum class rule { source_unsupported, pg_dump_older, target_older } broken;
    std::string message, why, hint;
};
// Versions as server_version_num (150004); target_version 0 without a
// target, pg_dump_major 0 when it is not known (pg_dump could not be run).
std::vector<version_problem> judge_versions(int source_version, int target_version, int pg_dump_major);

// The target login and the roles around it.
struct target_login {
    std::string name;                  // current_user
    std::set<std::string> existing;    // every role on the target
    std::set<std::string> member_of;   // roles the login can act as
    std::set<std::string> superusers;  // postgres and the like: never to be granted to the login
    bool superuser = false;
    bool create_role = false;  // CREATEROLE, or a superuser
};
target_login read_target_login(pg::connection& conn);
// What to do when the login is not a member of roles that own the source's
// objects (`not_member`, not empty): the copy's error and the audit's
// blocker give the same advice. The usual non-prod owner is postgres, which
// a managed server never grants: map it to the login, or let the login own
// everything; a GRANT is offered for ordinary roles only.
std::string owner_hint(const std::set<std::string>& not_member, const target_login& t);

// The target's ICU collator version ("" when it has no ICU): ICU-collated
// indexes built under another version may sort differently.
std::string read_icu_version(pg::connection& conn);

// One extension as the target offers it: the version CREATE EXTENSION
// installs, and whether creating that version needs a superuser (not
// marked trusted).
struct extension_offer {
    std::string default_version;
    bool superuser_only = false;
};

// Every extension the target server offers, by name.
std::map<std::string, extension_offer> read_extension_offers(pg::connection& conn);

// The source's extensions (name, version) judged against the offers: what
// the target lacks, what it would install at another version, and what
// only a superuser may create when the login is not one. A managed
// service's admin role may be let through for some of the last (as it is
// for event triggers): the audit calls them blockers, the copy warns.
struct extension_verdict {
    std::vector<std::string> missing;  // "name version"
    struct version_change {
        std::string name, source, target;
    };
    std::vector<version_change> other_version;
    std::vector<std::string> superuser_only;  // names
};
extension_verdict judge_extensions(const std::vector<std::pair<std::string, std::string>>& used,
                                   const std::map<std::string, extension_offer>& offers,
                                   bool login_superuser);

// Whether the login may create event triggers: one is created and rolled
// back on `conn` (which must be outside a transaction), on a function in
// pg_temp (every login may have one). The server decides rather than
// rolsuper because a managed service may let its admin role through. Only a
// refusal counts as "no": any other error leaves the answer to the copy.
bool may_create_event_triggers(pg::connection& conn);

}  // namespace pghaul::engine
