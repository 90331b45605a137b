// Bad input: each gets a clear one-line error with a hint, a documented exit
// code, no password in any output, and no half-made target database.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;

namespace {

// A small source database with one table, dropped with the fixture.
struct small_source {
    std::string name = unique_name("bad_src");
    small_source() {
        create_database_from("PGHAUL_SRC_A_SUPER", name, "");
        connect("PGHAUL_SRC_A_SUPER", name)
            .exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)");
    }
    ~small_source() { drop_database("PGHAUL_SRC_A_SUPER", name); }
};

}  // namespace

TEST_CASE("malformed conninfo: exit 2, the password never echoed") {
    auto r = run_pghaul({"copy", "--source", "hots=db1 password=SENTINEL-pw-1", "--target", tgt("x")});
    CHECK(r.exit_status == 2);
    CHECK(r.err.find("invalid source connection string") != std::string::npos);
    CHECK(r.err.find("HINT:") != std::string::npos);
    CHECK(r.err.find("SENTINEL-pw-1") == std::string::npos);

    r = run_pghaul({"copy", "--source", src("postgres"), "--target", "postgresql://u:SENTINEL-pw-2@[::1"});
    CHECK(r.exit_status == 2);
    CHECK(r.err.find("SENTINEL-pw-2") == std::string::npos);
}

TEST_CASE("every command refuses an unparsable conninfo without printing its password anywhere") {
    // libpq quotes the token it cannot decode, here the password itself.
    const std::string sentinel = "S3ntinel";
    const std::vector<std::string> bad = {"postgresql://haul:S3ntinel%zz@127.0.0.1/db",
                                          "postgresql://haul:S3ntinel@[::1", "host=a passwrd=S3ntinel",
                                          "host=a password='S3ntinel and more"};
    temp_file log("pghaul.log", "");
    temp_file report("report.json", "");
    for (const auto& conninfo : bad) {
        CAPTURE(conninfo);
        temp_file manifest("m.toml", "[target]\nconninfo = \"" + tgt("postgres") +
                                         "\"\n[[source]]\nname = \"a\"\nconninfo = \"" + conninfo +
                                         "\"\ntarget_db = \"x\"\n");
        std::vector<std::vector<std::string>> commands = {
            {"copy", "--source", conninfo, "--target", tgt("x"), "--log-file", log.path, "--report",
             report.path},
            {"copy", "--source", src("postgres"), "--target", conninfo, "--log-file", log.path},
            {"run", manifest.path, "--log-file", log.path, "--report", report.path},
            {"verify", "--source", conninfo, "--target", tgt("x")},
            {"audit", "--source", conninfo},
            {"clients", "--source", conninfo},
        };
        for (auto& args : commands) {
            CAPTURE(args[0]);
            auto r = run_pghaul(args);
            CHECK(r.exit_status == 2);
            CHECK(r.out.find(sentinel) == std::string::npos);
            CHECK(r.err.find(sentinel) == std::string::npos);
            if (args[0] != "run")
                CHECK(r.err.find("HINT:") != std::string::npos);  // run: file:line:col instead
        }
    }
    std::ifstream l(log.path), rep(report.path);
    std::string logged((std::istreambuf_iterator<char>(l)), {}),
        reported((std::istreambuf_iterator<char>(rep)), {});
    CHECK(logged.find(sentinel) == std::string::npos);
    CHECK(reported.find(sentinel) == std::string::npos);
}

TEST_CASE("a target without a database name is a usage error") {
    auto ci = server("PGHAUL_TGT");
    ci.erase("dbname");
    small_source s;
    auto r = run_pghaul({"copy", "--source", src(s.name), "--target", ci.to_string()});
    CHECK(r.exit_status == 2);
    CHECK(r.err.find("names no database") != std::string::npos);
}

