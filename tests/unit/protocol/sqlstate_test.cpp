// The one table from SQLSTATE to what the run does.
#include <doctest/doctest.h>

#include "protocol/sqlstate.hpp"

using namespace pghaul;

namespace {
error with(std::string code, exit_code side = exit_code::target, disposition d = disposition::by_sqlstate) {
    return error(side, "x", "", std::move(code), d);
}
}  // namespace

TEST_CASE("sqlstate: families") {
    using sqlstate::family;
    CHECK(sqlstate::classify("") == family::none);
    for (auto c : {"08000", "08001", "08006", "08P01", "08007"}) CHECK(sqlstate::classify(c) == family::connection);
    for (auto c : {"57P01", "57P02", "57P03"}) CHECK(sqlstate::classify(c) == family::shutdown);
    CHECK(sqlstate::classify("57014") == family::other);  // query_canceled: a cancel is not a shutdown
    for (auto c : {"40001", "40P01"}) CHECK(sqlstate::classify(c) == family::conflict);
    CHECK(sqlstate::classify("53300") == family::too_many_connections);
    for (auto c : {"53100", "53200", "53400"}) CHECK(sqlstate::classify(c) == family::resources);
    for (auto c : {"42P07", "42710", "42P16", "55000"}) CHECK(sqlstate::classify(c) == family::already_exists);
    CHECK(sqlstate::classify("42501") == family::privilege);
    CHECK(sqlstate::classify("23505") == family::other);
}

TEST_CASE("sqlstate: retried now, resumed later, or neither") {
    for (auto c : {"08006", "57P01", "40P01", "40001", "53300"}) {
        CAPTURE(c);
        CHECK(sqlstate::retry_now(with(c)));
    }
    for (auto c : {"", "53100", "23505", "42501", "42P07", "57014"}) {
        CAPTURE(c);
        CHECK_FALSE(sqlstate::retry_now(with(c)));
    }
    // A unit that may have committed, or whose snapshot is gone, is never retried in the run...
    CHECK_FALSE(sqlstate::retry_now(with("08006", exit_code::target, disposition::resume_later)));
    // ...but a --resume gets past it.
    CHECK(sqlstate::resumable(with("08006", exit_code::target, disposition::resume_later)));
    CHECK(sqlstate::resumable(with("", exit_code::source, disposition::resume_later)));
    for (auto c : {"08001", "57P03", "53100", "53300"}) {
        CAPTURE(c);
        CHECK(sqlstate::resumable(with(c)));
    }
    CHECK(sqlstate::resumable(with("", exit_code::local)));                       // a full disk, a bad spool
    CHECK(sqlstate::resumable(with("", static_cast<exit_code>(130))));             // SIGINT
    CHECK_FALSE(sqlstate::resumable(with("23505")));                               // would fail the same way
    CHECK_FALSE(sqlstate::resumable(with("40P01")));  // retried in the run; if it still fails, it is not transient
    CHECK_FALSE(sqlstate::resumable(with("", exit_code::verify)));
}

TEST_CASE("sqlstate: the questions the steps ask") {
    CHECK(sqlstate::already_exists(with("42P07")));
    CHECK_FALSE(sqlstate::already_exists(with("42P01")));
    CHECK(sqlstate::insufficient_privilege(with("42501")));
    CHECK(sqlstate::connection_lost(with("")));
    CHECK(sqlstate::connection_lost(with("08003")));
    CHECK_FALSE(sqlstate::connection_lost(with("42601")));
}
