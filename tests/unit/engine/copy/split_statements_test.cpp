// Database-level statements as pg_dump writes them, split one per statement.
#include <doctest/doctest.h>

#include "engine/copy/detail/steps.hpp"

using pghaul::engine::steps::split_statements;

TEST_CASE("split_statements: one per ';' at a line end; a trailing comment block is not a statement") {
    auto v = split_statements(
        "ALTER DATABASE \"x\" SET work_mem TO '8MB';\nALTER ROLE r IN DATABASE \"x\" SET a TO 'b;c';\n"
        "\n\n--\n-- PostgreSQL database dump complete\n--\n");
    REQUIRE(v.size() == 2);
    CHECK(v[0] == "ALTER DATABASE \"x\" SET work_mem TO '8MB';\n");
    CHECK(v[1] == "ALTER ROLE r IN DATABASE \"x\" SET a TO 'b;c';\n");
    CHECK(split_statements("\n-- only a comment\n").empty());
    CHECK(split_statements("COMMENT ON DATABASE x IS 'a\nb';\n").size() == 1);
    CHECK(split_statements("SELECT 1").size() == 1);  // no ';': still a statement
}