TEST_CASE("unreachable host and wrong password: exit 3 with a hint, nothing printed of the password") {
    small_source s;
    auto r = run_pghaul(
        {"copy", "--source", "host=127.0.0.1 port=1 dbname=x connect_timeout=3", "--target", tgt("x")});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("cannot connect to") != std::string::npos);
    CHECK(r.err.find("127.0.0.1:1") != std::string::npos);
    CHECK(r.err.find("HINT:") != std::string::npos);

    const auto target_db = unique_name("pw_tgt");
    r = run_pghaul(
        {"copy", "--source", src(s.name), "--target", tgt(target_db) + " password=SENTINEL-wrong-pw"});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("password authentication failed") != std::string::npos);
    CHECK(r.err.find("SENTINEL-wrong-pw") == std::string::npos);
    CHECK(r.err.find(".pgpass") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
}

// S3: libpq ignores a password file others can read, and says so in a
// warning above pghaul's error; the hint must name the file and the fix.
TEST_CASE("a password file readable by others: exit 3, the hint names the file and chmod 600") {
    small_source s;
    const char* passfile = std::getenv("PGPASSFILE");
    REQUIRE(passfile != nullptr);
    std::ifstream in(passfile);
    temp_file open_file("pgpass", std::string(std::istreambuf_iterator<char>(in), {}));
    std::filesystem::permissions(
        open_file.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                            std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    const auto target_db = unique_name("s3_tgt");
    auto r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db)},
                        {"PGPASSFILE=" + open_file.path});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("HINT: the password file " + open_file.path + " is mode 0644") != std::string::npos);
    CHECK(r.err.find("chmod 600 " + open_file.path) != std::string::npos);
    CHECK_FALSE(contains_any(r.out + r.err, sandbox_passwords()));
    CHECK_FALSE(target_has_database(target_db));

    // Made private, the same file works.
    std::filesystem::permissions(open_file.path,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--no-owner"},
                   {"PGPASSFILE=" + open_file.path});
    CHECK_MESSAGE(r.exit_status == 0, r.err);
    CHECK(target_has_database(target_db));
    drop_database("PGHAUL_TGT_SUPER", target_db);
}

TEST_CASE("source database missing: exit 3 naming it") {
    auto r =
        run_pghaul({"copy", "--source", src("no_such_database_here"), "--target", tgt(unique_name("x"))});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("no_such_database_here") != std::string::npos);
}

TEST_CASE("target database exists: fail, skip and replace") {
    small_source s;
    const auto target_db = unique_name("exists_tgt");
    {
        auto admin = connect("PGHAUL_TGT");
        admin.exec("CREATE DATABASE " + target_db);
        connect("PGHAUL_TGT", target_db).exec("CREATE TABLE keep_me (x int)");
    }
    auto r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db)});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("already exists") != std::string::npos);
    CHECK(r.err.find("--on-existing") != std::string::npos);
    // Without replace, the dry run does not say it drops anything.
    r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--dry-run"});
    CHECK(r.out.find("WILL FAIL: target database") != std::string::npos);
    CHECK(r.out.find("DROPS") == std::string::npos);

    r = run_pghaul(
        {"copy", "--source", src(s.name), "--target", tgt(target_db), "--on-existing", "skip", "-O"});
    CHECK(r.exit_status == 0);
    CHECK(connect("PGHAUL_TGT_SUPER", target_db)
              .exec("SELECT FROM pg_tables WHERE tablename = 'keep_me'")
              .rows() == 1);

    {
        // Someone else is connected (here a superuser): replace cannot end
        // their session as this login, so it says so before writing anything.
        auto other = connect("PGHAUL_TGT_SUPER", target_db);
        other.exec("SET application_name = 'reporting job'");
        r = run_pghaul(
            {"copy", "--source", src(s.name), "--target", tgt(target_db), "--on-existing", "replace", "-O"});
        CHECK(r.exit_status == 3);
        CHECK(r.err.find("1 session(s) of other users are connected to it (postgres (reporting job))") !=
              std::string::npos);
        CHECK(r.err.find("pg_terminate_backend") != std::string::npos);
        CHECK(other.exec("SELECT FROM pg_tables WHERE tablename = 'keep_me'").rows() == 1);
    }
    // The dry run says what replace will do to it, and does nothing.
    r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--on-existing", "replace",
                    "-O", "--dry-run"});
    CHECK(r.exit_status == 0);
    CHECK(r.out.find("DROPS the existing database first (on_existing replace)") != std::string::npos);
    CHECK(connect("PGHAUL_TGT_SUPER", target_db)
              .exec("SELECT FROM pg_tables WHERE tablename = 'keep_me'")
              .rows() == 1);
    r = run_pghaul(
        {"copy", "--source", src(s.name), "--target", tgt(target_db), "--on-existing", "replace", "-O"});
    CHECK(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT FROM pg_tables WHERE tablename = 'keep_me'").rows() == 0);
    CHECK(t.exec("SELECT count(*) FROM t").i64(0, 0) == 2);
    drop_database("PGHAUL_TGT_SUPER", target_db);
}

