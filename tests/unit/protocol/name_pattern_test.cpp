#include "protocol/name_pattern.hpp"

#include <doctest/doctest.h>

#include "protocol/error.hpp"

using pghaul::name_pattern;
using kind = pghaul::name_pattern::kind;

TEST_CASE("name patterns read as pg_dump reads them") {
    auto table = [](const char* p) { return name_pattern::parse(p, kind::relation, "--exclude-table"); };
    CHECK(table("audit_log").matches("public", "audit_log"));
    CHECK(table("audit_log").matches("app", "audit_log"));                // no schema part: any schema
    CHECK_FALSE(table("audit_log").matches("public", "audit_log_2024"));  // the whole name
    CHECK(table("audit_*").matches("public", "audit_log_2024"));
    CHECK(table("Audit_Log").matches("public", "audit_log"));  // unquoted: folded
    CHECK_FALSE(table("Audit_Log").matches("public", "Audit_Log"));
    CHECK(table("\"Audit_Log\"").matches("public", "Audit_Log"));  // quoted: as written
    CHECK(table("app.log?").matches("app", "log1"));
    CHECK_FALSE(table("app.log?").matches("public", "log1"));
    CHECK(table("\"a.b\".c").matches("a.b", "c"));  // a quoted dot is part of the name
    CHECK(table("\"x*\"").matches("public", "x*"));
    CHECK_FALSE(table("\"x*\"").matches("public", "xy"));
    CHECK(table("t[0-9]").matches("public", "t7"));  // other regex characters are regex
    CHECK(table("a$b").matches("public", "a$b"));    // $ is literal
    CHECK(table("\"say \"\"hi\"\"\"").matches("public", "say \"hi\""));
}

TEST_CASE("schema patterns have one part") {
    auto schema = name_pattern::parse("tenant_*", kind::schema, "--schema");
    CHECK(schema.matches("tenant_a"));
    CHECK_FALSE(schema.matches("public"));
    CHECK_THROWS_AS(name_pattern::parse("a.b", kind::schema, "--schema"), pghaul::error);
}

TEST_CASE("bad patterns are usage errors naming the option and the pattern") {
    for (const char* p : {"a.b.c", "\"open", "", "a.", "t[0-"}) {
        try {
            name_pattern::parse(p, kind::relation, "--exclude-table");
            FAIL("accepted " << p);
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
            CHECK(std::string(e.what()).find("--exclude-table pattern") != std::string::npos);
        }
    }
}

TEST_CASE(
    "a relation filter leaves out what its table or schema patterns match, and tells pg_dump the same") {
    pghaul::relation_filter f;
    CHECK(f.empty());
    CHECK_FALSE(f.excludes("public", "orders"));
    f.tables.push_back(name_pattern::parse("audit_*", kind::relation, "--exclude-table"));
    f.tables.push_back(name_pattern::parse("app.\"Cache\"", kind::relation, "--exclude-table"));
    f.schemas.push_back(name_pattern::parse("scratch", kind::schema, "--exclude-schema"));
    CHECK_FALSE(f.empty());
    CHECK(f.excludes("public", "audit_log"));
    CHECK(f.excludes("app", "Cache"));
    CHECK_FALSE(f.excludes("public", "Cache"));
    CHECK(f.excludes("scratch", "anything"));  // the whole schema
    CHECK(f.excludes_schema("scratch"));
    CHECK_FALSE(f.excludes_schema("public"));
    CHECK_FALSE(f.excludes("public", "orders"));
    // As written, so pg_dump reads the same patterns.
    CHECK(f.pg_dump_args() == std::vector<std::string>{"--exclude-table=audit_*",
                                                       "--exclude-table=app.\"Cache\"",
                                                       "--exclude-schema=scratch"});
    CHECK(f.describe() == "--exclude-table audit_*, --exclude-table app.\"Cache\", --exclude-schema scratch");
}

TEST_CASE(
    "choosing tables or schemas leaves out the rest; -T and -N still apply; exact patterns round-trip") {
    pghaul::relation_filter f;
    f.only_tables.push_back(name_pattern::parse("order*", kind::relation, "--table"));
    CHECK(f.chooses());
    CHECK_FALSE(f.empty());
    CHECK_FALSE(f.excludes("public", "orders"));
    CHECK(f.excludes("public", "customers"));
    CHECK_FALSE(f.names("public", "customers"));  // left out by the choice, not named by -T
    f.only_schemas.push_back(name_pattern::parse("app", kind::schema, "--schema"));
    CHECK(f.excludes("public", "orders"));  // both choices must hold
    CHECK_FALSE(f.excludes("app", "orders"));
    CHECK(f.excludes_schema("public"));
    f.tables.push_back(name_pattern::parse("orders_old", kind::relation, "--exclude-table"));
    CHECK(f.excludes("app", "orders_old"));
    CHECK(f.names("app", "orders_old"));
    CHECK(f.pg_dump_args() == std::vector<std::string>{"--exclude-table=orders_old"});
    CHECK(f.describe() == "--table order*, --schema app, --exclude-table orders_old");
    // Any name, matched exactly by its pattern (pg_dump reads the same syntax).
    for (std::string name : {"plain", "Mixed Case", "dots.in.it", "star*?", "quote\"d", "[re]gex|x$"}) {
        CAPTURE(name);
        auto p = name_pattern::parse(pghaul::exact_pattern("s.x", name), kind::relation, "--table");
        CHECK(p.matches("s.x", name));
        CHECK_FALSE(p.matches("s.x", name + "y"));
        CHECK_FALSE(p.matches("s", name));
        CHECK(name_pattern::parse(pghaul::exact_pattern(name), kind::schema, "--schema").matches(name));
    }
    CHECK(pghaul::exact_pattern("a\"b", "c") == "\"a\"\"b\".\"c\"");
}
