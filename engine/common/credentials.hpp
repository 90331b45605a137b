// Credentials beyond what libpq finds itself (.pgpass, PGPASSFILE, service
// files, PG* variables): a password_command whose output is the password or a
// cloud secret manager's JSON database secret.
#pragma once

#include <string_view>

#include "engine/common/endpoint.hpp"

namespace pghaul::engine {

// Runs the endpoint's password_command (if any) without a shell and returns its
// conninfo with the password (and, from a JSON secret, user/host/port/dbname
// where the conninfo leaves them unset). `what` names the endpoint in errors.
// The secret never appears in an error, a log line or a child's argv/environment.
conninfo resolve_credentials(const endpoint_config& ep, std::string_view what);

}  // namespace pghaul::engine
