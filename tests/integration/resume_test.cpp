// Resume: a copy killed (kill -9) in each phase continues with --resume and
// ends equal to its source, with no row loaded twice and no object created
// twice; a rerun without --resume refuses; --restart starts over.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;

namespace {

// The rich fixture plus a table big enough to be split into parts, with an
// index and a foreign key pointing at it.
std::string make_resume_source() {
    auto db = unique_name("resume_src");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "rich_source.sql");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE resume_big (id int PRIMARY KEY, v text);"
            "INSERT INTO resume_big SELECT i, md5(i::text) FROM generate_series(1, 120000) i;"
            "CREATE INDEX resume_big_v ON resume_big (v);"
            "CREATE TABLE resume_ref (id int PRIMARY KEY, big int REFERENCES resume_big);"
            "INSERT INTO resume_ref SELECT i, i FROM generate_series(1, 1000) i;"
            "ALTER TABLE resume_big OWNER TO fx_owner; ALTER TABLE resume_ref OWNER TO fx_owner");
    ensure_target_roles();
    return db;
}

std::vector<std::string> copy_args(const std::string& source_db, const std::string& target_db) {
    return {"copy",
            "--source",
            src(source_db),
            "--target",
            tgt(target_db),
            "--jobs",
            "2",
            "--split-tables-larger-than",
            "2MB",
            "--split-part-size",
            "2MB"};
}

template <typename... More>
std::vector<std::string> with(std::vector<std::string> args, More... more) {
    (args.push_back(more), ...);
    return args;
}

// Whether the state directory holds a journal for `db`.
bool has_journal(const std::string& db) {
    if (!std::filesystem::exists(test_state_dir())) return false;
    for (auto& f : std::filesystem::directory_iterator(test_state_dir()))
        if (f.path().filename().string().ends_with("-" + db + ".journal")) return true;
    return false;
}

std::string db_comment(const std::string& db) {
    auto r = connect("PGHAUL_TGT_SUPER")
                 .exec_params(
                     "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE "
                     "datname = $1",
                     {db});
    return r.rows() ? r.str(0, 0) : "(no database)";
}

void check_equal(const std::string& source_db, const std::string& target_db) {
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    auto sf = table_fingerprints(s), tf = table_fingerprints(t);
    REQUIRE(sf.size() > 40);
    CHECK(sf.size() == tf.size());
    for (auto& [name, f] : sf) {
        CAPTURE(name);
        CHECK(tf[name] == f);  // rows and content: nothing lost, nothing doubled
    }
    CHECK(sequence_states(s) == sequence_states(t));
    CHECK(large_objects(s) == large_objects(t));
    CHECK(database_settings(s) == database_settings(t));
    // An object created twice would show up here (or have failed the resume).
    CHECK(schema_dump("PGHAUL_SRC_A_SUPER", source_db) == schema_dump("PGHAUL_TGT_SUPER", target_db));
}

}  // namespace

