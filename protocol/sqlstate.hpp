// What a failure means for the run, decided in one place: which SQLSTATEs
// are worth retrying in this run, which a --resume can get past, which say
// "the object is there already", which are missing privileges. Callers ask
// these questions; none of them compares SQLSTATE strings itself.
#pragma once

#include <string_view>

#include "protocol/error.hpp"

namespace pghaul::sqlstate {

// The families pghaul treats differently (PostgreSQL's Appendix A classes,
// or single codes where one matters on its own).
enum class family {
    none,                // no SQLSTATE: a local failure, or libpq before the server spoke
    connection,          // class 08: the connection broke or could not be made
    shutdown,            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
    conflict,            // 40001 serialization_failure, 40P01 deadlock_detected
    too_many_connections,  // 53300
    resources,           // class 53 otherwise: disk full, out of memory, ...
    already_exists,      // 42P07 relation, 42710 object, 42P16 table already has a primary key,
                         // 55000 index already attached (ADD CONSTRAINT ... USING INDEX)
    privilege,           // 42501 insufficient_privilege
    other,
};

family classify(std::string_view code);

// Retry the unit now, on a new connection, after a pause: the server went
// away, was busy or chose this transaction as a deadlock victim. Not for an
// error marked resume_later (its unit must not run twice in this run).
bool retry_now(const error& e);

// After the run failed: can a rerun with --resume get past it (an
// interruption, a lost server, a resource that ran out, a unit left for
// --resume), or would it fail again the same way?
bool resumable(const error& e);

// The statement failed because its object exists: on a retry or a resume,
// the earlier attempt's commit went through.
bool already_exists(const error& e);

bool insufficient_privilege(const error& e);

// The connection is gone: a batch that failed this way is not to be run
// again statement by statement on it.
bool connection_lost(const error& e);

}  // namespace pghaul::sqlstate
