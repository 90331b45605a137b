// password_command output: a bare password (one line), or a JSON object as AWS
// Secrets Manager, GCP Secret Manager and Vault store database credentials.
#include "engine/common/credentials.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/common/via.hpp"
#include "io/process.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {
namespace {
conninfo with_password(const endpoint_config& ep, std::string_view what, std::chrono::seconds timeout);
conninfo with_secret(conninfo ci, std::string out, const std::string& name);
}  // namespace

conninfo resolve_credentials(const endpoint_config& ep, std::string_view what, std::chrono::seconds timeout) {
    return reroute(ep, with_password(ep, what, timeout));
}

namespace {

bool has_secret(const endpoint_config& ep) {
    return !ep.password_command.empty() || !ep.password_file.empty() || !ep.password_env.empty();
}

// The text of password_file or password_env; `name` says which, for errors.
std::string secret_from_file_or_env(const endpoint_config& ep, const std::string& name) {
    if (!ep.password_env.empty()) {
        const char* v = std::getenv(ep.password_env.c_str());
        if (!v || !*v)
            throw error(exit_code::preflight, name + ": the variable is not set or empty",
                        "set it in the job's environment (e.g. from a Kubernetes Secret or AWS Secrets Manager)");
        return v;
    }
    std::ifstream f(ep.password_file, std::ios::binary);
    if (!f)
        throw error(exit_code::preflight, name + ": cannot read it: " + std::strerror(errno),
                    "check the path and that this user may read it (a mounted Secret's defaultMode)");
    std::ostringstream text;
    text << f.rdbuf();
    return std::move(text).str();
}

// The conninfo with the secret password_command printed, or its file or
// variable held (the endpoint's own route aside).
conninfo with_password(const endpoint_config& ep, std::string_view what, std::chrono::seconds timeout) {
    conninfo ci = ep.ci;
    if (!has_secret(ep)) return ci;
    const std::string name = !ep.password_env.empty()    ? "password_env " + ep.password_env + " of " + std::string(what)
                             : !ep.password_file.empty() ? "password_file " + ep.password_file + " of " + std::string(what)
                                                         : "password_command of " + std::string(what);
    if (ep.password_command.empty()) return with_secret(std::move(ci), secret_from_file_or_env(ep, name), name);
    process_result r;
    try {
        r = run_process(ep.password_command, {}, {}, timeout);
    } catch (const error& e) {
        throw error(exit_code::preflight, name + ": " + e.what(), "check the command's path and permissions");
    }
    if (r.timed_out)
        throw error(exit_code::preflight,
                    name + " did not finish within " + std::to_string(timeout.count()) + " s (killed)",
                    "run it by hand to see what it waits for (a login prompt, the network); raise "
                    "--password-command-timeout if it is just slow");
    // Neither output is quoted: stdout is the secret, and stderr may hold it
    // too (a wrapper script left in `set -x` echoes it).
    if (r.exit_status != 0)
        throw error(
            exit_code::preflight,
            name + " failed with exit status " + std::to_string(r.exit_status) +
                (r.err.empty() ? std::string() : " (its error output is not shown: it may hold the secret)"),
            "run the command by hand to see its error and check it prints the password or a JSON "
            "secret");
    return with_secret(std::move(ci), std::move(r.out), name);
}

// A bare password (one line) or a JSON secret, into the conninfo. Nothing of
// it is ever quoted in an error.
conninfo with_secret(conninfo ci, std::string out, const std::string& name) {
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (out.empty())
        throw error(exit_code::preflight, name + " gave nothing",
                    "it must give the password or a JSON secret");

    if (out.front() != '{') {
        if (out.find('\n') != std::string::npos)
            throw error(exit_code::preflight, name + " printed several lines",
                        "print only the password, or a JSON object with a \"password\" field");
        ci.set("password", std::move(out));
        return ci;
    }
    nlohmann::json secret;
    try {
        secret = nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
        // The parser's message may quote the secret: never pass it on.
        throw error(exit_code::preflight,
                    name + " printed something that starts like JSON but does not parse",
                    "print the password, or a JSON object with a \"password\" field");
    }
    if (!secret.is_object() || !secret.contains("password") || !secret["password"].is_string())
        throw error(exit_code::preflight, name + " printed a JSON secret without a \"password\" string",
                    "secrets look like {\"username\": \"...\", \"password\": \"...\", \"host\": \"...\"}");
    ci.set("password", secret["password"].get<std::string>());
    // The secret fills in what the conninfo leaves open; explicit settings win.
    auto fill = [&](const char* json_key, const char* conn_key) {
        if (!secret.contains(json_key)) return;
        auto& v = secret[json_key];
        if (v.is_string()) ci.set_default(conn_key, v.get<std::string>());
        if (v.is_number_integer()) ci.set_default(conn_key, std::to_string(v.get<long long>()));
    };
    fill("username", "user");
    fill("host", "host");
    fill("port", "port");
    fill("dbname", "dbname");
    return ci;
}

}  // namespace

conninfo fresh_credentials::get() {
    std::lock_guard lk(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!last_ || (has_secret(ep_) && now - at_ >= max_age_)) {
        last_ = resolve_credentials(ep_, what_, timeout_);
        at_ = now;
    }
    return *last_;
}

}  // namespace pghaul::engine
