// Failures during the copy: connections killed mid-COPY are retried within
// the snapshot; SIGINT stops the run quickly and leaves nothing behind.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "harness.hpp"

using namespace harness;

namespace {

std::string src(const std::string& db) {
    return server("PGHAUL_SRC_A", db).to_string();
}
std::string tgt(const std::string& db) {
    return server("PGHAUL_TGT", db).to_string();
}

// A source with one table big enough that its COPY runs for a while.
std::string make_big_source() {
    auto db = unique_name("fail_src");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE big (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO big SELECT i, repeat(md5(i::text), 6) FROM generate_series(1, 1500000) i;"
            "CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10)");
    return db;
}

// Waits (bounded) for a pghaul session of `app` running a statement like
// `pattern` on the server behind `var`, and terminates it. Returns whether it did.
bool terminate_when_seen(const std::string& var, const std::string& app, const std::string& pattern) {
    auto admin = connect(var);
    for (int i = 0; i < 3000; ++i) {
        auto r = admin.exec_params(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 "
            "AND query LIKE $2 AND state = 'active'",
            {app, pattern});
        if (r.rows() > 0 && r.boolean(0, 0)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

}  // namespace

TEST_CASE("a target COPY and a source reader terminated mid-table are retried; the copy matches") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("retry_tgt");
    auto killer = std::async(std::launch::async, [&] {
        bool target_killed = terminate_when_seen("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%FROM STDIN%");
        bool source_killed = terminate_when_seen("PGHAUL_SRC_A_SUPER", "pghaul/reader", "COPY%TO STDOUT%");
        return target_killed && source_killed;
    });
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner"});
    bool killed = killer.get();
    REQUIRE(killed);
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("retrying in") != std::string::npos);
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("SIGINT stops the copy within seconds with exit 130 and leaves no session or database behind") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("sigint_tgt");
    auto interrupter = std::async(std::launch::async, [&] {
        auto admin = connect("PGHAUL_TGT_SUPER");
        for (int i = 0; i < 3000; ++i) {
            if (admin
                    .exec("SELECT FROM pg_stat_activity WHERE application_name = 'pghaul/worker' "
                          "AND query LIKE 'COPY%FROM STDIN%'")
                    .rows() > 0) {
                auto sent = std::chrono::steady_clock::now();
                std::system(("pkill -INT -f 'dbname=" + target_db + "'").c_str());
                return sent;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return std::chrono::steady_clock::time_point{};
    });
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2", "--no-owner"});
    auto ended = std::chrono::steady_clock::now();
    auto sent = interrupter.get();
    REQUIRE(sent.time_since_epoch().count() != 0);
    CHECK(r.exit_status == 130);
    CHECK(r.err.find("interrupted by SIGINT") != std::string::npos);
    CHECK(std::chrono::duration<double>(ended - sent).count() < 5.0);
    // No pghaul session left on either server, and no half-made database.
    for (auto var : {"PGHAUL_TGT_SUPER", "PGHAUL_SRC_A_SUPER"})
        CHECK(
            connect(var).exec("SELECT FROM pg_stat_activity WHERE application_name LIKE 'pghaul/%'").rows() ==
            0);
    CHECK(connect("PGHAUL_TGT_SUPER")
              .exec_params("SELECT FROM pg_database WHERE datname = $1", {target_db})
              .rows() == 0);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
