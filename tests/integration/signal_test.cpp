// Signals to pghaul itself, as an operator or a service manager sends them:
// SIGINT and SIGTERM stop the copy quickly, with no session, spool or
// half-loaded table left, and --resume finishes; a second SIGINT ends it at
// once; a closed pipe on its output does not kill it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "harness.hpp"

using namespace harness;

namespace {

// pghaul's sessions still on the server behind `var`, after waiting up to
// 2 s (a backend leaves pg_stat_activity a moment after its client closed).
int pghaul_sessions_left(const char* var) {
    auto admin = connect(var);
    int left = 0;
    for (int i = 0; i < 100; ++i) {
        left = admin.exec("SELECT FROM pg_stat_activity WHERE application_name LIKE 'pghaul/%'").rows();
        if (left == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return left;
}

}  // namespace

// F8: SIGINT mid-COPY stops the copy, cleans its spool and sessions, and
// --resume finishes. (SIGTERM, as a service manager sends it, is the run
// test's signal below.)
TEST_CASE(
    "SIGINT stops the copy within seconds with exit 130, leaves no session or spool, and --resume "
    "completes it") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("sigint_tgt");
    temp_file spool_parent("keep", "");
    const auto spool_dir = std::filesystem::path(spool_parent.path).parent_path();
    auto interrupter = std::async(std::launch::async, [&] {
        if (!wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%FROM STDIN%"))
            return std::chrono::steady_clock::time_point{};
        auto sent = std::chrono::steady_clock::now();
        std::system(("pkill -INT -f 'dbname=" + target_db + "'").c_str());
        return sent;
    });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2",
                         "--no-owner", "--spool-dir", spool_dir.string()});
    auto ended = std::chrono::steady_clock::now();
    auto sent = interrupter.get();
    REQUIRE(sent.time_since_epoch().count() != 0);
    CHECK(r.exit_status == 130);
    CHECK(r.err.find("interrupted by SIGINT") != std::string::npos);
    CHECK(std::chrono::duration<double>(ended - sent).count() < 5.0);
    CHECK(r.err.find("--resume") != std::string::npos);
    // Nothing of the run's spool directory is left beside the marker file.
    for (auto& entry : std::filesystem::directory_iterator(spool_dir))
        CHECK_MESSAGE(entry.path() == spool_parent.path, "left in the spool directory: " << entry.path());
    // No pghaul session left on either server, no open transaction; the
    // unfinished database stays, marked, for the resume.
    for (auto var : {"PGHAUL_TGT_SUPER", "PGHAUL_SRC_A_SUPER"}) CHECK(pghaul_sessions_left(var) == 0);
    auto comment = connect("PGHAUL_TGT_SUPER")
                       .exec_params(
                           "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = $1",
                           {target_db});
    REQUIRE(comment.rows() == 1);
    CHECK(comment.str(0, 0).starts_with("pghaul: INCOMPLETE"));

