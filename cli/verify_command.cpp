// pghaul verify: options and the handler (exit 7 on any mismatch).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/via_flags.hpp"
#include "cli/selection_flags.hpp"
#include "engine/verify/verify.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

struct verify_args {
    std::string source, target, format = "text";
    engine::endpoint_config::via_config via;
    std::vector<std::string> role_map;
    selection_flags selection;
    engine::verify_options opt;
};

conninfo with_database(const std::string& text, const char* what) {
    auto ci = conninfo::parse(text, std::string(what) + " connection string");
    if (!ci.dbname() || ci.dbname()->empty())
        throw error(exit_code::usage, std::string("the ") + what + " connection string names no database",
                    "add dbname=... (the database to compare)");
    return ci;
}

int run(const verify_args& a) {
    std::shared_ptr<link::forwarder> route;  // the agent link, open while verify reads
    auto source = through_agent(with_database(a.source, "source"), a.via, route);
    auto target = with_database(a.target, "target");
    auto opt = a.opt;
    for (auto& m : a.role_map) {
        auto eq = m.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
            throw error(exit_code::usage, "invalid --role-map \"" + m + "\"",
                        "write it as SOURCE_ROLE=TARGET_ROLE");
        opt.role_map[m.substr(0, eq)] = m.substr(eq + 1);
    }
    opt.exclude_table_data = table_data_patterns(a.selection);
    opt.exclude = relation_filter_of(a.selection);
    auto r = engine::verify_databases(source, target, opt);
    if (a.format == "json")
        std::cout << engine::verify_json(r).dump(2) << "\n";
    else
        std::cout << engine::render_verify_text(r);
    std::cout.flush();
    return static_cast<int>(r.equal() ? exit_code::ok : exit_code::verify);
}

}  // namespace

CLI::App* add_verify_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<verify_args>();
    auto* sub = app.add_subcommand(
        "verify", "check that the target database equals the source: rows, checksums, schema, privileges");
    sub->add_option("-s,--source", a->source, "source connection string (its dbname is the original)")
        ->required()
        ->envname("PGHAUL_SOURCE")
        ->group("Connection");
    add_via_flags(*sub, a->via);
    sub->add_option("-t,--target", a->target, "target connection string (its dbname is the copy)")
        ->required()
        ->envname("PGHAUL_TARGET")
        ->group("Connection");
    add_selection_flags(*sub, a->selection, selection_use::verify);
    sub->add_flag("--checksums", a->opt.checksums, "compare every table's content, not only row counts")
        ->envname("PGHAUL_CHECKSUMS")
        ->group("Selection");
    sub->add_option("-j,--jobs", a->opt.jobs, "tables compared at once (one connection per side each)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256))
        ->envname("PGHAUL_JOBS")
        ->group("Performance");
    sub->add_option("--role-map", a->role_map,
                    "a role renamed by the copy: SOURCE_ROLE=TARGET_ROLE (repeatable)")
        ->envname("PGHAUL_ROLE_MAP")
        ->group("Selection");
    sub->add_option("--format", a->format, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}))
        ->envname("PGHAUL_FORMAT")
        ->group("Output");
    sub->footer(
        "Exit codes: 0 equal, 7 differences found, 2 bad arguments, 3 cannot connect, 4/5 a query failed.");
    sub->callback([&handler, a] { handler = [a] { return run(*a); }; });
    return sub;
}

}  // namespace pghaul::cli
