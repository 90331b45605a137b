#include "protocol/pgpass.hpp"

#include <doctest/doctest.h>

using pghaul::pgpass_lookup;

TEST_CASE(
    "pgpass: the first matching line wins, * matches anything, escapes and comments as libpq reads them") {
    const char* text =
        "# a comment\n"
        "db-a.internal:5432:app:haul:first\n"
        "db-a.internal:5432:*:haul:second\r\n"
        "*:*:*:*:fallback\n"
        "db\\:b:6543:app:u:pass\\:with\\\\colon:and more\n";
    CHECK(pgpass_lookup(text, "db-a.internal", "5432", "app", "haul") == "first");
    CHECK(pgpass_lookup(text, "db-a.internal", "5432", "other", "haul") == "second");
    CHECK(pgpass_lookup(text, "db-a.internal", "5433", "app", "haul") == "fallback");
    CHECK(pgpass_lookup("db\\:b:6543:app:u:pass\\:with\\\\colon:and more\n", "db:b", "6543", "app", "u") ==
          "pass:with\\colon:and more");
    CHECK_FALSE(pgpass_lookup("h:1:d:u:p\n", "h", "2", "d", "u"));
    CHECK_FALSE(pgpass_lookup("malformed line\n", "h", "1", "d", "u"));
    // What pgpass_escape writes (the memfd password file handed to pg_dump), the lookup reads back.
    CHECK(pghaul::pgpass_lookup("*:*:*:*:" + pghaul::pgpass_escape("a:b\\c") + "\n", "h", "1", "d", "u") ==
          "a:b\\c");
}
