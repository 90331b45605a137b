// pghaul verify: equal on a fresh copy; after a changed row, a row swapped
// between two tables of the same shape, a revoked grant and a reset sequence
// it fails (exit 7) naming what differs.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "engine/verify/verify.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

// Two tables of one shape (ids apart, so a swapped row is a real move), values
// whose text form is easy to get wrong (NaN, -0, bytea, arrays, jsonb,
// timestamptz), duplicates without a key, a sequence, a view, a function,
// grants to a role the copy renames, and a database setting.
constexpr const char* fixture = R"(
    DO $$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_owner') THEN CREATE ROLE fx_owner NOLOGIN; END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pghaul_vf_reader') THEN
            CREATE ROLE pghaul_vf_reader NOLOGIN; END IF;
        EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '12MB');
    END$$;
    CREATE TABLE left_t (id int PRIMARY KEY, v text, f float8, ts timestamptz, b bytea, a int[], j jsonb);
    CREATE TABLE right_t (LIKE left_t INCLUDING ALL);
    INSERT INTO left_t SELECT i, 'row ' || i, CASE i % 4 WHEN 0 THEN 'NaN' WHEN 1 THEN '-0' ELSE i / 3.0 END,
        timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute', decode(md5(i::text), 'hex'),
        ARRAY[i, -i], jsonb_build_object('k', i) FROM generate_series(1, 3000) i;
    INSERT INTO right_t SELECT id + 10000, v, f, ts, b, a, j FROM left_t;
    CREATE TABLE nokey (x int); INSERT INTO nokey VALUES (1), (1), (2);
    CREATE SEQUENCE counter; SELECT setval('counter', 42);
    CREATE INDEX left_v ON left_t (v);
    CREATE VIEW left_view AS SELECT id, v FROM left_t;
    CREATE FUNCTION plus_one(int) RETURNS int LANGUAGE sql AS 'SELECT $1 + 1';
    ALTER TABLE left_t OWNER TO fx_owner; ALTER TABLE right_t OWNER TO fx_owner; ALTER TABLE nokey OWNER TO fx_owner;
    ALTER SEQUENCE counter OWNER TO fx_owner; ALTER VIEW left_view OWNER TO fx_owner;
    ALTER FUNCTION plus_one(int) OWNER TO fx_owner;
    GRANT SELECT ON left_t, right_t TO pghaul_vf_reader;
)";

