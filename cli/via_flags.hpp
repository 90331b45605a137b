// --via, --via-ca, --via-cert, --via-key: a source reached through a pghaul
// agent, for every command that reads a source (copy, audit, verify, clients).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "engine/common/endpoint.hpp"

namespace pghaul::cli {

void add_via_flags(CLI::App& sub, engine::endpoint_config::via_config& via);

// Usage error for TLS files without --via.
void check_via_flags(const engine::endpoint_config::via_config& via);

// `ci` as the command connects to it: through the agent when --via is given
// (the link, checked first, kept open in `route` for the command's life).
conninfo through_agent(const conninfo& ci, const engine::endpoint_config::via_config& via,
                       std::shared_ptr<link::forwarder>& route);

}  // namespace pghaul::cli
