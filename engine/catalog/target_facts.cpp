// What the target login may do, asked of the target (see the header).
#include "engine/catalog/target_facts.hpp"

#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

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
