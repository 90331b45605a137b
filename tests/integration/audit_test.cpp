// pghaul audit: every finding the issue names shows on a source built to have
// it, secrets never show, and a plain database gets nothing but facts.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "harness.hpp"
#include "protocol/sql_quote.hpp"

using namespace harness;
namespace sql = pghaul::sql;

namespace {

// The first finding whose `what` contains `what`, or null.
const nlohmann::json* find(const nlohmann::json& report, const std::string& what) {
    for (auto& f : report["findings"])
        if (f["what"].get<std::string>().find(what) != std::string::npos) return &f;
    return nullptr;
}

bool lists(const nlohmann::json* f, const std::string& needle) {
    if (!f) return false;
    for (auto& o : (*f)["objects"])
        if (o.get<std::string>().find(needle) != std::string::npos) return true;
    return false;
}

// A role on the source only: the target must lack it.
constexpr const char* source_only_role = "pghaul_audit_source_only";

}  // namespace

TEST_CASE("audit lists integrations, role problems and copy risks, without their secrets") {
    const auto db = unique_name("audit_src");
    const auto taken = unique_name("audit_taken");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_TGT_SUPER").exec("CREATE DATABASE " + sql::ident(taken));
    connect("PGHAUL_TGT_SUPER").exec(std::string("DROP ROLE IF EXISTS ") + source_only_role);
    {
        auto s = connect("PGHAUL_SRC_A_SUPER", db);
        s.exec(std::string("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '") +
               source_only_role + "') THEN CREATE ROLE " + source_only_role + " NOLOGIN; END IF; END$$");
        s.exec(std::string(R"(
            CREATE EXTENSION postgres_fdw;
            CREATE SERVER reports_srv FOREIGN DATA WRAPPER postgres_fdw
                OPTIONS (host 'reports.example.com', dbname 'reports');
            CREATE USER MAPPING FOR PUBLIC SERVER reports_srv OPTIONS (user 'rep', password 'fdw-secret-951');
            CREATE TABLE orders (id int PRIMARY KEY, total numeric);
            CREATE TABLE events (at timestamptz, payload text);
            CREATE PUBLICATION orders_pub FOR TABLE orders;
            CREATE SUBSCRIPTION upstream_sub CONNECTION 'host=10.20.30.40 dbname=upstream password=sub-secret-357'
                PUBLICATION up WITH (connect = false, enabled = false, slot_name = NONE);
            CREATE TABLE owned_by_gone (id int PRIMARY KEY);
            ALTER TABLE owned_by_gone OWNER TO )") +
               source_only_role + R"(;
            CREATE FUNCTION pull_sales() RETURNS int LANGUAGE plpgsql AS $f$
            BEGIN
                RAISE NOTICE 'pulling from %', 'host=10.1.2.3 port=5432 dbname=sales';
                RETURN 1;
            END $f$;
            SELECT lo_from_bytea(0, 'a large object');
            GRANT SELECT ON orders TO PUBLIC;)");
    }

    auto r = run_pghaul({"audit", "--source", src(db), "--target", server("PGHAUL_TGT").to_string(),
                         "--target-db", taken, "--format", "json"});
    CHECK(r.exit_status == 9);
    CHECK_FALSE(contains_any(r.out + r.err, {"fdw-secret-951", "sub-secret-357"}));
    CHECK_FALSE(contains_any(r.out + r.err, sandbox_passwords()));
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["source"]["database"] == db);
    CHECK(j["summary"]["blockers"].get<int>() >= 3);

    auto* fdw = find(j, "foreign servers: this database");
    CHECK(lists(fdw, "reports_srv (postgres_fdw: host=reports.example.com dbname=reports)"));
    CHECK(lists(find(j, "user mappings"), "PUBLIC on server reports_srv (options: user, password)"));
    CHECK(lists(find(j, "publications"), "orders_pub (1 table)"));
    auto* sub = find(j, "subscriptions");
    CHECK(lists(sub, "upstream_sub (disabled) of up from host=10.20.30.40"));
    auto* missing = find(j, "roles the source uses are missing on the target");
    REQUIRE(missing);
    CHECK((*missing)["severity"] == "blocker");
    CHECK((*missing)["group"] == "security");
    CHECK(lists(missing, source_only_role));
    CHECK(lists(find(j, "objects owned by a superuser"), "table public.orders (owner postgres)"));
    auto* addr = find(j, "functions with host names");
    REQUIRE(addr);
    CHECK(lists(addr, "pull_sales(): connection string host=10.1.2.3 port=5432 dbname=sales"));
    CHECK((*addr)["group"] == "application");
    CHECK(find(j, "1 large objects"));
    auto* nokey = find(j, "tables without a primary key");
    CHECK(lists(nokey, "public.events"));
    CHECK_FALSE(lists(nokey, "public.orders"));
    CHECK(lists(find(j, "grants to PUBLIC"), "public.orders (SELECT)"));
    CHECK(lists(find(j, "extensions only a superuser may create"), "postgres_fdw"));
    auto* name = find(j, "the new database name is taken");
    REQUIRE(name);
    CHECK((*name)["severity"] == "blocker");
    CHECK(find(j, "estimated copy time"));
    for (auto& f : j["findings"]) {
        CAPTURE(f.dump());
        CHECK(!f["why"].get<std::string>().empty());
    }

    // The same report for people: text and Markdown, grouped by owner.
    auto text = run_pghaul({"audit", "--source", src(db)});
    CHECK(text.exit_status == 0);  // without a target nothing is known to block
    CHECK(text.out.find("== security: access and roles ==") != std::string::npos);
    CHECK(text.out.find("WARNING  [integrations] foreign servers") != std::string::npos);
    auto markdown = run_pghaul({"audit", "--source", src(db), "--format", "markdown"});
    CHECK(markdown.out.find("## application teams: clients and integrations") != std::string::npos);
    CHECK_FALSE(contains_any(text.out + markdown.out, {"fdw-secret-951", "sub-secret-357"}));

    {  // a subscription must go before its database can
        auto s = connect("PGHAUL_SRC_A_SUPER", db);
        s.exec("DROP SUBSCRIPTION upstream_sub");
    }
    drop_database("PGHAUL_SRC_A_SUPER", db);
    drop_database("PGHAUL_TGT_SUPER", taken);
}

