// Planner statistics after a copy: which tables pghaul analyzes, and that
// the ones it leaves to the target's autovacuum do get analyzed by it.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.hpp"

using namespace harness;

namespace {

// autovacuum_naptime of 1 s on the target while it lives: the default
// minute would make the test wait that long for autovacuum's first round.
struct quick_autovacuum {
    quick_autovacuum() { set("'1s'"); }
    ~quick_autovacuum() {
        try {
            set("DEFAULT");
        } catch (...) {
        }
    }
    static void set(const std::string& value) {
        auto t = connect("PGHAUL_TGT_SUPER");
        t.exec("ALTER SYSTEM SET autovacuum_naptime = " + value);
        t.exec("SELECT pg_reload_conf()");
    }
};

std::int64_t count_of(pghaul::pg::connection& t, const std::string& column, const std::string& table) {
    return t.exec_params("SELECT " + column + " FROM pg_stat_user_tables WHERE relname = $1", {table})
        .i64(0, 0);
}

}  // namespace

TEST_CASE(
    "small tables autovacuum will analyze are left to it; the rest, and all with --analyze-all, analyzed") {
    const auto source_db = unique_name("stats_src");
    const auto target_db = unique_name("stats_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    // few: under autovacuum's threshold (50 + 10%), never analyzed by it;
    // many: over it; many_off: over it, but autovacuum is off for the table;
    // big: over 1 MB, analyzed in its own step; empty: nothing to wait for.
    s.exec(R"(
        CREATE TABLE few (id int PRIMARY KEY, v text);
        INSERT INTO few SELECT g, 'v' || g FROM generate_series(1, 30) g;
        CREATE TABLE many (id int PRIMARY KEY, v text);
        INSERT INTO many SELECT g, 'v' || g FROM generate_series(1, 500) g;
        CREATE TABLE many_off (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);
        INSERT INTO many_off SELECT g, 'v' || g FROM generate_series(1, 500) g;
        CREATE TABLE big (id int PRIMARY KEY, v text);
        INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;
        CREATE TABLE empty (id int PRIMARY KEY);)");
    temp_file report("report.json", "");

    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "-O", "-x",
                         "--report", report.path});
    REQUIRE(r.exit_status == 0);
    CHECK(r.err.find("1 left to autovacuum (--analyze-all does them now)") != std::string::npos);
    auto stats = nlohmann::json::parse(read_file(report.path))["sources"][0]["statistics"];
    CHECK(stats["analyzed"] == 4);
    CHECK(stats["left_to_autovacuum"] == 1);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        for (const char* table : {"few", "many_off", "big", "empty"}) {
            CAPTURE(table);
            CHECK(count_of(t, "analyze_count", table) == 1);
        }
        CHECK(count_of(t, "analyze_count", "many") == 0);
        // Left, and done by autovacuum on its next round in the database.
        quick_autovacuum quick;
        bool analyzed = false;
        for (int i = 0; i < 120 && !analyzed; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            analyzed = count_of(t, "autoanalyze_count", "many") > 0;
        }
        CHECK(analyzed);
        CHECK(t.exec("SELECT count(*) FROM pg_stats WHERE tablename = 'many'").i64(0, 0) == 2);
    }

    auto all = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "-O", "-x",
                           "--on-existing", "replace", "--analyze-all"});
    REQUIRE(all.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        for (const char* table : {"few", "many", "many_off", "big", "empty"}) {
            CAPTURE(table);
            CHECK(count_of(t, "analyze_count", table) == 1);
        }
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
