// Across PostgreSQL majors, on the sandbox's version clusters (started with
// PGHAUL_SANDBOX_VERSIONS="12 13 14 16 17 18"; 15 is srca/tgt). The suite's
// budget allows a representative set, chosen so every major is a source or a
// target at least once and each catalog difference between versions is met:
//   12 -> 15, 13 -> 16, 14 -> 17, 15 -> 18 (copy, rich fixture,
//   table hashes, sequences, then pghaul verify --checksums: exit 0), and
//   12 -> 12 (same major, old server on both sides);
//   16, 17, 18 as sources up to the pg_dump version check (only pg_dump 15
//   is installable here), with audit and verify run against them.
// rich_source.sql is written for 15; on 12 and 13 the statements their
// servers lack (multiranges, numeric infinity) fail and the rest loads.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "io/process.hpp"

using namespace harness;

namespace {

std::string var_of(int major) {
    return major == 15 ? "PGHAUL_SRC_A" : "PGHAUL_PG" + std::to_string(major);
}
std::string target_var_of(int major) {
    return major == 15 ? "PGHAUL_TGT" : "PGHAUL_PG" + std::to_string(major) + "_ADMIN";
}
std::string super_var_of(int major, bool target) {
    if (major == 15) return target ? "PGHAUL_TGT_SUPER" : "PGHAUL_SRC_A_SUPER";
    return "PGHAUL_PG" + std::to_string(major) + "_SUPER";
}

// The fixture, as far as the server has the features; returns the number of
// tables that loaded.
int load_rich_source(int major, const std::string& db) {
    const auto super = super_var_of(major, false);
    create_database_from(super, db, "");
    auto r = pghaul::run_process({"psql", "-X", "-q", "-d", server(super, db).to_string(), "-f",
                                  std::string(PGHAUL_SQL_DIR) + "/rich_source.sql"});
    INFO("psql on PostgreSQL " << major << ": " << r.err.substr(0, 2000));
    CHECK(r.exit_status == 0);
    return static_cast<int>(connect(super, db)
                                .exec("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                                      "'information_schema')")
                                .i64(0, 0));
}

void require_cluster(int major) {
    REQUIRE_MESSAGE(std::getenv(super_var_of(major, false).c_str()) != nullptr,
                    "PostgreSQL " << major
                                  << " sandbox cluster not started: run with PGHAUL_SANDBOX_VERSIONS=\"12 13 "
                                     "14 16 17 18\" scripts/pg-sandbox.sh start (scripts/test.sh does)");
}

void copy_and_compare(int from, int to) {
    require_cluster(from);
    require_cluster(to);
    const auto source_db = unique_name("xv" + std::to_string(from) + "_src");
    const auto target_db = unique_name("xv" + std::to_string(from) + "_to" + std::to_string(to));
    int tables = load_rich_source(from, source_db);
    CHECK(tables > 40);  // most of the fixture, whatever the version lacks
    const auto src_ci = server(var_of(from), source_db).to_string();
    const auto tgt_ci = server(target_var_of(to), target_db).to_string();
    ensure_target_roles(super_var_of(to, true));
    auto r = run_pghaul({"copy", "--source", src_ci, "--target", tgt_ci, "--jobs", "2"});
    CHECK(r.exit_status == 0);
    auto s = connect(super_var_of(from, false), source_db);
    auto t = connect(super_var_of(to, true), target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    CHECK(sequence_states(t) == sequence_states(s));
    CHECK(large_objects(t) == large_objects(s));
    // The target login may not set a role's settings (no CREATEROLE): the
    // copy says so, and the DBA applies it, as its warning asks.
    CHECK(r.err.find("ALTER ROLE fx_reader IN DATABASE") != std::string::npos);
    t.exec("ALTER ROLE fx_reader IN DATABASE " + target_db + " SET work_mem TO '8MB'");
    // Before 15, public belongs to the target's superuser: only it can grant
    // there, and the copy says which grant it could not make.
    CHECK(r.err.find("for role \"postgres\" did not carry over") == std::string::npos);  // the owner's own
    if (to < 15) {
        CHECK(r.err.find("CREATE on schema public for role \"fx_owner\" did not carry over") !=
              std::string::npos);
        t.exec("GRANT CREATE ON SCHEMA public TO fx_owner");
    }
    // pghaul's own cross-version comparison (the one copy --verify runs),
    // as a login that reads through the fixture's FORCE ROW LEVEL SECURITY:
    // a false alarm (17's MAINTAIN, 18's NOT NULL constraints, 16's view
    // printing, a parameter the target lacks) fails it.
    auto v = run_pghaul({"verify", "--source", src_ci, "--target",
                         server(super_var_of(to, true), target_db).to_string(), "--checksums"});
    INFO(v.out.substr(0, 3000));
    CHECK(v.exit_status == 0);
    CHECK(v.out.find("MISMATCH") == std::string::npos);
    CHECK(v.out.find("equal:") != std::string::npos);
    drop_database(super_var_of(to, true), target_db);
    drop_database(super_var_of(from, false), source_db);
}

}  // namespace

TEST_CASE("versions: 12 -> 15, copied and verified") {
    copy_and_compare(12, 15);
}
TEST_CASE("versions: 13 -> 16, copied and verified") {
    copy_and_compare(13, 16);
}
TEST_CASE("versions: 14 -> 17, copied and verified") {
    copy_and_compare(14, 17);
}
TEST_CASE("versions: 15 -> 18, copied and verified") {
    copy_and_compare(15, 18);
}
TEST_CASE("versions: 12 -> 12, copied and verified") {
    copy_and_compare(12, 12);
}

TEST_CASE("versions: 16, 17 and 18 sources: audit and verify read them; copy stops at pg_dump with a hint") {
    for (int major : {16, 17, 18}) {
        CAPTURE(major);
        require_cluster(major);
        const auto db = unique_name("xv" + std::to_string(major));
        const auto twin = db + "_twin";
        load_rich_source(major, db);
        load_rich_source(major, twin);
        const auto a = server(var_of(major), db).to_string(), b = server(var_of(major), twin).to_string();
        // Every catalog query of verify runs on this version: two databases
        // made by the same script compare equal, and a changed row does not.
        auto v = run_pghaul({"verify", "--source", a, "--target", b, "--checksums"});
        CHECK(v.exit_status == 0);
        connect(super_var_of(major, false), twin)
            .exec("UPDATE big_events SET name = name || 'x' WHERE id = 7");
        auto changed = run_pghaul({"verify", "--source", a, "--target", b, "--checksums"});
        CHECK(changed.exit_status == 7);
        CHECK(changed.out.find("[checksum] table public.big_events") != std::string::npos);
        // audit reads the source's catalog and names the one blocker.
        auto au = run_pghaul(
            {"audit", "--source", a, "--target", server(target_var_of(major), "postgres").to_string()});
        CHECK(au.exit_status == 9);
        CHECK(au.out.find("pg_dump 15 is older than the source (PostgreSQL " + std::to_string(major) + ")") !=
              std::string::npos);
        // copy: the same, as a preflight refusal with what to install.
        auto c = run_pghaul({"copy", "--source", a, "--target",
                             server(target_var_of(major), unique_name("xv_never")).to_string()});
        CHECK(c.exit_status == 3);
        CHECK(c.err.find("install postgresql-client-" + std::to_string(major)) != std::string::npos);
        drop_database(super_var_of(major, false), twin);
        drop_database(super_var_of(major, false), db);
    }
}

TEST_CASE(
    "versions: an extension version and the ICU version that change on the way are said, by copy and "
    "verify") {
    require_cluster(18);
    // Debian's 15 has citext 1.6 and ICU 72; the 18 build installs citext
    // 1.8 by default and bundles ICU 60.
    const auto source_db = unique_name("xv_icu_src");
    const auto target_db = unique_name("xv_icu_to18");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE EXTENSION citext; CREATE TABLE words (id int PRIMARY KEY, w text COLLATE \"de-x-icu\", c "
        "citext);"
        "CREATE INDEX words_w ON words (w); INSERT INTO words SELECT i, 'Wort ' || i, 'X' || i FROM "
        "generate_series(1, 500) i");
    const auto tgt_ci = server(target_var_of(18), target_db).to_string();
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt_ci, "--no-owner"});
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("extension citext will be version 1.8 on the target (1.6 on the source)") !=
          std::string::npos);
    CHECK(r.err.find("ICU collation version") != std::string::npos);
    CHECK(r.err.find("whenever the target's ICU library changes): public.words_w") != std::string::npos);
    CHECK(r.err.find("2 warnings") != std::string::npos);
    auto t = connect(super_var_of(18, true), target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    auto v = run_pghaul({"verify", "--source", src(source_db), "--target",
                         server(super_var_of(18, true), target_db).to_string(), "--role-map",
                         "postgres=haul_admin"});
    INFO(v.out.substr(0, 2000));
    CHECK(v.exit_status == 0);
    CHECK(v.out.find("note: extension citext is version 1.8 on the target, 1.6 on the source") !=
          std::string::npos);
    // audit says the same before the move, in its platform group.
    auto au = run_pghaul(
        {"audit", "--source", src(source_db), "--target", server(target_var_of(18), "postgres").to_string()});
    CHECK(au.out.find("the ICU collator version differs: 153.120 on the source, 153.80 on the target") !=
          std::string::npos);
    CHECK(au.out.find("public.words_w") != std::string::npos);
    drop_database(super_var_of(18, true), target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