// A walk-through found replace dropping the source: the same conninfo as
// --source and --target (swapped or pasted twice) is the same database.
TEST_CASE("the source database as its own target is refused before anything is written, even with replace") {
    small_source s;
    for (bool dry_run : {true, false}) {
        CAPTURE(dry_run);
        std::vector<std::string> args = {"copy", "--source", src(s.name), "--target",
                                         server("PGHAUL_SRC_A", s.name).to_string(), "--on-existing", "replace"};
        if (dry_run) args.push_back("--dry-run");
        auto r = run_pghaul(args);
        CHECK(r.exit_status == 3);
        CHECK((dry_run ? r.out : r.err).find("is the source database itself") != std::string::npos);
        CHECK((dry_run ? r.out : r.err).find("DROPS") == std::string::npos);
        CHECK(connect("PGHAUL_SRC_A_SUPER", s.name).exec("SELECT count(*) FROM t").i64(0, 0) == 2);
    }
}

TEST_CASE("pg_dump older than the source: exit 3 before anything is written") {
    small_source s;
    auto fake = std::filesystem::temp_directory_path() / unique_name("old_pg_dump");
    {
        std::ofstream f(fake);
        f << "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n";
    }
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    const auto target_db = unique_name("old_tgt");
    auto r =
        run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--pg-dump", fake.string()});
    std::filesystem::remove(fake);
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("pg_dump 9 is older than the source server (15)") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
}

