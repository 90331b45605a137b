// Role renaming in pg_dump entries. Fixtures are real pg_dump 15.18 output (roles
// rm_app, "rm Mixed", rm_select, "rm""q", rm_orders, "RM_Upper", "rm$dollar", ...);
// a few marked "synthetic" are forms pg_dump does not emit but the grammar allows.
#include <doctest/doctest.h>

#include "protocol/role_map.hpp"

namespace {

using pghaul::map_roles;
using pghaul::pg_dump_ident;

const std::map<std::string, std::string> roles = {
    {"rm_app", "rm_app_a"},       {"rm Mixed", "rm Mixed A"}, {"rm_select", "Sel"},   {"rm\"q", "rm_q2"},
    {"rm_orders", "rm_orders_a"}, {"RM_Upper", "rm_upper"},   {"rm$dollar", "rm$d2"}, {"rm_super", "user"},
};

std::string map(std::string_view type, std::string_view sql) {
    return map_roles(type, sql, roles);
}

}  // namespace

TEST_CASE("pg_dump_ident quotes like pg_dump's fmtId") {
    // As printed by pg_dump for the test roles and objects.
    CHECK(pg_dump_ident("rm_app") == "rm_app");
    CHECK(pg_dump_ident("rm Mixed") == "\"rm Mixed\"");
    CHECK(pg_dump_ident("rm\"q") == "\"rm\"\"q\"");
    CHECK(pg_dump_ident("RM_Upper") == "\"RM_Upper\"");
    CHECK(pg_dump_ident("rm$dollar") == "\"rm$dollar\"");  // fmtId quotes '$'
    CHECK(pg_dump_ident("public") == "public");            // CREATE USER MAPPING FOR public
    CHECK(pg_dump_ident("to") == "\"to\"");                // policy and parameter "to"
    CHECK(pg_dump_ident("float") == "\"float\"");          // col_name keyword
    CHECK(pg_dump_ident("int") == "\"int\"");
    CHECK(pg_dump_ident("uint") == "uint");
    CHECK(pg_dump_ident("version") == "version");  // unreserved keyword stays bare
    CHECK(pg_dump_ident("user") == "\"user\"");
    CHECK(pg_dump_ident("current_user") == "\"current_user\"");
    CHECK(pg_dump_ident("authorization") == "\"authorization\"");
    CHECK(pg_dump_ident("_x1") == "_x1");
    CHECK(pg_dump_ident("1x") == "\"1x\"");
    CHECK(pg_dump_ident("") == "\"\"");
}

TEST_CASE("empty map is the identity") {
    std::string sql =
        "ALTER TABLE public.rm_orders OWNER TO rm_app;\nGRANT ALL ON SCHEMA rm_app TO rm_select;\n";
    CHECK(map_roles("TABLE", sql, {}) == sql);
}

