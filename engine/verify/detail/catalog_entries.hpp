// What verify compares besides table data, as flat entries: one per schema
// object, owner, grant and setting, keyed so the same thing on both servers
// has the same key once roles are mapped.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/verify/verify.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine::detail {

// kind: "schema" (an object exists, value = its definition), "viewdef" (a
// view's or matview's query), "extversion" (compared as a note), "owner",
// "privileges" (aspect = grantee), "setting" (aspect = role or "" for the
// database), "sequence". object: "table public.orders", "index public.x", ...
struct entry_key {
    std::string kind;
    std::string object;
    std::string aspect;
    auto operator<=>(const entry_key&) const = default;
};
using catalog_entries = std::map<entry_key, std::string>;

// Reads every entry on one side. `role_map` renames roles (source side only;
// the target side passes an empty map). `peer_version`, the other server's
// version, leaves out what only the newer of the two has (17's MAINTAIN).
// What `exclude` leaves out (see left_out_relations) has no entries: a
// relation and what belongs to it (columns, indexes, constraints, triggers,
// policies, grants), a schema and everything in it. Its sequences are not
// even read (the login may not be allowed to). `left_out`, if given, counts
// the entries left out.
catalog_entries read_catalog_entries(pg::connection& conn, const std::map<std::string, std::string>& role_map,
                                     int peer_version, const relation_filter& exclude = {},
                                     std::size_t* left_out = nullptr);

// Differences, in key order: missing/extra objects, changed definitions,
// owners, privileges, settings, sequences. Counts entries by kind in `r`;
// extension versions that differ become notes.
void compare_entries(const catalog_entries& source, const catalog_entries& target, verify_result& r);

}  // namespace pghaul::engine::detail
