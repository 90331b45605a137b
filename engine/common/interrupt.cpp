// The process-wide interrupt flag.
#include "engine/common/interrupt.hpp"

namespace pghaul::engine {

std::atomic<int>& interrupt_signal() noexcept {
    static std::atomic<int> signal{0};
    static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");
    return signal;
}

}  // namespace pghaul::engine