TEST_CASE("OWNER TO follows the rename, names of objects do not") {
    CHECK(map("SCHEMA", "CREATE SCHEMA rm_app;\n\n\nALTER SCHEMA rm_app OWNER TO rm_app;\n\n") ==
          "CREATE SCHEMA rm_app;\n\n\nALTER SCHEMA rm_app OWNER TO rm_app_a;\n\n");
    CHECK(map("SCHEMA",
              "CREATE SCHEMA \"Odd Schema\";\n\n\nALTER SCHEMA \"Odd Schema\" OWNER TO \"rm Mixed\";\n") ==
          "CREATE SCHEMA \"Odd Schema\";\n\n\nALTER SCHEMA \"Odd Schema\" OWNER TO \"rm Mixed A\";\n");
    CHECK(map("TABLE", R"(CREATE TABLE rm_app.rm_app (
    id integer,
    rm_app text
);


ALTER TABLE rm_app.rm_app OWNER TO rm_app;
)") == R"(CREATE TABLE rm_app.rm_app (
    id integer,
    rm_app text
);


ALTER TABLE rm_app.rm_app OWNER TO rm_app_a;
)");
    CHECK(map("TABLE", R"(CREATE TABLE public.rm_orders (
    id integer NOT NULL,
    owner text,
    note text DEFAULT 'GRANT x TO rm_app'::text
);


ALTER TABLE public.rm_orders OWNER TO rm_app;
)") == R"(CREATE TABLE public.rm_orders (
    id integer NOT NULL,
    owner text,
    note text DEFAULT 'GRANT x TO rm_app'::text
);


ALTER TABLE public.rm_orders OWNER TO rm_app_a;
)");
    CHECK(map("SEQUENCE", "ALTER TABLE public.s1 OWNER TO \"rm\"\"q\";\n") ==
          "ALTER TABLE public.s1 OWNER TO rm_q2;\n");
    CHECK(map("OPERATOR", "ALTER OPERATOR public.=== (integer, integer) OWNER TO rm_app;\n") ==
          "ALTER OPERATOR public.=== (integer, integer) OWNER TO rm_app_a;\n");
    CHECK(map("OPERATOR FAMILY", "ALTER OPERATOR FAMILY public.opf USING btree OWNER TO rm_app;\n") ==
          "ALTER OPERATOR FAMILY public.opf USING btree OWNER TO rm_app_a;\n");
    CHECK(map("BLOB",
              "SELECT pg_catalog.lo_create('424242');\n\n\nALTER LARGE OBJECT 424242 OWNER TO rm_app;\n") ==
          "SELECT pg_catalog.lo_create('424242');\n\n\nALTER LARGE OBJECT 424242 OWNER TO rm_app_a;\n");
    CHECK(map("EVENT TRIGGER", R"(CREATE EVENT TRIGGER rm_evt ON ddl_command_start
   EXECUTE FUNCTION public.evt();


ALTER EVENT TRIGGER rm_evt OWNER TO rm_super;
)") == R"(CREATE EVENT TRIGGER rm_evt ON ddl_command_start
   EXECUTE FUNCTION public.evt();


ALTER EVENT TRIGGER rm_evt OWNER TO "user";
)");
    CHECK(map("SUBSCRIPTION",
              "CREATE SUBSCRIPTION rm_sub CONNECTION 'dbname=nope' PUBLICATION rm_pub WITH (connect = false, "
              "slot_name = NONE);\n\n\nALTER SUBSCRIPTION rm_sub OWNER TO rm_super;\n") ==
          "CREATE SUBSCRIPTION rm_sub CONNECTION 'dbname=nope' PUBLICATION rm_pub WITH (connect = false, "
          "slot_name = NONE);\n\n\nALTER SUBSCRIPTION rm_sub OWNER TO \"user\";\n");
    CHECK(map("PUBLICATION", "ALTER PUBLICATION rm_pub OWNER TO rm_app;\n") ==
          "ALTER PUBLICATION rm_pub OWNER TO rm_app_a;\n");
    CHECK(map("DATABASE", "ALTER DATABASE rolemap_scratch_rm1 OWNER TO rm_app;\n") ==
          "ALTER DATABASE rolemap_scratch_rm1 OWNER TO rm_app_a;\n");
    CHECK(map("FUNCTION", "ALTER FUNCTION public.f2() OWNER TO \"RM_Upper\";\n") ==
          "ALTER FUNCTION public.f2() OWNER TO rm_upper;\n");
    // Unmapped and bare upper-case spellings: a bare word is case-folded, a quoted one is exact.
    CHECK(map("FUNCTION", "ALTER FUNCTION public.evt() OWNER TO postgres;\n") ==
          "ALTER FUNCTION public.evt() OWNER TO postgres;\n");
    CHECK(map("TABLE", "ALTER TABLE t OWNER TO RM_App;") == "ALTER TABLE t OWNER TO rm_app_a;");  // synthetic
    CHECK(map("TABLE", "ALTER TABLE t OWNER TO RM_Upper;") ==
          "ALTER TABLE t OWNER TO RM_Upper;");  // synthetic
    CHECK(map("TABLE", "ALTER TABLE t\n    OWNER TO\n  rm_app;") ==
          "ALTER TABLE t\n    OWNER TO\n  rm_app_a;");
}

TEST_CASE("function bodies, parameters, literals and comments are left alone") {
    constexpr const char* f1 =
        R"(CREATE FUNCTION public.f1(a integer, "to" text, rm_app integer DEFAULT 3) RETURNS text
    LANGUAGE plpgsql
    AS $$
BEGIN
  -- ALTER TABLE x OWNER TO rm_app;
  EXECUTE 'GRANT SELECT ON t TO rm_app';
  RETURN 'rm_app';
END $$;


ALTER FUNCTION public.f1(a integer, "to" text, rm_app integer) OWNER TO rm_app;
)";
    std::string expected = f1;
    expected.replace(expected.rfind("rm_app;"), 6, "rm_app_a");
    CHECK(map("FUNCTION", f1) == expected);

    constexpr const char* f2 = R"(CREATE FUNCTION public.f2() RETURNS integer
    LANGUAGE sql
    AS $$SELECT 1 /* OWNER TO rm_app */$$;


ALTER FUNCTION public.f2() OWNER TO "RM_Upper";
)";
    expected = f2;
    expected.replace(expected.find("\"RM_Upper\""), 10, "rm_upper");
    CHECK(map("FUNCTION", f2) == expected);

    // synthetic: tagged dollar quotes, E'' strings with \' and nested comments
    std::string odd =
        "CREATE FUNCTION g() RETURNS text AS $fn$ SELECT 'x'; ALTER TABLE t OWNER TO rm_app; $fn$;\n"
        "COMMENT ON TABLE t IS E'it\\'s; ALTER TABLE t OWNER TO rm_app;';\n"
        "/* a /* nested; */ ALTER TABLE t OWNER TO rm_app; */\n"
        "COMMENT ON TABLE public.rm_orders IS 'owned by rm_app; GRANT ALL TO rm_app';\n";
    CHECK(map("FUNCTION", odd) == odd);
}

