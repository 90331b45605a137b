// The process-wide stop: signal number, semaphore, stop source.
#include "engine/common/interrupt.hpp"
#include "engine/common/fault.hpp"

#include <semaphore.h>

#include <condition_variable>
#include <mutex>

namespace pghaul::engine {
namespace {

// POSIX lists sem_post among the async-signal-safe functions; neither
// std::counting_semaphore nor std::stop_source::request_stop is promised to be.
struct wake_up {
    sem_t sem;
    std::atomic<bool> closing{false};
    wake_up() { sem_init(&sem, 0, 0); }
    ~wake_up() { sem_destroy(&sem); }
};

wake_up& waker() {
    static wake_up w;
    return w;
}

std::stop_source& run_stop() {
    static std::stop_source s;
    return s;
}

}  // namespace

std::atomic<int>& interrupt_signal() noexcept {
    static std::atomic<int> signal{0};
    static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");
    return signal;
}

void note_interrupt(int sig) noexcept {
    int none = 0;
    interrupt_signal().compare_exchange_strong(none, sig);
    sem_post(&waker().sem);
}

std::stop_token run_stop_token() noexcept {
    return run_stop().get_token();
}

interrupt_watch::interrupt_watch() {
    waker();  // constructed here, not first in a signal handler
    thread_ = std::thread([] {
        while (sem_wait(&waker().sem) != 0) {
        }  // EINTR: a signal arrived while waiting; its post is still to come
        if (waker().closing.load()) return;
        fault_point("stopping");  // a test's second signal lands before anything stops
        run_stop().request_stop();
    });
}

interrupt_watch::~interrupt_watch() {
    waker().closing = true;
    sem_post(&waker().sem);
    thread_.join();
}

std::string interrupted_by() {
    const int sig = interrupt_signal();
    return std::string("interrupted by ") + (sig == 2 ? "SIGINT" : sig == 15 ? "SIGTERM" : "a signal");
}

bool pause_until(std::chrono::steady_clock::time_point until, std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lk(m);
    cv.wait_until(lk, stop, until, [] { return false; });
    return !stop.stop_requested();
}

}  // namespace pghaul::engine
