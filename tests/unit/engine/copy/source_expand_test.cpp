// Multi-database sources: which databases a pattern picks, and the names
// their copies get, with no server.
#include <doctest/doctest.h>

#include "engine/copy/source_expand.hpp"

using namespace pghaul::engine;

TEST_CASE("glob patterns: * any run, ? one character, the rest literal") {
    CHECK(glob_match("*", "anything"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("app_*", "app_orders"));
    CHECK_FALSE(glob_match("app_*", "crm_orders"));
    CHECK(glob_match("*_db_?", "source_db_a"));
    CHECK_FALSE(glob_match("*_db_?", "source_db_ab"));
    CHECK(glob_match("a*b*c", "aXXbYYbZc"));
    CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
    CHECK(glob_match("exact", "exact"));
    CHECK_FALSE(glob_match("exact", "exactly"));
}

TEST_CASE("databases: patterns minus exclusions; postgres only when named") {
    const std::vector<std::string> all = {"app_a", "app_b", "app_b_old", "crm", "postgres"};
    CHECK(select_databases(all, {"*"}, {}) == std::vector<std::string>{"app_a", "app_b", "app_b_old", "crm"});
    CHECK(select_databases(all, {"app_*"}, {"*_old"}) == std::vector<std::string>{"app_a", "app_b"});
    CHECK(select_databases(all, {"crm", "postgres"}, {}) == std::vector<std::string>{"crm", "postgres"});
    CHECK(select_databases(all, {"*"}, {"*"}).empty());
    CHECK(select_databases(all, {"nope_*"}, {}).empty());
}

TEST_CASE("target names: {source} and {database} filled in; source names stay plain") {
    CHECK(expand_target_name("{source}_{database}", "dev", "orders") == "dev_orders");
    CHECK(expand_target_name("{database}", "dev", "orders") == "orders");
    CHECK(expand_target_name("app_db_{database}_copy", "dev", "a") == "app_db_a_copy");
    CHECK(expand_target_name("{unknown}_{database}", "dev", "a") == "{unknown}_a");
    CHECK(expanded_source_name("dev", "orders") == "dev.orders");
    CHECK(expanded_source_name("dev", "Order Data/2") == "dev.Order_Data_2");
}
