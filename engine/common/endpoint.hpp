// A server as the user names it: a libpq connection string and, optionally,
// a command that prints its password (resolved by common/credentials.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/link/tls_files.hpp"
#include "protocol/conninfo.hpp"

namespace pghaul::link {
class forwarder;
}

namespace pghaul::engine {

struct endpoint_config {
    conninfo ci;
    // argv run without a shell; stdout is the password, or a JSON secret with
    // "password" and optionally "username", "host", "port", "dbname".
    std::vector<std::string> password_command;
    // Or the same secret (a password, or such JSON) read from a file, as a
    // Kubernetes Secret is mounted, or from an environment variable, as AWS
    // Batch and ECS hand Secrets Manager values over. At most one of the three.
    std::string password_file;
    std::string password_env;
    // Reached through a pghaul agent (`--via`, the manifest's `via`): its
    // host:port and this host's TLS files. Empty address: directly.
    struct via_config {
        std::string address;
        link::tls_files tls;
    } via;
    // The running link once the run opened it (engine/common/via.hpp): every
    // connection to this endpoint, pg_dump's too, goes through it.
    std::shared_ptr<link::forwarder> route;
};

}  // namespace pghaul::engine
