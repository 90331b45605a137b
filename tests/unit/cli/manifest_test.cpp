// The manifest reader: a full manifest into run_config, defaults, and each
// rule's message with its line and key, never a password.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <unistd.h>

#include "cli/manifest.hpp"
#include "protocol/error.hpp"

using pghaul::cli::load_manifest;
using pghaul::cli::parse_manifest;
namespace engine = pghaul::engine;

namespace {

// The message of the usage error the manifest must raise.
std::string manifest_error(const std::string& text, const std::string& path = "conf/consolidate.toml") {
    try {
        parse_manifest(text, path);
    } catch (const pghaul::error& e) {
        CHECK(e.code() == pghaul::exit_code::usage);
        return e.what();
    }
    FAIL("expected the manifest to be rejected:\n" << text);
    return {};
}

void check_contains(const std::string& message, std::initializer_list<const char*> parts) {
    CAPTURE(message);
    for (std::string part : parts) {
        CAPTURE(part);
        CHECK(message.find(part) != std::string::npos);
    }
}

// A valid head for manifests whose sources are under test.
const std::string head = R"([target]
conninfo = "host=consolidated.internal user=admin"
)";

}  // namespace

TEST_SUITE_BEGIN("cli/manifest");

TEST_CASE("manifest: a full manifest fills every field of run_config") {
    const std::string text = R"([target]
conninfo = "host=consolidated.internal user=admin dbname=maint sslmode=require"
password_command = ["aws", "secretsmanager", "get-secret-value", "--secret-id", "tgt"]

[run]
jobs = 8
on_existing = "replace"
missing_roles = "owner"
report = "out/consolidation-report.json"
no_privileges = true
pg_dump = "/usr/lib/postgresql/17/bin/pg_dump"

[[source]]
name = "account-a"
conninfo = "postgresql://master@db-a.internal:5432/source_database_a"
password_command = ["get-pw", "a"]
target_db = "app_db_a"
jobs = 2
role_map = { app = "app_a", reader = "reader_a" }

[[source]]
name = "account_b.2"
conninfo = "postgresql://master@db-b.internal:5432/source_database_b"
target_db = "app_db_b"
)";
    engine::run_config cfg = parse_manifest(text, "/etc/pghaul/consolidate.toml");
    CHECK(cfg.target.ci.get("host") == "consolidated.internal");
    CHECK(cfg.target.ci.dbname() == "maint");  // kept as written
    CHECK(cfg.target.ci.get("sslmode") == "require");
    CHECK(cfg.target.password_command ==
          std::vector<std::string>{"aws", "secretsmanager", "get-secret-value", "--secret-id", "tgt"});
    CHECK(cfg.maintenance_db == "maint");
    CHECK(cfg.jobs == 8);
    CHECK(cfg.existing == engine::on_existing::replace);
    CHECK(cfg.missing_roles == engine::missing_roles_mode::owner);
    CHECK(cfg.report_path == "/etc/pghaul/out/consolidation-report.json");
    CHECK(cfg.no_privileges);
    CHECK(cfg.pg_dump == "/usr/lib/postgresql/17/bin/pg_dump");

    REQUIRE(cfg.sources.size() == 2);
    const auto& a = cfg.sources[0];
    CHECK(a.name == "account-a");
    CHECK(a.endpoint.ci.get("host") == "db-a.internal");
    CHECK(a.endpoint.ci.dbname() == "source_database_a");
    CHECK(a.endpoint.password_command == std::vector<std::string>{"get-pw", "a"});
    CHECK(a.target_db == "app_db_a");
    CHECK(a.jobs == 2);
    CHECK(a.role_map == std::map<std::string, std::string>{{"app", "app_a"}, {"reader", "reader_a"}});
    CHECK(a.origin == "/etc/pghaul/consolidate.toml:13");
    const auto& b = cfg.sources[1];
    CHECK(b.name == "account_b.2");
    CHECK(b.target_db == "app_db_b");
    CHECK(b.jobs == 0);
    CHECK(b.endpoint.password_command.empty());
    CHECK(b.role_map.empty());
    CHECK(b.origin == "/etc/pghaul/consolidate.toml:21");
}