    auto resumed = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2",
                               "--no-owner", "--resume"});
    CHECK(resumed.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// A Ctrl-C while a worker's reader connection is still opening: the cancel
// finds no statement on it, so before the fix the table's whole COPY ran on
// it afterwards (5 s of a 1.5M-row table under ASan) and committed. The
// pause point holds the worker there for 3 s so the signal lands in it.
// The worker's reader is its source's snapshot session, lent, or a new
// connection: either way the fault point holds it there for 3 s.
TEST_CASE("SIGINT while a worker takes its reader: the copy it was for never starts") {
    const auto source_db = unique_name("sigopen_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER", source_db)
        .exec(
            "CREATE TABLE big (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 300000) i");
    const auto target_db = unique_name("sigopen_tgt");
    auto interrupter = std::async(std::launch::async, [&] {
        // The table exists on the target once its schema is in: the next
        // step is its load, which first takes a reader.
        for (int i = 0; i < 3000; ++i) {
            if (target_has_database(target_db) && connect("PGHAUL_TGT_SUPER", target_db)
                                                      .exec("SELECT to_regclass('public.big') IS NOT NULL")
                                                      .boolean(0, 0)) {
                auto sent = std::chrono::steady_clock::now();
                std::system(("pkill -INT -f 'dbname=" + target_db + "'").c_str());
                return sent;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return std::chrono::steady_clock::time_point{};
    });
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner"},
        {"PGHAUL_FAULT=pause:reader-opened"});
    auto ended = std::chrono::steady_clock::now();
    auto sent = interrupter.get();
    REQUIRE(sent.time_since_epoch().count() != 0);
    CHECK(r.exit_status == 130);
    // The 3 s pause, then no COPY: not the table's load on top.
    CHECK(std::chrono::duration<double>(ended - sent).count() < 4.5);
    REQUIRE(target_has_database(target_db));
    CHECK(connect("PGHAUL_TGT_SUPER", target_db).exec("SELECT count(*) FROM big").i64(0, 0) == 0);
    CHECK(r.err.find("big: 300000 rows") == std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// Every wait takes the run's stop token (engine/common/interrupt.hpp): a
// lock wait with no --lock-wait-timeout, which the old 10 s polling only
// noticed between its steps, ends at once.
TEST_CASE(
    "SIGINT while preflight waits for another session's table lock: exit 130 at once, nothing written") {
    const auto source_db = unique_name("siglock_src");
    const auto target_db = unique_name("siglock_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec("CREATE TABLE busy AS SELECT i, md5(i::text) AS m FROM generate_series(1, 1000) i");
    auto holder = connect("PGHAUL_SRC_A_SUPER", source_db);
    holder.exec("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE");
    auto interrupter = std::async(std::launch::async, [&] {
        if (!wait_for_statement("PGHAUL_SRC_A_SUPER", "pghaul/snapshot", "%LOCK TABLE%"))
            return std::chrono::steady_clock::time_point{};
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // inside the wait, not at its start
        auto sent = std::chrono::steady_clock::now();
        std::system(("pkill -INT -f 'dbname=" + target_db + "'").c_str());
        return sent;
    });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner"});
    auto ended = std::chrono::steady_clock::now();
    auto sent = interrupter.get();
    REQUIRE(sent.time_since_epoch().count() != 0);
    CHECK(r.exit_status == 130);
    CHECK(r.err.find("interrupted by SIGINT while reading the catalog") != std::string::npos);
    CHECK(std::chrono::duration<double>(ended - sent).count() < 3.0);
    CHECK_FALSE(target_has_database(target_db));
    CHECK(pghaul_sessions_left("PGHAUL_SRC_A_SUPER") == 0);
    holder.exec("COMMIT");
    auto again = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner"});
    CHECK(again.exit_status == 0);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F8: SIGTERM, as systemd or a container runtime stops a service.
TEST_CASE("SIGTERM during a run keeps the sources already done; --resume finishes only the others") {
    const auto big_src = make_big_source();
    const auto small_src = unique_name("small_src");
    create_database_from("PGHAUL_SRC_B_SUPER", small_src, "");
    connect("PGHAUL_SRC_B_SUPER", small_src).exec("CREATE TABLE t AS SELECT generate_series(1, 100) AS i");
    const auto big_tgt = unique_name("sig_big"), small_tgt = unique_name("sig_small");
    temp_file manifest("m.toml",
                       "[target]\nconninfo = \"" + server("PGHAUL_TGT").to_string() +
                           "\"\n[run]\njobs = 2\nmissing_roles = \"owner\"\n[[source]]\nname = \"big\"\n"
                           "conninfo = \"" +
                           server("PGHAUL_SRC_A", big_src).to_string() + "\"\ntarget_db = \"" + big_tgt +
                           "\"\n[[source]]\nname = \"small\"\nconninfo = \"" +
                           server("PGHAUL_SRC_B", small_src).to_string() + "\"\ntarget_db = \"" + small_tgt +
                           "\"\n");
    auto interrupter = std::async(std::launch::async, [&] {
        // Once the small source is finished (its in-progress marker is gone)
        // while the big one is still copying, interrupt.
        auto admin = connect("PGHAUL_TGT_SUPER");
        // Finished = marked INCOMPLETE once, then cleared: right after CREATE
        // DATABASE the comment is NULL too, before the marker is written.
        bool marked = false;
        for (int i = 0; i < 3000; ++i) {
            auto comment = admin.exec_params(
                "SELECT coalesce(shobj_description(d.oid, 'pg_database'), '') FROM pg_database d "
                "WHERE datname = $1",
                {small_tgt});
            marked = marked || (comment.rows() > 0 && !comment.str(0, 0).empty());
            const bool finished = marked && comment.rows() > 0 && comment.str(0, 0).empty();
            auto copying = admin.exec(
                "SELECT FROM pg_stat_activity WHERE application_name = 'pghaul/worker' "
                "AND query LIKE 'COPY%FROM STDIN%'");
            if (finished && copying.rows() > 0) {
                std::system(("pkill -TERM -f 'pghaul run " + manifest.path + "'").c_str());
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    });
    auto r = run_pghaul({"run", manifest.path});
    REQUIRE(interrupter.get());
    CHECK(r.exit_status == 143);
    CHECK(r.err.find("interrupted by SIGTERM") != std::string::npos);
    CHECK(target_has_database(small_tgt));
    CHECK(target_has_database(big_tgt));  // unfinished, kept for the resume
    CHECK(connect("PGHAUL_TGT_SUPER", small_tgt).exec("SELECT count(*) FROM t").i64(0, 0) == 100);

    auto resumed = run_pghaul({"run", manifest.path, "--resume"});
    CHECK(resumed.exit_status == 0);
    CHECK(resumed.err.find("[small] \"" + small_tgt + "\" was finished by an earlier attempt") !=
          std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", big_tgt);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    CHECK(connect("PGHAUL_TGT_SUPER", small_tgt).exec("SELECT count(*) FROM t").i64(0, 0) == 100);
    drop_database("PGHAUL_TGT_SUPER", small_tgt);
    drop_database("PGHAUL_TGT_SUPER", big_tgt);
    drop_database("PGHAUL_SRC_A_SUPER", big_src);
    drop_database("PGHAUL_SRC_B_SUPER", small_src);
}

TEST_CASE("progress into a closed pipe (pghaul ... | head) does not kill the run") {
    const auto source_db = unique_name("pipe_src");
    const auto target_db = unique_name("pipe_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE a AS SELECT i, md5(i::text) AS m FROM generate_series(1, 5000) i;"
        "CREATE TABLE b AS SELECT i FROM generate_series(1, 100) i");
    // stdout is a pipe whose reader is already gone, as after `| head -1`:
    // the first event written gets EPIPE (SIGPIPE by default, exit 141).
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[0]);
    auto r = pghaul::run_process({PGHAUL_BIN, "copy", "--source", src(source_db), "--target", tgt(target_db),
                                  "--no-owner", "--progress", "json"},
                                 {"PGHAUL_STATE_DIR=" + test_state_dir()}, {{fds[1], 1}});
    ::close(fds[1]);
    CHECK(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    auto comment = connect("PGHAUL_TGT_SUPER")
                       .exec_params(
                           "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                           "WHERE datname = $1",
                           {target_db});
    CHECK(comment.str(0, 0).find("INCOMPLETE") == std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F10: a second SIGINT while the first one's stop is under way ends pghaul
// at once. Whatever it was loading must not look loaded, and --resume finishes.
TEST_CASE("a second SIGINT exits at once: no table half-loaded, --resume finishes") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("sigsig_tgt");
    auto interrupter = std::async(std::launch::async, [&] {
        // The second 10 ms after the first (two at once merge into one
        // pending signal), while the engine is still stopping: the stop
        // token makes the orderly stop take a few ms, so the stop request
        // is held at the "stopping" fault point for the second to land
        // before it. "[p]" keeps the shell itself out of pgrep's matches.
        return wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%big%FROM STDIN%") &&
               std::system(("p=$(pgrep -f '[p]ghaul copy .*" + target_db +
                            "') && kill -INT $p && sleep 0.01 && kill -INT $p")
                               .c_str()) == 0;
    });
    const std::vector<std::string> copy = {"copy",   "--source", src(source_db), "--target", tgt(target_db),
                                           "--jobs", "1",        "--no-owner"};
    auto r = run_pghaul(copy, {"PGHAUL_FAULT=pause:stopping"});
    REQUIRE(interrupter.get());
    CHECK(r.exit_status == 130);
    CHECK(r.err.find("kept the unfinished database") == std::string::npos);  // no orderly stop ran
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(t.exec("SELECT count(*) FROM big").i64(0, 0) == 0);
    }
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
