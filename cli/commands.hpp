// pghaul audit, verify, clients, report and agent: each command's options and handler live
// in its own file. add_*_command registers the subcommand; when it is the one
// given, parsing sets `handler` to what main() runs once logging is set up.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace pghaul::cli {

using command_handler = std::function<int()>;

CLI::App* add_audit_command(CLI::App& app, command_handler& handler);
CLI::App* add_verify_command(CLI::App& app, command_handler& handler);
CLI::App* add_clients_command(CLI::App& app, command_handler& handler);
CLI::App* add_report_command(CLI::App& app, command_handler& handler);
CLI::App* add_agent_command(CLI::App& app, command_handler& handler);

}  // namespace pghaul::cli
