// pghaul clients: a connection the test holds open shows with its
// application name; fences take effect and their printed undo reverts them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;

namespace {

pghaul::pg::connection open_as(const std::string& db, const std::string& app) {
    return pghaul::pg::connection::open(server("PGHAUL_SRC_A", db), app, pghaul::exit_code::internal);
}

}  // namespace

TEST_CASE("clients shows a connection with its application name, and fences with an undo") {
    const auto db = unique_name("clients_db");
    const auto app = unique_name("billing-batch");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    auto held = open_as(db, app);

    {  // one look, as JSON
        auto r = run_pghaul({"clients", "--source", src(db), "--format", "json"});
        REQUIRE(r.exit_status == 0);
        auto j = nlohmann::json::parse(r.out);
        CHECK(j["database"] == db);
        CHECK(j["polls"] == 1);
        REQUIRE(j["clients"].size() == 1);  // pghaul's own session is not listed
        auto& c = j["clients"][0];
        CHECK(c["application_name"] == app);
        CHECK(c["role"] == "haul");
        CHECK(c["client_addr"] == "127.0.0.1");
        CHECK(c["backends"] == 1);
        CHECK(j["fence"].is_null());
    }
    {  // watched for two seconds, as a table
        auto r = run_pghaul({"clients", "--source", src(db), "--watch", "2s"});
        REQUIRE(r.exit_status == 0);
        CHECK(r.out.find(app) != std::string::npos);
        CHECK(r.out.find("(3 poll(s)") != std::string::npos);
        CHECK(r.out.find("pghaul/clients") == std::string::npos);
    }
    {  // read-only for new sessions; the undo restores writes
        auto r = run_pghaul({"clients", "--source", src(db), "--fence", "read-only", "--format", "json"});
        REQUIRE(r.exit_status == 0);
        auto fence = nlohmann::json::parse(r.out)["fence"];
        CHECK(fence["undo"].get<std::string>().find("RESET default_transaction_read_only") !=
              std::string::npos);
        CHECK(open_as(db, "late-writer").exec("SHOW default_transaction_read_only").str(0, 0) == "on");
        CHECK(held.exec("SHOW default_transaction_read_only").str(0, 0) == "off");  // connected before
        connect("PGHAUL_SRC_A_SUPER").exec(fence["undo"].get<std::string>());
        CHECK(open_as(db, "late-writer").exec("SHOW default_transaction_read_only").str(0, 0) == "off");
    }
    {  // no new connections; the undo runs from another database
        auto r = run_pghaul({"clients", "--source", src(db), "--fence", "no-connect"});
        REQUIRE(r.exit_status == 0);
        CHECK(r.out.find(app) != std::string::npos);  // sessions already connected stay
        auto at = r.out.find("undo:   ");
        REQUIRE(at != std::string::npos);
        std::string undo = r.out.substr(at + 8, r.out.find(';', at) - at - 8);
        CHECK(undo.find("ALLOW_CONNECTIONS true") != std::string::npos);
        CHECK_THROWS_AS(open_as(db, "late-client"), pghaul::error);
        connect("PGHAUL_SRC_A_SUPER").exec(undo);
        CHECK_NOTHROW(open_as(db, "late-client"));
    }
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// The cutover the README describes: fence the old database read-only, then
// the final copy. The fence is a database setting, which a copy carries over:
// the new database was read-only for its application (walk-through).
TEST_CASE("a copy of a database fenced read-only is writable, says so, and verifies") {
    const auto db = unique_name("fenced_src"), target_db = unique_name("fenced_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db).exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
    connect("PGHAUL_SRC_A_SUPER").exec("ALTER DATABASE " + db + " SET work_mem = '16MB'");
    REQUIRE(run_pghaul({"clients", "--source", src(db), "--fence", "read-only"}).exit_status == 0);
    auto r = run_pghaul(
        {"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner", "--verify", "counts"});
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("left out the source database's default_transaction_read_only = on") !=
          std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(t.exec("SHOW default_transaction_read_only").str(0, 0) == "off");
    CHECK(t.exec("SHOW work_mem").str(0, 0) == "16MB");  // the other settings still come
    CHECK_NOTHROW(t.exec("INSERT INTO t VALUES (2)"));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}
