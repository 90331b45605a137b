// Choosing what of a database a copy takes, as pg_dump does: tables without
// their rows (--exclude-table-data), relations and schemas left out (-T, -N)
// or chosen (--table, -n); what needs the rest refused before anything is
// written; dry run, report, verify and manifest in step.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;

// Issue 13 item 4 (its --exclude-table-data part): audit logs and caches
// come as definitions without rows; the dry run, the report and verify say so.
TEST_CASE("--exclude-table-data: those tables come without rows; dry run, report and verify know it") {
    const auto source_db = unique_name("nodata_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE audit_log (id serial PRIMARY KEY, msg text); CREATE INDEX audit_msg ON audit_log (msg);"
        "INSERT INTO audit_log (msg) SELECT md5(g::text) FROM generate_series(1, 5000) g;"
        "CREATE TABLE \"Cache\" (k text PRIMARY KEY, v text);"
        "INSERT INTO \"Cache\" SELECT g::text, 'v' FROM generate_series(1, 100) g;"
        "CREATE TABLE orders (id int PRIMARY KEY, total numeric);"
        "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 1000) g");
    auto rows = [](pghaul::pg::connection& c, const std::string& table) {
        return c.exec("SELECT count(*) FROM " + table).i64(0, 0);
    };
    const std::vector<std::string> filters = {"--exclude-table-data", "audit_*", "--exclude-table-data",
                                              "\"Cache\""};
    const auto target_db = unique_name("nodata_tgt");
    auto args = [&](std::vector<std::string> v) {
        v.insert(v.end(), filters.begin(), filters.end());
        return v;
    };
    auto plan = run_pghaul(
        args({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "--dry-run"}));
    CHECK(plan.exit_status == 0);
    std::size_t left_out = 0;
    for (auto at = plan.out.find("rows left out"); at != std::string::npos;
         at = plan.out.find("rows left out", at + 1))
        ++left_out;
    CHECK(left_out == 2);

    temp_file report("report.json", "");
    // One worker: the largest table, audit_log, is left out first, and the
    // reader goes on to the next tables (its read transaction once stayed open).
    auto r = run_pghaul(args({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                              "--verify", "counts", "--report", report.path, "--jobs", "1"}));
    CHECK(r.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(rows(t, "audit_log") == 0);
        CHECK(rows(t, "\"Cache\"") == 0);
        CHECK(table_fingerprints(t)["public.orders"] == table_fingerprints(s)["public.orders"]);
        // The definitions came whole: the index, the keys, the sequence's default.
        const std::string indexes =
            "SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes "
            "WHERE schemaname = 'public'";
        CHECK(t.exec(indexes).str(0, 0) == s.exec(indexes).str(0, 0));
    }
    auto rep = nlohmann::json::parse(std::ifstream(report.path));
    std::map<std::string, bool> excluded;
    for (auto& t : rep["sources"][0]["table_details"]) excluded[t["name"]] = t["rows_excluded"];
    CHECK(excluded["public.audit_log"]);
    CHECK(excluded["public.\"Cache\""]);
    CHECK_FALSE(excluded["public.orders"]);

    // verify: told what was left out, equal; not told, the rows differ.
    auto told = run_pghaul(
        args({"verify", "--source", src(source_db), "--target",
              server("PGHAUL_TGT_SUPER", target_db).to_string(), "--role-map", "postgres=haul_admin"}));
    INFO(told.out.substr(0, 3000));
    CHECK(told.exit_status == 0);
    CHECK(told.out.find("rows not compared (--exclude-table-data): public.\"Cache\", public.audit_log") !=
          std::string::npos);
    auto untold =
        run_pghaul({"verify", "--source", src(source_db), "--target",
                    server("PGHAUL_TGT_SUPER", target_db).to_string(), "--role-map", "postgres=haul_admin"});
    CHECK(untold.exit_status == 7);
    CHECK(untold.out.find("MISMATCH [rows] table public.audit_log") != std::string::npos);

    // The same as a manifest key, per source.
    const auto run_db = unique_name("nodata_run");
    temp_file manifest("m.toml",
                       "[target]\nconninfo = \"" + server("PGHAUL_TGT").to_string() +
                           "\"\n[run]\nmissing_roles = \"owner\"\n[[source]]\nname = \"a\"\nconninfo = \"" +
                           server("PGHAUL_SRC_A", source_db).to_string() + "\"\ntarget_db = \"" + run_db +
                           "\"\nexclude_table_data = [\"audit_*\"]\n");
    auto run = run_pghaul({"run", manifest.path});
    CHECK(run.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", run_db);
        CHECK(rows(t, "audit_log") == 0);
        CHECK(rows(t, "\"Cache\"") == 100);
    }
    drop_database("PGHAUL_TGT_SUPER", run_db);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// A schema left out whole takes its functions and types with it: a kept
// table whose column has such a type or whose default calls such a function
// is refused before anything is written (not when its CREATE TABLE fails).
TEST_CASE("-N: what needs a function or type in the left-out schema is refused first") {
    const auto source_db = unique_name("leftfn_src"), target_db = unique_name("leftfn_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER", source_db)
        .exec(
            "CREATE SCHEMA lib; CREATE TYPE lib.mood AS ENUM ('ok', 'sad');"
            "CREATE FUNCTION lib.next_id() RETURNS int LANGUAGE sql AS 'SELECT 7';"
            "CREATE TABLE t (id int DEFAULT lib.next_id(), m lib.mood); INSERT INTO t VALUES (1, 'ok')");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "-N",
                         "lib"});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("needs function lib.next_id()") != std::string::npos);
    CHECK(r.err.find("needs type lib.mood") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// Issue 13 item 4: tables and schemas left out whole (pg_dump's -T and -N) or
// chosen (--table, -n: only the other relations and schemas are left out).
// What stays but needs them (a foreign key, a view, a partition) is refused
// before anything is written, not halfway through the schema.
TEST_CASE("-T and -N leave objects out whole, --table and -n choose; what needs the rest is refused first") {
    const auto source_db = unique_name("leftout_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE SCHEMA scratch; CREATE TABLE scratch.tmp (id int); INSERT INTO scratch.tmp VALUES (1);"
        "CREATE FUNCTION scratch.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
        "CREATE TABLE audit_log (id serial PRIMARY KEY, msg text); CREATE INDEX audit_msg ON audit_log (msg);"
        "INSERT INTO audit_log (msg) SELECT md5(g::text) FROM generate_series(1, 500) g;"
        "CREATE TABLE customers (id int PRIMARY KEY, name text);"
        "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 50) g;"
        "CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric);"
        "INSERT INTO orders (customer, total) SELECT 1 + g % 50, g * 1.5 FROM generate_series(1, 1000) g;"
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100");
    const auto target_db = unique_name("leftout_tgt");
    auto copy = [&](std::vector<std::string> extra) {
        std::vector<std::string> v = {"copy",     "--source",     src(source_db),
                                      "--target", tgt(target_db), "--no-owner"};
        v.insert(v.end(), extra.begin(), extra.end());
        return run_pghaul(v);
    };
    // A table others need: refused, each dependent named, nothing written.
    auto needed = copy({"-T", "customers"});
    CHECK(needed.exit_status == 3);
    CHECK(needed.err.find("left out by --exclude-table customers") != std::string::npos);
    CHECK(needed.err.find("constraint orders_customer_fkey on table orders needs public.customers") !=
          std::string::npos);
    CHECK(needed.err.find("--exclude-table-data") != std::string::npos);
    auto viewed = copy({"--exclude-table", "ord*"});
    CHECK(viewed.exit_status == 3);
    CHECK(viewed.err.find("view big_orders needs public.orders") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    auto plan = copy({"-T", "audit_*", "-N", "scratch", "--dry-run"});
    CHECK(plan.exit_status == 0);
    CHECK(plan.out.find("table public.audit_log\n") != std::string::npos);
    CHECK(plan.out.find("schema scratch\n") != std::string::npos);
    CHECK(plan.out.find("scratch.tmp") == std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    temp_file report("report.json", "");
    auto r = copy({"-T", "audit_*", "-N", "scratch", "--verify", "counts", "--report", report.path});
    INFO(r.err.substr(0, 3000));
    CHECK(r.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(t.exec("SELECT to_regclass('audit_log') IS NULL AND to_regnamespace('scratch') IS NULL")
                  .boolean(0, 0));
        auto want = table_fingerprints(s), got = table_fingerprints(t);
        want.erase("public.audit_log");
        want.erase("scratch.tmp");
        CHECK(got == want);
        CHECK(t.exec("SELECT count(*) FROM big_orders").i64(0, 0) ==
              s.exec("SELECT count(*) FROM big_orders").i64(0, 0));
        CHECK(t.exec("SELECT last_value FROM orders_id_seq").i64(0, 0) == 1000);
    }
    auto rep = nlohmann::json::parse(std::ifstream(report.path));
    CHECK(rep["sources"][0]["left_out"] ==
          nlohmann::json({"table public.audit_log", "sequence public.audit_log_id_seq", "schema scratch"}));

    // verify: told, equal; not told, the missing objects are differences.
    auto told = run_pghaul({"verify", "--source", src(source_db), "--target",
                            server("PGHAUL_TGT_SUPER", target_db).to_string(), "--role-map",
                            "postgres=haul_admin", "-T", "audit_*", "--exclude-schema", "scratch"});
    INFO(told.out.substr(0, 3000));
    CHECK(told.exit_status == 0);
    CHECK(told.out.find("not compared: ") != std::string::npos);
    auto untold =
        run_pghaul({"verify", "--source", src(source_db), "--target",
                    server("PGHAUL_TGT_SUPER", target_db).to_string(), "--role-map", "postgres=haul_admin"});
    CHECK(untold.exit_status == 7);
    CHECK(untold.out.find("MISMATCH [missing] table public.audit_log") != std::string::npos);
    CHECK(untold.out.find("MISMATCH [missing] schema scratch") != std::string::npos);

    // Choosing instead: --table brings those tables (and their own
    // sequences) and the rest of the schema; -n one schema and what is in it.
    const auto chosen_db = unique_name("chosen_tgt");
    auto chosen = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(chosen_db), "--no-owner",
                              "--table", "orders", "--table", "customers", "--verify", "counts"});
    INFO(chosen.err.substr(0, 3000));
    CHECK(chosen.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", chosen_db);
        auto want = table_fingerprints(s);
        std::erase_if(want,
                      [](auto& e) { return e.first != "public.orders" && e.first != "public.customers"; });
        CHECK(table_fingerprints(t) == want);
        CHECK(t.exec("SELECT last_value FROM orders_id_seq").i64(0, 0) == 1000);
        CHECK(
            t.exec("SELECT to_regclass('big_orders') IS NULL AND to_regprocedure('scratch.f()') IS NOT NULL")
                .boolean(0, 0));
    }
    // pghaul verify, told the same choice: equal.
    auto chosen_verified = run_pghaul({"verify", "--source", src(source_db), "--target",
                                       server("PGHAUL_TGT_SUPER", chosen_db).to_string(), "--role-map",
                                       "postgres=haul_admin", "--table", "orders", "--table", "customers"});
    INFO(chosen_verified.out.substr(0, 3000));
    CHECK(chosen_verified.exit_status == 0);
    drop_database("PGHAUL_TGT_SUPER", chosen_db);
    auto one_schema = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(chosen_db),
                                  "--no-owner", "-n", "scratch", "--verify", "counts"});
    CHECK(one_schema.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", chosen_db);
        auto got = table_fingerprints(t);
        CHECK(got.size() == 1);
        CHECK(got["scratch.tmp"] == table_fingerprints(s)["scratch.tmp"]);
        CHECK(t.exec("SELECT to_regprocedure('scratch.f()') IS NOT NULL").boolean(0, 0));
    }
    drop_database("PGHAUL_TGT_SUPER", chosen_db);
    // A choice that matches nothing (a typo) would copy an empty database:
    // refused in preflight, as pg_dump refuses it, nothing written.
    for (auto [flag, pattern] : {std::pair{"--table", "ordres"}, std::pair{"-n", "scratchh"}}) {
        auto typo = run_pghaul(
            {"copy", "--source", src(source_db), "--target", tgt(chosen_db), "--no-owner", flag, pattern});
        CHECK(typo.exit_status == 3);
        CHECK(typo.err.find(std::string(pattern) + " matches nothing") != std::string::npos);
        CHECK_FALSE(target_has_database(chosen_db));
    }

    // The same per source in a manifest; a bad pattern names its key.
    const auto run_db = unique_name("leftout_run");
    const std::string manifest_head = "[target]\nconninfo = \"" + server("PGHAUL_TGT").to_string() +
                                      "\"\n[run]\nmissing_roles = \"owner\"\n[[source]]\nname = \"a\"\n"
                                      "conninfo = \"" +
                                      server("PGHAUL_SRC_A", source_db).to_string() + "\"\ntarget_db = \"" +
                                      run_db + "\"\n";
    temp_file bad("bad.toml", manifest_head + "exclude_schema = [\"a.b\"]\n");
    auto refused = run_pghaul({"run", bad.path});
    CHECK(refused.exit_status == 2);
    CHECK(refused.err.find("source[0].exclude_schema") != std::string::npos);
    temp_file manifest("m.toml",
                       manifest_head + "exclude_table = [\"audit_*\"]\nexclude_schema = [\"scratch\"]\n");
    auto run = run_pghaul({"run", manifest.path, "--verify", "counts"});
    CHECK(run.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", run_db);
        CHECK(t.exec("SELECT to_regclass('audit_log') IS NULL AND to_regnamespace('scratch') IS NULL")
                  .boolean(0, 0));
        CHECK(t.exec("SELECT count(*) FROM orders").i64(0, 0) == 1000);
    }
    drop_database("PGHAUL_TGT_SUPER", run_db);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
