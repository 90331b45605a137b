#include "engine/copy/progress_tally.hpp"

#include <doctest/doctest.h>

using pghaul::engine::progress_tally;

TEST_CASE("progress counts finished tables by their size, whatever their stream was") {
    // Two tables of 10 MB on disk; the first streamed 14 MB (TOAST expands).
    progress_tally t{.planned = 20, .finished = 10, .finished_read = 14, .read = 14};
    CHECK(t.done() == 10);
    t.read = 19;  // 5 of the second table's stream so far
    CHECK(t.done() == 15);
}

TEST_CASE("a stream larger than what is left never reaches 100% before the end") {
    progress_tally t{.planned = 20, .finished = 10, .finished_read = 6, .read = 40};
    CHECK(t.done() == 19);
    t.finished = 20;
    t.finished_read = 40;
    CHECK(t.done() == 20);
}

TEST_CASE("tables kept from an earlier attempt count as done with nothing read") {
    progress_tally t{.planned = 30, .finished = 10, .finished_read = 0, .read = 0};
    CHECK(t.done() == 10);
    t.read = 5;
    CHECK(t.done() == 15);
}

TEST_CASE("nothing planned (no tables, a skipped source) is not a division by zero nor negative") {
    CHECK(progress_tally{}.done() == 0);
    CHECK(progress_tally{.planned = 0, .finished = 0, .finished_read = 0, .read = 7}.done() == 0);
}