TEST_CASE("ACL entries map grantees, grantors and SET SESSION AUTHORIZATION") {
    CHECK(map("ACL", R"(REVOKE ALL ON TABLE public.rm_orders FROM rm_app;
GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.rm_orders TO rm_app;
GRANT SELECT,INSERT ON TABLE public.rm_orders TO rm_orders;
GRANT SELECT ON TABLE public.rm_orders TO rm_select WITH GRANT OPTION;
GRANT SELECT ON TABLE public.rm_orders TO "rm Mixed" WITH GRANT OPTION;
GRANT SELECT ON TABLE public.rm_orders TO "rm""q" WITH GRANT OPTION;
SET SESSION AUTHORIZATION rm_select;
GRANT SELECT ON TABLE public.rm_orders TO rm_other;
RESET SESSION AUTHORIZATION;
)") == R"(REVOKE ALL ON TABLE public.rm_orders FROM rm_app_a;
GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE ON TABLE public.rm_orders TO rm_app_a;
GRANT SELECT,INSERT ON TABLE public.rm_orders TO rm_orders_a;
GRANT SELECT ON TABLE public.rm_orders TO "Sel" WITH GRANT OPTION;
GRANT SELECT ON TABLE public.rm_orders TO "rm Mixed A" WITH GRANT OPTION;
GRANT SELECT ON TABLE public.rm_orders TO rm_q2 WITH GRANT OPTION;
SET SESSION AUTHORIZATION "Sel";
GRANT SELECT ON TABLE public.rm_orders TO rm_other;
RESET SESSION AUTHORIZATION;
)");
    CHECK(map("ACL", R"(GRANT SELECT ON TABLE rm_app.rm_app TO "rm Mixed" WITH GRANT OPTION;
SET SESSION AUTHORIZATION "rm Mixed";
GRANT SELECT ON TABLE rm_app.rm_app TO rm_other;
RESET SESSION AUTHORIZATION;
)") == R"(GRANT SELECT ON TABLE rm_app.rm_app TO "rm Mixed A" WITH GRANT OPTION;
SET SESSION AUTHORIZATION "rm Mixed A";
GRANT SELECT ON TABLE rm_app.rm_app TO rm_other;
RESET SESSION AUTHORIZATION;
)");
    CHECK(map("ACL", R"(REVOKE ALL ON FUNCTION public.f1(a integer, "to" text, rm_app integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.f1(a integer, "to" text, rm_app integer) TO rm_select;
)") == R"(REVOKE ALL ON FUNCTION public.f1(a integer, "to" text, rm_app integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.f1(a integer, "to" text, rm_app integer) TO "Sel";
)");
    CHECK(map("ACL",
              "GRANT UPDATE(note) ON TABLE public.rm_orders TO \"RM_Upper\";\n"
              "GRANT SELECT(note) ON TABLE public.rm_orders TO \"rm$dollar\";\n") ==
          "GRANT UPDATE(note) ON TABLE public.rm_orders TO rm_upper;\n"
          "GRANT SELECT(note) ON TABLE public.rm_orders TO \"rm$d2\";\n");
    CHECK(map("ACL",
              "GRANT ALL ON SCHEMA rm_app TO rm_select;\nGRANT USAGE ON SCHEMA rm_app TO \"rm Mixed\";\n") ==
          "GRANT ALL ON SCHEMA rm_app TO \"Sel\";\nGRANT USAGE ON SCHEMA rm_app TO \"rm Mixed A\";\n");
    CHECK(map("ACL", R"(REVOKE CONNECT,TEMPORARY ON DATABASE rolemap_scratch_rm1 FROM PUBLIC;
GRANT TEMPORARY ON DATABASE rolemap_scratch_rm1 TO PUBLIC;
GRANT CONNECT,TEMPORARY ON DATABASE rolemap_scratch_rm1 TO rm_select;
)") == R"(REVOKE CONNECT,TEMPORARY ON DATABASE rolemap_scratch_rm1 FROM PUBLIC;
GRANT TEMPORARY ON DATABASE rolemap_scratch_rm1 TO PUBLIC;
GRANT CONNECT,TEMPORARY ON DATABASE rolemap_scratch_rm1 TO "Sel";
)");
    CHECK(map("ACL",
              "GRANT SELECT ON LARGE OBJECT 424242 TO rm_select;\n"
              "GRANT SELECT ON LARGE OBJECT 424242 TO \"rm Mixed\";\n") ==
          "GRANT SELECT ON LARGE OBJECT 424242 TO \"Sel\";\n"
          "GRANT SELECT ON LARGE OBJECT 424242 TO \"rm Mixed A\";\n");
    CHECK(map("ACL", "GRANT ALL ON FOREIGN DATA WRAPPER rm_fdw TO rm_app;\n") ==
          "GRANT ALL ON FOREIGN DATA WRAPPER rm_fdw TO rm_app_a;\n");
}

TEST_CASE("a table named like a role keeps its name") {
    // synthetic shapes of the real "GRANT SELECT,INSERT ON TABLE public.rm_orders TO rm_orders;"
    CHECK(map("ACL", "GRANT SELECT ON TABLE rm_orders TO rm_orders;") ==
          "GRANT SELECT ON TABLE rm_orders TO rm_orders_a;");
    CHECK(map("ACL", "REVOKE SELECT ON TABLE rm_orders FROM rm_orders, rm_other CASCADE;") ==
          "REVOKE SELECT ON TABLE rm_orders FROM rm_orders_a, rm_other CASCADE;");
}

TEST_CASE("synthetic grant forms: several grantees, GRANTED BY, GROUP, membership") {
    CHECK(map("ACL",
              "GRANT SELECT ON TABLE t TO rm_select, \"rm Mixed\", GROUP rm_app, PUBLIC, rm_other "
              "WITH GRANT OPTION GRANTED BY rm_app;") ==
          "GRANT SELECT ON TABLE t TO \"Sel\", \"rm Mixed A\", GROUP rm_app_a, PUBLIC, rm_other "
          "WITH GRANT OPTION GRANTED BY rm_app_a;");
    CHECK(map("ACL", "REVOKE GRANT OPTION FOR SELECT ON TABLE t FROM rm_select GRANTED BY CURRENT_USER;") ==
          "REVOKE GRANT OPTION FOR SELECT ON TABLE t FROM \"Sel\" GRANTED BY CURRENT_USER;");
    CHECK(map("ACL", "GRANT rm_app, rm_other TO \"rm Mixed\" WITH ADMIN OPTION GRANTED BY rm_super;") ==
          "GRANT rm_app_a, rm_other TO \"rm Mixed A\" WITH ADMIN OPTION GRANTED BY \"user\";");
    CHECK(map("ACL", "REVOKE ADMIN OPTION FOR rm_app FROM rm_select;") ==
          "REVOKE ADMIN OPTION FOR rm_app_a FROM \"Sel\";");
}

TEST_CASE("SET SESSION AUTHORIZATION with a string literal (--use-set-session-authorization)") {
    CHECK(map("SCHEMA", "SET SESSION AUTHORIZATION 'rm_app';\n") ==
          "SET SESSION AUTHORIZATION 'rm_app_a';\n");
    CHECK(map("SCHEMA", "SET SESSION AUTHORIZATION 'rm\"q';\n") == "SET SESSION AUTHORIZATION 'rm_q2';\n");
    CHECK(map("SCHEMA", "SET SESSION AUTHORIZATION 'postgres';\n") ==
          "SET SESSION AUTHORIZATION 'postgres';\n");
    CHECK(map("SCHEMA", "SET SESSION AUTHORIZATION E'rm\\'q';") == "SET SESSION AUTHORIZATION E'rm\\'q';");
    CHECK(map_roles("X", "SET SESSION AUTHORIZATION E'it\\'s';", {{"it's", "b"}}) ==
          "SET SESSION AUTHORIZATION 'b';");
    CHECK(map("X", "SET SESSION AUTHORIZATION DEFAULT;") == "SET SESSION AUTHORIZATION DEFAULT;");
    CHECK(map("X", "SET ROLE rm_app;") == "SET ROLE rm_app_a;");
}

TEST_CASE("DEFAULT ACL entries map FOR ROLE and grantees, not the schema") {
    CHECK(
        map("DEFAULT ACL",
            R"(ALTER DEFAULT PRIVILEGES FOR ROLE rm_app IN SCHEMA rm_app GRANT SELECT ON TABLES  TO "rm Mixed";
ALTER DEFAULT PRIVILEGES FOR ROLE rm_app IN SCHEMA rm_app GRANT SELECT ON TABLES  TO rm_select;
)") == R"(ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a IN SCHEMA rm_app GRANT SELECT ON TABLES  TO "rm Mixed A";
ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a IN SCHEMA rm_app GRANT SELECT ON TABLES  TO "Sel";
)");
    CHECK(map("DEFAULT ACL",
              "ALTER DEFAULT PRIVILEGES FOR ROLE \"rm Mixed\" GRANT USAGE ON SEQUENCES  TO \"rm\"\"q\" WITH "
              "GRANT "
              "OPTION;\n") ==
          "ALTER DEFAULT PRIVILEGES FOR ROLE \"rm Mixed A\" GRANT USAGE ON SEQUENCES  TO rm_q2 WITH GRANT "
          "OPTION;\n");
    CHECK(map("DEFAULT ACL",
              "ALTER DEFAULT PRIVILEGES FOR ROLE rm_app REVOKE ALL ON FUNCTIONS  FROM PUBLIC;\n") ==
          "ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a REVOKE ALL ON FUNCTIONS  FROM PUBLIC;\n");
    CHECK(map("DEFAULT ACL", R"(ALTER DEFAULT PRIVILEGES FOR ROLE rm_app REVOKE ALL ON TABLES  FROM rm_app;
ALTER DEFAULT PRIVILEGES FOR ROLE rm_app GRANT SELECT ON TABLES  TO rm_app;
)") == R"(ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a REVOKE ALL ON TABLES  FROM rm_app_a;
ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a GRANT SELECT ON TABLES  TO rm_app_a;
)");
    CHECK(map("DEFAULT ACL",
              "ALTER DEFAULT PRIVILEGES FOR ROLE rm_app IN SCHEMA \"Odd Schema\" GRANT ALL ON TYPES  TO "
              "rm_orders;\n") ==
          "ALTER DEFAULT PRIVILEGES FOR ROLE rm_app_a IN SCHEMA \"Odd Schema\" GRANT ALL ON TYPES  TO "
          "rm_orders_a;\n");
}

TEST_CASE("POLICY entries map the TO list only") {
    CHECK(
        map("POLICY",
            R"(CREATE POLICY rm_app ON public.rm_orders AS RESTRICTIVE FOR SELECT TO rm_app, "rm Mixed" USING (((owner = 'rm_app'::text) AND (CURRENT_USER = 'rm_app'::name)));
)") == R"(CREATE POLICY rm_app ON public.rm_orders AS RESTRICTIVE FOR SELECT TO rm_app_a, "rm Mixed A" USING (((owner = 'rm_app'::text) AND (CURRENT_USER = 'rm_app'::name)));
)");
    CHECK(
        map("POLICY",
            R"(CREATE POLICY p4 ON public.rm_orders FOR DELETE TO postgres, "rm""q", rm_orders, "RM_Upper" USING ((owner = 'rm_app'::text));
)") == R"(CREATE POLICY p4 ON public.rm_orders FOR DELETE TO postgres, rm_q2, rm_orders_a, rm_upper USING ((owner = 'rm_app'::text));
)");
    CHECK(map("POLICY",
              "CREATE POLICY p2 ON public.rm_orders FOR INSERT TO rm_orders WITH CHECK ((note <> 'TO "
              "rm_app'::text));\n") ==
          "CREATE POLICY p2 ON public.rm_orders FOR INSERT TO rm_orders_a WITH CHECK ((note <> 'TO "
          "rm_app'::text));\n");
    std::string no_to =
        "CREATE POLICY p3 ON public.rm_orders USING (true);\n"
        "CREATE POLICY \"to\" ON public.rm_orders FOR UPDATE USING ((owner = 'x'::text)) WITH CHECK "
        "(true);\n";
    CHECK(map("POLICY", no_to) == no_to);
    // synthetic: a column named like a role inside USING
    CHECK(map("POLICY", "CREATE POLICY p ON t TO rm_app USING ((rm_app = CURRENT_USER));") ==
          "CREATE POLICY p ON t TO rm_app_a USING ((rm_app = CURRENT_USER));");
}

TEST_CASE("DATABASE PROPERTIES map ALTER ROLE ... IN DATABASE") {
    CHECK(map("DATABASE PROPERTIES", R"(ALTER DATABASE rolemap_scratch_rm1 SET statement_timeout TO '5s';
ALTER ROLE rm_app IN DATABASE rolemap_scratch_rm1 SET work_mem TO '8MB';
ALTER ROLE "rm Mixed" IN DATABASE rolemap_scratch_rm1 SET search_path TO 'rm_app', 'public';
)") == R"(ALTER DATABASE rolemap_scratch_rm1 SET statement_timeout TO '5s';
ALTER ROLE rm_app_a IN DATABASE rolemap_scratch_rm1 SET work_mem TO '8MB';
ALTER ROLE "rm Mixed A" IN DATABASE rolemap_scratch_rm1 SET search_path TO 'rm_app', 'public';
)");
}

TEST_CASE("USER MAPPING entries map the user, PUBLIC stays") {
    CHECK(map("USER MAPPING", "CREATE USER MAPPING FOR public SERVER rm_srv;\n") ==
          "CREATE USER MAPPING FOR public SERVER rm_srv;\n");
    CHECK(map("USER MAPPING", "CREATE USER MAPPING FOR \"rm Mixed\" SERVER rm_srv;\n") ==
          "CREATE USER MAPPING FOR \"rm Mixed A\" SERVER rm_srv;\n");
    CHECK(map("USER MAPPING",
              "CREATE USER MAPPING FOR rm_app SERVER rm_srv OPTIONS (\n    \"user\" 'rm_app'\n);\n") ==
          "CREATE USER MAPPING FOR rm_app_a SERVER rm_srv OPTIONS (\n    \"user\" 'rm_app'\n);\n");
}

TEST_CASE("data is never rewritten") {
    std::string data = "COPY public.t (a, b) FROM stdin;\nGRANT x TO rm_app;\t'\n\\.\n\n\n";
    CHECK(map("TABLE DATA", data) == data);
    CHECK(map("OTHER", data) == data);
    CHECK(map("OTHER", "ALTER TABLE t OWNER TO rm_app;\n" + data) ==
          "ALTER TABLE t OWNER TO rm_app_a;\n" + data);
}

TEST_CASE("truncated input does not crash and keeps its text") {
    for (std::string_view s :
         {"ALTER TABLE t OWNER TO \"rm_app", "GRANT SELECT ON t TO 'x", "SELECT $a$ unclosed",
          "/* open /* nested */", "ALTER TABLE t OWNER TO", "GRANT", "REVOKE ALL ON",
          "SET SESSION AUTHORIZATION", "ALTER DEFAULT PRIVILEGES FOR ROLE", "$", "E'\\",
          "CREATE USER MAPPING", "ALTER ROLE", ";;;", ""}) {
        CHECK(map("X", s) == s);
    }
    // no ';' at the end still counts as a statement
    CHECK(map("X", "ALTER TABLE t OWNER TO rm_app  \n-- done\n") ==
          "ALTER TABLE t OWNER TO rm_app_a  \n-- done\n");
}
