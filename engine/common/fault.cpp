#include "engine/common/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace pghaul::engine {

void fault_point(std::string_view point) noexcept {
    static const std::string wanted = [] {
        const char* v = std::getenv("PGHAUL_FAULT");
        std::string s = v ? v : "";
        return s.starts_with("kill:") ? s.substr(5) : std::string();
    }();
    if (!wanted.empty() && point == wanted) ::kill(::getpid(), SIGKILL);
}

}  // namespace pghaul::engine
