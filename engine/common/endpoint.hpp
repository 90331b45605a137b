// A server as the user names it: a libpq connection string and, optionally,
// a command that prints its password (resolved by common/credentials.hpp).
#pragma once

#include <string>
#include <vector>

#include "protocol/conninfo.hpp"

namespace pghaul::engine {

struct endpoint_config {
    conninfo ci;
    // argv run without a shell; stdout is the password, or a JSON secret with
    // "password" and optionally "username", "host", "port", "dbname".
    std::vector<std::string> password_command;
};

}  // namespace pghaul::engine
