// How a run stops on SIGINT/SIGTERM: one stop source for the process. The
// signal handler only records the signal and posts a semaphore (both
// async-signal-safe); a watcher thread turns that into the stop request, which
// wakes every wait that took the token: the worker pool's watcher (it fails
// each source as interrupted, cancelling running statements), the pause before
// a retry, each unit's data stream (memory and spool waits), the clients
// watch. docs/ARCHITECTURE.md "Threads" has the drawing.
#pragma once

#include <atomic>
#include <chrono>
#include <stop_token>
#include <string>
#include <thread>

namespace pghaul::engine {

// 0 while nobody asked to stop; else the signal number.
std::atomic<int>& interrupt_signal() noexcept;

// From a signal handler: records `sig` (the first one stays) and wakes the
// watcher. Async-signal-safe.
void note_interrupt(int sig) noexcept;

// The run's stop token: requested once a noted signal reached the watcher.
std::stop_token run_stop_token() noexcept;

// The watcher thread, for as long as it lives (one, in the CLI's main).
class interrupt_watch {
public:
    interrupt_watch();
    ~interrupt_watch();
    interrupt_watch(const interrupt_watch&) = delete;
    interrupt_watch& operator=(const interrupt_watch&) = delete;

private:
    std::thread thread_;
};

// "interrupted by SIGINT" (SIGTERM, a signal): what a stopped run says.
std::string interrupted_by();

// Waits until `until` or a stop request, whichever comes first: false if stopped.
bool pause_until(std::chrono::steady_clock::time_point until, std::stop_token stop);

}  // namespace pghaul::engine
