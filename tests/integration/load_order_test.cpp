// What the order tables load in must not decide whether a copy succeeds.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace harness;

// A CHECK constraint whose function reads another table (here: orders must
// name an active customer). Loaded with the constraint in place, the bigger
// orders table (loaded first) would meet an empty customers table and fail,
// as pg_restore does; pghaul adds such constraints after all data.
TEST_CASE("a CHECK constraint whose function reads another table is added after every table is loaded") {
    const auto source_db = unique_name("chk_src"), target_db = unique_name("chk_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE customers (id int PRIMARY KEY, active boolean NOT NULL);"
        "INSERT INTO customers SELECT i, i % 10 <> 0 FROM generate_series(1, 100) i;"
        "CREATE FUNCTION active_customer(c int) RETURNS boolean LANGUAGE plpgsql STABLE AS "
        "$$BEGIN RETURN EXISTS (SELECT FROM public.customers WHERE id = c AND active); END$$;"
        "CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL,"
        " note text, CONSTRAINT orders_customer_active CHECK (active_customer(customer)));"
        "INSERT INTO orders SELECT i, 1 + i % 9, repeat('x', 200) FROM generate_series(1, 20000) i;"
        // A plain CHECK stays in the table's definition.
        "ALTER TABLE orders ADD CONSTRAINT orders_id_positive CHECK (id > 0)");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1",
                         "--no-owner", "--verify", "counts"});
    CHECK(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    const std::string checks =
        "SELECT string_agg(conname || ' ' || convalidated || ' ' || pg_get_constraintdef(oid), '; ' "
        "ORDER BY conname) FROM pg_constraint WHERE contype = 'c' AND conrelid = 'public.orders'::regclass";
    CHECK(t.exec(checks).str(0, 0) == s.exec(checks).str(0, 0));
    // And it is enforced on the target as on the source.
    CHECK_THROWS(t.exec("INSERT INTO orders VALUES (0, 10, '')"));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