TEST_CASE("a failure after the data has landed drops the new database and names the object") {
    // An index the target cannot build: the post-data step fails after every
    // table has been loaded.
    small_source s;
    auto c = connect("PGHAUL_SRC_A_SUPER", s.name);
    break_after_data(c, "t", "id");
    const auto target_db = unique_name("fail_tgt");
    auto r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--no-owner"});
    CHECK(r.exit_status == 5);
    CHECK(r.err.find("lying_immutable") != std::string::npos);
    CHECK(r.err.find("dropped the incomplete target database") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    CHECK_FALSE(contains_any(r.out + r.err, sandbox_passwords()));
}

// Names are keys (the journal's) and log text: "a.b".c and a."b.c" must not
// meet, and a newline in a name must not start a new log line.
TEST_CASE("names with dots and newlines stay apart and on one log line, quoted as PostgreSQL would") {
    const auto source_db = unique_name("names_src");
    const auto target_db = unique_name("names_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE SCHEMA \"a.b\"; CREATE SCHEMA a;"
        "CREATE TABLE \"a.b\".c AS SELECT generate_series(1, 10) AS i;"
        "CREATE TABLE a.\"b.c\" AS SELECT generate_series(1, 20) AS i;"
        "CREATE TABLE \"evil\nline\" AS SELECT generate_series(1, 5) AS i");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "-v"});
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("\"a.b\".c: 10 rows") != std::string::npos);
    CHECK(r.err.find("a.\"b.c\": 20 rows") != std::string::npos);
    CHECK(r.err.find("public.U&\"evil\\000Aline\": 5 rows") != std::string::npos);
    CHECK(r.err.find("\nline") == std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

namespace {

// Changes the target login for one test and puts it back, whatever the checks say.
struct target_login_altered {
    std::string undo;
    target_login_altered(const std::string& change, std::string undo_sql) : undo(std::move(undo_sql)) {
        connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin " + change);
    }
    ~target_login_altered() { connect("PGHAUL_TGT_SUPER").exec("ALTER ROLE haul_admin " + undo); }
};

}  // namespace

TEST_CASE(
    "a target login that cannot do what the copy needs is refused in preflight: exit 3, nothing written") {
    small_source s;
    const auto target_db = unique_name("login_tgt");
    SUBCASE("missing_roles = create without CREATEROLE") {
        auto was = connect("PGHAUL_TGT_SUPER")
                       .exec("SELECT rolcreaterole FROM pg_roles WHERE rolname = 'haul_admin'")
                       .boolean(0, 0);
        target_login_altered login("NOCREATEROLE", was ? "CREATEROLE" : "NOCREATEROLE");
        const auto role = unique_name("only_on_source");
        connect("PGHAUL_SRC_A_SUPER", s.name)
            .exec("CREATE ROLE " + role + " NOLOGIN; GRANT SELECT ON t TO " + role);
        auto r = run_pghaul(
            {"copy", "--source", src(s.name), "--target", tgt(target_db), "--missing-roles", "create"});
        connect("PGHAUL_SRC_A_SUPER", s.name).exec("DROP OWNED BY " + role);
        connect("PGHAUL_SRC_A_SUPER").exec("DROP ROLE " + role);
        CHECK(r.exit_status == 3);
        CHECK(r.err.find("may not create (no CREATEROLE): " + role) != std::string::npos);
        CHECK(r.err.find("missing_roles = \"owner\"") != std::string::npos);
        CHECK(connect("PGHAUL_TGT_SUPER")
                  .exec("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'")
                  .i64(0, 0) == 0);
    }
    SUBCASE("sessions that start read-only") {
        target_login_altered login("SET default_transaction_read_only = on",
                                   "RESET default_transaction_read_only");
        auto r = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--no-owner"});
        CHECK(r.exit_status == 3);
        CHECK(r.err.find("are read-only (default_transaction_read_only = on)") != std::string::npos);
        CHECK(r.err.find("ALTER ROLE <login> SET default_transaction_read_only = off") != std::string::npos);
    }
    CHECK_FALSE(target_has_database(target_db));
}

TEST_CASE("a run that fails in preflight replaces yesterday's report with its own") {
    small_source s;
    const auto target_db = unique_name("stale_tgt");
    temp_file report("report.json", "");
    temp_file html("report.html", "");
    auto good = run_pghaul({"copy", "--source", src(s.name), "--target", tgt(target_db), "--no-owner",
                            "--report", report.path, "--report-html", html.path});
    REQUIRE(good.exit_status == 0);
    CHECK(nlohmann::json::parse(std::ifstream(report.path)).contains("started_at"));
    auto bad_target = pghaul::conninfo::parse(tgt(target_db));
    bad_target.set("password", "wrong-password");
    bad_target.erase("passfile");
    auto bad = run_pghaul({"copy", "--source", src(s.name), "--target", bad_target.to_string(), "--no-owner",
                           "--report", report.path, "--report-html", html.path, "--on-existing", "replace"});
    CHECK(bad.exit_status == 3);
    auto rep = nlohmann::json::parse(std::ifstream(report.path));
    CHECK(rep["exit_code"] == 3);
    CHECK(rep["error"]["message"].get<std::string>().find("password authentication failed") !=
          std::string::npos);
    CHECK(rep["error"]["sqlstate"] == "28P01");  // libpq gives none: a script can still tell
    CHECK(rep["sources"][0]["status"] == "failed");
    CHECK(rep["sources"][0]["verification"].is_null());  // not "rows match": it was never checked
    // When, where and how it ran (issue 13 item 8), the password on its
    // command line overwritten there too.
    const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)");
    CHECK(std::regex_match(rep.value("started_at", ""), iso));
    CHECK(std::regex_match(rep.value("ended_at", ""), iso));
    CHECK(rep.value("started_at", "") <= rep.value("ended_at", ""));
    CHECK_FALSE(rep.value("host", "").empty());
    CHECK_FALSE(rep.value("pghaul_version", "").empty());
    REQUIRE(rep["command"].size() > 4);
    CHECK(rep["command"][1] == "copy");
    CHECK(rep.dump().find("password=**************") != std::string::npos);
    CHECK(rep.dump().find("wrong-password") == std::string::npos);
    std::ifstream h(html.path);
    std::string page((std::istreambuf_iterator<char>(h)), {});
    CHECK(page.find("failed") != std::string::npos);
    CHECK(page.find(rep.value("started_at", "-")) != std::string::npos);
    CHECK(page.find("wrong-password") == std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
}

// S11: what a server error says about a row (DETAIL's failing row or key, a
// data error's input, COPY's CONTEXT line) reaches the log and the reports:
// the names stay, the values do not.
TEST_CASE("server errors keep the names of what failed but not the row values") {
    auto c = connect("PGHAUL_SRC_A_SUPER");
    c.exec(
        "CREATE TEMP TABLE s11 (id int PRIMARY KEY, email text CHECK (email <> 'SENTINEL-row-2'));"
        "INSERT INTO s11 VALUES (1, 'SENTINEL-row-1')");
    auto message_of = [&](const std::string& sql) {
        try {
            c.exec(sql, "probing");
        } catch (const pghaul::error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    auto dup = message_of("INSERT INTO s11 VALUES (1, 'SENTINEL-row-3')");
    CHECK(dup.find("duplicate key value violates unique constraint \"s11_pkey\"") != std::string::npos);
    CHECK(dup.find("=(1)") == std::string::npos);
    auto check = message_of("INSERT INTO s11 VALUES (2, 'SENTINEL-row-2')");
    CHECK(check.find("violates check constraint \"s11_email_check\"") != std::string::npos);
    CHECK(check.find("SENTINEL") == std::string::npos);
    auto input = message_of("SELECT 'SENTINEL-input'::int");
    CHECK(input.find("invalid input syntax for type integer") != std::string::npos);
    CHECK(input.find("SENTINEL") == std::string::npos);
    auto copy = message_of("COPY s11 FROM PROGRAM 'printf \"3\\tSENTINEL-row-2\\n\"'");
    CHECK(copy.find("COPY s11, line 1") != std::string::npos);
    CHECK(copy.find("SENTINEL") == std::string::npos);
}

// Options libpq rejects before connecting: exit 3 (nothing written), the
// option named, a hint, and the password of the same string never printed.
TEST_CASE("a bad port or sslmode value is exit 3 with a hint, the password never printed") {
    for (const std::string option : {"port=abc", "sslmode=bogus"}) {
        CAPTURE(option);
        auto r = run_pghaul({"copy", "--source", src("postgres"), "--target",
                             "host=127.0.0.1 user=x password=SENTINEL-pw-7 dbname=b " + option});
        CHECK(r.exit_status == 3);
        CHECK(r.err.find(option.substr(option.find('=') + 1)) != std::string::npos);
        CHECK(r.err.find("HINT: fix that option") != std::string::npos);
        CHECK(r.err.find("SENTINEL") == std::string::npos);
        CHECK(r.out.find("SENTINEL") == std::string::npos);
    }
}

// S2: every local user can read a process's command line. pghaul hides a
// password typed on its own once parsed (and warns: the first moments were
// visible), and hands pg_dump neither the password nor a key's passphrase
// there. A stand-in pg_dump records what it was given, then runs the real one.
TEST_CASE("a password on the command line is hidden from ps, and pg_dump gets no secret on its own") {
    small_source s;
    const auto target_db = unique_name("argv_tgt");
    const auto password = sandbox_password("PGHAUL_SRC_A");
    const std::string passphrase = "Key-S3ntinel-pass";
    const auto dir = std::filesystem::temp_directory_path() / unique_name("fake_pg_dump");
    std::filesystem::create_directories(dir);
    for (const std::string tool : {"pg_dump", "pg_restore"}) {
        std::ofstream(dir / tool) << "#!/bin/sh\n"
                                     "[ \"$1\" = --version ] && exec " +
                                         tool +
                                         " --version\n"
                                         "d=" +
                                         dir.string() + "/seen-" + tool +
                                         "\n"
                                         "tr '\\0' ' ' < /proc/$PPID/cmdline > $d.parent\n"
                                         "printf '%s\\n' \"$@\" > $d.args\n"
                                         "env > $d.env\n"
                                         "exec " +
                                         tool + " \"$@\"\n";
        std::filesystem::permissions(dir / tool, std::filesystem::perms::owner_all);
    }
    auto r =
        run_pghaul({"copy", "--source", src(s.name) + " password=" + password + " sslpassword=" + passphrase,
                    "--target", tgt(target_db), "--no-owner", "--pg-dump", (dir / "pg_dump").string()});
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("a password was given on the command line") != std::string::npos);
    auto read = [&](const std::string& name) {
        std::ifstream in(dir / name);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const auto parent = read("seen-pg_dump.parent"), args = read("seen-pg_dump.args"),
               env = read("seen-pg_dump.env");
    REQUIRE(parent.find("copy --source") != std::string::npos);  // pghaul's own command line
    CHECK(parent.find("password=" + std::string(password.size(), '*')) != std::string::npos);
    CHECK(args.find("service=pghaul") != std::string::npos);  // the passphrase went by service file
    for (const auto& text : {parent, args, env, read("seen-pg_restore.args"), r.out + r.err}) {
        CHECK(text.find(password) == std::string::npos);
        CHECK(text.find(passphrase) == std::string::npos);
    }
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        auto from = connect("PGHAUL_SRC_A_SUPER", s.name);
        CHECK(table_fingerprints(t) == table_fingerprints(from));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    std::filesystem::remove_all(dir);
}

// Issue 13 item 6: objects owned by roles the target login cannot act as.
// The usual non-prod owner is postgres, a superuser on the target too: the
// hint must not say "GRANT postgres TO ...", and what it says must work.
TEST_CASE("owners the target login cannot act as: the hint names the login and a role map that works") {
    const auto source_db = unique_name("owners_src");
    const auto target_db = unique_name("owners_tgt");
    const auto owner = unique_name("app_owner");
    for (const char* super : {"PGHAUL_SRC_A_SUPER", "PGHAUL_TGT_SUPER"})
        connect(super).exec("CREATE ROLE " + owner + " NOLOGIN");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE by_postgres AS SELECT generate_series(1, 10) AS i;"
        "CREATE TABLE by_app AS SELECT generate_series(1, 20) AS i;"
        "ALTER TABLE by_app OWNER TO " +
        owner + "; GRANT SELECT ON by_postgres, by_app TO PUBLIC");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db)});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("the target login haul_admin is not a member of roles that own objects") !=
          std::string::npos);
    CHECK(r.err.find("--role-map postgres=haul_admin") != std::string::npos);
    CHECK(r.err.find("--no-owner") != std::string::npos);
    CHECK(r.err.find("GRANT " + owner + " TO haul_admin") !=
          std::string::npos);                                  // an ordinary role: may be granted
    CHECK(r.err.find("GRANT postgres") == std::string::npos);  // a superuser: never
    CHECK_FALSE(target_has_database(target_db));
    // What the hint says works.
    auto again = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--role-map",
                             owner + "=haul_admin", "--role-map", "postgres=haul_admin"});
    CHECK(again.exit_status == 0);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        CHECK(
            t.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'haul_admin'")
                .i64(0, 0) == 2);
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
    for (const char* super : {"PGHAUL_SRC_A_SUPER", "PGHAUL_TGT_SUPER"})
        connect(super).exec("DROP ROLE " + owner);
}

