// Sources through an agent (see the header).
#include "engine/common/via.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "io/link/forwarder.hpp"
#include "io/secret_file.hpp"
#include "protocol/error.hpp"
#include "protocol/pgpass.hpp"

namespace pghaul::engine {
namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string server_of(const conninfo& ci, const std::string& what) {
    const auto host = ci.get("host").value_or(env_or("PGHOST", ""));
    // A socket directory is fine: it is the agent's (on the database host).
    if (host.empty() || host.find(',') != std::string::npos)
        throw error(exit_code::usage, what + " is reached through an agent but names no single host",
                    "give host= (the name, address or socket directory the agent's --allow uses) and port=");
    return host + ":" + ci.get("port").value_or(env_or("PGPORT", "5432"));
}

// The password file as libpq finds it (and ignores it when others may read it).
std::string password_file() {
    std::string path = env_or("PGPASSFILE", "");
    if (path.empty()) {
        const char* home = std::getenv("HOME");
        if (!home) {
            if (auto* pw = getpwuid(getuid())) home = pw->pw_dir;
        }
        if (!home) return {};
        path = std::string(home) + "/.pgpass";
    }
    bool loose = false;
    return read_password_file(path, loose).value_or("");
}

}  // namespace

void open_route(endpoint_config& ep, const std::string& what, int level) {
    if (ep.via.address.empty() || ep.route) return;
    ep.route = std::make_shared<link::forwarder>(ep.via.address, ep.via.tls, server_of(ep.ci, what), level);
    ep.route->check();
}

conninfo reroute(const endpoint_config& ep, conninfo ci) {
    if (!ep.route) return ci;
    if (!ci.get("password")) {
        const auto server = ep.route->server();
        const auto colon = server.rfind(':');
        std::string user = ci.get("user").value_or(env_or("PGUSER", ""));
        if (user.empty())
            if (auto* pw = getpwuid(geteuid())) user = pw->pw_name;
        const auto db = ci.get("dbname").value_or(env_or("PGDATABASE", user));
        // libpq looks a socket directory up as "localhost".
        auto host = server.substr(0, colon);
        if (host.front() == '/') host = "localhost";
        if (auto p = pgpass_lookup(password_file(), host, server.substr(colon + 1), db, user))
            ci.set("password", *p);
    }
    ci.set("hostaddr", "127.0.0.1");
    ci.set("port", std::to_string(ep.route->port()));
    // Errors name the source and the agent, not the forwarder's local port.
    ci.show_as(ep.route->server(), " through the agent at " + ep.route->agent());
    // The link is TLS already: TLS to the server inside it would leave zstd
    // nothing to compress. A conninfo that asks for it keeps it.
    ci.set_default("sslmode", "disable");
    ci.set_default("gssencmode", "disable");
    return ci;
}

std::string hold_through_link(const endpoint_config& ep, const pg::connection& conn, std::chrono::seconds seconds,
                              std::string& why) {
    // The forwarder knows its sessions by the port libpq connected from.
    sockaddr_in local{};
    socklen_t len = sizeof local;
    const int fd = PQsocket(conn.raw());
    const auto session = fd >= 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0
                             ? ep.route->session_of(ntohs(local.sin_port))
                             : std::string();
    if (session.empty()) {
        why = "the link does not know the connection";
        return {};
    }
    if (ep.route->hold(session, seconds) > 0) return session;
    why = ep.route->last_error();
    return {};
}

void release_hold(const endpoint_config& ep, const std::string& session) noexcept {
    if (session.empty() || !ep.route) return;
    try {
        ep.route->release(session);
    } catch (const std::exception& e) {
        spdlog::debug("releasing the agent's hold on session {}: {}", session, e.what());
    }
}

}  // namespace pghaul::engine
