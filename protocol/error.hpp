// The one error type pghaul throws: a stable code (the exit code), what was
// being done, the endpoint (password already redacted) and a hint.
#pragma once

#include <stdexcept>
#include <string>

namespace pghaul {

// Exit codes, documented in the README. Stable: scripts depend on them.
enum class exit_code : int {
    ok = 0,
    internal = 1,
    usage = 2,      // bad arguments or conninfo: nothing was contacted
    preflight = 3,  // connect, auth, versions, roles, target exists: nothing was written
    source = 4,     // the source failed during the run
    target = 5,     // the target failed during the run
    local = 6,      // a local resource failed (pg_dump, memory, disk)
    verify = 7,     // row counts differ after the copy
    partial = 8,    // pghaul run: some sources failed, the others are done
    blockers = 9,   // pghaul audit: findings that would stop or break the move (see the report)
    interrupted = 130,  // SIGINT (128 + 2); SIGTERM gives 143
};

// What the run does about a failure beyond what its SQLSTATE says
// (protocol/sqlstate.hpp decides the rest).
enum class disposition {
    by_sqlstate,   // the SQLSTATE decides (retry, resume, fail)
    resume_later,  // never again in this run (its unit may have committed, or
                   // the snapshot it needs is gone); a --resume redoes it
    redo_once,     // its data was damaged in pghaul's own hands (a spool frame
                   // failed its checksum): read it from the source once more,
                   // if the snapshot is still held; else a --resume redoes it
};

class error : public std::runtime_error {
public:
    error(exit_code code, std::string message, std::string hint = {}, std::string sqlstate = {},
          pghaul::disposition d = pghaul::disposition::by_sqlstate)
        : std::runtime_error(std::move(message)),
          code_(code),
          hint_(std::move(hint)),
          sqlstate_(std::move(sqlstate)),
          disposition_(d) {}

    exit_code code() const noexcept { return code_; }
    const std::string& hint() const noexcept { return hint_; }
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    pghaul::disposition disposition() const noexcept { return disposition_; }

private:
    exit_code code_;
    std::string hint_;
    std::string sqlstate_;
    pghaul::disposition disposition_;
};

}  // namespace pghaul
