#include "engine/copy/outcome.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace pghaul;
using namespace pghaul::engine;

TEST_CASE("a source's outcome keeps its first failure and lists the later ones up to a bound") {
    source_outcome o;
    o.add_failure(error(exit_code::target, "first"));
    for (int i = 0; i < 30; ++i) o.add_failure(error(exit_code::source, "later"));
    const auto f = o.copy();
    REQUIRE(f.failure);
    CHECK(std::string(f.failure->what()) == "first");
    CHECK(f.more_failures.size() == 20);
    CHECK(f.status == source_status::pending);  // a failure noted is not a failed source: the run says that
}

TEST_CASE("status and verification have the report's words") {
    CHECK(status_name(source_status::pending) == "pending");
    CHECK(status_name(source_status::skipped) == "skipped");
    CHECK(status_name(source_status::failed) == "failed");
    CHECK(status_name(source_status::done) == "done");
    CHECK(verification_name(verification::rows_match) == "rows match");
    CHECK(verification_name(verification::counts_match) == "counts match");
    CHECK(verification_name(verification::checksums_match) == "checksums match");
    CHECK(verification_name(verification::mismatch) == "MISMATCH");
}

TEST_CASE("writers on several threads and a reader see whole updates") {
    // Each update adds a table and its bytes together: a reading that sees
    // one without the other would be half a write (TSan runs this too).
    source_outcome o;
    std::vector<std::jthread> writers;
    for (std::uint32_t w = 0; w < 4; ++w)
        writers.emplace_back([&o, w] {
            for (std::uint32_t i = 0; i < 500; ++i)
                o.update([&](outcome_fields& f) {
                    f.results[w * 1000 + i].bytes = 1;
                    ++f.indexes_built;
                });
        });
    for (int k = 0; k < 200; ++k)
        o.read([](const outcome_fields& f) { CHECK(f.results.size() == f.indexes_built); });
    writers.clear();
    CHECK(o.copy().results.size() == 2000);
}
