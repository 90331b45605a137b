// Crash injection for the resume tests: PGHAUL_FAULT=kill:<point> makes the
// process SIGKILL itself the first time it reaches <point>, exactly as an
// operator's kill -9 or a power cut would stop it, at a moment a test can name
// (the schema, data, index and post-data phases are too quick to hit from
// outside). PGHAUL_FAULT=pause:<point> sleeps 3 s there, once, so a test can
// send a signal into a moment that is otherwise too short to hit.
// PGHAUL_FAULT=lose-ack:<point> makes lost_ack(<point>) true once: the caller
// acts as if the server's reply to what it just committed never arrived (the
// in-doubt COMMIT, which no server-side trick produces on demand). Unset, a
// point costs one comparison.
#pragma once

#include <string_view>

namespace pghaul::engine {

void fault_point(std::string_view point) noexcept;
bool lost_ack(std::string_view point) noexcept;

}  // namespace pghaul::engine
