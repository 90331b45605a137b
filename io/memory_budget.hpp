// A thread-safe byte budget shared by many streams: --memory-limit for chunks
// held in memory, and a second instance for --spool-limit (bytes on disk).
#pragma once

#include <chrono>

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

namespace pghaul {

namespace detail {
struct budget_waiter;
class waiter_registration;
}  // namespace detail

class memory_budget;

// One alternative for acquire_any: `bytes` from `budget`.
struct budget_request {
    memory_budget* budget;
    std::size_t bytes;
};

class memory_budget {
public:
    explicit memory_budget(std::size_t limit) : limit_(limit) {}
    memory_budget(const memory_budget&) = delete;
    memory_budget& operator=(const memory_budget&) = delete;
    ~memory_budget() = default;

    std::size_t limit() const noexcept { return limit_; }
    std::size_t used() const;
    std::size_t peak() const;
    // How many threads are blocked in acquire()/acquire_any() on this budget.
    std::size_t waiters() const;
    // Blocks until at least `n` threads wait on this budget: lets a test (or a
    // progress display) observe backpressure without sleeping.
    void wait_for_waiters(std::size_t n) const;

    // Takes `n` bytes if they are free now.
    bool try_acquire(std::size_t n);
    // Blocks until `n` bytes are free; false when `stop` was requested first.
    // Throws pghaul::error (local) when n > limit(): that wait would never end.
    [[nodiscard]] bool acquire(std::size_t n, std::stop_token stop);
    void release(std::size_t n) noexcept;

private:
    friend class detail::waiter_registration;
    void add_waiter(detail::budget_waiter* w);
    void remove_waiter(detail::budget_waiter* w) noexcept;

    const std::size_t limit_;
    mutable std::mutex m_;
    mutable std::condition_variable waiters_changed_;
    std::size_t used_ = 0;
    std::size_t peak_ = 0;
    std::vector<detail::budget_waiter*> waiters_;
};

// Blocks until one of `requests` can be granted and takes it (the earliest in
// the list wins when several can); returns its index, or nullopt when `stop`
// was requested first. Requests larger than their budget's limit are never
// granted; if every request is such, throws pghaul::error (local) instead of
// waiting forever. A producer uses this to wait for memory *or* spool space.
std::optional<std::size_t> acquire_any(std::span<const budget_request> requests, std::stop_token stop);

enum class acquire_status { acquired, timed_out, stopped };
// Waits for `n` bytes of `budget` until `deadline`.
acquire_status acquire_until(memory_budget& budget, std::size_t n,
                             std::chrono::steady_clock::time_point deadline, std::stop_token stop);

}  // namespace pghaul
