// The limits a copy meets on the hosts and servers: a tiny memory budget and
// a file size limit on pghaul, a full target disk, a login's connection
// limit and role-level timeouts, locks held by other sessions, a server
// default of synchronous_commit = off. Each ends as a complete copy, or a
// clean stop that names the cause and that --resume finishes. (Sessions and
// servers lost mid-copy: failure_test.cpp.)
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "harness.hpp"

using namespace harness;

TEST_CASE(
    "a stalled target spills a tiny memory budget to private spool files, the source is released early, and "
    "nothing is lost") {
    // Two tables, one job: while the first copies, the test locks the second
    // on the target; when its turn comes the source streams it into memory
    // and spool while the writer waits for the lock.
    const auto source_db = make_stall_source();
    const auto target_db = unique_name("spill_tgt");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    temp_file spool_parent("keep", "");
    const auto spool_dir = std::filesystem::path(spool_parent.path).parent_path();

    std::atomic<bool> saw_private_files{false}, released_while_stalled{false};
    auto staller = std::async(std::launch::async, [&] {
        // Once the new database has its table, hold a lock on it.
        return stall_target(target_db, [&] {
            // While the lock holds, spool files appear: private and 0600.
            // They come once first_big is done, which under ASan on a busy
            // machine takes seconds: wait up to 30 s, not 3.
            for (int k = 0; k < 3000; ++k) {
                for (auto& d : std::filesystem::directory_iterator(spool_dir)) {
                    if (!d.is_directory() || d.path().filename().string().rfind("pghaul-", 0) != 0) continue;
                    auto dir_mode = std::filesystem::status(d.path()).permissions();
                    for (auto& f : std::filesystem::directory_iterator(d.path())) {
                        auto mode = std::filesystem::status(f.path()).permissions();
                        if (mode ==
                                (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write) &&
                            dir_mode == std::filesystem::perms::owner_all)
                            saw_private_files = true;
                    }
                }
                if (saw_private_files) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            // The source is read to the end into the spool while the target
            // is still stalled, and then nothing of pghaul pins a snapshot there.
            auto source_admin = connect("PGHAUL_SRC_A_SUPER");
            for (int k = 0; k < 3000 && !released_while_stalled; ++k) {
                released_while_stalled =
                    source_admin
                        .exec_params(
                            "SELECT FROM pg_stat_activity WHERE datname = $1 AND application_name "
                            "LIKE 'pghaul/%' AND (backend_xmin IS NOT NULL OR state <> 'idle')",
                            {source_db})
                        .rows() == 0;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            return true;
        });
    });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1",
                         "--no-owner", "--memory-limit", "2MB", "--spool-dir", spool_dir.string()});
    bool stalled = staller.get();
    REQUIRE(stalled);
    CHECK(r.exit_status == 0);
    // F14: the budget bounds the process, not only its own accounting. Measured
    // on this test: 19 MiB peak with the 2 MB budget, 64 MiB with 512MB (the
    // stalled table held in memory). ASan's shadow memory makes RSS meaningless.
    MESSAGE("peak RSS " << r.peak_rss_kib << " KiB");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    CHECK(r.peak_rss_kib < 40 * 1024);
#endif
    CHECK(saw_private_files);
    CHECK(released_while_stalled);
    CHECK(r.err.find("every table read: source snapshot released") != std::string::npos);
    CHECK(r.err.find("public.stalled: 300000 rows") != std::string::npos);
    CHECK(r.err.find("spooled as") != std::string::npos);
    // The content arrived whole, and the spool is gone.
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    CHECK_FALSE(has_spool_dir(spool_dir));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F12: a file size limit on pghaul (ulimit -f, prlimit --fsize). Without
// SIG_IGN the first spool write past it would kill pghaul with SIGXFSZ; with it
// the write fails with EFBIG, which the spool treats as a full disk: the
// reader waits for memory instead, and the copy completes.
TEST_CASE("a file size limit on pghaul refuses spool writes past it; the read waits and nothing is lost") {
    const auto source_db = make_stall_source(200000);
    const auto target_db = unique_name("fsize_tgt");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    temp_file spool_parent("keep", "");
    const auto spool_dir = std::filesystem::path(spool_parent.path).parent_path();
    // Holds the target's `stalled` for 4 s once it exists, so its rows pile up.
    auto staller = std::async(std::launch::async, [&] {
        return stall_target(target_db, [] {
            std::this_thread::sleep_for(std::chrono::seconds(4));
            return true;
        });
    });
    auto r =
        pghaul::run_process({"prlimit", "--fsize=1000000", "--", PGHAUL_BIN, "copy", "--source",
                             src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner",
                             "--memory-limit", "2MB", "--spool-dir", spool_dir.string()},
                            // The first load waits 3 s once it has its reader, so the
                            // staller has the table before the load's TRUNCATE does (the
                            // lent snapshot session left no connection time to win the race).
                            {"PGHAUL_STATE_DIR=" + test_state_dir(), "PGHAUL_FAULT=pause:reader-opened"});
    MESSAGE("pghaul exit " << r.exit_status << "\n" << r.err.substr(0, 4000));
    REQUIRE(staller.get());
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("public.stalled: the spool could not grow") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    CHECK_FALSE(has_spool_dir(spool_dir));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a target login with a connection limit below --jobs: fewer workers, not a failure") {
    const auto source_db = unique_name("connlimit_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    std::string tables;
    for (int i = 0; i < 8; ++i)
        tables += "CREATE TABLE t" + std::to_string(i) + " (id int PRIMARY KEY, v text); INSERT INTO t" +
                  std::to_string(i) + " SELECT g, md5(g::text) FROM generate_series(1, 20000) g;";
    connect("PGHAUL_SRC_A_SUPER", source_db).exec(tables);
    const auto target_db = unique_name("connlimit_tgt");
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin CONNECTION LIMIT 3");
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "4", "--no-owner"});
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin CONNECTION LIMIT -1");
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("connection limit") != std::string::npos);
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F18: a batch that truncates and reloads a table, holding its lock while
// pghaul waits. The snapshot predates the reload, so once the lock is granted
// the table's new file looks empty to it: copied as is, the table would come
// out empty with exit 0.
TEST_CASE("a table truncated and reloaded while pghaul waits for its lock is copied with the reloaded rows") {
    const auto source_db = unique_name("rewrite_src");
    const auto target_db = unique_name("rewrite_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE steady AS SELECT generate_series(1, 100) AS i;"
        "CREATE TABLE reloaded AS SELECT i, md5(i::text) AS m FROM generate_series(1, 1000) i");
    auto batch = connect("PGHAUL_SRC_A_SUPER", source_db);
    batch.exec(
        "BEGIN; TRUNCATE reloaded;"
        "INSERT INTO reloaded SELECT i, 'new ' || i FROM generate_series(1, 700) i");
    auto copy = std::async(std::launch::async, [&] {
        return run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner"});
    });
    // pghaul's snapshot is taken and it waits for the lock: then the batch commits.
    bool waiting = false;
    for (int i = 0; i < 300 && !waiting; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        waiting =
            s.exec("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'reloaded'::regclass")
                .i64(0, 0) > 0;
    }
    REQUIRE(waiting);
    batch.exec("COMMIT");
    auto r = copy.get();
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("rewrote public.reloaded after the snapshot") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT count(*) FROM reloaded").i64(0, 0) == 700);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE(
    "a source table locked by another session: the wait names table and holder, and --lock-wait-timeout ends "
    "it") {
    const auto source_db = unique_name("lockwait_src");
    const auto target_db = unique_name("lockwait_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE free_one AS SELECT generate_series(1, 100) AS i;"
        "CREATE TABLE \"locked one\" AS SELECT i, md5(i::text) AS m FROM generate_series(1, 1000) i");
    auto holder = connect("PGHAUL_SRC_A_SUPER", source_db);
    holder.exec(
        "SET application_name = 'nightly batch'; BEGIN; LOCK TABLE \"locked one\" IN ACCESS EXCLUSIVE MODE");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto start = std::chrono::steady_clock::now();
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                         "--lock-wait-timeout", "3s"});
    auto took = std::chrono::steady_clock::now() - start;
    // The holder's transaction age as of the message, not as of pghaul's
    // own transaction start (1 s): at least the 3 s waited on top.
    std::smatch age;
    REQUIRE(std::regex_search(r.err, age, std::regex(R"(transaction open (\d+) s)")));
    CHECK(std::stoi(age[1]) >= 4);
    CHECK(r.exit_status == 4);  // the source failed
    CHECK(r.err.find("waiting to lock source tables") != std::string::npos);
    CHECK(r.err.find("table \"locked one\" held in ACCESS EXCLUSIVE mode by pid") != std::string::npos);
    CHECK(r.err.find("application \"nightly batch\"") != std::string::npos);
    CHECK(r.err.find("LOCK TABLE") ==
          std::string::npos);  // the holder's query text (may hold secrets) is not logged
    CHECK(r.err.find("--lock-wait-timeout") != std::string::npos);
    CHECK(took < std::chrono::seconds(30));
    CHECK_FALSE(target_has_database(target_db));
    // Once the session lets go, the same command copies everything.
    holder.exec("COMMIT");
    auto again = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                             "--lock-wait-timeout", "2s"});
    CHECK(again.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

namespace {

// A tmpfs of a few MiB for a target tablespace: the disk that fills. The
// suite runs as root (CI does), so it can mount; unmounted at scope exit.
struct small_disk {
    std::string path;
    explicit small_disk(int mib) : path(std::filesystem::temp_directory_path() / unique_name("small_disk")) {
        std::filesystem::create_directories(path);
        REQUIRE(std::system(("mount -t tmpfs -o size=" + std::to_string(mib) + "m tmpfs " + path).c_str()) ==
                0);
        REQUIRE(std::system(("chown postgres " + path).c_str()) == 0);
    }
    void grow(int mib) const {
        REQUIRE(std::system(("mount -o remount,size=" + std::to_string(mib) + "m " + path).c_str()) == 0);
    }
    ~small_disk() {
        (void)std::system(("umount " + path).c_str());
        std::filesystem::remove(path);
    }
    small_disk(const small_disk&) = delete;
    small_disk& operator=(const small_disk&) = delete;
};

}  // namespace

// F23: pg_dump names the table's tablespace, and on the target that one sits
// on a disk too small for the rows.
TEST_CASE(
    "the target's disk fills mid-load: exit 5, the table rolled back, --resume finishes once there is room") {
    const auto space = unique_name("haul_small");
    const auto source_dir = std::filesystem::temp_directory_path() / unique_name("space_src");
    std::filesystem::create_directories(source_dir);
    REQUIRE(std::system(("chown postgres " + source_dir.string()).c_str()) == 0);
    small_disk disk(3);
    connect("PGHAUL_SRC_A_SUPER")
        .exec("CREATE TABLESPACE " + space + " LOCATION '" + source_dir.string() + "'");
    connect("PGHAUL_TGT_SUPER").exec("CREATE TABLESPACE " + space + " LOCATION '" + disk.path + "'");
    connect("PGHAUL_TGT_SUPER").exec("GRANT CREATE ON TABLESPACE " + space + " TO haul_admin");

    const auto source_db = unique_name("diskfull_src");
    const auto target_db = unique_name("diskfull_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE small (id int PRIMARY KEY, v text);"
        "INSERT INTO small SELECT g, md5(g::text) FROM generate_series(1, 1000) g;"
        "CREATE TABLE big (id int, v text) TABLESPACE " +
        space +
        ";"
        "INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g");
    // Passwords on the command line (S10: the kept state and the report hold none).
    temp_file report("report.json", "");
    const std::vector<std::string> copy = {"copy",
                                           "--source",
                                           src(source_db) + " password=" + sandbox_password("PGHAUL_SRC_A"),
                                           "--target",
                                           tgt(target_db) + " password=" + sandbox_password("PGHAUL_TGT"),
                                           "--no-owner",
                                           "--report",
                                           report.path};
    auto r = run_pghaul(copy);
    CHECK(r.exit_status == 5);
    int kept_files = 0;
    for (const auto& kept : std::filesystem::directory_iterator(test_state_dir())) {
        if (kept.path().string().find(target_db) == std::string::npos) continue;
        std::ifstream in(kept.path());
        const std::string text(std::istreambuf_iterator<char>(in), {});
        CHECK(text.find("127.0.0.1") != std::string::npos);
        CHECK_FALSE(contains_any(text, sandbox_passwords()));
        ++kept_files;
    }
    CHECK(kept_files >= 1);  // the journal
    {
        std::ifstream in(report.path);
        const std::string text(std::istreambuf_iterator<char>(in), {});
        CHECK(text.find(target_db) != std::string::npos);
        CHECK_FALSE(contains_any(text, sandbox_passwords()));
    }
    CHECK(r.err.find("copying table public.big") != std::string::npos);
    CHECK(r.err.find("No space left on device") != std::string::npos);
    CHECK(r.err.find("--resume") != std::string::npos);
    {
        // Nothing of the table that did not fit looks loaded; the database says it is unfinished.
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(t.exec("SELECT count(*) FROM big").i64(0, 0) == 0);
        CHECK(connect("PGHAUL_TGT_SUPER")
                  .exec_params(
                      "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                      {target_db})
                  .str(0, 0)
                  .find("INCOMPLETE") != std::string::npos);
    }

    disk.grow(64);
    auto again = run_pghaul([&] {
        auto v = copy;
        v.push_back("--resume");
        return v;
    }());
    CHECK(again.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
    connect("PGHAUL_TGT_SUPER").exec("DROP TABLESPACE " + space);
    connect("PGHAUL_SRC_A_SUPER").exec("DROP TABLESPACE " + space);
    std::filesystem::remove_all(source_dir);
}

namespace {

// Role-level settings on a login, taken back at scope exit.
struct role_settings {
    std::vector<std::pair<std::string, std::string>> roles;  // (super var, role)
    role_settings(std::vector<std::pair<std::string, std::string>> r, const std::string& settings)
        : roles(std::move(r)) {
        for (auto& [super, role] : roles)
            for (const char* name :
                 {"statement_timeout", "idle_in_transaction_session_timeout", "idle_session_timeout"})
                connect(super).exec("ALTER ROLE " + role + " SET " + name + " = '" + settings + "'");
    }
    ~role_settings() {
        for (auto& [super, role] : roles) connect(super).exec("ALTER ROLE " + role + " RESET ALL");
    }
    role_settings(const role_settings&) = delete;
    role_settings& operator=(const role_settings&) = delete;
};

}  // namespace

// F25: a DBA's timeouts on the logins (common on shared and managed
// servers): a COPY runs for seconds, the snapshot's transaction sits idle for
// the whole copy, a worker's connection waits idle between tasks.
TEST_CASE("role-level statement, idle-in-transaction and idle-session timeouts do not cut the copy short") {
    const auto source_db = make_big_source();
    const auto target_db = unique_name("timeouts_tgt");
    auto r = [&] {
        role_settings timeouts({{"PGHAUL_SRC_A_SUPER", "haul"}, {"PGHAUL_TGT_SUPER", "haul_admin"}}, "300ms");
        return run_pghaul(
            {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2", "--no-owner"});
    }();
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("retrying") == std::string::npos);  // nothing was cut and redone
    CHECK(r.err.find("canceling statement due to") == std::string::npos);
    CHECK(r.err.find("terminating connection due to") == std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// A resume trusts the journal's record of the schema and index builds. On a
// server whose default is synchronous_commit = off (the sandbox's, some
// non-prod servers') a crash right after those commits lost them, and the
// resume failed on a table that was no longer there (seen under ASan with
// the 15 s target outage above).
TEST_CASE("pghaul's sessions commit durably even where the server's default is synchronous_commit = off") {
    auto c = connect("PGHAUL_TGT");
    REQUIRE(c.exec("SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'").str(0, 0) == "off");
    CHECK(c.exec("SELECT current_setting('synchronous_commit')").str(0, 0) == "local");
}
