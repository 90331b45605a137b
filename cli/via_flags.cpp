// The --via flags (see the header).
#include "cli/via_flags.hpp"

#include "engine/common/via.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {

void add_via_flags(CLI::App& sub, engine::endpoint_config::via_config& via) {
    sub.add_option("--via", via.address,
                   "reach the source through the pghaul agent at host:port (zstd-compressed, mutual TLS)")
        ->envname("PGHAUL_VIA")
        ->group("Connection");
    sub.add_option("--via-ca", via.tls.ca, "the CA that signed the agent's certificate (PEM)")
        ->envname("PGHAUL_VIA_CA")
        ->group("Connection");
    sub.add_option("--via-cert", via.tls.cert, "this host's certificate for the agent (PEM)")
        ->envname("PGHAUL_VIA_CERT")
        ->group("Connection");
    sub.add_option("--via-key", via.tls.key, "the private key of --via-cert (PEM)")
        ->envname("PGHAUL_VIA_KEY")
        ->group("Connection");
}

void check_via_flags(const engine::endpoint_config::via_config& via) {
    if (via.address.empty() && (!via.tls.ca.empty() || !via.tls.cert.empty() || !via.tls.key.empty()))
        throw error(exit_code::usage, "--via-ca, --via-cert and --via-key need --via",
                    "give the agent's host:port with --via");
}

conninfo through_agent(const conninfo& ci, const engine::endpoint_config::via_config& via,
                       std::shared_ptr<link::forwarder>& route) {
    check_via_flags(via);
    if (via.address.empty()) return ci;
    engine::endpoint_config ep;
    ep.ci = ci;
    ep.via = via;
    engine::open_route(ep, "the source", 1);
    route = ep.route;
    return engine::reroute(ep, ci);
}

}  // namespace pghaul::cli
