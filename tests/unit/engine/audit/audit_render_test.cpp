// Audit report renderings: grouping by owner, blockers first, long lists cut
// in text only, Markdown escaping, JSON counts.
#include <doctest/doctest.h>

#include "engine/audit/audit.hpp"

using namespace pghaul::engine;

namespace {

audit_report sample() {
    audit_report r;
    r.source_endpoint = "app@db-a:5432/sales";
    r.source_db = "sales";
    r.target_endpoint = "admin@tgt:5432/postgres";
    r.target_db = "sales_a";
    r.findings = {
        {severity::info,
         owner_group::application,
         "clients",
         "sessions connected now",
         {"app from 10.0.0.1"},
         "repoint them",
         ""},
        {severity::warning,
         owner_group::security,
         "privileges",
         "grants to PUBLIC",
         {"public.t|x (SELECT)"},
         "everyone",
         "grant to roles"},
        {severity::blocker,
         owner_group::security,
         "roles",
         "roles missing",
         {"app"},
         "writes fail",
         "create them"},
        {severity::info, owner_group::platform, "size", "1 GB", {}, "window", ""},
    };
    for (int i = 0; i < 30; ++i) r.findings[0].objects.push_back("client " + std::to_string(i));
    return r;
}

}  // namespace

TEST_CASE("text groups findings by owner, blockers first, and cuts long lists") {
    auto r = sample();
    CHECK(r.count(severity::blocker) == 1);
    CHECK(r.has_blockers());
    auto t = render_audit_text(r);
    auto sec = t.find("== security"), plat = t.find("== platform"), app = t.find("== application");
    REQUIRE(sec != std::string::npos);
    CHECK(sec < plat);
    CHECK(plat < app);
    CHECK(t.find("BLOCKER  [roles] roles missing") < t.find("WARNING  [privileges] grants to PUBLIC"));
    CHECK(t.find("why: writes fail") != std::string::npos);
    CHECK(t.find("do:  create them") != std::string::npos);
    CHECK(t.find("- client 23\n") != std::string::npos);
    CHECK(t.find("- client 24\n") == std::string::npos);
    CHECK(t.find("... and 6 more (see --format json)") != std::string::npos);
    CHECK(t.find("1 blocker(s), 1 warning(s), 2 info: the move is blocked") != std::string::npos);
    CHECK(t.find("new database \"sales_a\"") != std::string::npos);
}

TEST_CASE("markdown escapes names and keeps every object") {
    auto m = render_audit_markdown(sample());
    CHECK(m.find("# pghaul audit: sales\n") == 0);
    CHECK(m.find("### BLOCKER · roles: roles missing") != std::string::npos);
    CHECK(m.find("- public.t\\|x (SELECT)") != std::string::npos);
    CHECK(m.find("- client 29") != std::string::npos);
    CHECK(m.find("**To do:** create them") != std::string::npos);
}

TEST_CASE("json carries every finding with its group and the counts") {
    auto j = audit_json(sample());
    CHECK(j["summary"]["blockers"] == 1);
    CHECK(j["summary"]["warnings"] == 1);
    CHECK(j["summary"]["info"] == 2);
    REQUIRE(j["findings"].size() == 4);
    CHECK(j["findings"][0]["severity"] == "blocker");
    CHECK(j["findings"][0]["group"] == "security");
    CHECK(j["findings"][3]["objects"].size() == 31);
    CHECK(j["target"]["database"] == "sales_a");
    audit_report none;
    CHECK(audit_json(none)["target"].is_null());
    CHECK(render_audit_text(none).find("nothing blocks the move") != std::string::npos);
}
