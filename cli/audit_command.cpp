// pghaul audit: options and the handler (report to stdout, exit 9 on blockers).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/via_flags.hpp"
#include "engine/audit/audit.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

struct audit_args {
    std::string source, target, format = "text";
    engine::endpoint_config::via_config via;
    engine::audit_options opt;
    std::string target_db;
};

int run(const audit_args& a) {
    std::shared_ptr<link::forwarder> route;  // the agent link, open while the audit reads
    auto source = through_agent(conninfo::parse(a.source, "source connection string"), a.via, route);
    std::optional<conninfo> target;
    if (!a.target.empty()) target = conninfo::parse(a.target, "target connection string");
    auto opt = a.opt;
    if (!a.target_db.empty()) opt.target_db = a.target_db;
    auto report = engine::run_audit(source, target, opt);
    if (a.format == "json")
        std::cout << engine::audit_json(report).dump(2) << "\n";
    else if (a.format == "markdown")
        std::cout << engine::render_audit_markdown(report);
    else
        std::cout << engine::render_audit_text(report);
    std::cout.flush();
    return static_cast<int>(report.has_blockers() ? exit_code::blockers : exit_code::ok);
}

}  // namespace

CLI::App* add_audit_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<audit_args>();
    auto* sub = app.add_subcommand(
        "audit", "read-only pre-migration report: size, versions, roles, clients, integrations, risks");
    sub->add_option("-s,--source", a->source,
                    "source connection string (its dbname is the database to audit)")
        ->required()
        ->envname("PGHAUL_SOURCE")
        ->group("Connection");
    add_via_flags(*sub, a->via);
    sub->add_option("-t,--target", a->target,
                    "target connection string (optional); its dbname is the NEW database's name")
        ->envname("PGHAUL_TARGET")
        ->group("Connection");
    sub->add_option("--target-db", a->target_db,
                    "the new database's name, when the target's dbname is not it")
        ->envname("PGHAUL_TARGET_DB")
        ->group("Connection");
    sub->add_option("--maintenance-db", a->opt.maintenance_db, "database to connect to on the target")
        ->capture_default_str()
        ->envname("PGHAUL_MAINTENANCE_DB")
        ->group("Connection");
    sub->add_option("--pg-dump", a->opt.pg_dump, "pg_dump program whose version is checked")
        ->capture_default_str()
        ->envname("PGHAUL_PG_DUMP")
        ->group("Connection");
    sub->add_option("-j,--jobs", a->opt.jobs,
                    "connections the copy will use (for the free-connections check)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256))
        ->envname("PGHAUL_JOBS")
        ->group("Performance");
    sub->add_option("--assume-rate", a->opt.mb_per_s, "copy rate in MB/s for the time estimate")
        ->capture_default_str()
        ->check(CLI::PositiveNumber)
        ->envname("PGHAUL_ASSUME_RATE")
        ->group("Performance");
    sub->add_option("--format", a->format, "text, markdown or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "markdown", "json"}))
        ->envname("PGHAUL_FORMAT")
        ->group("Output");
    sub->footer("Exit codes: 0 no blockers, 9 blockers found, 2 bad arguments, 3 cannot connect.");
    sub->callback([&handler, a] { handler = [a] { return run(*a); }; });
    return sub;
}

}  // namespace pghaul::cli
