// End-to-end copies on the sandbox servers; the oracle is the source itself.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.hpp"
#include "scratch_cluster.hpp"

using namespace harness;


TEST_CASE("copy of the rich fixture matches its source as a non-superuser target login") {
    const auto source_db = unique_name("rich_src");
    const auto target_db = unique_name("rich_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "rich_source.sql");
    ensure_target_roles();
    {
        auto t = connect("PGHAUL_TGT");
        REQUIRE_FALSE(t.exec("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").boolean(0, 0));
    }

    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "3"});
    REQUIRE(r.exit_status == 0);
    CHECK_FALSE(contains_any(r.out + r.err, sandbox_passwords()));
    CHECK(r.err.find(" tables, ") != std::string::npos);  // the summary line

    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);

    {  // every table and materialized view: row count and content hash
        auto sf = table_fingerprints(s);
        auto tf = table_fingerprints(t);
        REQUIRE(sf.size() > 40);
        CHECK(sf.size() == tf.size());
        for (auto& [name, f] : sf) {
            CAPTURE(name);
            REQUIRE(tf.count(name));
            CHECK(tf[name].rows == f.rows);
            CHECK(tf[name].hash == f.hash);
        }
        // Triggers did not fire during the load and inheritance was not doubled.
        CHECK(tf["public.audit_log"].rows == 2);
        CHECK(tf["public.cities"].rows == 2);
        CHECK(tf["public.zero_cols"].rows == 3);
        CHECK(tf["public.mv_prolific"].rows > 0);
    }
    {  // user types inside arrays and composites went binary across differing type OIDs
        const std::string q =
            "SELECT 'public.mood'::regtype::oid::bigint, 'public.address'::regtype::oid::bigint";
        auto so = s.exec(q), to = t.exec(q);
        CHECK(so.i64(0, 0) != to.i64(0, 0));
        CHECK(so.i64(0, 1) != to.i64(0, 1));
        // Small binary tables are logged at debug only; a text fallback is always said.
        CHECK(r.err.find("public.udt_values") == std::string::npos);
        CHECK(r.err.find("(text format: column types regclass, regtype)") != std::string::npos);
    }
    {  // sequences, large objects and database settings
        CHECK(sequence_states(s) == sequence_states(t));
        CHECK(large_objects(s) == large_objects(t));
        CHECK(large_objects(t).size() == 3);
        CHECK(database_settings(s) == database_settings(t));
    }
    {  // the schema dumps the same, database name aside
        CHECK(schema_dump("PGHAUL_SRC_A_SUPER", source_db) == schema_dump("PGHAUL_TGT_SUPER", target_db));
    }
    {  // RLS and grants are in force on the target
        auto row = t.exec(R"(SELECT relrowsecurity AND relforcerowsecurity,
                                    has_table_privilege('fx_reader', 'public.books', 'SELECT')
                             FROM pg_class WHERE oid = 'public.secrets'::regclass)");
        CHECK(row.boolean(0, 0));
        CHECK(row.boolean(0, 1));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("writes on the source during the copy do not reach the target") {
    const auto source_db = unique_name("busy_src");
    const auto target_db = unique_name("busy_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE big (id bigserial PRIMARY KEY, payload text);"
        "INSERT INTO big (payload) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 400000) i;"
        "CREATE TABLE small (id int PRIMARY KEY, v int); INSERT INTO small SELECT i, i FROM "
        "generate_series(1, 100) i");
    const std::int64_t rows_before = 400000;

    // The writer starts once pghaul holds its snapshot and locks, tries DDL,
    // then commits rows and updates until pghaul ends.
    std::atomic<bool> done{false};
    std::atomic<int> written{0};
    std::atomic<bool> ddl_blocked{false};
    std::thread writer([&] {
        auto w = connect("PGHAUL_SRC_A_SUPER", source_db);
        wait_for_snapshot_lock(w, "small");
        // DDL waits for pghaul's ACCESS SHARE locks instead of breaking the copy.
        try {
            w.exec("SET lock_timeout = '100ms'; ALTER TABLE small ADD COLUMN extra int");
            ddl_blocked = false;
        } catch (const pghaul::error& e) {
            ddl_blocked = e.sqlstate() == "55P03";
        }
        w.exec("RESET lock_timeout");
        while (!done) {
            w.exec("INSERT INTO big (payload) VALUES ('late'); UPDATE small SET v = v + 1");
            ++written;
        }
    });
    // Objects here belong to the bootstrap superuser, which the target login can't act as.
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2", "--no-owner"});
    done = true;
    writer.join();
    REQUIRE(r.exit_status == 0);
    REQUIRE(written > 0);
    CHECK(ddl_blocked);

    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT count(*) FROM big").i64(0, 0) == rows_before);
    CHECK(t.exec("SELECT count(*) FROM big WHERE payload = 'late'").i64(0, 0) == 0);
    CHECK(s.exec("SELECT count(*) FROM big").i64(0, 0) == rows_before + written);
    // small.v moved in one transaction per write; the target holds one consistent state.
    CHECK(t.exec("SELECT count(DISTINCT v - id) FROM small").i64(0, 0) == 1);
    // Sequences are not transactional: PostgreSQL cannot show their state as of
    // a snapshot. pghaul reads them right after exporting it, so the target's
    // value is past every id it holds and never past the source's.
    auto target_seq = t.exec("SELECT last_value FROM big_id_seq").i64(0, 0);
    CHECK(target_seq >= t.exec("SELECT max(id) FROM big").i64(0, 0));
    CHECK(target_seq <= s.exec("SELECT last_value FROM big_id_seq").i64(0, 0));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("dry run prints the plan and writes nothing") {
    const auto source_db = unique_name("dry_src");
    const auto target_db = unique_name("dry_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER", source_db).exec("CREATE TABLE \"Planned Table\" (id int PRIMARY KEY)");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--dry-run", "-O"});
    CHECK(r.exit_status == 0);
    CHECK(r.out.find("public.\"Planned Table\"") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("--no-owner and --no-privileges load objects of roles the target lacks") {
    const auto source_db = unique_name("own_src");
    const auto target_db = unique_name("own_tgt");
    const auto role = unique_name("only_on_source");
    const auto grantee = unique_name("grantee_only_on_source");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec("CREATE ROLE " + role + " NOLOGIN; CREATE ROLE " + grantee +
           " NOLOGIN; GRANT CREATE ON SCHEMA public TO " + role + "; SET ROLE " + role +
           "; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');"
           "GRANT SELECT ON t TO " +
           grantee + "; RESET ROLE");

    auto refused = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db)});
    CHECK(refused.exit_status == 3);
    CHECK(refused.err.find(role) != std::string::npos);  // every missing role is listed
    CHECK(refused.err.find(grantee) != std::string::npos);
    CHECK(refused.err.find("--no-owner") != std::string::npos);

    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "--no-privileges"});
    REQUIRE(r.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT tableowner FROM pg_tables WHERE tablename = 't'").str(0, 0) == "haul_admin");
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    // Without --no-privileges only the grants to the missing role are skipped
    // (a role both servers have keeps its grant), once roles are settled,
    // after the schema dump was converted to SQL (the pause makes sure of
    // that order; a run once failed on it, another dropped every grant).
    const auto kept = unique_name("grantee_on_both");
    s.exec("CREATE ROLE " + kept + " NOLOGIN; GRANT SELECT ON t TO " + kept);
    connect("PGHAUL_TGT_SUPER").exec("CREATE ROLE " + kept + " NOLOGIN");
    auto skipped = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner", "--verify", "counts"},
        {"PGHAUL_FAULT=pause:roles"});
    INFO(skipped.err.substr(0, 2000));
    CHECK(skipped.exit_status == 0);
    CHECK(skipped.err.find("grants to roles missing on the target are skipped: " + grantee) !=
          std::string::npos);
    {
        auto copied = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(copied) == table_fingerprints(s));
        CHECK(copied.exec("SELECT has_table_privilege('" + kept + "', 'public.t', 'SELECT')").boolean(0, 0));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
    s = connect("PGHAUL_SRC_A_SUPER");
    s.exec("DROP ROLE " + role + "; DROP ROLE " + grantee + "; DROP ROLE " + kept);
    connect("PGHAUL_TGT_SUPER").exec("DROP ROLE " + kept);
}

