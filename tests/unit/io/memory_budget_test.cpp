// The shared byte budget: accounting, blocking, waiting on two budgets, cancel.
#include "io/memory_budget.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "protocol/error.hpp"

using pghaul::memory_budget;

TEST_CASE("budget accounting: try_acquire, release, peak") {
    memory_budget b(100);
    CHECK(b.try_acquire(60));
    CHECK_FALSE(b.try_acquire(41));
    CHECK(b.try_acquire(40));
    CHECK(b.used() == 100);
    CHECK_FALSE(b.try_acquire(1));
    b.release(100);
    CHECK(b.used() == 0);
    CHECK(b.peak() == 100);
    CHECK(b.try_acquire(0));
}

TEST_CASE("a request above the limit fails at once instead of waiting forever") {
    memory_budget b(10);
    std::stop_source never;
    try {
        (void)b.acquire(11, never.get_token());
        FAIL("expected an error");
    } catch (const pghaul::error& e) {
        CHECK(e.code() == pghaul::exit_code::local);
    }
}

TEST_CASE("acquire blocks until another thread releases") {
    memory_budget b(10);
    REQUIRE(b.try_acquire(10));
    std::atomic<bool> got{false};
    std::jthread t([&] {
        CHECK(b.acquire(4, {}));
        got = true;
    });
    b.wait_for_waiters(1);  // the thread is inside acquire, not just started
    CHECK_FALSE(got.load());
    b.release(3);  // not enough: it must keep waiting
    CHECK_FALSE(got.load());
    CHECK(b.used() == 7);
    b.release(1);
    t.join();
    CHECK(got.load());
    CHECK(b.used() == 10);
    CHECK(b.waiters() == 0);
}

TEST_CASE("a stop request ends a wait with false") {
    memory_budget b(10);
    REQUIRE(b.try_acquire(10));
    std::stop_source stop;
    std::atomic<int> result{-1};
    std::jthread t([&] { result = b.acquire(5, stop.get_token()) ? 1 : 0; });
    b.wait_for_waiters(1);
    stop.request_stop();
    t.join();
    CHECK(result.load() == 0);
    CHECK(b.used() == 10);
    CHECK(b.waiters() == 0);
}

TEST_CASE("acquire_any takes whichever budget frees first") {
    memory_budget mem(10), spool(10);
    REQUIRE(mem.try_acquire(10));
    REQUIRE(spool.try_acquire(10));
    std::array<pghaul::budget_request, 2> req{pghaul::budget_request{&mem, 5}, {&spool, 3}};

    std::optional<std::size_t> which;
    std::jthread t([&] { which = pghaul::acquire_any(req, {}); });
    spool.wait_for_waiters(1);
    CHECK(mem.waiters() == 1);
    spool.release(3);
    t.join();
    REQUIRE(which.has_value());
    CHECK(*which == 1);
    CHECK(spool.used() == 10);
    CHECK(mem.used() == 10);
    CHECK(mem.waiters() == 0);
    CHECK(spool.waiters() == 0);

    // The first listed wins when both can give.
    mem.release(10);
    spool.release(10);
    CHECK(pghaul::acquire_any(req, {}) == std::optional<std::size_t>(0));
}

TEST_CASE("acquire_any skips requests larger than their budget") {
    memory_budget mem(4), spool(100);
    std::array<pghaul::budget_request, 2> req{pghaul::budget_request{&mem, 5}, {&spool, 50}};
    CHECK(pghaul::acquire_any(req, {}) == std::optional<std::size_t>(1));
    std::array<pghaul::budget_request, 2> impossible{pghaul::budget_request{&mem, 5}, {&spool, 500}};
    CHECK_THROWS_AS(pghaul::acquire_any(impossible, {}), pghaul::error);
}

TEST_CASE("many threads contend; the budget never goes over and ends at zero") {
    memory_budget b(64);
    std::atomic<bool> over{false};
    std::vector<std::jthread> ts;
    for (int k = 0; k < 4; ++k) {
        ts.emplace_back([&, k] {
            for (int i = 0; i < 2000; ++i) {
                std::size_t n = 1 + (i * 7 + k) % 32;
                CHECK(b.acquire(n, {}));
                if (b.used() > b.limit()) over = true;
                b.release(n);
            }
        });
    }
    ts.clear();
    CHECK_FALSE(over.load());
    CHECK(b.used() == 0);
    CHECK(b.peak() <= 64);
}
