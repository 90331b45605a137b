#include "engine/common/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace pghaul::engine {
namespace {

struct fault {
    std::string action, point;  // "kill" or "pause", and where
};

const fault& wanted() {
    static const fault f = [] {
        const char* v = std::getenv("PGHAUL_FAULT");
        std::string s = v ? v : "";
        const auto colon = s.find(':');
        if (colon == std::string::npos) return fault{};
        return fault{s.substr(0, colon), s.substr(colon + 1)};
    }();
    return f;
}

}  // namespace

void fault_point(std::string_view point) noexcept {
    const auto& f = wanted();
    if (f.point.empty() || point != f.point) return;
    if (f.action == "kill") ::kill(::getpid(), SIGKILL);
    static std::atomic<bool> paused{false};
    if (f.action == "pause" && !paused.exchange(true)) std::this_thread::sleep_for(std::chrono::seconds(3));
}

bool lost_ack(std::string_view point) noexcept {
    const auto& f = wanted();
    if (f.action != "lose-ack" || point != f.point) return false;
    static std::atomic<bool> lost{false};
    return !lost.exchange(true);
}

}  // namespace pghaul::engine
