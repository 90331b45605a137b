// Run events for progress displays and other tools: newline-delimited JSON
// objects with stable field names (documented in the README). The engine only
// emits them; the CLI decides how to show them.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

namespace pghaul::engine {

// Called from worker threads: implementations must be thread-safe and quick.
using event_sink = std::function<void(const nlohmann::json&)>;

}  // namespace pghaul::engine
