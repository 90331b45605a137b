// Aggregation of pg_stat_activity polls by role, application and address.
#include <doctest/doctest.h>

#include "engine/clients/clients.hpp"

using namespace pghaul::engine;
using namespace std::chrono_literals;

TEST_CASE("polls aggregate into groups with distinct backends and first/last seen") {
    client_tracker t;
    const auto t0 = std::chrono::system_clock::time_point(1700000000s);
    client_session a1{101, "2026-01-01T10:00:00Z", "app", "billing", "10.0.0.5", ""};
    client_session a2{102, "2026-01-01T09:00:00Z", "app", "billing", "10.0.0.5", ""};
    client_session b{201, "2026-01-01T11:00:00Z", "report", "", "10.0.0.9", "bi.internal"};
    t.observe(t0, {a1, b});
    t.observe(t0 + 1s, {a1, a2});
    // pid 101 reused by a new backend: a different connection.
    client_session a1_again{101, "2026-01-01T10:05:00Z", "app", "billing", "10.0.0.5", ""};
    t.observe(t0 + 2s, {a1_again});

    CHECK(t.polls() == 3);
    auto g = t.groups();
    REQUIRE(g.size() == 2);
    CHECK(g[0].role == "app");
    CHECK(g[0].application == "billing");
    CHECK(g[0].backends == 3);
    CHECK(g[0].first_seen == t0);
    CHECK(g[0].last_seen == t0 + 2s);
    CHECK(g[0].connected_since == "2026-01-01T09:00:00Z");
    CHECK(g[1].role == "report");
    CHECK(g[1].hostname == "bi.internal");
    CHECK(g[1].backends == 1);
    CHECK(g[1].first_seen == t0);
    CHECK(g[1].last_seen == t0);
}

TEST_CASE("the same role from two addresses is two groups") {
    client_tracker t;
    const auto now = std::chrono::system_clock::now();
    t.observe(now, {{1, "s", "app", "web", "10.0.0.1", ""}, {2, "s", "app", "web", "10.0.0.2", ""}});
    CHECK(t.groups().size() == 2);
    clients_result r;
    r.database = "old";
    r.groups = t.groups();
    r.polls = 1;
    r.fence = fence_result{"ALTER DATABASE \"old\" ALLOW_CONNECTIONS false",
                           "ALTER DATABASE \"old\" ALLOW_CONNECTIONS true", "note"};
    auto text = render_clients_text(r);
    CHECK(text.find("10.0.0.2") != std::string::npos);
    CHECK(text.find("undo:   ALTER DATABASE \"old\" ALLOW_CONNECTIONS true;") != std::string::npos);
    auto j = clients_json(r);
    CHECK(j["clients"].size() == 2);
    CHECK(j["fence"]["undo"] == "ALTER DATABASE \"old\" ALLOW_CONNECTIONS true");
}
