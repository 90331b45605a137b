// [target] max_connections: a cap on pghaul's connections to the target that
// holds across processes (the shards of a sharded run, or runs side by
// side), kept by the target itself. Slot i is the session-level advisory lock
// (slot_key, i) in the maintenance database: the maintenance connection takes
// one for itself and one per target connection the run may open, and the
// server lets them go when that session ends, however the process ended.
#pragma once

#include <stop_token>

#include "io/pg/connection.hpp"
#include "protocol/conninfo.hpp"

namespace pghaul::engine {

// 'PGHA': the first key of pghaul's advisory locks, so they do not collide
// with an application's single-key locks (another key space in pg_locks).
inline constexpr int slot_key = 0x50474841;

// The maintenance connection and the slots it holds: at least `need` (its
// own and one worker's), up to `want`, taken together or not at all, so two
// processes never each hold part of what they need while waiting for the
// rest. Until they are free, a short-lived connection (application_name
// pghaul/slot-probe) looks again every 2 s, saying once that it waits and
// who holds them. Throws the target's connection errors, or exit_code::interrupted.
struct slotted_connection {
    pg::connection conn;
    int slots;
};
slotted_connection open_with_slots(const conninfo& server, int cap, int need, int want, std::stop_token stop);

}  // namespace pghaul::engine
