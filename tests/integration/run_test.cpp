// pghaul run: several sources into one target from a manifest, with
// password_command secrets, renames, role maps and per-source isolation.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.hpp"
#include "io/process.hpp"
#include "protocol/sql_quote.hpp"

using namespace harness;
namespace sql = pghaul::sql;

namespace {

std::string toml_string(const std::string& s) {  // TOML basic string
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// Source b: a small application database owned by role `app`, readable by
// `reporting` (a role name source a uses too).
void make_source_b(const std::string& db) {
    create_database_from("PGHAUL_SRC_B_SUPER", db, "");
    auto s = connect("PGHAUL_SRC_B_SUPER", db);
    s.exec(R"(DO $$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app NOLOGIN; END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting') THEN CREATE ROLE reporting NOLOGIN; END IF;
        END$$;
        GRANT CREATE ON SCHEMA public TO app; SET ROLE app;
        CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL, total numeric(12,2));
        INSERT INTO orders (customer, total) SELECT 'c' || i, i * 1.5 FROM generate_series(1, 20000) i;
        CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'hello'), (2, 'tschüß');
        GRANT SELECT ON orders TO reporting; RESET ROLE)");
}

void drop_roles(const std::string& var, const std::vector<std::string>& roles) {
    auto c = connect(var);
    for (auto& r : roles) c.exec("DROP ROLE IF EXISTS " + sql::ident(r));
}

}  // namespace

