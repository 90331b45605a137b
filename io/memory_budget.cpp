// Waiting on several budgets at once: a waiter registers itself with each
// budget it waits on, and every release() wakes the registered waiters, which
// then retry their requests. One condition variable per waiter (not per
// budget) is what lets one thread wait for "memory or spool", whichever frees first.
#include "io/memory_budget.hpp"

#include <algorithm>
#include <condition_variable>
#include <string>

#include "protocol/error.hpp"

namespace pghaul {

namespace detail {
struct budget_waiter {
    std::mutex m;
    std::condition_variable_any cv;
    bool woken = false;
};
}  // namespace detail

std::size_t memory_budget::used() const {
    std::lock_guard lk(m_);
    return used_;
}

std::size_t memory_budget::peak() const {
    std::lock_guard lk(m_);
    return peak_;
}

std::size_t memory_budget::waiters() const {
    std::lock_guard lk(m_);
    return waiters_.size();
}

void memory_budget::wait_for_waiters(std::size_t n) const {
    std::unique_lock lk(m_);
    waiters_changed_.wait(lk, [&] { return waiters_.size() >= n; });
}

bool memory_budget::try_acquire(std::size_t n) {
    std::lock_guard lk(m_);
    if (n > limit_ - used_) return false;  // used_ <= limit_ always holds
    used_ += n;
    peak_ = std::max(peak_, used_);
    return true;
}

bool memory_budget::acquire(std::size_t n, std::stop_token stop) {
    budget_request r{this, n};
    return acquire_any(std::span(&r, 1), std::move(stop)).has_value();
}

void memory_budget::release(std::size_t n) noexcept {
    std::lock_guard lk(m_);
    used_ -= std::min(n, used_);
    // Notified under m_: a waiter unregisters under m_ too, so none is touched
    // after it has gone.
    for (auto* w : waiters_) {
        std::lock_guard wl(w->m);
        w->woken = true;
        w->cv.notify_one();
    }
}

void memory_budget::add_waiter(detail::budget_waiter* w) {
    {
        std::lock_guard lk(m_);
        waiters_.push_back(w);
    }
    waiters_changed_.notify_all();
}

void memory_budget::remove_waiter(detail::budget_waiter* w) noexcept {
    std::lock_guard lk(m_);
    std::erase(waiters_, w);
}

namespace detail {

// Registers one waiter with every budget it waits on, for the scope of a wait.
class waiter_registration {
public:
    waiter_registration(detail::budget_waiter& w, std::span<const budget_request> requests)
        : w_(w), requests_(requests) {
        for (std::size_t i = 0; i < requests_.size(); ++i) {
            if (!seen_before(i)) requests_[i].budget->add_waiter(&w_);
        }
    }
    waiter_registration(const waiter_registration&) = delete;
    waiter_registration& operator=(const waiter_registration&) = delete;
    ~waiter_registration() {
        for (std::size_t i = 0; i < requests_.size(); ++i) {
            if (!seen_before(i)) requests_[i].budget->remove_waiter(&w_);
        }
    }

private:
    bool seen_before(std::size_t i) const {
        for (std::size_t j = 0; j < i; ++j) {
            if (requests_[j].budget == requests_[i].budget) return true;
        }
        return false;
    }

    detail::budget_waiter& w_;
    std::span<const budget_request> requests_;
};

}  // namespace detail

namespace {

std::optional<std::size_t> try_each(std::span<const budget_request> requests) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
        if (requests[i].budget->try_acquire(requests[i].bytes)) return i;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::size_t> acquire_any(std::span<const budget_request> requests, std::stop_token stop) {
    if (auto got = try_each(requests)) return got;
    bool possible = std::any_of(requests.begin(), requests.end(),
                                [](const budget_request& r) { return r.bytes <= r.budget->limit(); });
    if (!possible) {
        std::string sizes;
        for (const auto& r : requests) {
            sizes += (sizes.empty() ? "" : ", ") + std::to_string(r.bytes) + " of " +
                     std::to_string(r.budget->limit());
        }
        throw error(exit_code::local, "cannot wait for " + sizes + " bytes: more than the limit",
                    "raise --memory-limit or --spool-limit above one chunk");
    }

    detail::budget_waiter w;
    detail::waiter_registration reg(w, requests);
    for (;;) {
        // Reset before retrying: a release() after this point sets it again,
        // so no wake-up falls between the retry and the wait.
        {
            std::lock_guard wl(w.m);
            w.woken = false;
        }
        if (auto got = try_each(requests)) return got;
        std::unique_lock wl(w.m);
        if (!w.cv.wait(wl, stop, [&] { return w.woken; })) return std::nullopt;
    }
}

acquire_status acquire_until(memory_budget& budget, std::size_t n,
                             std::chrono::steady_clock::time_point deadline, std::stop_token stop) {
    budget_request r{&budget, n};
    std::span<const budget_request> requests(&r, 1);
    if (try_each(requests)) return acquire_status::acquired;
    if (n > budget.limit())
        throw error(exit_code::local,
                    "cannot wait for " + std::to_string(n) + " of " + std::to_string(budget.limit()) +
                        " bytes: more than the limit",
                    "raise --memory-limit above one chunk");
    detail::budget_waiter w;
    detail::waiter_registration reg(w, requests);
    for (;;) {
        {
            std::lock_guard wl(w.m);
            w.woken = false;
        }
        if (try_each(requests)) return acquire_status::acquired;
        std::unique_lock wl(w.m);
        if (stop.stop_requested()) return acquire_status::stopped;
        if (!w.cv.wait_until(wl, stop, deadline, [&] { return w.woken; }))
            return stop.stop_requested() ? acquire_status::stopped : acquire_status::timed_out;
    }
}

}  // namespace pghaul