// B4, and issue 13 item 6: TLS required of a server that has it off (the
// sandbox's). Preflight says what to do, and nothing before the error
// pretends a copy ran ("0 B of 0 B", "finished with failures").
TEST_CASE("sslmode=require against a server without TLS: exit 3, a TLS hint, no empty progress before it") {
    small_source s;
    for (auto [source, target] :
         {std::pair{src(s.name) + " sslmode=require", tgt(unique_name("tls_tgt"))},
          std::pair{src(s.name), tgt(unique_name("tls_tgt")) + " sslmode=verify-full"}}) {
        auto r =
            run_pghaul({"copy", "--source", source, "--target", target, "--no-owner", "--progress", "plain"});
        CHECK(r.exit_status == 3);
        CHECK(r.err.find("server does not support SSL, but SSL was required") != std::string::npos);
        CHECK(r.err.find("HINT: the server has TLS (ssl) turned off") != std::string::npos);
        CHECK(r.err.find("finished with failures") == std::string::npos);
        CHECK(r.err.find("0 B of 0 B") == std::string::npos);
    }
}

// S5: TLS settings pass through untouched, to pghaul's own connections and to
// its pg_dump, and the log and report say how each server was reached. srcb
// turns TLS on for this case (a self-signed certificate for a name that is
// not 127.0.0.1) and off again after it.
TEST_CASE("TLS: sslmode and sslrootcert reach pg_dump too; a name mismatch is exit 3; the report names TLS") {
    namespace fs = std::filesystem;
    char dir_template[] = "/tmp/pghaul-tls-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const fs::path dir = dir_template;
    auto srcb = connect("PGHAUL_SRC_B_SUPER");
    // The server reads the key as its own OS user, from a private file.
    const auto owner = fs::path(srcb.exec("SHOW data_directory").str(0, 0));
    struct stat st {};
    REQUIRE(::stat(owner.c_str(), &st) == 0);
    const std::string crt = (dir / "server.crt").string(), key = (dir / "server.key").string();
    REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pghaul-test-server "
                         "-addext subjectAltName=DNS:pghaul-test-server -keyout " +
                         key + " -out " + crt + " 2>/dev/null")
                            .c_str()) == 0);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    REQUIRE(::chown(key.c_str(), st.st_uid, st.st_gid) == 0);
    REQUIRE(::chown(crt.c_str(), st.st_uid, st.st_gid) == 0);
    struct tls_off {
        pghaul::pg::connection& c;
        fs::path dir;
        ~tls_off() {
            try {
                for (const char* p : {"ssl", "ssl_cert_file", "ssl_key_file"})
                    c.exec(std::string("ALTER SYSTEM RESET ") + p);
                c.exec("SELECT pg_reload_conf()");
            } catch (...) {
            }
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } restore{srcb, dir};
    srcb.exec("ALTER SYSTEM SET ssl_cert_file = '" + crt + "'");
    srcb.exec("ALTER SYSTEM SET ssl_key_file = '" + key + "'");
    srcb.exec("ALTER SYSTEM SET ssl = on");
    srcb.exec("SELECT pg_reload_conf()");
    bool on = false;
    for (int i = 0; i < 50 && !on; ++i) {
        on = connect("PGHAUL_SRC_B_SUPER").exec("SHOW ssl").str(0, 0) == "on";
        if (!on) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(on);

    const auto source_db = unique_name("tls_src");
    create_database_from("PGHAUL_SRC_B_SUPER", source_db, "");
    connect("PGHAUL_SRC_B_SUPER", source_db)
        .exec(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM "
            "generate_series(1, 100) g");
    const auto target_db = unique_name("tls_tgt");
    auto copy = [&](const std::string& tls) {
        return run_pghaul({"copy", "--source", server("PGHAUL_SRC_B", source_db).to_string() + " " + tls,
                           "--target", tgt(target_db) + " sslmode=disable", "--no-owner", "--progress",
                           "none"});
    };
    // The certificate names another host: verify-full refuses before anything is written.
    auto mismatch = copy("sslmode=verify-full sslrootcert=" + crt);
    CHECK(mismatch.exit_status == 3);
    CHECK(mismatch.err.find("does not match host name") != std::string::npos);
    CHECK(mismatch.err.find("HINT: give the server's CA with sslrootcert") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    // verify-ca with that root. The environment says verify-full with a root
    // that does not exist: pg_dump succeeds only if it was given both of the
    // connection string's settings, which override the environment. (The
    // target says it has no TLS.)
    temp_file report("report.json", "");
    auto ok =
        run_pghaul({"copy", "--source",
                    server("PGHAUL_SRC_B", source_db).to_string() + " sslmode=verify-ca sslrootcert=" + crt,
                    "--target", tgt(target_db) + " sslmode=disable", "--no-owner", "--progress", "none",
                    "--report", report.path, "--verify", "counts"},
                   {"PGSSLMODE=verify-full", "PGSSLROOTCERT=/nonexistent/root.crt"});
    INFO(ok.err.substr(0, 3000));
    CHECK(ok.exit_status == 0);
    CHECK(std::regex_search(ok.err, std::regex(R"(source \S+ \(TLSv1\.[23] \()")));
    auto rep = nlohmann::json::parse(std::ifstream(report.path));
    CHECK(rep["sources"][0]["source_transport"].get<std::string>().starts_with("TLSv1."));
    CHECK(rep["target_transport"] == "no TLS");
    CHECK(connect("PGHAUL_TGT_SUPER", target_db).exec("SELECT count(*) FROM t").i64(0, 0) == 100);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_B_SUPER", source_db);
}

// B7: a database name with '=' in it, taken as a connection string anywhere
// (expand_dbname, pg_dump's --dbname, a pattern's expansion), would connect
// to port 1 or a socket directory that does not exist, or to another
// database. Each command must treat it as the name it is.
TEST_CASE("database names that read like connection strings stay names in copy, verify and run") {
    const auto suffix = unique_name("b7");
    const auto source_db = "port=1 dbname=" + suffix;
    const auto target_db = "host=/nonexistent dbname=" + suffix + "_t";
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM "
        "generate_series(1, 300) i; CREATE SEQUENCE q START 42");

    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "--verify", "counts"});
    REQUIRE_MESSAGE(r.exit_status == 0, r.err);
    {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        CHECK(sequence_states(t) == sequence_states(s));
    }
    // --no-owner made the target login the owner of what postgres owns.
    auto v = run_pghaul({"verify", "--source", src(source_db), "--target", tgt(target_db), "--checksums",
                         "--role-map", "postgres=haul_admin"});
    CHECK_MESSAGE(v.exit_status == 0, v.out << v.err);

    // A pattern matches the name as listed by the server, and the target
    // name made from it is a name too.
    temp_file manifest("b7.toml", R"([target]
conninfo = ")" + server("PGHAUL_TGT").to_string() +
                                      R"("

[run]
missing_roles = "owner"

[[source]]
name = "srva"
conninfo = ")" + server("PGHAUL_SRC_A").to_string() +
                                      R"("
databases = ["port=1 dbname=)" + suffix +
                                      R"("]
target_db = "{database}_run"
)");
    auto run = run_pghaul({"run", manifest.path});
    REQUIRE_MESSAGE(run.exit_status == 0, run.err);
    {
        auto t = connect("PGHAUL_TGT_SUPER", source_db + "_run");
        CHECK(table_fingerprints(t) == table_fingerprints(s));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_TGT_SUPER", source_db + "_run");
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// A --snapshot whose exporting session has ended (or a mistyped id): exit 3
// with the way to hold one, before anything is written.
TEST_CASE("a --snapshot that is gone is refused in preflight with how to hold one") {
    small_source s;
    std::string id;
    {
        auto holder = connect("PGHAUL_SRC_A_SUPER", s.name);
        holder.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        id = holder.exec("SELECT pg_export_snapshot()").str(0, 0);
    }  // the session ends, and its snapshot with it
    const auto target_db = unique_name("gone_snap");
    auto r = run_pghaul(
        {"copy", "--source", src(s.name), "--target", tgt(target_db), "--no-owner", "--snapshot", id});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("the snapshot " + id + " given with --snapshot cannot be imported") !=
          std::string::npos);
    CHECK(r.err.find("HINT: the session that exported it must stay open") != std::string::npos);
    // The server's own words keep the id: it is pghaul's parameter, not row data.
    CHECK(r.err.find("invalid snapshot identifier: \"" + id + "\"") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
}
