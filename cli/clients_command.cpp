// pghaul clients: options and the handler.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/via_flags.hpp"
#include "engine/clients/clients.hpp"
#include "protocol/duration.hpp"

namespace pghaul::cli {
namespace {

struct clients_args {
    std::string source, watch = "0", fence, format = "text";
    engine::endpoint_config::via_config via;
    engine::clients_options opt;
};

int run(const clients_args& a) {
    std::shared_ptr<link::forwarder> route;  // the agent link, open while the watch lasts
    auto source = through_agent(conninfo::parse(a.source, "source connection string"), a.via, route);
    auto opt = a.opt;
    opt.watch = parse_duration(a.watch);
    if (a.fence == "read-only") opt.fence = engine::fence_mode::read_only;
    if (a.fence == "no-connect") opt.fence = engine::fence_mode::no_connect;
    auto r = engine::watch_clients(source, opt);
    if (a.format == "json")
        std::cout << engine::clients_json(r).dump(2) << "\n";
    else
        std::cout << engine::render_clients_text(r);
    std::cout.flush();
    return 0;
}

}  // namespace

CLI::App* add_clients_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<clients_args>();
    auto* sub = app.add_subcommand(
        "clients", "who still connects to a database: role, application, address, first/last seen");
    sub->add_option("-s,--source", a->source, "connection string of the database to watch (the old one)")
        ->required()
        ->envname("PGHAUL_SOURCE")
        ->group("Connection");
    add_via_flags(*sub, a->via);
    sub->add_option("--maintenance-db", a->opt.maintenance_db,
                    "database the no-connect fence is applied from")
        ->capture_default_str()
        ->envname("PGHAUL_MAINTENANCE_DB")
        ->group("Connection");
    sub->add_option("--watch", a->watch, "poll every second for this long (90, 30s, 5m, 2h); 0: one look")
        ->capture_default_str()
        ->envname("PGHAUL_WATCH")
        ->group("Selection");
    sub->add_option(
           "--fence", a->fence,
           "first make the database read-only for new sessions (read-only) or refuse new connections "
           "(no-connect); prints the undo command")
        ->check(CLI::IsMember({"read-only", "no-connect"}))
        ->envname("PGHAUL_FENCE")
        ->group("Selection");
    sub->add_option("--format", a->format, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}))
        ->envname("PGHAUL_FORMAT")
        ->group("Output");
    sub->footer("Exit codes: 0 done, 2 bad arguments, 3 cannot connect, 4 a query or the fence failed.");
    sub->callback([&handler, a] { handler = [a] { return run(*a); }; });
    return sub;
}

}  // namespace pghaul::cli
