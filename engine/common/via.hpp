// Sources reached through a pghaul agent (issue 14): the run opens one link
// (io/link/forwarder) per endpoint that names `via`, checks it before
// anything else, and every conninfo resolved for that endpoint is rerouted
// to the link's local port.
#pragma once

#include "engine/common/endpoint.hpp"

namespace pghaul::engine {

// Opens and checks the endpoint's link if it names `via` and has none yet;
// `what` names the endpoint in errors. Throws usage errors (addresses, TLS
// files) and preflight errors (the agent refused or is unreachable).
void open_route(endpoint_config& ep, const std::string& what, int level);

// `ci` (credentials resolved) as libpq must connect to reach its server
// through `ep`'s link: hostaddr 127.0.0.1 and the link's port, the host name
// kept (for TLS to the server, if asked for); the password looked up in the
// password file under the source's own host and port, where libpq would not.
// Without a route, `ci` as it is.
conninfo reroute(const endpoint_config& ep, conninfo ci);

}  // namespace pghaul::engine
