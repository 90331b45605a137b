// The target over a link the test controls (remote_site): slow, and gone
// without a word mid-COPY. The oracle is the source itself.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include "harness.hpp"
#include "remote_site.hpp"

using namespace harness;

namespace {

std::string source_of(std::int64_t rows) {
    auto db = unique_name("net_src");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE wide (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO wide SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, " +
            std::to_string(rows) +
            ") i;"
            "CREATE TABLE small (id int PRIMARY KEY, v text); INSERT INTO small VALUES (1, 'a'), (2, 'b');"
            "CREATE SEQUENCE counter; SELECT setval('counter', 42)");
    return db;
}

}  // namespace

// F15: a slow link (tbf, 8 Mbit/s) is slow, not broken.
TEST_CASE("network: a copy over a slow link completes, whole") {
    remote_site site("PGHAUL_TGT_SUPER");
    site.shape("8mbit");
    const auto source_db = source_of(20000);  // about 2.5 MB on the wire
    const auto target_db = unique_name("net_slow");
    const auto started = std::chrono::steady_clock::now();
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target",
                         site.address() + " user=haul_admin dbname=" + target_db, "-O", "-x", "--jobs", "2"});
    CHECK(r.exit_status == 0);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
    {
        auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        CHECK(sequence_states(t) == sequence_states(s));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F16: the target vanishes mid-COPY without a FIN or RST. tcp_user_timeout
// notices (2 s here, 90 s by default); the retry reconnects once the link is
// back, and ends the server process the lost connection left holding the
// table's lock (the network, not the server, went away: nothing else would
// end it for hours), so the reload does not wait on it forever.
TEST_CASE(
    "network: a target that vanishes mid-COPY is noticed, its orphaned session ended, the table reloaded") {
    remote_site site("PGHAUL_TGT_SUPER");
    site.shape("20mbit");
    const auto source_db = source_of(100000);  // about 12 MB: seconds on this link
    const auto target_db = unique_name("net_gone");
    auto copy = std::async(std::launch::async, [&] {
        return run_pghaul(
            {"copy", "--source", src(source_db), "--target",
             site.address() + " user=haul_admin connect_timeout=2 tcp_user_timeout=2000 dbname=" + target_db,
             "-O", "-x", "--jobs", "1", "--retry-window", "2m"},
            {}, std::chrono::seconds(90));  // waiting on the orphan's lock is a hang
    });
    REQUIRE(wait_for_statement("PGHAUL_TGT_SUPER", "pghaul/worker", "COPY %wide%"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    site.black_hole();
    std::this_thread::sleep_for(std::chrono::seconds(5));
    site.restore();
    auto r = copy.get();
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("retrying") != std::string::npos);
    CHECK(r.err.find("a lost connection left running on the target") != std::string::npos);
    {
        auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
    }
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
