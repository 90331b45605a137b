// What the target login may do, asked of the target server itself, for the
// copy's preflight and `pghaul audit` alike (one answer, judged by each).
#pragma once

#include "io/pg/connection.hpp"

namespace pghaul::engine {

// Whether the login may create event triggers: one is created and rolled
// back on `conn` (which must be outside a transaction), on a function in
// pg_temp (every login may have one). The server decides rather than
// rolsuper because a managed service may let its admin role through. Only a
// refusal counts as "no": any other error leaves the answer to the copy.
bool may_create_event_triggers(pg::connection& conn);

}  // namespace pghaul::engine
