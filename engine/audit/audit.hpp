// pghaul audit: a read-only pre-migration report built from catalog queries
// on the source (and the target when given). Each finding says what was found,
// why it matters and what to do, and belongs to the group that can act on it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "protocol/conninfo.hpp"

namespace pghaul::engine {

enum class severity { blocker, warning, info };
enum class owner_group { security, platform, application };

const char* to_string(severity s);
const char* to_string(owner_group g);

struct finding {
    severity level = severity::info;
    owner_group group = owner_group::platform;
    std::string category;              // "roles", "extensions", "integrations", ...
    std::string what;                  // one line: what was found
    std::vector<std::string> objects;  // the names it concerns
    std::string why;                   // why it matters for the move
    std::string todo;                  // what to do (may be empty for plain facts)
};

struct audit_options {
    // The new database's name on the target; unset: the target conninfo's dbname.
    std::optional<std::string> target_db;
    std::string maintenance_db = "postgres";  // where to connect on the target
    std::string pg_dump = "pg_dump";
    double mb_per_s = 150.0;  // assumed copy rate for the time estimate
    int jobs = 4;             // connections the copy would use on the target
};

struct audit_report {
    std::string source_endpoint;
    std::string source_db;
    std::string target_endpoint;  // empty without a target
    std::string target_db;        // the new name checked on the target (may be empty)
    std::vector<finding> findings;

    std::size_t count(severity s) const;
    bool has_blockers() const { return count(severity::blocker) > 0; }
};

// Connects to both servers, runs every check inside READ ONLY transactions and
// returns the findings. Throws pghaul::error when a server cannot be reached;
// a check the login may not run becomes an info finding ("could not check").
audit_report run_audit(const conninfo& source, const std::optional<conninfo>& target,
                       const audit_options& opt);

// Renderings: grouped by owner group, blockers first.
std::string render_audit_text(const audit_report& r);
std::string render_audit_markdown(const audit_report& r);
nlohmann::json audit_json(const audit_report& r);

}  // namespace pghaul::engine