TEST_CASE("manifest: [run] may be left out and everything else takes run_config's defaults") {
    engine::run_config cfg = parse_manifest(head + R"(
[[source]]
name = "a"
conninfo = "host=db-a dbname=src"
target_db = "app_a"
)",
                                            "consolidate.toml");
    engine::run_config defaults;
    CHECK(cfg.maintenance_db == "postgres");
    CHECK_FALSE(cfg.target.ci.dbname());
    CHECK(cfg.target.password_command.empty());
    CHECK(cfg.jobs == defaults.jobs);
    CHECK(cfg.existing == engine::on_existing::fail);
    CHECK(cfg.missing_roles == engine::missing_roles_mode::fail);
    CHECK(cfg.report_path.empty());
    CHECK_FALSE(cfg.no_privileges);
    CHECK(cfg.pg_dump == "pg_dump");
    REQUIRE(cfg.sources.size() == 1);
    CHECK(cfg.sources[0].origin == "consolidate.toml:4");
}

TEST_CASE("manifest: [target].maintenance_db wins over the conninfo's dbname") {
    auto cfg = parse_manifest(R"([target]
conninfo = "host=t dbname=postgres"
maintenance_db = "admin_db"
[[source]]
name = "a"
conninfo = "host=s"
target_db = "postgres"
)",
                              "m.toml");
    CHECK(cfg.maintenance_db == "admin_db");
    CHECK(cfg.target.ci.dbname() == "postgres");
}

TEST_CASE("manifest: a relative report path is resolved beside the manifest, an absolute one kept") {
    auto with_report = [](const std::string& report, const std::string& path) {
        return parse_manifest(head + "[run]\nreport = \"" + report +
                                  "\"\n[[source]]\nname = \"a\"\nconninfo = \"host=s\"\ntarget_db = \"d\"\n",
                              path)
            .report_path;
    };
    CHECK(with_report("r.json", "conf/consolidate.toml") == "conf/r.json");
    CHECK(with_report("../reports/r.json", "/srv/conf/consolidate.toml") == "/srv/reports/r.json");
    CHECK(with_report("r.json", "consolidate.toml") == "r.json");
    CHECK(with_report("/var/log/r.json", "conf/consolidate.toml") == "/var/log/r.json");
}

TEST_CASE("manifest: an unknown key names file, line, column and full key, with a suggestion") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "a"
conninfo = "host=s"
target_db = "d"

[[source]]
name = "b"
conninfo = "host=s"
target_db = "e"
jbos = 2
)");
    check_contains(msg,
                   {"conf/consolidate.toml: 1 problem in the manifest",
                    "conf/consolidate.toml:13:1: unknown key \"source[1].jbos\" (did you mean \"jobs\"?)"});
}

TEST_CASE(
    "manifest: unknown keys at the top, in [target] and in [run]; no suggestion when nothing is close") {
    auto msg = manifest_error(R"(version = 2
[target]
conninfo = "host=t"
password_comand = ["x"]
[run]
on_exist = "skip"
colour = "blue"
[[source]]
name = "a"
conninfo = "host=s"
target_db = "d"
)");
    check_contains(msg, {"4 problems in the manifest", ":1:1: unknown key \"version\"\n",
                         ":4:1: unknown key \"target.password_comand\" (did you mean \"password_command\"?)",
                         ":6:1: unknown key \"run.on_exist\"", ":7:1: unknown key \"run.colour\""});
}

TEST_CASE("manifest: missing keys are reported at the section that lacks them, all at once") {
    auto msg = manifest_error(R"([target]
password_command = ["x"]

[[source]]
name = "a"
target_db = "d"

[[source]]
name = "b"
conninfo = "host=s"
)");
    check_contains(msg,
                   {"3 problems in the manifest", ":1:1: missing key \"target.conninfo\"",
                    ":4:1: missing key \"source[0].conninfo\"", ":8:1: missing key \"source[1].target_db\""});
    // In the order of the file.
    CHECK(msg.find(":1:1:") < msg.find(":4:1:"));
    CHECK(msg.find(":4:1:") < msg.find(":8:1:"));
}

TEST_CASE("manifest: no [target] and no [[source]] at all") {
    check_contains(manifest_error("[run]\njobs = 2\n"),
                   {"2 problems", "missing table [target]", "no [[source]] sections"});
    check_contains(manifest_error("source = []\n" + head), {":1:10: no [[source]] sections"});
    check_contains(manifest_error(head + "[source]\nname = \"a\"\n"),
                   {":3:1: \"source\" must be an array of tables ([[source]] sections), not a table"});
}

TEST_CASE("manifest: two sources with one target_db name both sources and their lines") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "account-a"
conninfo = "host=a"
target_db = "app_db"

[[source]]
name = "account-b"
conninfo = "host=b"
target_db = "app_db"
)");
    check_contains(msg,
                   {":12:13: sources \"account-a\" (line 4) and \"account-b\" (line 9) both have target_db "
                    "\"app_db\""});
}

TEST_CASE("manifest: duplicate source names") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "a"
conninfo = "host=a"
target_db = "d1"

