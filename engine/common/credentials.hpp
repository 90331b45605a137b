// Credentials beyond what libpq finds itself (.pgpass, PGPASSFILE, service
// files, PG* variables): a password_command whose output is the password or a
// cloud secret manager's JSON database secret.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/endpoint.hpp"

namespace pghaul::engine {

// Runs the endpoint's password_command (if any) without a shell, or reads its
// password_file or password_env, and returns its conninfo with the password
// (and, from a JSON secret, user/host/port/dbname where the conninfo leaves
// them unset). `what` names the endpoint in errors.
// The secret never appears in an error, a log line or a child's argv/environment.
// A command that runs longer than `timeout` is killed and named in the error.
conninfo resolve_credentials(const endpoint_config& ep, std::string_view what,
                             std::chrono::seconds timeout = std::chrono::seconds(30));

// An endpoint's credentials for a long run: password_command runs again (its
// file or variable is read again) for a connection opened after the last
// result is older than `max_age` (short-lived tokens: a cloud IAM database
// token lasts 15 minutes; a mounted Secret is rewritten when it rotates).
// Thread-safe; without any of them it is the conninfo as given.
class fresh_credentials {
public:
    fresh_credentials(endpoint_config ep, std::string what, std::chrono::seconds timeout,
                      std::chrono::seconds max_age)
        : ep_(std::move(ep)), what_(std::move(what)), timeout_(timeout), max_age_(max_age) {}
    conninfo get();

private:
    endpoint_config ep_;
    std::string what_;
    std::chrono::seconds timeout_, max_age_;
    std::mutex mu_;
    std::optional<conninfo> last_;
    std::chrono::steady_clock::time_point at_;
};

}  // namespace pghaul::engine
