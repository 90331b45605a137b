// The one judgement of the versions and of the source's extensions against
// the target's offer, which the copy's preflight and pghaul audit both report.
#include <doctest/doctest.h>

#include "engine/catalog/target_facts.hpp"

using namespace pghaul::engine;

TEST_CASE("extensions: missing, at another version, superuser-only unless the login is a superuser") {
    const std::map<std::string, extension_offer> offers = {
        {"citext", {"1.6", false}},
        {"hstore", {"1.8", false}},
        {"postgres_fdw", {"1.1", true}},
    };
    const std::vector<std::pair<std::string, std::string>> used = {
        {"citext", "1.6"}, {"hstore", "1.7"}, {"postgres_fdw", "1.1"}, {"pltcl", "1.0"}};
    auto v = judge_extensions(used, offers, false);
    CHECK(v.missing == std::vector<std::string>{"pltcl 1.0"});
    REQUIRE(v.other_version.size() == 1);
    CHECK(v.other_version[0].name == "hstore");
    CHECK(v.other_version[0].source == "1.7");
    CHECK(v.other_version[0].target == "1.8");
    CHECK(v.superuser_only == std::vector<std::string>{"postgres_fdw"});
    // A superuser login may create anything the target offers.
    auto super = judge_extensions(used, offers, true);
    CHECK(super.superuser_only.empty());
    CHECK(super.missing == v.missing);
    // Nothing used: nothing to say.
    auto none = judge_extensions({}, offers, false);
    CHECK(none.missing.empty());
    CHECK(none.other_version.empty());
    CHECK(none.superuser_only.empty());
}

namespace {

using rule = version_problem::rule;

std::vector<rule> broken(const std::vector<version_problem>& problems) {
    std::vector<rule> out;
    for (auto& p : problems) out.push_back(p.broken);
    return out;
}

}  // namespace

TEST_CASE("judge_versions: a supported source, pg_dump and target at least as new: nothing to say") {
    CHECK(judge_versions(150004, 150004, 15).empty());
    CHECK(judge_versions(120000, 180001, 18).empty());  // newer target and pg_dump
    CHECK(judge_versions(150004, 0, 15).empty());       // no target given
    CHECK(judge_versions(150004, 150004, 0).empty());   // pg_dump's version unknown
}

TEST_CASE("judge_versions: a source older than 12 is refused, with what to do instead") {
    auto p = judge_versions(110022, 150004, 15);
    REQUIRE(broken(p) == std::vector{rule::source_unsupported});
    CHECK(p[0].message == "the source server is PostgreSQL 11, older than the oldest pghaul supports (12)");
    CHECK(p[0].why.find("tested on 12-18") != std::string::npos);
    CHECK(p[0].hint.find("pg_restore") != std::string::npos);
    CHECK(judge_versions(120000, 150004, 15).empty());  // 12 is the oldest supported
}

TEST_CASE("judge_versions: pg_dump older than the source names the client to install") {
    auto p = judge_versions(160002, 160002, 15);
    REQUIRE(broken(p) == std::vector{rule::pg_dump_older});
    CHECK(p[0].message == "pg_dump 15 is older than the source server (16)");
    CHECK_FALSE(p[0].why.empty());
    CHECK(p[0].hint.find("install postgresql-client-16") != std::string::npos);
}

TEST_CASE("judge_versions: a target older than the source is refused") {
    auto p = judge_versions(150004, 140011, 15);
    REQUIRE(broken(p) == std::vector{rule::target_older});
    CHECK(p[0].message == "the target server (14) is older than the source (15)");
    CHECK_FALSE(p[0].why.empty());
    CHECK(p[0].hint == "copy into a server of the same or a newer major version");
}

TEST_CASE("judge_versions: every problem at once, in the order the copy meets them") {
    // The copy stops at the first; the audit lists them all.
    auto p = judge_versions(110000, 100000, 10);
    CHECK(broken(p) == std::vector{rule::source_unsupported, rule::pg_dump_older, rule::target_older});
    for (auto& one : p) {
        CHECK_FALSE(one.message.empty());
        CHECK_FALSE(one.why.empty());
        CHECK_FALSE(one.hint.empty());
    }
}

TEST_CASE("owner_hint: a superuser owner is mapped to the login, never granted; an ordinary role may be") {
    target_login login;
    login.name = "admin";
    login.superusers = {"postgres"};
    const auto only_postgres = owner_hint({"postgres"}, login);
    CHECK(only_postgres.find("--role-map postgres=admin") != std::string::npos);
    CHECK(only_postgres.find("--no-owner") != std::string::npos);
    CHECK(only_postgres.find("GRANT") == std::string::npos);  // a managed server never grants it
    const auto both = owner_hint({"app", "postgres"}, login);
    CHECK(both.find("--role-map postgres=admin") != std::string::npos);  // the usual case is the example
    CHECK(both.find("GRANT app TO admin") != std::string::npos);
    CHECK(both.find("GRANT postgres") == std::string::npos);
}
