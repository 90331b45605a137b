// The target database as a whole: whether it exists, dropping it, and the
// comment that marks a copy into it as unfinished.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/pg/connection.hpp"

namespace pghaul::engine {

// prepare() comments the new database with this until finish() commits.
constexpr std::string_view incomplete_marker = "pghaul: INCOMPLETE";

bool database_exists(pg::connection& maint, const std::string& name);
void drop_database(pg::connection& maint, const std::string& name);
// The OID of database `name`, or 0 if there is none.
std::uint32_t database_oid(pg::connection& conn, const std::string& name);

// A session-level advisory lock on the maintenance database that says "a
// pghaul is copying into `name`": held by the run's maintenance connection
// until it ends (the server drops it when pghaul dies, even by kill -9).
// False when another pghaul holds it.
bool try_claim_database(pg::connection& maint, const std::string& name);

// Whether the database still carries the in-progress comment, i.e. finish()'s
// transaction (which clears it) never committed.
bool marked_incomplete(pg::connection& conn, const std::string& db);

}  // namespace pghaul::engine
