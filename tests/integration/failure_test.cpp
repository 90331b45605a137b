// Sessions and servers lost during the copy: backends terminated, a server
// restarted, the snapshot holder lost, a target down for long, a database
// replaced or taken by a second pghaul. Each ends as a complete copy, or a
// clean stop that --resume finishes. (The hosts' and servers' limits:
// limits_test.cpp. Signals to pghaul itself: signal_test.cpp.)
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;

namespace {

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

// A small table is read on the source's snapshot session, lent to the
// worker, inside a savepoint. Its load failing on the target cancels that
// read: rolled back to the savepoint, the snapshot lives on and the retry
// reads the table again in it.
TEST_CASE(
    "a load that fails while its table is read on the lent snapshot session is retried in the same "
    "snapshot") {
    const auto source_db = unique_name("lent_src");
    const auto target_db = unique_name("lent_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE mid (id bigint PRIMARY KEY, payload text);"
        "INSERT INTO mid SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 250000) i;"
        "CREATE TABLE small AS SELECT generate_series(1, 100) AS i");
    temp_file report("report.json", "");
    auto killer = std::async(std::launch::async, [&] {
        return terminate_when_seen("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%mid%FROM STDIN%");
    });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1",
                         "--no-owner", "--report", report.path});
    REQUIRE(killer.get());
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("retrying in") != std::string::npos);
    auto rep = nlohmann::json::parse(std::ifstream(report.path));
    const auto& conns = rep["profile"]["connections"];
    CHECK(conns["snapshot_sessions_lent"].get<int>() >= 1);
    CHECK(conns["reader_opened"].get<int>() == 0);  // every read was on the snapshot session
    // One snapshot for every table, the first attempt's included.
    CHECK(rep["sources"][0]["snapshots"].size() == 1);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

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
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F6: the session holding the exported snapshot ends mid-copy (terminated by
// an admin, an idle timeout, a source restart). The next table cannot import
// it: the copy must stop resumable, not drop what it loaded.
TEST_CASE("the snapshot holder lost mid-copy: the database and its state stay, and --resume finishes") {
    const auto source_db = unique_name("holder_src");
    const auto target_db = unique_name("holder_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "DO $$BEGIN FOR i IN 1..600 LOOP EXECUTE format("
        "'CREATE TABLE t%s AS SELECT g, md5(g::text) AS m FROM generate_series(1, 200) g', i); END LOOP; "
        "END$$");
    auto terminator = std::async(std::launch::async, [&] {
        auto admin = connect("PGHAUL_SRC_A_SUPER");
        for (int i = 0; i < 6000; ++i) {
            // Small tables are read on the snapshot session itself, lent (and others on readers).
            auto reading = admin.exec(
                "SELECT FROM pg_stat_activity WHERE application_name IN ('pghaul/reader', 'pghaul/snapshot') "
                "AND query LIKE 'COPY%'");
            if (reading.rows() > 0) {
                return admin
                           .exec(
                               "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'pghaul/snapshot'")
                           .rows() > 0;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    });
    const std::vector<std::string> copy{"copy",         "--source",   src(source_db), "--target",
                                        tgt(target_db), "--no-owner", "--jobs",       "1"};
    auto r = run_pghaul(copy);
    REQUIRE(terminator.get());
    CHECK(r.exit_status == 4);
    CHECK(r.err.find("is gone (the session holding it on") != std::string::npos);
    CHECK(r.err.find("--resume") != std::string::npos);
    CHECK(r.err.find("kept the unfinished database") != std::string::npos);
    REQUIRE(target_has_database(target_db));
    auto resume = copy;
    resume.push_back("--resume");
    auto again = run_pghaul(resume);
    CHECK(again.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE(
    "a target server restart mid-copy: the copy completes, or fails cleanly and --resume completes it") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("restart_tgt");
    auto restarter = std::async(std::launch::async, [&] {
        return wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%big%FROM STDIN%") &&
               std::system((std::string(PGHAUL_SANDBOX_SCRIPT) + " restart tgt").c_str()) == 0;
    });
    const std::vector<std::string> args = {"copy",   "--source", src(source_db), "--target", tgt(target_db),
                                           "--jobs", "2",        "--no-owner"};
    auto r = run_pghaul(args);
    REQUIRE(restarter.get());
    if (r.exit_status != 0) {
        // Failed cleanly: kept for the resume, named as unfinished, with a hint.
        CHECK(r.err.find("--resume") != std::string::npos);
        CHECK(target_has_database(target_db));
        auto resumed = run_pghaul([&] {
            auto a = args;
            a.push_back("--resume");
            return a;
        }());
        REQUIRE(resumed.exit_status == 0);
    } else {
        CHECK(r.err.find("retrying in") != std::string::npos);
    }
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a second pghaul into the same database is refused, even with its own state dir and replace") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("owned_tgt");
    auto first = std::async(std::launch::async, [&] {
        return run_pghaul(
            {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner"});
    });
    REQUIRE(wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%FROM STDIN%"));
    temp_file marker("state-marker", "");
    const auto other_state = std::filesystem::path(marker.path).parent_path() / "state";
    auto second = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                              "--on-existing", "replace", "--state-dir", other_state.string()});
    CHECK(second.exit_status == 3);
    CHECK(second.err.find("another pghaul is copying into") != std::string::npos);
    auto r = first.get();
    CHECK(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a database replaced under the copy's feet is left alone: no reconnect into it, no drop") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("replaced_tgt");
    auto first = std::async(std::launch::async, [&] {
        return run_pghaul(
            {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner"});
    });
    REQUIRE(wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%FROM STDIN%"));
    // Someone else's database now holds the name.
    auto admin = connect("PGHAUL_TGT_SUPER");
    admin.exec("DROP DATABASE " + target_db + " WITH (FORCE)");
    admin.exec("CREATE DATABASE " + target_db);
    connect("PGHAUL_TGT_SUPER", target_db)
        .exec("CREATE TABLE someone_elses (x int); INSERT INTO someone_elses VALUES (1)");
    auto r = first.get();
    CHECK(r.exit_status == 5);
    CHECK(r.err.find("is not the one this run created") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT count(*) FROM someone_elses").i64(0, 0) == 1);
    CHECK(t.exec("SELECT count(*) FROM pg_class WHERE relname = 'big'").i64(0, 0) == 0);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a target down for longer than the backoff's first steps: the copy waits it out and completes") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("outage_tgt");
    auto crasher = std::async(std::launch::async, [&] {
        return wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%big%FROM STDIN%") &&
               std::system((std::string(PGHAUL_SANDBOX_SCRIPT) + " outage tgt 12").c_str()) == 0;
    });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2",
                         "--no-owner", "--retry-window", "2m"});
    REQUIRE(crasher.get());
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("retrying in") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F7: the source server restarts mid-copy; the snapshot dies with it.
TEST_CASE("the source server restarted mid-copy: exit 4, the copy kept, --resume finishes") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("srcrestart_tgt");
    auto restarter = std::async(std::launch::async, [&] {
        return wait_for_statement("PGHAUL_SRC_A_SUPER", "pghaul/reader", "COPY%big%TO STDOUT%") &&
               std::system((std::string(PGHAUL_SANDBOX_SCRIPT) + " outage srca 1").c_str()) == 0;
    });
    const std::vector<std::string> copy = {"copy",   "--source", src(source_db), "--target", tgt(target_db),
                                           "--jobs", "2",        "--no-owner"};
    auto r = run_pghaul(copy);
    REQUIRE(restarter.get());
    CHECK(r.exit_status == 4);
    CHECK(r.err.find("--resume") != std::string::npos);
    CHECK(target_has_database(target_db));
    auto again = run_pghaul([&] {
        auto v = copy;
        v.push_back("--resume");
        return v;
    }());
    CHECK(again.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F4: the target stays down longer than --retry-window. The copy gives up
// with the target named (no password), keeps its state, and once the target
// is back --resume finishes.
TEST_CASE(
    "a target down for longer than --retry-window: exit 5, state kept, --resume finishes once it is back") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("down_tgt");
    auto outage = std::async(std::launch::async, [&] {
        return wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%big%FROM STDIN%") &&
               std::system((std::string(PGHAUL_SANDBOX_SCRIPT) + " outage tgt 15").c_str()) == 0;
    });
    const std::vector<std::string> copy = {"copy",
                                           "--source",
                                           src(source_db),
                                           "--target",
                                           tgt(target_db) + " password=" + sandbox_password("PGHAUL_TGT"),
                                           "--jobs",
                                           "2",
                                           "--no-owner",
                                           "--retry-window",
                                           "3s"};
    const auto start = std::chrono::steady_clock::now();
    auto r = run_pghaul(copy);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.exit_status == 5);
    CHECK(took < std::chrono::seconds(14));  // gave up before the target came back
    CHECK(r.err.find("127.0.0.1") != std::string::npos);
    CHECK(r.err.find("after the first failure: --retry-window 3 s)") != std::string::npos);
    CHECK(r.err.find("HINT: run the same command with --resume once the server is reachable again") !=
          std::string::npos);
    CHECK_FALSE(contains_any(r.out + r.err, sandbox_passwords()));
    REQUIRE(outage.get());  // the target is up again
    auto again = run_pghaul([&] {
        auto v = copy;
        v.push_back("--resume");
        return v;
    }());
    CHECK(again.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
