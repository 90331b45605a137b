// Sources reached through a pghaul agent (issue 14): the run opens one link
// (io/link/forwarder) per endpoint that names `via`, checks it before
// anything else, and every conninfo resolved for that endpoint is rerouted
// to the link's local port.
#pragma once

#include <chrono>
#include <string>

#include "engine/common/endpoint.hpp"
#include "io/pg/connection.hpp"

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

// Behind an agent: asks it to keep `conn`'s server session open for up to
// `seconds` after the link drops (the transaction holding a snapshot). The
// link session's id, for release_hold; "" with `why` set when the agent
// would not (its --max-hold is 0, or it is older than this pghaul).
std::string hold_through_link(const endpoint_config& ep, const pg::connection& conn, std::chrono::seconds seconds,
                              std::string& why);
// Ends that hold (and the session, if its link dropped meanwhile); errors are only logged.
void release_hold(const endpoint_config& ep, const std::string& session) noexcept;

}  // namespace pghaul::engine