TEST_CASE(
    "row security and unreadable large objects on the source are refused in preflight, never a silently "
    "filtered copy") {
    // srcb trusts loopback logins, so a plain (non-superuser, non-owner) reader can log in.
    const auto source_db = unique_name("rls_src");
    const auto target_db = unique_name("rls_tgt");
    const auto reader = unique_name("plain_reader");
    create_database_from("PGHAUL_SRC_B_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_B_SUPER", source_db);
    s.exec("CREATE ROLE " + reader +
           " LOGIN; CREATE TABLE guarded (id int, who text);"
           "INSERT INTO guarded VALUES (1, 'a'), (2, 'b'); ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;"
           "CREATE POLICY only_a ON guarded USING (who = 'a'); GRANT SELECT ON guarded TO " +
           reader);
    auto ci = server("PGHAUL_SRC_B", source_db);
    ci.set("user", reader);
    auto r = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                         server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--no-privileges"});
    // Refused in preflight, before any database or table is written.
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("row-level security applies to the source login") != std::string::npos);
    CHECK(r.err.find("guarded") != std::string::npos);
    CHECK(r.err.find("BYPASSRLS") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    // Its rows left out on purpose, the table is no obstacle.
    auto without_rows = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                                    server("PGHAUL_TGT", target_db).to_string(), "--no-owner",
                                    "--no-privileges", "--exclude-table-data", "guarded"});
    CHECK(without_rows.exit_status == 0);
    CHECK(connect("PGHAUL_TGT_SUPER", target_db).exec("SELECT count(*) FROM guarded").i64(0, 0) == 0);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    // A table it may not read at all: refused before anything is written, with the way out.
    s.exec("CREATE TABLE hidden (id int)");
    auto denied = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                              server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--no-privileges"});
    CHECK(denied.exit_status == 3);
    CHECK(denied.err.find("permission denied for table hidden") != std::string::npos);
    CHECK(denied.err.find("GRANT SELECT") != std::string::npos);
    CHECK(denied.err.find("--exclude-table") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    // Left out, it is neither locked nor read, by pghaul or its pg_dump, and
    // verify does not look for it.
    auto left_out = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                                server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--no-privileges",
                                "--exclude-table-data", "guarded", "-T", "hidden", "--verify", "counts"});
    CHECK(left_out.exit_status == 0);
    CHECK(left_out.err.find("left out (--exclude-table hidden): table public.hidden") != std::string::npos);
    CHECK(connect("PGHAUL_TGT_SUPER", target_db).exec("SELECT to_regclass('hidden') IS NULL").boolean(0, 0));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    s.exec("DROP TABLE hidden");
    // A large object it may not read (pg_read_all_data does not cover them):
    // refused in preflight too, not when finish reaches it after every table.
    const auto lo = s.exec("SELECT lo_from_bytea(0, 'large object body')").str(0, 0);
    auto no_lo = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                             server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--no-privileges",
                             "--exclude-table-data", "guarded"});
    CHECK(no_lo.exit_status == 3);
    CHECK(no_lo.err.find("may not read 1 of the 1 large objects (the first: " + lo + ")") !=
          std::string::npos);
    CHECK(no_lo.err.find("GRANT SELECT ON LARGE OBJECT") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    s.exec("GRANT SELECT ON LARGE OBJECT " + lo + " TO " + reader);
    auto granted = run_pghaul({"copy", "--source", ci.to_string(), "--target",
                               server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--no-privileges",
                               "--exclude-table-data", "guarded"});
    CHECK(granted.exit_status == 0);
    CHECK(connect("PGHAUL_TGT_SUPER", target_db)
              .exec("SELECT convert_from(lo_get(" + lo + "), 'UTF8')")
              .str(0, 0) == "large object body");
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_B_SUPER", source_db);
    connect("PGHAUL_SRC_B_SUPER").exec("DROP ROLE " + reader);
}

