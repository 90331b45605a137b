#include "protocol/suggest.hpp"

#include <doctest/doctest.h>

using pghaul::closest;
using pghaul::edit_distance;

TEST_CASE("edit distance counts a swapped pair as one edit") {
    CHECK(edit_distance("jobs", "jbos") == 1);
    CHECK(edit_distance("job", "jobs") == 1);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("closest: within two edits, the nearest; nothing for another word") {
    const std::vector<std::string> flags = {"jobs", "source", "target", "verify"};
    CHECK(closest("job", flags) == "jobs");
    CHECK(closest("sourc", flags) == "source");
    CHECK(closest("verfy", flags) == "verify");
    CHECK(closest("memory", flags).empty());
    CHECK(closest("x", {"y"}).empty());  // a one-letter word is never "one edit away"
}
