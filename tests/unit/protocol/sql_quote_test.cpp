// Identifier and literal quoting for every kind of name a database can hold.
#include <doctest/doctest.h>

#include "protocol/sql_quote.hpp"

namespace sql = pghaul::sql;

TEST_CASE("identifiers are always double-quoted, embedded quotes doubled") {
    CHECK(sql::ident("plain") == "\"plain\"");
    CHECK(sql::ident("Mixed Case") == "\"Mixed Case\"");
    CHECK(sql::ident("a\"b") == "\"a\"\"b\"");
    CHECK(sql::ident("select") == "\"select\"");
    CHECK(sql::ident("ünïcødé_表") == "\"ünïcødé_表\"");
    CHECK(sql::ident("x;DROP TABLE y") == "\"x;DROP TABLE y\"");
    CHECK(sql::qualified("a.b", "c") == "\"a.b\".\"c\"");
}

TEST_CASE("literals double quotes and switch to E'' for backslashes") {
    CHECK(sql::literal("it's") == "'it''s'");
    CHECK(sql::literal("") == "''");
    CHECK(sql::literal("a\\b") == "E'a\\\\b'");
    CHECK(sql::literal("'\\'") == "E'''\\\\'''");
}

TEST_CASE("text arrays escape quotes and backslashes") {
    CHECK(sql::text_array({}) == "{}");
    CHECK(sql::text_array({"a", "b c", "d\"e", "f\\g"}) == "{\"a\",\"b c\",\"d\\\"e\",\"f\\\\g\"}");
}

TEST_CASE("readable names are quoted only where PostgreSQL needs it, and one line, one spelling each") {
    CHECK(sql::readable("orders") == "orders");
    CHECK(sql::readable("order_2") == "order_2");
    CHECK(sql::readable("Orders") == "\"Orders\"");
    CHECK(sql::readable("2fa") == "\"2fa\"");
    CHECK(sql::readable("user") == "\"user\"");
    CHECK(sql::readable("my table") == "\"my table\"");
    CHECK(sql::readable("a\"b") == "\"a\"\"b\"");
    CHECK(sql::readable("ünï") == "\"ünï\"");
    CHECK(sql::readable("") == "\"\"");
    // A newline would split a log line: U& escapes keep it on one.
    CHECK(sql::readable("evil\nDROP") == "U&\"evil\\000ADROP\"");
    CHECK(sql::readable("a\\b\t") == "U&\"a\\\\b\\0009\"");
    // The dot stays inside the quotes: "a.b".c and a."b.c" are two names.
    CHECK(sql::readable_qualified("a.b", "c") == "\"a.b\".c");
    CHECK(sql::readable_qualified("a", "b.c") == "a.\"b.c\"");
}
