// conninfo parsing and, above all, that no rendering leaks a password.
#include <doctest/doctest.h>

#include "protocol/conninfo.hpp"
#include "protocol/error.hpp"

using pghaul::conninfo;

TEST_CASE("key/value conninfo parses and renders without the password") {
    auto ci = conninfo::parse("host=db1 port=5433 user=app dbname=src password=s3cret sslmode=require");
    CHECK(ci.get("host") == "db1");
    CHECK(ci.dbname() == "src");
    CHECK(ci.redacted().find("s3cret") == std::string::npos);
    CHECK(ci.redacted().find("password=********") != std::string::npos);
    CHECK(ci.endpoint() == "app@db1:5433/src");
    CHECK(ci.to_string().find("password=s3cret") != std::string::npos);
}

TEST_CASE("URI conninfo with a password in the userinfo") {
    auto ci = conninfo::parse("postgresql://app:p%40ss@db-a.internal:5432/source_database_a?sslmode=require");
    CHECK(ci.get("password") == "p@ss");
    CHECK(ci.get("host") == "db-a.internal");
    CHECK(ci.redacted().find("p@ss") == std::string::npos);
    CHECK(ci.endpoint() == "app@db-a.internal:5432/source_database_a");
}

TEST_CASE("with_dbname replaces only the database and keeps the rest") {
    auto ci = conninfo::parse("host=h user=u dbname=app_db_a").with_dbname("postgres");
    CHECK(ci.dbname() == "postgres");
    CHECK(ci.get("user") == "u");
    CHECK(ci.options().size() == 3);
}

TEST_CASE("values with spaces and quotes survive a round trip through to_string") {
    auto ci = conninfo::parse("host=h dbname='my db' options='-c search_path=a\\'b'");
    auto again = conninfo::parse(ci.to_string());
    CHECK(again.dbname() == "my db");
    CHECK(again.get("options") == "-c search_path=a'b");
}

TEST_CASE("malformed conninfo is a usage error that never echoes the password") {
    for (const char* bad : {"hots=db1 password=topsecret", "host=db1 password=topsecret port",
                            "postgresql://u:topsecret@h:5432/db?bogus=1", "postgresql://u:topsecret@[::1"}) {
        CAPTURE(bad);
        try {
            conninfo::parse(bad);
            FAIL("expected an error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
            CHECK(std::string(e.what()).find("topsecret") == std::string::npos);
            CHECK_FALSE(e.hint().empty());
        }
    }
}

TEST_CASE("a misspelt keyword is named with the one libpq knows, in key=value and URI form alike") {
    auto message = [](const char* text) {
        try {
            conninfo::parse(text);
        } catch (const pghaul::error& e) {
            return std::string(e.what());
        }
        return std::string("parsed");
    };
    CHECK(message("hots=db1 password=topsecret").find("\"hots\" (did you mean host?)") != std::string::npos);
    auto uri = message("postgresql://u:topsecret@h/db?sslmod=require&password=other");
    CHECK(uri.find("\"sslmod\" (did you mean sslmode?)") != std::string::npos);
    CHECK(uri.find("topsecret") == std::string::npos);
    CHECK(uri.find("other") == std::string::npos);
    // A bare query word is no keyword: it may be a mistyped secret, never shown.
    CHECK(message("postgresql://u@h/db?hunter").find("hunter") == std::string::npos);
}

TEST_CASE("redact_conninfo_text hides quoted, bare and URI passwords") {
    using pghaul::redact_conninfo_text;
    CHECK(redact_conninfo_text("host=a password='x y z' user=b") == "host=a password=******** user=b");
    CHECK(redact_conninfo_text("host=a PASSWORD=abc") == "host=a PASSWORD=********");
    CHECK(redact_conninfo_text("postgres://u:abc@h/db") == "postgres://u:********@h/db");
    CHECK(redact_conninfo_text("postgresql://u@h/db") == "postgresql://u@h/db");
    CHECK(redact_conninfo_text("--source=host=a sslpassword=k password=p") ==
          "--source=host=a sslpassword=******** password=********");
    CHECK(redact_conninfo_text("postgresql://u:pw@h/db?sslpassword=k") ==
          "postgresql://u:********@h/db?sslpassword=********");
    // Overlapping secrets (a password= inside the userinfo): all of both hidden.
    CHECK(redact_conninfo_text("postgresql://u:password=x@h/db") == "postgresql://u:********");
}

TEST_CASE("conninfo_secret_spans finds each secret's bytes, for hiding them in place") {
    using pghaul::conninfo_secret_spans;
    using span = std::pair<std::size_t, std::size_t>;
    CHECK(conninfo_secret_spans("host=a password=abc") == std::vector<span>{{16, 3}});
    CHECK(conninfo_secret_spans("postgres://u:abc@h/db") == std::vector<span>{{13, 3}});
    CHECK(conninfo_secret_spans("host=a user=b").empty());
}

TEST_CASE("a conninfo libpq cannot parse never brings its password into the error") {
    const char* sentinel = "S3ntinel";
    for (const char* text : {"postgresql://haul:S3ntinel%zz@host/db", "postgresql://haul:S3ntinel@[::1",
                             "password='S3ntinel and more", "host=a password='S3ntinel x' dbname",
                             "postgresql://h/db?password=S3ntinel%zz",
                             "postgresql://haul:%zzS3ntinel@host/db", "host=a passwrd=S3ntinel"}) {
        CAPTURE(text);
        try {
            pghaul::conninfo::parse(text, "source connection string");
            FAIL("expected a parse error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
            CHECK(std::string(e.what()).find(sentinel) == std::string::npos);
            CHECK(e.hint().find(sentinel) == std::string::npos);
        }
    }
    CHECK(pghaul::redact_conninfo_text("password='S3ntinel and more") == "password=********");
}