struct copied {
    std::string source_db = unique_name("vf_src"), target_db = unique_name("vf_tgt");
    copied() {
        create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
        connect("PGHAUL_SRC_A_SUPER", source_db).exec(fixture);
        ensure_target_roles();
        auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "2",
                             "--role-map", "pghaul_vf_reader=fx_reader"});
        REQUIRE(r.exit_status == 0);
    }
    ~copied() {
        drop_database("PGHAUL_TGT_SUPER", target_db);
        drop_database("PGHAUL_SRC_A_SUPER", source_db);
    }
    pghaul::process_result verify(std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"verify",
                                         "--source",
                                         src(source_db),
                                         "--target",
                                         tgt(target_db),
                                         "--role-map",
                                         "pghaul_vf_reader=fx_reader",
                                         "--jobs",
                                         "3"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_pghaul(args);
    }
    void on_target(const std::string& sql) const { connect("PGHAUL_TGT_SUPER", target_db).exec(sql); }
};

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("verify finds a fresh copy equal and names each later difference") {
    copied c;
    {  // equal, through the engine API the copy will call and through the command
        pghaul::engine::verify_options opt;
        opt.checksums = true;
        opt.role_map = {{"pghaul_vf_reader", "fx_reader"}};
        auto res = pghaul::engine::verify_databases(server("PGHAUL_SRC_A", c.source_db),
                                                    server("PGHAUL_TGT", c.target_db), opt);
        for (auto& m : res.mismatches)
            MESSAGE(m.kind << " " << m.object << ": " << m.source << " / " << m.target);
        CHECK(res.equal());
        CHECK(res.tables == 3);
        CHECK(res.sequences == 1);
        CHECK(res.settings == 1);
        auto r = c.verify({"--checksums", "--format", "json"});
        CHECK(r.exit_status == 0);
        auto j = nlohmann::json::parse(r.out);
        CHECK(j["equal"] == true);
        CHECK(j["compared"]["tables"] == 3);
    }
    // Each difference is made on the target, checked, and undone: one copy serves them all.
    auto restored = [&](const std::string& undo) {
        c.on_target(undo);
        CHECK(c.verify({"--checksums"}).exit_status == 0);
    };
    {  // a renamed role compares equal only through the role map
        auto r = run_pghaul({"verify", "--source", src(c.source_db), "--target", tgt(c.target_db)});
        CHECK(r.exit_status == 7);
        CHECK(has(r.out, "[privileges] table public.left_t, grantee pghaul_vf_reader"));
    }
    {  // a changed row
        c.on_target("UPDATE right_t SET v = 'changed' WHERE id = 10005");
        auto r = c.verify({"--checksums"});
        CHECK(r.exit_status == 7);
        CHECK(has(r.out, "MISMATCH [checksum] table public.right_t"));
        CHECK_FALSE(has(r.out, "public.left_t"));
        CHECK(c.verify().exit_status == 0);  // counts alone cannot see it
        restored("UPDATE right_t SET v = 'row 5' WHERE id = 10005");
    }
    {  // a row swapped between two tables of the same shape
        const std::string swap = R"(WITH l AS (DELETE FROM left_t WHERE id = 7 RETURNING *),
                                         r AS (DELETE FROM right_t WHERE id = 10008 RETURNING *),
                                         a AS (INSERT INTO left_t SELECT * FROM r)
                                    INSERT INTO right_t SELECT * FROM l)";
        c.on_target(swap);
        auto r = c.verify({"--checksums", "--format", "json"});
        CHECK(r.exit_status == 7);
        auto j = nlohmann::json::parse(r.out);
        std::set<std::string> objects;
        for (auto& m : j["mismatches"]) {
            CHECK(m["kind"] == "checksum");
            objects.insert(m["object"].get<std::string>());
        }
        CHECK(objects == std::set<std::string>{"table public.left_t", "table public.right_t"});
        restored(R"(WITH l AS (DELETE FROM left_t WHERE id = 10008 RETURNING *),
                         r AS (DELETE FROM right_t WHERE id = 7 RETURNING *),
                         a AS (INSERT INTO left_t SELECT * FROM r)
                    INSERT INTO right_t SELECT * FROM l)");
    }
    {  // a duplicate row traded for another in a table without a key
        c.on_target("DELETE FROM nokey WHERE x = 2; INSERT INTO nokey VALUES (1)");
        auto r = c.verify({"--checksums"});
        CHECK(r.exit_status == 7);
        CHECK(has(r.out, "[checksum] table public.nokey"));
        restored("DELETE FROM nokey; INSERT INTO nokey VALUES (1), (1), (2)");
    }
    {  // a revoked grant
        c.on_target("REVOKE SELECT ON left_t FROM fx_reader");
        auto r = c.verify();
        CHECK(r.exit_status == 7);
        CHECK(has(r.out,
                  "MISMATCH [privileges] table public.left_t, grantee fx_reader\n    source: SELECT\n"
                  "    target: (none)"));
        restored("GRANT SELECT ON left_t TO fx_reader");
    }
    {  // a reset sequence
        c.on_target("SELECT setval('counter', 1, false)");
        auto r = c.verify();
        CHECK(r.exit_status == 7);
        CHECK(has(r.out,
                  "MISMATCH [sequence] sequence public.counter\n    source: last_value 42, called\n"
                  "    target: last_value 1, not called"));
        restored("SELECT setval('counter', 42)");
    }
    {  // schema objects and settings
        c.on_target(R"(DROP INDEX left_v; CREATE INDEX extra_idx ON right_t (v);
                       ALTER TABLE right_t ALTER COLUMN v SET DEFAULT 'x';
                       DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '4MB');
                       END$$)");
        auto r = c.verify();
        CHECK(r.exit_status == 7);
        CHECK(has(r.out, "[missing] index public.left_v"));
        CHECK(has(r.out, "[extra] index public.extra_idx"));
        CHECK(has(r.out, "[definition] column public.right_t.v"));
        CHECK(has(r.out, "[setting] database setting work_mem\n    source: 12MB\n    target: 4MB"));
    }
}
