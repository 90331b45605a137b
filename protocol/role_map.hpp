// Per-source role renaming ("role_map = { app = \"app_a\" }") applied to the DDL of
// one pg_dump entry, so owners, grantees, default privileges, policies and
// per-database role settings follow the rename.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pghaul {

// Rewrites role names in one pg_dump entry's SQL. Only role positions are touched:
// ... OWNER TO r; GRANT/REVOKE grantees, GRANTED BY, membership grants; ALTER DEFAULT
// PRIVILEGES FOR ROLE r ...; CREATE/ALTER POLICY ... TO r, ...; ALTER ROLE r IN
// DATABASE ...; SET SESSION AUTHORIZATION r|'r'; SET ROLE r; CREATE/ALTER USER
// MAPPING FOR r; CREATE SCHEMA ... AUTHORIZATION r. Never table/column/function
// names, string literals, comments or function bodies. Keys are role names as in
// pg_authid (exact case); a bare identifier in the SQL is case-folded to match, a
// quoted one is compared exactly. "TABLE DATA" entries and anything after a
// COPY ... FROM stdin are returned unchanged. An empty map is the identity.
std::string map_roles(std::string_view entry_type, std::string_view sql,
                      const std::map<std::string, std::string>& role_map);

// How pg_dump writes an identifier (fmtId): bare when it matches [a-z_][a-z0-9_]*
// and is not a keyword other than an unreserved one, else double-quoted with "" for ".
std::string pg_dump_ident(std::string_view name);

}  // namespace pghaul
