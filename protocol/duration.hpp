// Durations as users write them: 90, 30s, 5m, 2h, 1h30m, 1d.
#pragma once

#include <chrono>
#include <string_view>

namespace pghaul {

// A bare number is seconds; units s, m (minutes), h, d may be combined
// ("1h30m"). Throws pghaul::error (usage) naming the text on anything else,
// and on more than `max`.
std::chrono::seconds parse_duration(std::string_view text,
                                    std::chrono::seconds max = std::chrono::hours(24 * 7));

}  // namespace pghaul