TEST_CASE("kill -9 in each phase, then --resume: the copy equals the source") {
    const auto source_db = make_resume_source();
    // The *-unrecorded points die after the target committed a step and
    // before the journal recorded it: the resume finds its objects there.
    for (std::string point :
         {"schema", "data", "index", "index-unrecorded", "constraints-unrecorded", "post-data"}) {
        CAPTURE(point);
        const auto target_db = unique_name("resume_tgt");
        auto killed = run_pghaul(copy_args(source_db, target_db), {"PGHAUL_FAULT=kill:" + point});
        REQUIRE(killed.exit_status == 128 + 9);
        CHECK(db_comment(target_db).starts_with("pghaul: INCOMPLETE"));

        // Without --resume the state is not silently thrown away.
        auto refused = run_pghaul(copy_args(source_db, target_db));
        CHECK(refused.exit_status == 3);
        CHECK(refused.err.find("stopped before it was done") != std::string::npos);
        CHECK(refused.err.find("--resume") != std::string::npos);
        CHECK(has_journal(target_db));

        temp_file report("report.json", "");
        auto resumed = run_pghaul(with(copy_args(source_db, target_db), "--resume", "--report", report.path));
        REQUIRE(resumed.exit_status == 0);
        auto source_report = nlohmann::json::parse(std::ifstream(report.path))["sources"][0];
        CHECK(source_report["resumed"] == (point != "schema"));
        if (point != "schema" && point != "post-data") {
            CHECK(resumed.err.find("tables kept from the earlier attempt") != std::string::npos);
            // Kept tables name the killed attempt's snapshot, reloaded ones this one's
            // (killed after its first table, the data point has both for sure).
            if (point == "data") {
                CHECK(source_report["snapshots"].size() == 2);
                // and the warning names the kept tables' snapshot, the killed run's.
                std::smatch first;
                REQUIRE(std::regex_search(killed.err, first,
                                          std::regex(R"(snapshot ([0-9A-F]+-[0-9A-F]+-[0-9]+))")));
                CHECK(source_report["snapshots"].contains(first[1].str()));
                CHECK(resumed.err.find("the kept tables were read in " + first[1].str() + ":") !=
                      std::string::npos);
            }
        }
        if (point.ends_with("-unrecorded"))
            CHECK(resumed.err.find("before the interruption") != std::string::npos);
        if (point == "post-data")  // every table was loaded and indexed before the kill
            CHECK(resumed.err.find("resume_big: ") == std::string::npos);
        CHECK_FALSE(db_comment(target_db).starts_with("pghaul:"));
        check_equal(source_db, target_db);
        // Done: the state is gone, so the next run into this name is a fresh one.
        CHECK_FALSE(has_journal(target_db));
        drop_database("PGHAUL_TGT_SUPER", target_db);
    }
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a copy killed mid-COPY resumes in a new snapshot and says so; --restart starts over") {
    const auto source_db = make_resume_source();
    const auto target_db = unique_name("resume_mid");
    // Kill from outside while a split part streams into the target.
    auto killer = std::async(std::launch::async, [&] {
        if (!wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY%resume_big%FROM STDIN%"))
            return false;
        // (pkill's exit status is no use: it may kill the shell running it, whose command line matches too.)
        std::system(("pkill -KILL -f 'dbname=" + target_db + "'").c_str());
        return true;
    });
    auto killed = run_pghaul(copy_args(source_db, target_db));
    REQUIRE(killer.get());
    REQUIRE(killed.exit_status == 128 + 9);

    // The source changes before the resume: the tables loaded again show it.
    connect("PGHAUL_SRC_A_SUPER", source_db).exec("INSERT INTO resume_big VALUES (1000001, 'late')");
    auto resumed = run_pghaul(with(copy_args(source_db, target_db), "--resume"));
    REQUIRE(resumed.exit_status == 0);
    // Mixing points in time is said when a table was kept: the kill may come
    // before any was (the biggest table's parts go first).
    const bool none_kept = resumed.err.find(": 0 of ") != std::string::npos;
    CHECK((resumed.err.find("mixes points in time") != std::string::npos) == !none_kept);
    check_equal(source_db, target_db);

    // --restart on a finished copy has nothing to drop; on an interrupted one it drops and copies again.
    auto again = run_pghaul(with(copy_args(source_db, target_db), "--restart"));
    CHECK(again.exit_status == 3);  // the finished copy is not dropped: on_existing fail applies
    CHECK(again.err.find("already exists") != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    auto killed_again = run_pghaul(copy_args(source_db, target_db), {"PGHAUL_FAULT=kill:index"});
    REQUIRE(killed_again.exit_status == 128 + 9);
    auto restarted = run_pghaul(with(copy_args(source_db, target_db), "--restart"));
    REQUIRE(restarted.exit_status == 0);
    CHECK(restarted.err.find("dropped the unfinished database") != std::string::npos);
    check_equal(source_db, target_db);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE(
    "--snapshot: a copy and its resume read one held snapshot, so the result is exactly that snapshot") {
    const auto source_db = make_resume_source();
    const auto target_db = unique_name("resume_snap");
    auto holder = connect("PGHAUL_SRC_A_SUPER", source_db);
    holder.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    const auto id = holder.exec("SELECT pg_export_snapshot()").str(0, 0);

    auto killed =
        run_pghaul(with(copy_args(source_db, target_db), "--snapshot", id), {"PGHAUL_FAULT=kill:data"});
    REQUIRE(killed.exit_status == 128 + 9);
    // Changes after the snapshot must not reach the copy, before or after the resume.
    connect("PGHAUL_SRC_A_SUPER", source_db)
        .exec("INSERT INTO resume_big VALUES (2000001, 'after the snapshot'); UPDATE resume_ref SET big = 1");
    auto resumed = run_pghaul(with(copy_args(source_db, target_db), "--resume", "--snapshot", id));
    REQUIRE(resumed.exit_status == 0);
    CHECK(resumed.err.find("held outside pghaul") != std::string::npos);
    CHECK(resumed.err.find("mixes points in time") == std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(holder));
    holder.exec("COMMIT");
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("an unfinished copy is never taken as done: skip refuses it wherever the journal is; --restart redoes it") {
    const auto source_db = make_resume_source();
    const auto target_db = unique_name("resume_skip");
    auto killed = run_pghaul(copy_args(source_db, target_db), {"PGHAUL_FAULT=kill:data"});
    REQUIRE(killed.exit_status == 128 + 9);
    REQUIRE(db_comment(target_db).starts_with("pghaul: INCOMPLETE"));

    // Another state directory: the journal is not there, the marker is.
    temp_file elsewhere("state-marker", "");
    const auto other_state = std::filesystem::path(elsewhere.path).parent_path() / "state";
    auto skipped = run_pghaul(with(copy_args(source_db, target_db), "--on-existing", "skip", "--state-dir",
                                   other_state.string()));
    CHECK(skipped.exit_status == 3);
    CHECK(skipped.err.find("unfinished pghaul copy") != std::string::npos);
    CHECK(skipped.err.find("--resume") != std::string::npos);

    temp_file manifest("m.toml", "[target]\nconninfo = \"" + tgt("postgres") + "\"\n[run]\non_existing = \"skip\"\n" +
                                     "[[source]]\nname = \"s\"\nconninfo = \"" + src(source_db) +
                                     "\"\ntarget_db = \"" + target_db + "\"\n");
    auto run_skipped = run_pghaul({"run", manifest.path, "--state-dir", other_state.string()});
    CHECK(run_skipped.exit_status == 3);
    CHECK(run_skipped.err.find("unfinished pghaul copy") != std::string::npos);
    CHECK(db_comment(target_db).starts_with("pghaul: INCOMPLETE"));

    auto restarted = run_pghaul(with(copy_args(source_db, target_db), "--restart", "--state-dir", other_state.string()));
    REQUIRE(restarted.exit_status == 0);
    check_equal(source_db, target_db);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
    // The first attempt's journal is still in the suite's state dir: remove it with the database gone.
    for (auto& f : std::filesystem::directory_iterator(test_state_dir()))
        if (f.path().filename().string().ends_with("-" + target_db + ".journal")) std::filesystem::remove(f.path());
}

// F2: the connection is lost while COMMIT's reply is on its way, after the
// server committed (lost_ack). A whole table is loaded again in the same run
// (its TRUNCATE makes that safe); a part, which only appends, is not redone in
// this run: the source stops, resumable, and --resume reloads the table whole.
// Either way no row is loaded twice and none is lost.
TEST_CASE("a COMMIT whose reply is lost: a table is redone at once, a part on --resume, never doubled") {
    const auto source_db = unique_name("ack_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE big (id int PRIMARY KEY, v text);"
        "INSERT INTO big SELECT i, md5(i::text) FROM generate_series(1, 60000) i;"
        "CREATE TABLE small (id int PRIMARY KEY, v text);"
        "INSERT INTO small SELECT i, md5(i::text) FROM generate_series(1, 500) i");
    for (std::string point : {"table-commit", "part-commit"}) {
        CAPTURE(point);
        const auto target_db = unique_name("ack_tgt");
        // One connection for the whole table: the first table it commits (the
        // largest) is not the last one read, so the snapshot is still held for
        // the redo. (The last one read can only be redone by --resume.)
        std::vector<std::string> args = {"copy", "--source", src(source_db), "--target", tgt(target_db),
                                         "--jobs", "1", "--no-owner"};
        if (point == "part-commit") args = with(copy_args(source_db, target_db), "--no-owner");
        auto first = run_pghaul(args, {"PGHAUL_FAULT=lose-ack:" + point});
        INFO(first.err.substr(0, 3000));
        if (point == "table-commit") {
            CHECK(first.exit_status == 0);
            // The fault fired, and the table was loaded again in this run.
            CHECK(first.err.find("public.big (commit): server closed the connection unexpectedly (attempt 1)") !=
                  std::string::npos);
        } else {
            CHECK(first.exit_status == 5);
            CHECK(first.err.find("may or may not have committed") != std::string::npos);
            CHECK(first.err.find("--resume") != std::string::npos);
            CHECK(db_comment(target_db).starts_with("pghaul: INCOMPLETE"));
            auto resumed = run_pghaul(with(args, "--resume"));
            INFO(resumed.err.substr(0, 3000));
            CHECK(resumed.exit_status == 0);
        }
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        drop_database("PGHAUL_TGT_SUPER", target_db);
    }
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
