// Owners as the source has them, by a target login that is not a superuser.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace harness;

// A superuser on the source gave a table and a function in schema acct to a
// role without CREATE there. A login that is not a superuser cannot do that
// (ALTER ... OWNER TO needs the new owner to have CREATE on the schema): the
// copy failed with "permission denied for schema acct" and no hint. pghaul
// grants CREATE for the load and takes it back.
TEST_CASE("objects owned by a role without CREATE on their schema keep that owner") {
    const auto source_db = unique_name("own_src"), target_db = unique_name("own_tgt");
    const std::string role = "pghaul_test_nocreate";
    const std::string make_role = "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role +
                                  "') THEN CREATE ROLE " + role + "; END IF; END$$";
    connect("PGHAUL_SRC_A_SUPER").exec(make_role);
    connect("PGHAUL_TGT_SUPER").exec(make_role + "; GRANT " + role + " TO haul_admin");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec("CREATE SCHEMA acct; GRANT USAGE ON SCHEMA acct TO " + role +
           ";"
           "CREATE TABLE acct.ledger (id int PRIMARY KEY, v text);"
           "INSERT INTO acct.ledger SELECT g, md5(g::text) FROM generate_series(1, 500) g;"
           "CREATE FUNCTION acct.total() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM acct.ledger';"
           "ALTER TABLE acct.ledger OWNER TO " +
           role + "; ALTER FUNCTION acct.total() OWNER TO " + role);
    REQUIRE_FALSE(s.exec("SELECT has_schema_privilege('" + role + "', 'acct', 'CREATE')").boolean(0, 0));
    // The source's superuser owns the schema; on the target the login does.
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--role-map",
                         "postgres=haul_admin", "--verify", "counts"});
    CHECK(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    const std::string owners =
        "SELECT (SELECT tableowner FROM pg_tables WHERE schemaname = 'acct' AND tablename = 'ledger') || ' ' "
        "|| "
        "(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'total')";
    CHECK(t.exec(owners).str(0, 0) == role + " " + role);
    // The load-time CREATE is gone again; USAGE, the source's grant, stays.
    const std::string rights = "SELECT has_schema_privilege('" + role + "', 'acct', 'CREATE') || ' ' || " +
                               "has_schema_privilege('" + role + "', 'acct', 'USAGE')";
    CHECK(t.exec(rights).str(0, 0) == "false true");
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
