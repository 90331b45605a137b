// Cooperative interruption of a run by SIGINT/SIGTERM: the CLI's signal
// handler only stores the signal number (async-signal-safe); the scheduler
// notices it, cancels running statements and stops.
#pragma once

#include <atomic>

namespace pghaul::engine {

// 0 while nobody asked to stop; else the signal number.
std::atomic<int>& interrupt_signal() noexcept;

}  // namespace pghaul::engine
