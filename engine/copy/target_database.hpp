// The target database as a whole: whether it exists, dropping it, and the
// comment that marks a copy into it as unfinished.
#pragma once

#include <string>
#include <string_view>

#include "io/pg/connection.hpp"

namespace pghaul::engine {

// prepare() comments the new database with this until finish() commits.
constexpr std::string_view incomplete_marker = "pghaul: INCOMPLETE";

bool database_exists(pg::connection& maint, const std::string& name);
void drop_database(pg::connection& maint, const std::string& name);
// Whether the database still carries the in-progress comment, i.e. finish()'s
// transaction (which clears it) never committed.
bool marked_incomplete(pg::connection& conn, const std::string& db);

}  // namespace pghaul::engine