TEST_CASE("audit of a plain database reports facts only") {
    const auto db = unique_name("audit_plain");
    const char* owner = "pghaul_audit_plain_owner";
    for (auto* var : {"PGHAUL_SRC_A_SUPER", "PGHAUL_TGT_SUPER"})
        connect(var).exec(std::string("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '") +
                          owner + "') THEN CREATE ROLE " + owner + " NOLOGIN; END IF; END$$");
    connect("PGHAUL_TGT_SUPER").exec(std::string("GRANT ") + owner + " TO haul_admin");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(std::string(R"(
            CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
            CREATE TABLE invoices (id bigserial PRIMARY KEY, customer bigint REFERENCES customers, total numeric);
            CREATE INDEX ON invoices (customer);
            INSERT INTO customers (name) SELECT 'c' || i FROM generate_series(1, 100) i;
            ALTER TABLE customers OWNER TO )") +
              owner + "; ALTER TABLE invoices OWNER TO " + owner);

    auto r = run_pghaul({"audit", "--source", src(db), "--target", server("PGHAUL_TGT").to_string(),
                         "--target-db", unique_name("audit_plain_new"), "--format", "json"});
    CHECK(r.exit_status == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["summary"]["blockers"] == 0);
    CHECK(j["summary"]["warnings"] == 0);
    const std::set<std::string> expected = {"size", "versions", "locales", "roles", "clients", "target"};
    for (auto& f : j["findings"]) {
        CAPTURE(f.dump());
        CHECK(f["severity"] == "info");
        CHECK(expected.count(f["category"].get<std::string>()));
        CHECK(f["what"].get<std::string>().find("could not check") == std::string::npos);
    }
    CHECK(lists(find(j, "roles that own objects"), owner));
    CHECK(find(j, "no other sessions are connected now"));
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// Event triggers: pg_dump's DDL creates them last, after the data, and only a
// superuser may. The audit and the copy's preflight ask the target the same
// question (a rolled-back probe) and agree; the copy refuses before writing
// anything, and a superuser target login copies them.
TEST_CASE("event triggers the target login may not create: an audit blocker, a preflight refusal") {
    const auto db = unique_name("evt_src"), target_db = unique_name("evt_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE t AS SELECT i FROM generate_series(1, 100) i;"
            "CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;"
            "CREATE EVENT TRIGGER note_ddl_trigger ON ddl_command_end EXECUTE FUNCTION note_ddl()");

    auto audit = run_pghaul({"audit", "--source", src(db), "--target", server("PGHAUL_TGT").to_string(),
                             "--format", "json"});
    CHECK(audit.exit_status == 9);
    auto j = nlohmann::json::parse(audit.out);
    auto* evt = find(j, "event triggers");
    REQUIRE(evt);
    CHECK((*evt)["severity"] == "blocker");
    CHECK(lists(evt, "note_ddl_trigger on ddl_command_end"));

    auto r = run_pghaul({"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"});
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("note_ddl_trigger on ddl_command_end") != std::string::npos);
    CHECK(r.err.find("may not create them") != std::string::npos);
    CHECK(r.err.find("nothing was written") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    // The probe left nothing behind on the target's maintenance database.
    CHECK(connect("PGHAUL_TGT_SUPER").exec("SELECT count(*) FROM pg_event_trigger").i64(0, 0) == 0);

    auto super = run_pghaul({"copy", "--source", src(db), "--target",
                             server("PGHAUL_TGT_SUPER", target_db).to_string(), "--no-owner"});
    CHECK(super.exit_status == 0);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT evtname, evtevent FROM pg_event_trigger").str(0, 0) == "note_ddl_trigger");
    CHECK(table_fingerprints(t) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// The copy's preflight and the audit judge extensions with one function
// (engine/catalog/target_facts.hpp). One only a superuser may create: the
// audit's blocker, the copy's warning before its schema step fails (a
// managed service may let its admin role through), and nothing left behind.
TEST_CASE(
    "an extension only a superuser may create: an audit blocker, a copy warning before anything fails") {
    const auto db = unique_name("ext_src"), target_db = unique_name("ext_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db).exec("CREATE EXTENSION postgres_fdw; CREATE TABLE t AS SELECT 1 AS i");
    auto audit = run_pghaul(
        {"audit", "--source", src(db), "--target", server("PGHAUL_TGT").to_string(), "--format", "json"});
    CHECK(audit.exit_status == 9);
    auto j = nlohmann::json::parse(audit.out);
    auto* ext = find(j, "extensions only a superuser may create");
    REQUIRE(ext);
    CHECK((*ext)["severity"] == "blocker");
    CHECK(lists(ext, "postgres_fdw"));

    auto r = run_pghaul({"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"});
    CHECK(r.exit_status != 0);
    const auto warned =
        r.err.find("extensions only a superuser may create (not marked trusted on the target)");
    const auto created = r.err.find("schema:");
    CHECK(warned != std::string::npos);
    CHECK(r.err.find("postgres_fdw. CREATE EXTENSION in the schema step fails") != std::string::npos);
    CHECK(created == std::string::npos);  // the schema step failed on it
    CHECK_FALSE(target_has_database(target_db));
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// A publication FOR ALL TABLES (or TABLES IN SCHEMA) needs a superuser on the
// target. pg_dump creates it at the very end: refused there, it used to fail
// the whole copy after all its data. It is the source's replication set-up,
// not its data, so it is left out with a warning; a plain publication of the
// login's own tables comes along.
TEST_CASE("a publication only a superuser may create is left out with a warning, the copy done") {
    const auto db = unique_name("pub_src"), target_db = unique_name("pub_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE t AS SELECT i FROM generate_series(1, 100) i;"
            "CREATE PUBLICATION everything FOR ALL TABLES; CREATE PUBLICATION just_t FOR TABLE t");
    auto r = run_pghaul({"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"});
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("left out PUBLICATION everything") != std::string::npos);
    CHECK(r.err.find("1 warning") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SELECT string_agg(pubname, ',' ORDER BY pubname) FROM pg_publication").str(0, 0) == "just_t");
    CHECK(t.exec("SELECT count(*) FROM pg_publication_tables WHERE pubname = 'just_t'").i64(0, 0) == 1);
    CHECK(table_fingerprints(t) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}