[[source]]
name = "a"
conninfo = "host=b"
target_db = "d2"
)");
    check_contains(msg,
                   {":10:8: source name \"a\" is used twice: by source[0] (line 4) and source[1] (line 9)"});
}

TEST_CASE("manifest: bad values for choices, jobs, names and target_db") {
    auto msg = manifest_error(R"([target]
conninfo = "host=t dbname=maint"
[run]
on_existing = "drop"
missing_roles = "ignore"
jobs = 0
[[source]]
name = "a b"
conninfo = "host=s"
target_db = "template1"
jobs = 257
[[source]]
name = ""
conninfo = "host=s"
target_db = "maint"
[[source]]
name = "c"
conninfo = "host=s"
target_db = "x123456789x123456789x123456789x123456789x123456789x123456789xxxx"
)");
    check_contains(msg,
                   {"9 problems",
                    ":4:15: \"run.on_existing\" must be one of \"fail\", \"replace\", \"skip\", not \"drop\"",
                    ":5:17: \"run.missing_roles\" must be one of \"fail\", \"create\", \"owner\"",
                    ":6:8: \"run.jobs\" must be from 1 to 256, not 0",
                    ":8:8: \"source[0].name\" may hold only letters, digits",
                    ":10:13: \"source[0].target_db\" cannot be the template database \"template1\"",
                    ":11:8: \"source[0].jobs\" must be from 1 to 256, not 257",
                    ":13:8: \"source[1].name\" must not be empty",
                    ":15:13: \"source[1].target_db\" cannot be the maintenance database \"maint\"",
                    ":19:13: \"source[2].target_db\" is 64 bytes long"});
}

// The range its flag checks: an out-of-range level used to pass the manifest
// and fail mid-run at the first spill.
TEST_CASE("manifest: compression_level is range-checked like --compression-level") {
    auto msg = manifest_error(R"([target]
conninfo = "host=t"
[run]
compression_level = 20
[[source]]
name = "a"
conninfo = "host=s"
target_db = "d"
)");
    check_contains(msg, {":4:21: \"run.compression_level\" must be from 0 to 19, not 20"});
    msg = manifest_error(R"([target]
conninfo = "host=t"
[run]
compression_level = "3"
[[source]]
name = "a"
conninfo = "host=s"
target_db = "d"
)");
    check_contains(msg, {"\"run.compression_level\"", "an integer"});
}

TEST_CASE("manifest: values of the wrong type") {
    auto msg = manifest_error(R"(run = 3
[target]
conninfo = ["host=t"]
[[source]]
name = 1
conninfo = "host=s"
target_db = "d"
jobs = "2"
password_command = "get-pw --for a"
role_map = { app = 1, "" = "x", web = "" }
[[source]]
name = "b"
conninfo = "host=s"
target_db = "e"
password_command = []
role_map = "app=app_b"
[[source]]
name = "c"
conninfo = "host=s"
target_db = "f"
password_command = ["get-pw", 3, ""]
)");
    check_contains(msg, {":1:7: \"run\" must be a table, not an integer",
                         ":3:12: \"target.conninfo\" must be a string, "
                         "not an array",
                         ":5:8: \"source[0].name\" must be a string, not an integer",
                         ":8:8: \"source[0].jobs\" must be an integer, not a string",
                         ":9:20: \"source[0].password_command\" must be an array of strings",
                         "\"source[0].role_map.app\" must be a string (the target role), not an integer",
                         "\"source[0].role_map\" has an empty source role name",
                         "\"source[0].role_map.web\" must not be empty",
                         ":15:20: \"source[1].password_command\" must not be empty",
                         ":16:12: \"source[1].role_map\" must be a table",
                         "\"source[2].password_command[1]\" must be a string, not an integer",
                         "\"source[2].password_command[2]\" must not be empty"});
    // password_command values are never quoted back: one may be a secret.
    CHECK(msg.find("get-pw --for a") == std::string::npos);
}

TEST_CASE("manifest: a bad conninfo is reported at its line without the password") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "a"
conninfo = "hots=db password=hunter2"
target_db = "d"
)");
    check_contains(msg, {":6:12: invalid source[0].conninfo"});
    CHECK(msg.find("hunter2") == std::string::npos);
}

