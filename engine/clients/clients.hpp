// pghaul clients: who is still connecting to a database, from
// pg_stat_activity polled once a second for a while, aggregated by role,
// application, client address and host name; and an optional fence that
// makes the old database refuse writes or connections, with its undo command.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "protocol/conninfo.hpp"

namespace pghaul::engine {

// One backend as pg_stat_activity shows it.
struct client_session {
    int pid = 0;
    std::string backend_start;  // identifies the backend together with pid (pids are reused)
    std::string role;
    std::string application;
    std::string address;   // IP, "local socket", or "" when hidden from the login
    std::string hostname;  // client_hostname (log_hostname = on), often ""
};

struct client_group {
    std::string role, application, address, hostname;
    std::chrono::system_clock::time_point first_seen, last_seen;
    std::string connected_since;  // earliest backend_start seen
    std::size_t backends = 0;     // distinct backends (pid, backend_start)
};

// Aggregates polls; pure, so it can be tested without a server.
class client_tracker {
public:
    void observe(std::chrono::system_clock::time_point when, const std::vector<client_session>& sessions);
    std::vector<client_group> groups() const;  // most backends first
    int polls() const { return polls_; }

private:
    using key = std::tuple<std::string, std::string, std::string, std::string>;
    struct state {
        client_group g;
        std::set<std::pair<int, std::string>> seen;
    };
    std::map<key, state> groups_;
    int polls_ = 0;
};

enum class fence_mode { read_only, no_connect };

struct fence_result {
    std::string applied;  // the statement that was run
    std::string undo;     // the statement that undoes it
    std::string note;     // what it does and does not stop
};

struct clients_options {
    std::chrono::seconds watch{0};  // 0: one snapshot
    std::chrono::milliseconds interval{1000};
    std::optional<fence_mode> fence;
    std::string maintenance_db = "postgres";  // where ALLOW_CONNECTIONS is changed from
};

struct clients_result {
    std::string endpoint;
    std::string database;
    std::vector<client_group> groups;
    int polls = 0;
    bool details_hidden = false;  // the login could not see other roles' addresses
    std::optional<fence_result> fence;
};

// Polls until `watch` has passed (or an interrupt signal arrives), after
// applying the fence if asked. Excludes its own session.
clients_result watch_clients(const conninfo& source, const clients_options& opt);

std::string render_clients_text(const clients_result& r);
nlohmann::json clients_json(const clients_result& r);

}  // namespace pghaul::engine
