// The end-of-copy verification of one source (--verify counts|checksums).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/copy/source_job.hpp"
#include "engine/verify/verify.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

// The whole database against the source as of the copy's own snapshot (so a
// live source cannot cause false differences): row counts or checksums,
// sequences, schema objects, owners and privileges through the role map,
// settings. A mismatch fails the source but keeps its database, marked, for
// inspection.
void source_job::verify_against_snapshot(pg::connection& ddl, int worker) {
    timeline_entry bar{"verify", "", worker, std::chrono::steady_clock::now(), {}, true};
    verify_options opt;
    opt.checksums = run_.verify == run_config::verify_level::checksums;
    // Under a connection cap the run counted two connections for this (run.cpp).
    opt.jobs = run_.max_connections > 0 ? 1 : std::max(1, run_.jobs);
    opt.role_map = cfg_.role_map;
    opt.source_snapshot = snapshot_id_;
    opt.privileges = !schema_opt_.no_privileges;
    opt.exclude_table_data = cfg_.exclude_table_data;
    opt.exclude = cfg_.exclude;
    opt.uncountable_rows_are_notes = true;
    for (auto& t : cat_.tables)  // rows left out on purpose, by pattern or because the source is a standby
        if (t.data_excluded && !any_matches(opt.exclude_table_data, t.schema, t.name))
            opt.exclude_table_data.push_back(name_pattern::parse(exact_pattern(t.schema, t.name),
                                                                 name_pattern::kind::relation, "a table"));
    if (schema_opt_.no_owner) {
        // Everything belongs to the target login, and so do the owners' own rights.
        const std::string login = ddl.exec("SELECT current_user").str(0, 0);
        for (auto& r : cat_.owner_roles) opt.role_map[r] = login;
    }
    // Grants skipped for roles the target lacks, named as verify names the
    // source's grantees (through the role map above).
    for (auto& g : cat_.grant_roles)
        if (grants_skipped_to_.count(cfg_.target_role(g))) {
            auto mapped = opt.role_map.find(g);
            opt.grantees_not_compared.insert(mapped == opt.role_map.end() ? g : mapped->second);
        }
    outcome_.read([&](const outcome_fields& o) {
        for (auto& w : o.warnings)
            if (w.find("ALTER ROLE") != std::string::npos) opt.role_settings = false;
    });
    auto r = verify_databases(source_conninfo(), target_conninfo(), opt);
    release_snapshot();
    bar.end = std::chrono::steady_clock::now();
    bar.ok = r.equal();
    outcome_.update([&](outcome_fields& o) {
        o.timeline.push_back(bar);
        o.verified = !r.equal()      ? verification::mismatch
                     : opt.checksums ? verification::checksums_match
                                     : verification::counts_match;
    });
    // What verify could not compare is a warning (the run's count says so);
    // other notes (an extension's newer default version) are information.
    for (auto& n : r.notes) {
        if (n.starts_with("rows of "))
            warn("verify: " + n);
        else
            spdlog::info("[{}] verify: {}", cfg_.name, n);
    }
    if (r.equal()) {
        spdlog::info(
            "[{}] verified: {} tables{}, {} sequences, {} objects, {} privileges, {} settings ({:.1f} s)",
            cfg_.name, r.tables, opt.checksums ? " with checksums" : "", r.sequences, r.objects, r.privileges,
            r.settings, r.seconds);
        return;
    }
    std::string list;
    for (std::size_t i = 0; i < r.mismatches.size() && i < 10; ++i) {
        auto& m = r.mismatches[i];
        list += "\n  " + m.kind + " " + m.object + ": source " + (m.source.empty() ? "(none)" : m.source) +
                ", target " + (m.target.empty() ? "(none)" : m.target);
    }
    ddl.exec("COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS " +
                 sql::literal("pghaul: copy FAILED verification against " + source_endpoint_),
             "marking database \"" + cfg_.target_db + "\" as failed");
    throw error(
        exit_code::verify,
        std::to_string(r.mismatches.size()) + " differences between the source and \"" + cfg_.target_db +
            "\" after the copy:" + list,
        "the database is kept for inspection (its comment says it failed); run pghaul verify for the full "
        "list, then rerun with on_existing replace");
}

}  // namespace pghaul::engine