TEST_CASE("manifest: a problem in a source never quotes that source's password") {
    for (const char* ci :
         {"host=db-a user=master password=hunter2 dbname=src", "postgresql://master:hunter2@db-a:5432/src"}) {
        CAPTURE(ci);
        auto msg = manifest_error(head + "\n[[source]]\nname = \"a\"\nconninfo = \"" + ci +
                                  "\"\ntarget_db = \"d\"\njbos = 2\nrole_map = { app = 7 }\n");
        check_contains(msg, {"unknown key \"source[0].jbos\"", "\"source[0].role_map.app\""});
        CHECK(msg.find("hunter2") == std::string::npos);
    }
    // Accepted as the user wrote it: the engine decides what to do with it.
    auto cfg = parse_manifest(head +
                                  "[[source]]\nname = \"a\"\nconninfo = \"host=s password=hunter2\"\n"
                                  "target_db = \"d\"\n",
                              "m.toml");
    CHECK(cfg.sources.at(0).endpoint.ci.get("password") == "hunter2");
}

TEST_CASE("manifest: a TOML syntax error is reported alone with its line and column") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "a
conninfo = "host=s"
)");
    check_contains(msg, {"conf/consolidate.toml:5:", "invalid TOML: "});
    CHECK(msg.find("problem") == std::string::npos);

    check_contains(manifest_error(head + "[run]\njobs = 2\njobs = 3\n"), {"conf/consolidate.toml:5:"});
}

TEST_CASE("manifest: load_manifest reads a file and names an unreadable one with the reason") {
    auto dir =
        std::filesystem::temp_directory_path() / ("pghaul-manifest-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "consolidate.toml").string();
    {
        std::ofstream out(path);
        out << head << "[run]\nreport = \"report.json\"\n[[source]]\nname = \"a\"\nconninfo = \"host=s\"\n"
            << "target_db = \"d\"\n";
    }
    auto cfg = load_manifest(path);
    CHECK(cfg.report_path == (dir / "report.json").string());
    CHECK(cfg.sources.at(0).origin == path + ":5");

    for (const auto& [bad, reason] : {std::pair{(dir / "missing.toml").string(), "No such file or directory"},
                                      std::pair{dir.string(), "Is a directory"}}) {
        CAPTURE(bad);
        try {
            load_manifest(bad);
            FAIL("expected an error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::usage);
            check_contains(e.what(), {bad.c_str(), reason});
        }
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("manifest: a secret from a file (beside the manifest) or an environment variable, one source each") {
    auto cfg = parse_manifest(R"([target]
conninfo = "host=t user=admin"
password_env = "TARGET_PASSWORD"

[[source]]
name = "a"
conninfo = "host=a"
password_file = "secrets/a-password"
target_db = "a_db"
)",
                              "/etc/pghaul/fleet.toml");
    CHECK(cfg.target.password_env == "TARGET_PASSWORD");
    CHECK(cfg.target.password_command.empty());
    CHECK(cfg.sources[0].endpoint.password_file == "/etc/pghaul/secrets/a-password");

    check_contains(manifest_error(head + R"(password_command = ["x"]
password_file = "/run/secret"

[[source]]
name = "a"
conninfo = "host=a"
target_db = "a_db"
)"),
                   {"give only one of \"target.password_command\", \"target.password_file\" and "
                    "\"target.password_env\""});
    check_contains(manifest_error(head + R"(
[[source]]
name = "a"
conninfo = "host=a"
password_env = "A-PASSWORD"
target_db = "a_db"
)"),
                   {"must name an environment variable"});
}

TEST_SUITE_END();

TEST_CASE("manifest: a source naming several databases, target_db a template") {
    auto cfg = parse_manifest(head + R"(
[[source]]
name = "dev"
conninfo = "host=dev-server user=app"
databases = ["*"]
exclude = ["*_old", "scratch"]
target_db = "{source}_{database}"

[[source]]
name = "one"
conninfo = "host=other user=app"
databases = ["billing"]
)",
                              "m.toml");
    REQUIRE(cfg.sources.size() == 2);
    CHECK(cfg.sources[0].databases == std::vector<std::string>{"*"});
    CHECK(cfg.sources[0].exclude_databases == std::vector<std::string>{"*_old", "scratch"});
    CHECK(cfg.sources[0].target_db == "{source}_{database}");
    CHECK(cfg.sources[1].target_db == "{database}");  // one literal name may keep its name
}

TEST_CASE("manifest: several databases into one fixed name is refused, so is exclude alone") {
    auto msg = manifest_error(head + R"(
[[source]]
name = "dev"
conninfo = "host=dev-server"
databases = ["app_*"]
target_db = "consolidated"

[[source]]
name = "dev2"
conninfo = "host=dev-server"
target_db = "x"
exclude = ["a"]
databases = []
)");
    check_contains(msg, {"must contain {database}", "\"source[1].databases\" must not be empty",
                         "\"source[1].exclude\" needs"});
}