TEST_CASE("a table split into many ctid parts copies exactly while updates move its rows") {
    const auto source_db = unique_name("split_src");
    const auto target_db = unique_name("split_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE wide (id int PRIMARY KEY, v int NOT NULL, pad text);"
        "INSERT INTO wide SELECT i, 0, repeat(md5(i::text), 4) FROM generate_series(1, 120000) i;"
        "CREATE INDEX wide_v ON wide (v)");
    s.exec("VACUUM ANALYZE wide");
    auto before = table_fingerprints(s);

    // Once pghaul holds its snapshot, updates rewrite rows into new pages
    // (new ctids) and deletes remove others: the copy must hold each row of the
    // snapshot exactly once, as it was.
    std::atomic<bool> done{false};
    std::atomic<int> changes{0};
    std::thread writer([&] {
        auto w = connect("PGHAUL_SRC_A_SUPER", source_db);
        wait_for_snapshot_lock(w, "wide");
        for (int round = 0; !done; ++round) {
            w.exec("UPDATE wide SET v = v + 1 WHERE id % 50 = " + std::to_string(round % 50) +
                   "; DELETE FROM wide WHERE id = " + std::to_string(round + 1) +
                   "; INSERT INTO wide VALUES (" + std::to_string(200000 + round) + ", -1, 'late')");
            ++changes;
        }
    });
    auto r =
        run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "3",
                    "--no-owner", "--split-tables-larger-than", "1MB", "--split-part-size", "2MB", "-v"});
    done = true;
    writer.join();
    REQUIRE(r.exit_status == 0);
    CHECK(changes > 0);
    CHECK(r.err.find("public.wide pages") != std::string::npos);  // parts were copied
    CHECK(r.err.find("parts)") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == before);
    CHECK(table_fingerprints(s) != before);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("hash partitions on an enum or a non-deterministic collation load through their root") {
    // An enum hashes by its OID, which the target's new type does not share:
    // copied leaf by leaf, rows would violate the target's partition bounds.
    const auto source_db = unique_name("hashpart_src");
    const auto target_db = unique_name("hashpart_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(R"(
        CREATE TYPE pad AS ENUM ('a'); CREATE TYPE pad2 AS ENUM ('b');  -- the target's OIDs differ further
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
        CREATE TABLE h_enum (id int, k mood, note text) PARTITION BY HASH (k);
        CREATE TABLE h_enum_0 PARTITION OF h_enum FOR VALUES WITH (MODULUS 3, REMAINDER 0);
        CREATE TABLE h_enum_1 PARTITION OF h_enum FOR VALUES WITH (MODULUS 3, REMAINDER 1);
        CREATE TABLE h_enum_2 PARTITION OF h_enum FOR VALUES WITH (MODULUS 3, REMAINDER 2);
        ALTER TABLE h_enum ADD PRIMARY KEY (id, k);
        CREATE INDEX ON h_enum (note);
        INSERT INTO h_enum SELECT i, (enum_range(NULL::mood))[1 + i % 4], md5(i::text) FROM generate_series(1, 4000) i;
        -- nested: range on top, hash on the enum below
        CREATE TABLE nested (id int, k mood) PARTITION BY RANGE (id);
        CREATE TABLE nested_low PARTITION OF nested FOR VALUES FROM (0) TO (1000) PARTITION BY HASH (k);
        CREATE TABLE nested_low_0 PARTITION OF nested_low FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE nested_low_1 PARTITION OF nested_low FOR VALUES WITH (MODULUS 2, REMAINDER 1);
        CREATE TABLE nested_high PARTITION OF nested FOR VALUES FROM (1000) TO (MAXVALUE);
        INSERT INTO nested SELECT i, (enum_range(NULL::mood))[1 + i % 4] FROM generate_series(0, 1999) i;
        CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
        CREATE TABLE h_text (id int, t text COLLATE nocase) PARTITION BY HASH (t);
        CREATE TABLE h_text_0 PARTITION OF h_text FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE h_text_1 PARTITION OF h_text FOR VALUES WITH (MODULUS 2, REMAINDER 1);
        INSERT INTO h_text SELECT i, 'Name ' || i FROM generate_series(1, 1000) i;
        -- list and range on an enum follow its sort order, not its OIDs: leaf by leaf
        CREATE TABLE l_enum (id int, k mood) PARTITION BY LIST (k);
        CREATE TABLE l_enum_low PARTITION OF l_enum FOR VALUES IN ('sad', 'ok');
        CREATE TABLE l_enum_high PARTITION OF l_enum FOR VALUES IN ('happy', 'ecstatic');
        INSERT INTO l_enum SELECT i, (enum_range(NULL::mood))[1 + i % 4] FROM generate_series(1, 1000) i;
        CREATE TABLE r_enum (id int, k mood) PARTITION BY RANGE (k);
        CREATE TABLE r_enum_low PARTITION OF r_enum FOR VALUES FROM (MINVALUE) TO ('happy');
        CREATE TABLE r_enum_high PARTITION OF r_enum FOR VALUES FROM ('happy') TO (MAXVALUE);
        INSERT INTO r_enum SELECT i, (enum_range(NULL::mood))[1 + i % 4] FROM generate_series(1, 1000) i;
    )");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2",
                         "--no-owner", "--verify", "counts"});
    REQUIRE(r.exit_status == 0);
    CHECK(r.err.find("violates partition constraint") == std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    // Each tree whole: the same rows, wherever the target put them.
    for (const char* root : {"h_enum", "nested", "h_text", "l_enum", "r_enum"}) {
        CAPTURE(root);
        const std::string q =
            std::string("SELECT count(*), md5(string_agg(x::text, ',' ORDER BY x::text)) FROM ") + root +
            " x";
        CHECK(t.exec(q).str(0, 0) == s.exec(q).str(0, 0));
        CHECK(t.exec(q).str(0, 1) == s.exec(q).str(0, 1));
    }
    // Every row is where the target's own hash puts it (a failed bound check
    // would have refused it), and list/range leaves match leaf by leaf.
    auto sf = table_fingerprints(s), tf = table_fingerprints(t);
    for (const char* leaf : {"public.l_enum_low", "public.l_enum_high", "public.r_enum_low",
                             "public.r_enum_high", "public.nested_high"}) {
        CAPTURE(leaf);
        CHECK(tf[leaf] == sf[leaf]);
    }
    // Keys and indexes of the routed trees were built.
    CHECK(t.exec("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'h_enum%'").i64(0, 0) ==
          s.exec("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'h_enum%'").i64(0, 0));
    // verify compares such trees whole, not leaf by leaf.
    auto v = run_pghaul({"verify", "--source", src(source_db), "--target",
                         server("PGHAUL_TGT_SUPER", target_db).to_string(), "--checksums", "--role-map",
                         "postgres=haul_admin"});
    INFO(v.out.substr(0, 2000));
    CHECK(v.exit_status == 0);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// B15: a standby as the source (a DBA's way to spare the primary overnight).
// Its snapshot, catalog and COPY work as on a primary, but it has no rows of
// unlogged tables: they come empty, with a warning, and verify does not count
// them. The standby is a streaming replica of srca made for this case.
TEST_CASE("a standby as the source: logged tables copy exactly, unlogged ones come empty with a warning") {
    namespace fs = std::filesystem;
    const char* sandbox = std::getenv("PGHAUL_SANDBOX_DIR");
    REQUIRE(sandbox != nullptr);
    const auto source_db = unique_name("standby_src");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "CREATE TABLE kept (id int PRIMARY KEY, v text); INSERT INTO kept SELECT g, md5(g::text) FROM "
        "generate_series(1, 2000) g; CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);"
        "INSERT INTO scratch SELECT g, 'x' FROM generate_series(1, 300) g; CREATE SEQUENCE q START 77;"
        "SELECT nextval('q')");
    auto primary = server("PGHAUL_SRC_A_SUPER", "postgres");
    const int port = std::stoi(*primary.get("port")) + 37;
    const fs::path dir = fs::path(sandbox) / ("standby-" + std::to_string(::getpid()));
    const std::string as_server = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string bin = "/usr/lib/postgresql/15/bin/";
    struct standby_gone {
        std::string stop, dir;
        ~standby_gone() {
            (void)std::system(stop.c_str());
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{as_server + bin + "pg_ctl -D " + dir.string() + " -m immediate -w stop >/dev/null 2>&1",
              dir.string()};
    REQUIRE(
        std::system((as_server + bin + "pg_basebackup --no-sync --checkpoint=fast -R -X stream -h " +
                     *primary.get("host") + " -p " + *primary.get("port") + " -U postgres -D " + dir.string())
                        .c_str()) == 0);
    {
        std::ofstream conf(dir / "postgresql.auto.conf", std::ios::app);
        conf << "port = " << port << "\nhot_standby = on\n";
    }
    REQUIRE(std::system((as_server + bin + "pg_ctl -D " + dir.string() + " -l " + dir.string() +
                         ".log -w -t 60 start >/dev/null")
                            .c_str()) == 0);
    auto standby = primary;
    standby.set("port", std::to_string(port));
    standby.set("dbname", source_db);
    {
        auto st = pghaul::pg::connection::open(standby, "test", pghaul::exit_code::source);
        REQUIRE(st.exec("SELECT pg_is_in_recovery()").boolean(0, 0));
    }

    const auto target_db = unique_name("standby_tgt");
    auto r = run_pghaul({"copy", "--source", standby.to_string(), "--target", tgt(target_db), "--no-owner",
                         "--verify", "counts"});
    INFO(r.err.substr(0, 3000));
    CHECK(r.exit_status == 0);
    CHECK(r.err.find(
              "is a standby, which has no rows of unlogged tables: public.scratch created without rows") !=
          std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    auto want = table_fingerprints(s), got = table_fingerprints(t);
    CHECK(got["public.kept"] == want["public.kept"]);
    CHECK(got["public.scratch"].rows == 0);
    CHECK(t.exec("SELECT relpersistence FROM pg_class WHERE relname = 'scratch'").str(0, 0) == "u");
    CHECK(sequence_states(t) == sequence_states(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// B21: a database in SQL_ASCII (bytes that are not UTF-8, as old non-prod
// servers have) or LATIN1 keeps its encoding and every byte of its text.
TEST_CASE("SQL_ASCII and LATIN1 databases keep their encoding and every byte of their text") {
    for (std::string encoding : {"SQL_ASCII", "LATIN1"}) {
        CAPTURE(encoding);
        const auto source_db = unique_name("enc_src"), target_db = unique_name("enc_tgt");
        drop_database("PGHAUL_SRC_A_SUPER", source_db);
        connect("PGHAUL_SRC_A_SUPER")
            .exec("CREATE DATABASE " + source_db + " ENCODING '" + encoding +
                  "' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
        auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
        // Every byte from 0x80 to 0xff, in text, a varchar key and a comment.
        s.exec(
            "CREATE TABLE t (id int PRIMARY KEY, v text, k varchar(10) UNIQUE);"
            "INSERT INTO t SELECT g, convert_from(decode(to_hex(128 + g) || '41' || to_hex(255 - g), 'hex'), "
            "'" +
            encoding + "'), convert_from(decode(to_hex(128 + g), 'hex'), '" + encoding +
            "') FROM generate_series(0, 127) g;"
            "DO $$BEGIN EXECUTE format('COMMENT ON TABLE t IS %L', 'caf' || convert_from('\\xe9'::bytea, '" +
            encoding + "')); END$$");
        auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                             "--verify", "checksums"});
        INFO(r.err.substr(0, 3000));
        CHECK(r.exit_status == 0);
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(
            t.exec("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()")
                .str(0, 0) == encoding);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        const std::string bytes = "SELECT string_agg(encode(convert_to(v, '" + encoding +
                                  "'), 'hex'), ',' ORDER BY id) || obj_description('t'::regclass) FROM t";
        CHECK(t.exec(bytes).str(0, 0) == s.exec(bytes).str(0, 0));
        drop_database("PGHAUL_TGT_SUPER", target_db);
        drop_database("PGHAUL_SRC_A_SUPER", source_db);
    }
}

// B21, the other way round: a libc source into a target server whose
// default is ICU (initdb --locale-provider=icu, as some managed servers are).
// Taking the target's default would reorder every text index; the database
// is created with the source's provider and locale instead.
TEST_CASE("a libc database into an ICU-default target server keeps libc and its text order") {
    scratch_cluster icu_target({"--locale-provider=icu", "--icu-locale=en", "--locale=C.UTF-8"});
    auto target_admin = pghaul::pg::connection::open(pghaul::conninfo::parse(icu_target.conninfo("postgres")),
                                                     "test", pghaul::exit_code::target);
    REQUIRE(
        target_admin.exec("SELECT datlocprovider FROM pg_database WHERE datname = 'template1'").str(0, 0) ==
        "i");
    const auto source_db = unique_name("libc_src"), target_db = unique_name("libc_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    // Upper before lower case in C order; ICU's "en" interleaves them.
    s.exec(
        "CREATE TABLE words (w text PRIMARY KEY, n int);"
        "INSERT INTO words VALUES ('b', 1), ('B', 2), ('a', 3), ('A', 4), ('Z', 5), ('_x', 6), ('\u00e9', 7);"
        "CREATE INDEX words_n ON words (n, w)");
    const std::string order = "SELECT string_agg(w, ',' ORDER BY w) FROM words";
    REQUIRE(s.exec(order).str(0, 0) == "A,B,Z,_x,a,b,\u00e9");
    auto r =
        run_pghaul({"copy", "--source", src(source_db), "--target",
                    icu_target.conninfo("haul_admin", target_db), "--no-owner", "--verify", "checksums"});
    CHECK(r.exit_status == 0);
    auto t = pghaul::pg::connection::open(pghaul::conninfo::parse(icu_target.conninfo("postgres", target_db)),
                                          "test", pghaul::exit_code::target);
    CHECK(t.exec("SELECT datlocprovider::text || ' ' || datcollate FROM pg_database WHERE datname = "
                 "current_database()")
              .str(0, 0) == "c C.UTF-8");
    CHECK(t.exec(order).str(0, 0) == s.exec(order).str(0, 0));
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// S6: least privilege on the source as well. A managed source gives a
// migration login pg_read_all_data (14+), BYPASSRLS and SELECT on the large
// objects, never superuser: the rich fixture copies whole through it.
TEST_CASE("the rich fixture copies whole as a least-privileged source login") {
    const auto source_db = unique_name("lp_src"), target_db = unique_name("lp_tgt");
    const auto login = unique_name("lp_reader");
    create_database_from("PGHAUL_SRC_B_SUPER", source_db, "rich_source.sql");
    ensure_target_roles();
    auto s = connect("PGHAUL_SRC_B_SUPER", source_db);
    // srcb trusts loopback, so the new login needs no password.
    s.exec("CREATE ROLE " + login + " LOGIN BYPASSRLS IN ROLE pg_read_all_data");
    s.exec(
        "DO $$DECLARE o oid; BEGIN FOR o IN SELECT oid FROM pg_largeobject_metadata LOOP "
        "EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO " +
        login + "', o); END LOOP; END$$");
    auto ci = server("PGHAUL_SRC_B", source_db);
    ci.set("user", login);
    {
        auto as_login = pghaul::pg::connection::open(ci, "test", pghaul::exit_code::source);
        REQUIRE_FALSE(
            as_login.exec("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").boolean(0, 0));
    }
    // Its grants on the large objects come along: the role exists on the target too.
    connect("PGHAUL_TGT_SUPER").exec("CREATE ROLE " + login + " NOLOGIN");
    auto r =
        run_pghaul({"copy", "--source", ci.to_string(), "--target", tgt(target_db), "--verify", "counts"});
    INFO(r.err.substr(0, 3000));
    CHECK(r.exit_status == 0);
    // What the target login (not the owner, no BYPASSRLS) cannot count is said,
    // not a failure that would drop the finished copy.
    CHECK(r.err.find("verify: rows of public.secrets not compared: row-level security applies to the target "
                     "login") != std::string::npos);
    CHECK(r.err.find("] verified: ") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    auto sf = table_fingerprints(s);
    REQUIRE(sf.size() > 40);
    CHECK(table_fingerprints(t) == sf);
    CHECK(sequence_states(t) == sequence_states(s));
    CHECK(large_objects(t) == large_objects(s));
    CHECK(schema_dump("PGHAUL_SRC_B_SUPER", source_db) == schema_dump("PGHAUL_TGT_SUPER", target_db));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_B_SUPER", source_db);
    connect("PGHAUL_SRC_B_SUPER").exec("DROP ROLE " + login);
    connect("PGHAUL_TGT_SUPER").exec("DROP ROLE " + login);
}

// A source whose schema public belongs to an application role: the role
// keeps its CREATE there on the target. The load-time CREATE pghaul grants
// an owning role was once taken back after pre-data had made that role
// public's owner, leaving the owner without CREATE (verify exit 7; found by
// the README walk-through).
TEST_CASE("a public schema owned by an application role keeps its owner's CREATE") {
    const auto source_db = unique_name("pubown_src"), target_db = unique_name("pubown_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER")
        .exec(
            "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_owner') THEN "
            "CREATE ROLE fx_owner NOLOGIN; END IF; END$$");
    ensure_target_roles();
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec(
        "ALTER SCHEMA public OWNER TO fx_owner; CREATE TABLE t (id int); INSERT INTO t VALUES (1);"
        "ALTER TABLE t OWNER TO fx_owner");
    auto r =
        run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--verify", "counts"});
    INFO(r.err.substr(0, 3000));
    CHECK(r.exit_status == 0);
    const std::string acl =
        "SELECT pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace WHERE nspname = 'public'";
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec(acl).str(0, 0) == "fx_owner");
    CHECK(t.exec(acl).str(0, 1) == s.exec(acl).str(0, 1));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
