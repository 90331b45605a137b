// The run's one stop: a signal reaches the stop token through the watcher,
// and a pause ends at once when stopped.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stop_token>
#include <thread>

#include "engine/common/interrupt.hpp"

using namespace pghaul;
using clock_type = std::chrono::steady_clock;

namespace {

extern "C" void note(int sig) {
    engine::note_interrupt(sig);
}

}  // namespace

TEST_CASE("pause_until sleeps its time unless stopped, and then ends at once") {
    std::stop_source stop;
    auto start = clock_type::now();
    CHECK(engine::pause_until(start + std::chrono::milliseconds(50), stop.get_token()));
    CHECK(clock_type::now() - start >= std::chrono::milliseconds(50));
    std::jthread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop.request_stop();
    });
    start = clock_type::now();
    CHECK_FALSE(engine::pause_until(start + std::chrono::seconds(30), stop.get_token()));
    CHECK(clock_type::now() - start < std::chrono::seconds(5));
    CHECK_FALSE(engine::pause_until(clock_type::now() + std::chrono::seconds(30), stop.get_token()));
}

// In a child process: the stop is process-wide and stays requested.
TEST_CASE("SIGINT through the handler and the watcher requests the run's stop, which wakes a waiter") {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct sigaction sa {};
        sa.sa_handler = note;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        int code = 1;
        {
            engine::interrupt_watch watch;
            const auto stop = engine::run_stop_token();
            if (!stop.stop_requested()) {
                raise(SIGINT);
                // A waiter that took the token wakes without polling.
                const bool slept = engine::pause_until(clock_type::now() + std::chrono::seconds(10), stop);
                if (!slept && stop.stop_requested() && engine::interrupt_signal() == SIGINT &&
                    engine::interrupted_by() == "interrupted by SIGINT")
                    code = 0;
            }
        }
        _exit(code);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