TEST_CASE("run consolidates two sources with password_command secrets, renames and role maps") {
    const auto db_a = unique_name("run_src_a"), db_b = unique_name("run_src_b");
    const auto tgt_a = unique_name("app_db_a"), tgt_b = unique_name("app_db_b");
    create_database_from("PGHAUL_SRC_A_SUPER", db_a, "rich_source.sql");
    connect("PGHAUL_SRC_A_SUPER", db_a)
        .exec(R"(DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting') THEN
                 CREATE ROLE reporting NOLOGIN; END IF; END$$; GRANT SELECT ON public.books TO reporting)");
    make_source_b(db_b);
    // missing_roles = create needs CREATEROLE, as a managed server's admin login has.
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin CREATEROLE");

    // Secrets come from commands; pgpass is out of reach of this run.
    const auto src_pw = sandbox_password("PGHAUL_SRC_A"), tgt_pw = sandbox_password("PGHAUL_TGT");
    temp_file src_secret(
        "src-secret.sh",
        "#!/bin/sh\nprintf '{\"username\": \"haul\", \"password\": \"%s\", \"engine\": \"postgres\"}' '" +
            src_pw + "'\n",
        true);
    temp_file tgt_secret("tgt-secret.sh", "#!/bin/sh\necho '" + tgt_pw + "'\n", true);
    auto src_a = server("PGHAUL_SRC_A", db_a);
    src_a.erase("user");  // from the JSON secret
    temp_file report("report.json", "");
    temp_file manifest(
        "consolidate.toml",
        "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) + "\npassword_command = [" +
            toml_string(tgt_secret.path) +
            "]\n\n"
            "[run]\njobs = 3\nmissing_roles = \"create\"\nreport = " +
            toml_string(report.path) +
            "\n\n[[source]]\nname = \"account-a\"\nconninfo = " + toml_string(src_a.to_string()) +
            "\npassword_command = [" + toml_string(src_secret.path) + "]\ntarget_db = " + toml_string(tgt_a) +
            "\njobs = 2\nrole_map = { fx_owner = \"acct_a_owner\", fx_reader = \"acct_a_reader\" }\n\n"
            "[[source]]\nname = \"account-b\"\nconninfo = " +
            toml_string(server("PGHAUL_SRC_B", db_b).to_string()) + "\ntarget_db = " + toml_string(tgt_b) +
            "\nrole_map = { app = \"acct_b_app\" }\n");

    auto r = run_pghaul({"run", manifest.path}, {"PGPASSFILE=/nonexistent"});
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin NOCREATEROLE");
    REQUIRE(r.exit_status == 0);

    // Every table of each source, content and count, in its renamed database.
    auto sa = connect("PGHAUL_SRC_A_SUPER", db_a), ta = connect("PGHAUL_TGT_SUPER", tgt_a);
    auto sb = connect("PGHAUL_SRC_B_SUPER", db_b), tb = connect("PGHAUL_TGT_SUPER", tgt_b);
    CHECK(table_fingerprints(sa) == table_fingerprints(ta));
    CHECK(table_fingerprints(sb) == table_fingerprints(tb));
    CHECK(sequence_states(sb) == sequence_states(tb));
    CHECK(large_objects(ta).size() == 3);

    // Roles followed the map: owners, grantees, default privileges; created NOLOGIN.
    CHECK(ta.exec("SELECT tableowner FROM pg_tables WHERE tablename = 'books'").str(0, 0) == "acct_a_owner");
    CHECK(ta.exec("SELECT has_table_privilege('acct_a_reader', 'public.books', 'SELECT')").boolean(0, 0));
    CHECK(
        ta.exec("SELECT count(*) FROM pg_default_acl WHERE defaclrole = 'acct_a_owner'::regrole").i64(0, 0) >
        0);
    CHECK(tb.exec("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'").str(0, 0) == "acct_b_app");
    CHECK(tb.exec("SELECT has_table_privilege('reporting', 'public.orders', 'SELECT')").boolean(0, 0));
    CHECK_FALSE(tb.exec("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'acct_b_app'").boolean(0, 0));
    CHECK(ta.exec("SELECT count(*) FROM pg_roles WHERE rolname IN ('fx_owner_a', 'app')").i64(0, 0) == 0);

    // The summary table, the report, and no secret anywhere.
    CHECK(r.out.find("account-a") != std::string::npos);
    CHECK(r.out.find("rows match") != std::string::npos);
    auto text = read_file(report.path);
    auto rep = nlohmann::json::parse(text);
    REQUIRE(rep["sources"].size() == 2);
    CHECK(rep["sources"][0]["status"] == "done");
    CHECK(rep["sources"][1]["status"] == "done");
    CHECK(rep["sources"][1]["rows"] == 20002);
    bool reporting_shared = false;
    for (auto& s : rep["roles"]["shared"]) reporting_shared |= s["role"] == "reporting";
    CHECK(reporting_shared);
    CHECK(r.err.find("role \"reporting\" owns or is granted objects from several sources") !=
          std::string::npos);
    // The final line counts every warning: the sources' and the run's own.
    std::size_t warnings = rep["roles"]["shared"].size();
    for (auto& s : rep["sources"]) warnings += s["warnings"].size();
    CHECK(r.err.find("; " + std::to_string(warnings) + " warning") != std::string::npos);
    for (auto& pw : {src_pw, tgt_pw}) {
        CHECK(text.find(pw) == std::string::npos);
        CHECK((r.out + r.err).find(pw) == std::string::npos);
    }

    for (auto& db : {tgt_a, tgt_b}) drop_database("PGHAUL_TGT_SUPER", db);
    drop_database("PGHAUL_SRC_A_SUPER", db_a);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
    drop_roles("PGHAUL_TGT_SUPER", {"acct_a_owner", "acct_a_reader", "acct_b_app", "reporting"});
}

TEST_CASE("one unreachable source does not stop the other; exit 8 and a report that says which") {
    const auto db_b = unique_name("iso_src_b");
    const auto tgt_bad = unique_name("iso_bad"), tgt_good = unique_name("iso_good");
    make_source_b(db_b);
    temp_file report("report.json", "");
    temp_file manifest("m.toml",
                       "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
                           "\n[run]\nmissing_roles = \"owner\"\nverify = \"checksums\"\nreport = " +
                           toml_string(report.path) +
                           "\n[[source]]\nname = \"gone\"\nconninfo = \"host=127.0.0.1 port=1 dbname=x "
                           "connect_timeout=2\"\ntarget_db = " +
                           toml_string(tgt_bad) + "\n[[source]]\nname = \"fine\"\nconninfo = " +
                           toml_string(server("PGHAUL_SRC_B", db_b).to_string()) +
                           "\ntarget_db = " + toml_string(tgt_good) + "\n");
    auto r = run_pghaul({"run", manifest.path});
    CHECK(r.exit_status == 8);
    CHECK(r.err.find("cannot connect to") != std::string::npos);
    CHECK_FALSE(target_has_database(tgt_bad));
    REQUIRE(target_has_database(tgt_good));
    auto t = connect("PGHAUL_TGT_SUPER", tgt_good);
    CHECK(table_fingerprints(t) ==
          table_fingerprints("PGHAUL_SRC_B_SUPER", db_b));
    CHECK(t.exec("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'").str(0, 0) == "haul_admin");
    auto rep = nlohmann::json::parse(read_file(report.path));
    CHECK(rep["exit_code"] == 8);
    CHECK(rep["sources"][0]["status"] == "failed");
    CHECK(rep["sources"][0]["error"]["code"] == 3);
    CHECK(rep["sources"][1]["status"] == "done");
    // verify = "checksums": the whole database checked against the copy's own snapshot.
    CHECK(rep["sources"][1]["verification"] == "checksums match");
    bool verify_bar = false;  // the HTML timeline shows verification as its own phase
    for (auto& bar : rep["sources"][1]["timeline"]) verify_bar |= bar["phase"] == "verify";
    CHECK(verify_bar);
    CHECK(r.err.find("[fine] verified:") != std::string::npos);
    // The morning after, from the command line alone: leave the broken
    // source out, redo the other one, with settings over the manifest's
    // (once nobody is connected to it: replace cannot end others' sessions).
    t = connect("PGHAUL_SRC_B_SUPER", db_b);
    auto typo = run_pghaul({"run", manifest.path, "--only", "fien"});
    CHECK(typo.exit_status == 2);
    CHECK(typo.err.find("no [[source]] named \"fien\"") != std::string::npos);
    CHECK(typo.err.find("its sources are: fine, gone") != std::string::npos);
    auto none = run_pghaul({"run", manifest.path, "--only", "fine", "--exclude", "fine"});
    CHECK(none.exit_status == 2);
    CHECK(none.err.find("leave no source to copy") != std::string::npos);
    // Every [run] setting copy takes is a flag of run too (here --no-analyze,
    // --memory-limit and --lock-wait-timeout, and one by its PGHAUL_* variable).
    auto redo = run_pghaul({"run", manifest.path, "--exclude", "gone", "--on-existing", "replace", "--verify",
                            "counts", "--jobs", "1", "--no-analyze", "--memory-limit", "8MB"},
                           {"PGHAUL_LOCK_WAIT_TIMEOUT=30s"});
    CHECK(redo.exit_status == 0);
    CHECK(connect("PGHAUL_TGT_SUPER", tgt_good)
              .exec("SELECT count(*) FROM pg_stat_user_tables WHERE analyze_count > 0")
              .i64(0, 0) == 0);
    auto rep2 = nlohmann::json::parse(read_file(report.path));
    REQUIRE(rep2["sources"].size() == 1);
    CHECK(rep2["sources"][0]["status"] == "done");
    CHECK(rep2["sources"][0]["verification"] == "counts match");
    CHECK_FALSE(target_has_database(tgt_bad));
    drop_database("PGHAUL_TGT_SUPER", tgt_good);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
}

// Issue 13 item 6: `pghaul run m.toml --dry-run > plan.txt 2>&1` put the
// error for a failed source inside a line of the plan (stdout was block
// buffered into the file, stderr not).
TEST_CASE("a dry run's plan and its errors, sent to one file, stay in the order they were written") {
    const auto db_b = unique_name("order_src_b");
    make_source_b(db_b);
    temp_file manifest("m.toml",
                       "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
                           "\n[run]\nmissing_roles = \"owner\"\n[[source]]\nname = \"fine\"\nconninfo = " +
                           toml_string(server("PGHAUL_SRC_B", db_b).to_string()) +
                           "\ntarget_db = " + toml_string(unique_name("order_t")) +
                           "\n[[source]]\nname = \"gone\"\nconninfo = \"host=127.0.0.1 port=1 dbname=x "
                           "connect_timeout=2\"\ntarget_db = " +
                           toml_string(unique_name("order_bad")) + "\n");
    temp_file both("both.txt", "");
    auto r = pghaul::run_process(
        {"sh", "-c", "\"$0\" run \"$1\" --dry-run > \"$2\" 2>&1", PGHAUL_BIN, manifest.path, both.path});
    CHECK(r.exit_status == 8);
    const auto text = read_file(both.path);
    const auto error_at = text.find("pghaul: error: [gone] cannot connect to");
    REQUIRE(error_at != std::string::npos);
    CHECK((error_at == 0 || text[error_at - 1] == '\n'));
    // The plan names the good source's tables; all of it comes before the recap.
    const auto table_at = text.rfind("public.orders");
    REQUIRE(table_at != std::string::npos);
    CHECK(table_at < error_at);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
}

TEST_CASE("a failing table fails only its source, whose new database is dropped") {
    // An index the target cannot build: source a's post-data fails on the target.
    const auto db_a = unique_name("iso2_src_a"), db_b = unique_name("iso2_src_b");
    const auto tgt_a = unique_name("iso2_a"), tgt_b = unique_name("iso2_b");
    create_database_from("PGHAUL_SRC_A_SUPER", db_a, "");
    auto conn_a = connect("PGHAUL_SRC_A_SUPER", db_a);
    conn_a.exec("CREATE TABLE t AS SELECT i FROM generate_series(1, 1000) i");
    break_after_data(conn_a, "t", "i");
    make_source_b(db_b);
    temp_file manifest(
        "m.toml", "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
                      "\n[run]\njobs = 2\nmissing_roles = \"owner\"\n[[source]]\nname = \"a\"\nconninfo = " +
                      toml_string(server("PGHAUL_SRC_A", db_a).to_string()) +
                      "\ntarget_db = " + toml_string(tgt_a) + "\n[[source]]\nname = \"b\"\nconninfo = " +
                      toml_string(server("PGHAUL_SRC_B", db_b).to_string()) +
                      "\ntarget_db = " + toml_string(tgt_b) + "\n");
    auto r = run_pghaul({"run", manifest.path});
    CHECK(r.exit_status == 8);
    CHECK(r.err.find("lying_immutable") != std::string::npos);
    CHECK_FALSE(target_has_database(tgt_a));
    CHECK(target_has_database(tgt_b));

    // The same command again, the cause not yet fixed: the finished source
    // is left as it is (not listed as failed, as its existing database once
    // made it), the failed one fails again.
    auto same = run_pghaul({"run", manifest.path});
    CHECK(same.exit_status == 8);
    CHECK(same.err.find("[b] \"" + tgt_b + "\" was finished by an earlier run: left as it is") !=
          std::string::npos);
    CHECK(same.err.find("already exists") == std::string::npos);
    CHECK(same.err.find("lying_immutable") != std::string::npos);
    CHECK(target_has_database(tgt_b));

    const std::string left_as_is = "[b] \"" + tgt_b + "\" was finished by an earlier run: left as it is";
    // Neither a skip run nor a --restart that still fails forgets the
    // finished one: the plain command after them leaves it too.
    auto skip_run = run_pghaul({"run", manifest.path, "--on-existing", "skip"});
    CHECK(skip_run.exit_status == 8);
    CHECK(skip_run.err.find(left_as_is) != std::string::npos);
    auto restart_run = run_pghaul({"run", manifest.path, "--restart"});
    CHECK(restart_run.exit_status == 8);
    CHECK(restart_run.err.find(left_as_is) != std::string::npos);
    CHECK(restart_run.err.find("already exists") == std::string::npos);
    CHECK(target_has_database(tgt_b));

    // The morning after (README): fix the failed source and redo only it;
    // then the whole command is done: both left as they are, exit 0.
    mend_after_data(conn_a);
    auto only_a = run_pghaul({"run", manifest.path, "--only", "a"});
    CHECK(only_a.exit_status == 0);
    CHECK(target_has_database(tgt_a));
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", tgt_a) ==
          table_fingerprints("PGHAUL_SRC_A_SUPER", db_a));
    auto whole = run_pghaul({"run", manifest.path});
    CHECK(whole.exit_status == 0);
    CHECK(whole.err.find(left_as_is) != std::string::npos);
    CHECK(whole.err.find("[a] \"" + tgt_a + "\" was finished by an earlier run: left as it is") !=
          std::string::npos);

    // That success forgot both; on_existing = "skip" now skips them as any
    // existing database, before their sources are opened.
    temp_file rerun("m2.toml", read_file(manifest.path) + "");
    {
        std::ofstream out(rerun.path);
        auto text = read_file(manifest.path);
        text.replace(text.find("[run]\n"), 6, "[run]\non_existing = \"skip\"\n");
        out << text;
    }
    auto again = run_pghaul({"run", rerun.path});
    CHECK(again.exit_status == 0);
    CHECK(again.err.find("[b] target database \"" + tgt_b + "\" exists: skipped") != std::string::npos);
    // Skipped before its source was opened: no snapshot, locks or pg_dump.
    CHECK(again.err.find("[b] source ") == std::string::npos);
    CHECK(again.err.find("[a] source ") == std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", tgt_a);
    drop_database("PGHAUL_TGT_SUPER", tgt_b);
    drop_database("PGHAUL_SRC_A_SUPER", db_a);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
}

TEST_CASE("manifest problems are reported with file and line before any connection") {
    temp_file manifest("bad.toml",
                       "[target]\nconninfo = \"host=127.0.0.1 port=1\"\n"
                       "[[source]]\nname = \"a\"\nconninfo = \"dbname=a\"\ntarget_db = \"same\"\n"
                       "[[source]]\nname = \"b\"\nconninfo = \"dbname=b\"\ntarget_db = \"same\"\njbos = 2\n");
    auto r = run_pghaul({"run", manifest.path});
    CHECK(r.exit_status == 2);
    CHECK(r.err.find("bad.toml:") != std::string::npos);
    CHECK(r.err.find("both have target_db \"same\"") != std::string::npos);
    CHECK(r.err.find("did you mean \"jobs\"") != std::string::npos);
    CHECK(r.err.find("cannot connect") == std::string::npos);  // nothing was contacted

    r = run_pghaul({"run", "/nonexistent/consolidate.toml"});
    CHECK(r.exit_status == 2);
    CHECK(r.err.find("/nonexistent/consolidate.toml") != std::string::npos);
}

TEST_CASE("missing_roles = fail lists every missing role per source; dry run shows the plan") {
    const auto db_b = unique_name("roles_src_b");
    make_source_b(db_b);
    const auto tgt = unique_name("roles_tgt");
    auto manifest_for = [&](const std::string& mode) {
        return "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
               "\n[run]\nmissing_roles = \"" + mode + "\"\n[[source]]\nname = \"b\"\nconninfo = " +
               toml_string(server("PGHAUL_SRC_B", db_b).to_string()) + "\ntarget_db = " + toml_string(tgt) +
               "\nrole_map = { app = \"roles_test_app\" }\n";
    };
    temp_file fail_mode("fail.toml", manifest_for("fail"));
    auto r = run_pghaul({"run", fail_mode.path});
    CHECK(r.exit_status == 3);  // one source: its own exit code
    CHECK(r.err.find("roles_test_app") != std::string::npos);
    CHECK(r.err.find("reporting") != std::string::npos);
    CHECK_FALSE(target_has_database(tgt));

    r = run_pghaul({"run", fail_mode.path, "--dry-run"});
    CHECK(r.out.find("WILL FAIL") != std::string::npos);
    CHECK(r.out.find("public.orders") != std::string::npos);
    CHECK(r.out.find("role map: app -> roles_test_app") != std::string::npos);
    CHECK_FALSE(target_has_database(tgt));

    // Two problems with one database: the dry run names both (a run stops
    // at the first), so one night's fixes are all known beforehand.
    connect("PGHAUL_TGT_SUPER").exec("CREATE DATABASE " + tgt);
    r = run_pghaul({"run", fail_mode.path, "--dry-run"});
    CHECK(r.exit_status == 3);
    const auto exists_at = r.out.find("WILL FAIL: target database \"" + tgt + "\" already exists");
    const auto roles_at = r.out.find("ALSO: ");
    CHECK(exists_at != std::string::npos);
    CHECK(roles_at != std::string::npos);
    CHECK(r.out.find("roles_test_app", roles_at) != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", tgt);

    temp_file create_mode("create.toml", manifest_for("create"));
    // Create mode needs CREATEROLE; the sandbox's login goes back to having none.
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin CREATEROLE");
    r = run_pghaul({"run", create_mode.path, "--dry-run"});
    connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin NOCREATEROLE");
    CHECK(r.exit_status == 0);
    CHECK(r.out.find("roles to create (NOLOGIN): [\"reporting\",\"roles_test_app\"]") != std::string::npos);
    CHECK(connect("PGHAUL_TGT_SUPER").exec("SELECT FROM pg_roles WHERE rolname = 'roles_test_app'").rows() ==
          0);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
}

TEST_CASE("password_command: one that hangs is killed and named; short-lived secrets are fetched again") {
    const auto db = unique_name("pwcmd_src"), target_db = unique_name("pwcmd_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);"
            "CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u SELECT generate_series(1, 1000)");
    const auto pw = sandbox_password("PGHAUL_SRC_A");
    temp_file hang("hang.sh", "#!/bin/sh\nsleep 600\n", true);
    temp_file counter("calls", "");
    temp_file counting("secret.sh", "#!/bin/sh\necho x >> '" + counter.path + "'\necho '" + pw + "'\n", true);
    temp_file tgt_secret("tgt-secret.sh", "#!/bin/sh\necho '" + sandbox_password("PGHAUL_TGT") + "'\n", true);
    auto manifest_with = [&](const std::string& command, const std::string& run_extra) {
        return "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
               "\npassword_command = [" + toml_string(tgt_secret.path) + "]\n[run]\njobs = 2\n" +
               "missing_roles = \"owner\"\n" + run_extra + "\n[[source]]\nname = \"s\"\nconninfo = " +
               toml_string(server("PGHAUL_SRC_A", db).to_string()) + "\npassword_command = [" +
               toml_string(command) + "]\ntarget_db = " + toml_string(target_db) + "\n";
    };

    temp_file hanging("hang.toml", manifest_with(hang.path, "password_command_timeout = \"2s\""));
    auto started = std::chrono::steady_clock::now();
    auto r = run_pghaul({"run", hanging.path}, {"PGPASSFILE=/nonexistent"});
    CHECK(r.exit_status == 3);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
    CHECK(r.err.find("password_command of source \"s\" did not finish within 2 s") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    // One that fails (an expired token) is named with its exit status. Neither
    // its stdout, where a secret would be, nor its stderr is shown: a wrapper
    // left in `set -x` echoes the secret there (found by a walk-through).
    temp_file expired("expired.sh",
                      "#!/bin/sh\necho SENTINEL-half-secret\necho '+ SECRET=SENTINEL-traced' >&2\n"
                      "echo 'token expired; run aws sso login' >&2\nexit 4\n",
                      true);
    temp_file failing("failing.toml", manifest_with(expired.path, ""));
    r = run_pghaul({"run", failing.path}, {"PGPASSFILE=/nonexistent"});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("password_command of source \"s\" failed with exit status 4 (its error output is not "
                     "shown") != std::string::npos);
    CHECK(r.err.find("SENTINEL-traced") == std::string::npos);
    CHECK(r.out.find("SENTINEL-traced") == std::string::npos);
    CHECK(r.err.find("SENTINEL-half-secret") == std::string::npos);
    CHECK(r.out.find("SENTINEL-half-secret") == std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    // max age 0: the snapshot's connection, pg_dump and the readers opened
    // later each get a fresh secret.
    temp_file fresh("fresh.toml", manifest_with(counting.path, "password_max_age = \"0s\""));
    r = run_pghaul({"run", fresh.path}, {"PGPASSFILE=/nonexistent"});
    REQUIRE(r.exit_status == 0);
    CHECK(r.err.find(pw) == std::string::npos);
    std::ifstream in(counter.path);
    int calls = 0;
    for (std::string line; std::getline(in, line);) ++calls;
    CHECK(calls >= 2);
    auto s = connect("PGHAUL_SRC_A_SUPER", db), t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(s) == table_fingerprints(t));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// Secrets as containers get them: the target's from an environment variable
// (AWS Batch, ECS), the source's from a mounted file (a Kubernetes Secret),
// with pgpass out of reach; an unset variable or a missing file is a
// preflight error naming it, and the secret is never printed.
TEST_CASE("password_env and password_file: secrets from the environment and from a file") {
    const auto db = unique_name("pwsrc"), target_db = unique_name("pwsrc_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db).exec("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g");
    const auto src_pw = sandbox_password("PGHAUL_SRC_A"), tgt_pw = sandbox_password("PGHAUL_TGT");
    temp_file secret("a-password", src_pw + "\n");
    auto manifest_with = [&](const std::string& file) {
        return "[target]\nconninfo = " + toml_string(server("PGHAUL_TGT").to_string()) +
               "\npassword_env = \"PGHAUL_TEST_TARGET_PW\"\n[run]\nmissing_roles = \"owner\"\n\n[[source]]\n"
               "name = \"s\"\nconninfo = " + toml_string(server("PGHAUL_SRC_A", db).to_string()) +
               "\npassword_file = " + toml_string(file) + "\ntarget_db = " + toml_string(target_db) + "\n";
    };
    temp_file manifest("secrets.toml", manifest_with(secret.path));
    auto unset = run_pghaul({"run", manifest.path}, {"PGPASSFILE=/nonexistent"});
    CHECK(unset.exit_status == 3);
    CHECK(unset.err.find("password_env PGHAUL_TEST_TARGET_PW of the target: the variable is not set") != std::string::npos);
    temp_file missing("missing.toml", manifest_with("/nonexistent/a-password"));
    auto no_file = run_pghaul({"run", missing.path}, {"PGPASSFILE=/nonexistent", "PGHAUL_TEST_TARGET_PW=" + tgt_pw});
    CHECK(no_file.exit_status == 3);
    CHECK(no_file.err.find("password_file /nonexistent/a-password of source \"s\": cannot read it") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    auto r = run_pghaul({"run", manifest.path}, {"PGPASSFILE=/nonexistent", "PGHAUL_TEST_TARGET_PW=" + tgt_pw});
    CHECK_MESSAGE(r.exit_status == 0, r.err);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));
    CHECK_FALSE(contains_any(unset.out + unset.err + no_file.out + no_file.err + r.out + r.err, {src_pw, tgt_pw}));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}
