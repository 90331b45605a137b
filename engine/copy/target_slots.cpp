// Connection slots on the target (see the header).
#include "engine/copy/target_slots.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "protocol/error.hpp"

namespace pghaul::engine {
namespace {

constexpr auto poll_every = std::chrono::seconds(2);

// Free slots are found in pg_locks (readable by any login), then taken one
// by one with pg_try_advisory_lock: another process may take one between.
int try_take(pg::connection& c, int cap, int want) {
    if (want <= 0) return 0;
    const auto free = c.exec(
        "SELECT i FROM generate_series(0, " + std::to_string(cap - 1) +
            ") i WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' "
            "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
            "AND l.classid = " + std::to_string(slot_key) + " AND l.objid = i AND l.objsubid = 2) ORDER BY i",
        "looking for free connection slots on the target");
    int taken = 0;
    for (int r = 0; r < free.rows() && taken < want; ++r)
        if (c.exec("SELECT pg_catalog.pg_try_advisory_lock(" + std::to_string(slot_key) + ", " + free.str(r, 0) +
                       ")",
                   "taking a connection slot on the target")
                .boolean(0, 0))
            ++taken;
    return taken;
}

std::string holders(pg::connection& c) {
    auto r = c.exec("SELECT count(DISTINCT pid), string_agg(DISTINCT pid::text, ', ') FROM pg_catalog.pg_locks "
                    "WHERE locktype = 'advisory' AND classid = " +
                        std::to_string(slot_key) + " AND granted",
                    "listing who holds the connection slots");
    return r.str(0, 0) + " pghaul process(es), sessions " + r.str(0, 1);
}

void pause(std::stop_token stop) {
    std::mutex m;
    std::unique_lock lk(m);
    std::condition_variable_any().wait_for(lk, stop, poll_every, [] { return false; });
    if (stop.stop_requested()) throw error(exit_code::interrupted, "stopped while waiting for a connection slot");
}

std::string waiting(int cap, int need, const std::string& who) {
    return "waiting for " + std::to_string(need) + " free connection slots on the target (its max_connections = " +
           std::to_string(cap) + ", held by " + who + "); looking again every 2 s";
}

}  // namespace

slotted_connection open_with_slots(const conninfo& server, int cap, int need, int want, std::stop_token stop) {
    for (bool said = false;; pause(stop)) {
        auto c = pg::connection::open(server, "pghaul/slot-probe", exit_code::target);
        if (const int taken = try_take(c, cap, want); taken >= need) {
            c.exec("SET application_name = 'pghaul/admin'");
            if (said) spdlog::info("got {} connection slots on the target", taken);
            return {std::move(c), taken};
        }
        if (!said) spdlog::warn(waiting(cap, need, holders(c)));
        said = true;
        // Closing it lets go of the slots it took: none is held while waiting.
    }
}

}  // namespace pghaul::engine
