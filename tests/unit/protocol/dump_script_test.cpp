// Splitting pg_dump's plain output into entries.
#include <doctest/doctest.h>

#include "engine/copy/schema_plan.hpp"
#include "protocol/dump_script.hpp"

namespace {
constexpr const char* sample = R"(--
-- PostgreSQL database dump
--

\restrict abc123

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: src; Type: DATABASE; Schema: -; Owner: app
--

CREATE DATABASE src WITH TEMPLATE = template0 ENCODING = 'UTF8';


\unrestrict abc123
\connect src
\restrict abc123

SET statement_timeout = 0;
SET row_security = off;

--
-- Name: a a_pkey; Type: CONSTRAINT; Schema: public; Owner: app
--

ALTER TABLE ONLY public.a
    ADD CONSTRAINT a_pkey PRIMARY KEY (id);


--
-- Name: f; Type: FUNCTION; Schema: odd; name; Owner: app
--

CREATE FUNCTION f() RETURNS text AS $$
--
select 'x -- y'
$$ LANGUAGE sql;

--
-- PostgreSQL database dump complete
--

\unrestrict abc123)";
}  // namespace

TEST_CASE("entries, their headers and the per-session preamble") {
    auto s = pghaul::parse_dump_script(sample);
    REQUIRE(s.entries.size() == 3);
    CHECK(s.entries[0].type == "DATABASE");
    CHECK(s.entries[1].name == "a a_pkey");
    CHECK(s.entries[1].type == "CONSTRAINT");
    CHECK(s.entries[1].schema == "public");
    CHECK(s.entries[1].owner == "app");
    CHECK(s.entries[1].sql == "ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY (id);");
    // The settings after \connect, not those before, are the session's.
    CHECK(s.preamble.find("row_security") != std::string::npos);
    CHECK(s.preamble.find("restrict") == std::string::npos);
    for (auto& e : s.entries) CHECK(e.sql.find("\\restrict") == std::string::npos);
}

TEST_CASE("a schema name holding '; ' does not confuse the header") {
    auto s = pghaul::parse_dump_script(sample);
    CHECK(s.entries[2].schema == "odd; name");
    CHECK(s.entries[2].type == "FUNCTION");
    // A "--" line inside a function body is kept.
    CHECK(s.entries[2].sql.find("$$\n--\nselect") != std::string::npos);
}

TEST_CASE("database statements are renamed, other text is not") {
    using pghaul::engine::rename_database_in;
    CHECK(rename_database_in("ALTER DATABASE src SET work_mem TO '8MB';", "src", "app_db_a") ==
          "ALTER DATABASE \"app_db_a\" SET work_mem TO '8MB';");
    CHECK(rename_database_in("COMMENT ON DATABASE \"Src DB\" IS 'src';", "Src DB", "new") ==
          "COMMENT ON DATABASE \"new\" IS 'src';");
    CHECK(rename_database_in("GRANT CONNECT ON DATABASE src TO r;", "src", "n") ==
          "GRANT CONNECT ON DATABASE \"n\" TO r;");
    CHECK(rename_database_in("ALTER DATABASE srcx SET a TO 'b';", "src", "n") ==
          "ALTER DATABASE srcx SET a TO 'b';");
}

TEST_CASE("drop_grants_to removes only the statements that name a missing role as grantee") {
    using pghaul::dump_entry;
    pghaul::engine::schema_plan plan;
    plan.acl = {dump_entry{"TABLE t", "ACL", "public", "o",
                           "REVOKE ALL ON TABLE public.t FROM \"Gone\";\n"
                           "GRANT SELECT ON TABLE public.t TO app;\n"
                           "GRANT SELECT ON TABLE public.t TO gone WITH GRANT OPTION;\n"
                           "GRANT SELECT ON TABLE public.t TO \"Gone\";\n"
                           "GRANT SELECT ON TABLE public.\"TO gone\" TO keep;\n"}};
    plan.pre_data = {
        dump_entry{"DEFAULT PRIVILEGES FOR TABLES", "DEFAULT ACL", "app", "o",
                   "ALTER DEFAULT PRIVILEGES FOR ROLE o IN SCHEMA app GRANT SELECT ON TABLES TO gone;\n"},
        dump_entry{"t", "TABLE", "public", "o", "CREATE TABLE t (gone int);\n"}};
    pghaul::engine::drop_grants_to(plan, {"gone", "Gone"});
    CHECK(plan.acl[0].sql ==
          "GRANT SELECT ON TABLE public.t TO app;\nGRANT SELECT ON TABLE public.\"TO gone\" TO keep;\n");
    CHECK(plan.pre_data[0].sql.empty());
    CHECK(plan.pre_data[1].sql == "CREATE TABLE t (gone int);\n");
}
