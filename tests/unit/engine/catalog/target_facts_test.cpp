// The one judgement of the source's extensions against the target's offer,
// which the copy's preflight and pghaul audit both report.
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
