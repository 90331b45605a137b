// Client watching and fencing. The fence for connections is ALTER DATABASE
// ... ALLOW_CONNECTIONS false: the database owner may run it (no superuser
// needed) and it stops every role, where REVOKE CONNECT ... FROM PUBLIC would
// leave in the owner, superusers and every role granted CONNECT by name,
// which are exactly the application roles. PostgreSQL refuses it from inside
// the database itself, so it runs on the maintenance database.
#include "engine/clients/clients.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "engine/common/interrupt.hpp"
#include "io/pg/connection.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

void client_tracker::observe(std::chrono::system_clock::time_point when,
                             const std::vector<client_session>& sessions) {
    ++polls_;
    for (auto& s : sessions) {
        auto& st = groups_[{s.role, s.application, s.address, s.hostname}];
        if (st.seen.empty() && st.g.backends == 0) {
            st.g = {s.role, s.application, s.address, s.hostname, when, when, s.backend_start, 0};
        }
        st.g.last_seen = when;
        if (!s.backend_start.empty() &&
            (st.g.connected_since.empty() || s.backend_start < st.g.connected_since))
            st.g.connected_since = s.backend_start;
        st.seen.emplace(s.pid, s.backend_start);
        st.g.backends = st.seen.size();
    }
}

std::vector<client_group> client_tracker::groups() const {
    std::vector<client_group> out;
    for (auto& [k, st] : groups_) out.push_back(st.g);
    std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.backends > b.backends; });
    return out;
}

namespace {

std::vector<client_session> poll(pg::connection& conn, bool& hidden) {
    // A snapshot of the statistics per transaction: outside one, each call is fresh.
    auto r = conn.exec(R"(
        SELECT pid, to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), coalesce(usename, ''),
               coalesce(application_name, ''),
               CASE WHEN client_port = -1 THEN 'local socket' ELSE coalesce(host(client_addr), '') END,
               coalesce(client_hostname, ''), query = '<insufficient privilege>'
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend')",
                       "reading pg_stat_activity");
    std::vector<client_session> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(
            {static_cast<int>(r.i64(i, 0)), r.str(i, 1), r.str(i, 2), r.str(i, 3), r.str(i, 4), r.str(i, 5)});
        hidden = hidden || r.boolean(i, 6);
    }
    return out;
}

fence_result apply_fence(pg::connection& conn, const conninfo& source, const std::string& db,
                         const clients_options& opt) {
    const std::string name = sql::ident(db);
    fence_result f;
    if (*opt.fence == fence_mode::read_only) {
        // Undo restores what was there: a previous setting, or none.
        auto prev = conn.exec(R"(SELECT substr(c, length('default_transaction_read_only=') + 1)
                                 FROM pg_db_role_setting s, unnest(s.setconfig) c
                                 WHERE s.setrole = 0 AND c LIKE 'default\_transaction\_read\_only=%'
                                   AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                              "reading the database's settings");
        f.applied = "ALTER DATABASE " + name + " SET default_transaction_read_only = on";
        f.undo = prev.rows() > 0 ? "ALTER DATABASE " + name +
                                       " SET default_transaction_read_only = " + sql::literal(prev.str(0, 0))
                                 : "ALTER DATABASE " + name + " RESET default_transaction_read_only";
        f.note =
            "new sessions start read-only and their writes fail with \"cannot execute ... in a read-only "
            "transaction\"; sessions connected now keep writing until they reconnect, and a client can still "
            "SET default_transaction_read_only = off";
        conn.exec(f.applied, "fencing the database read-only");
    } else {
        auto maint =
            pg::connection::open(source.with_dbname(opt.maintenance_db), "pghaul/clients", exit_code::source);
        f.applied = "ALTER DATABASE " + name + " ALLOW_CONNECTIONS false";
        f.undo = "ALTER DATABASE " + name + " ALLOW_CONNECTIONS true";
        f.note =
            "new connections fail with \"database ... is not currently accepting connections\" for every "
            "role, superusers too; sessions connected now stay. Run the undo connected to another database "
            "(e.g. " +
            opt.maintenance_db + ")";
        maint.exec(f.applied, "fencing the database against connections");
    }
    spdlog::warn("fenced {}: {}", db, f.applied);
    spdlog::warn("undo with: {};", f.undo);
    return f;
}

std::string iso(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace

clients_result watch_clients(const conninfo& source, const clients_options& opt) {
    auto conn = pg::connection::open(source, "pghaul/clients", exit_code::source);
    clients_result res;
    res.endpoint = conn.endpoint();
    res.database = conn.exec("SELECT current_database()", "reading the database name").str(0, 0);
    // Connected before the fence, so a no-connect fence does not lock us out.
    if (opt.fence) res.fence = apply_fence(conn, source, res.database, opt);

    // Polls at start, start + interval, ... up to start + watch: "--watch 2s" looks three times.
    client_tracker tracker;
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + opt.watch;
    for (int k = 1;; ++k) {
        tracker.observe(std::chrono::system_clock::now(), poll(conn, res.details_hidden));
        const auto next = start + k * opt.interval;
        if (next > end) break;
        // Ctrl-C ends the watch; what was seen is still printed.
        if (!pause_until(next, run_stop_token())) break;
    }
    res.groups = tracker.groups();
    res.polls = tracker.polls();
    return res;
}

std::string render_clients_text(const clients_result& r) {
    std::string out = fmt::format("clients of database \"{}\" on {} ({} poll(s), this session excluded)\n",
                                  r.database, r.endpoint, r.polls);
    if (r.groups.empty()) {
        out += "no other sessions seen\n";
    } else {
        out += fmt::format("{:<16} {:<24} {:<18} {:<20} {:>8}  {:<20} {:<20} {}\n", "role", "application",
                           "client address", "host name", "backends", "first seen", "last seen",
                           "connected since");
        for (auto& g : r.groups)
            out +=
                fmt::format("{:<16} {:<24} {:<18} {:<20} {:>8}  {:<20} {:<20} {}\n", g.role,
                            g.application.empty() ? "-" : g.application,
                            g.address.empty() ? "(hidden)" : g.address, g.hostname.empty() ? "-" : g.hostname,
                            g.backends, iso(g.first_seen), iso(g.last_seen), g.connected_since);
    }
    if (r.details_hidden)
        out += "note: other roles' addresses are hidden from this login (grant it pg_read_all_stats)\n";
    if (r.fence) {
        out += "fenced: " + r.fence->applied + ";\n";
        out += "  " + r.fence->note + "\n";
        out += "undo:   " + r.fence->undo + ";\n";
    }
    return out;
}

nlohmann::json clients_json(const clients_result& r) {
    nlohmann::json groups = nlohmann::json::array();
    for (auto& g : r.groups)
        groups.push_back({{"role", g.role},
                          {"application_name", g.application},
                          {"client_addr", g.address},
                          {"client_hostname", g.hostname},
                          {"backends", g.backends},
                          {"first_seen", iso(g.first_seen)},
                          {"last_seen", iso(g.last_seen)},
                          {"connected_since", g.connected_since}});
    nlohmann::json j = {{"endpoint", r.endpoint},
                        {"database", r.database},
                        {"polls", r.polls},
                        {"details_hidden", r.details_hidden},
                        {"clients", groups}};
    j["fence"] =
        r.fence
            ? nlohmann::json{{"applied", r.fence->applied}, {"undo", r.fence->undo}, {"note", r.fence->note}}
            : nlohmann::json(nullptr);
    return j;
}

}  // namespace pghaul::engine
