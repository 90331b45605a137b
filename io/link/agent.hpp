// `pghaul agent`: the far end of the link, next to a source. It accepts TLS
// connections from clients whose certificate its --client-ca signed, connects
// each to the one PostgreSQL server the client names (if --allow lists it),
// and moves the bytes both ways, zstd-compressed on the link. It is not an
// open proxy: any other server, and any client without such a certificate,
// is refused and logged.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "io/link/tls.hpp"

namespace pghaul::link {

// (warning?, message): the agent's log lines, one per session and refusal.
using log_fn = std::function<void(bool warning, const std::string& message)>;

struct agent_options {
    std::string listen;              // host:port
    tls_files tls;                   // ca: the CA of the clients' certificates
    std::vector<std::string> allow;  // host:port of each server clients may reach
    int level = 1;                   // zstd level towards the client (where it starts)
    int max_level = 9;               // adapt the level to the link up to this; 0: keep `level`
    // A password file (libpq's format, host:port as --allow names the server)
    // for sources whose password the agent holds: it signs in itself, so the
    // client never needs (or sees) it. Empty: clients sign in themselves.
    std::string password_file;
    // The longest a session's server connection is kept after its link
    // drops, when the client asked (HOLD): pghaul asks for the session that
    // holds its source snapshot, so readers it reconnects can still import
    // it. 0: never held.
    int max_hold_s = 600;
    // What the agent's sessions may hold in memory together: each takes its
    // buffers (about 0.7 MB) before it connects, and its zstd contexts as zstd
    // allocates them (1.4 MB to compress at level 1, 17.6 MB at level 9, about
    // 1 MB to decompress), giving them back whenever its server waits for the
    // next query: a snapshot held for a source that waits its turn costs the
    // buffers only. A session whose buffers do not fit waits up to 8 s for
    // one to end, then is refused with the reason (which pghaul shows); a level
    // that does not fit is not climbed to, and bytes that find no memory for
    // their level go uncompressed.
    std::int64_t memory_limit = 256LL << 20;
    // Threads that run the sessions (TLS and zstd are per-byte work): each
    // session stays on one at a time, so more sessions use more cores. 0: one
    // per core.
    int threads = 0;
};

// Serves until SIGINT or SIGTERM. Throws pghaul::error for bad options, TLS
// files or a listen address it cannot bind.
void run_agent(const agent_options& opt, const log_fn& log);

}  // namespace pghaul::link
