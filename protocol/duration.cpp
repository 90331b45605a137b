// Duration parsing for --watch and similar options.
#include "protocol/duration.hpp"

#include <cctype>
#include <string>

#include "protocol/error.hpp"

namespace pghaul {

std::chrono::seconds parse_duration(std::string_view text, std::chrono::seconds max) {
    auto bad = [&](const std::string& why) {
        return error(exit_code::usage, "invalid duration \"" + std::string(text) + "\": " + why,
                     "write it as seconds (90) or with units: 30s, 5m, 2h, 1h30m, 1d");
    };
    if (text.empty()) throw bad("it is empty");
    long long total = 0;
    std::size_t i = 0;
    bool bare = false;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) throw bad("expected a number");
        long long n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            n = n * 10 + (text[i++] - '0');
            if (n > max.count()) throw bad("longer than " + std::to_string(max.count()) + " s");
        }
        long long unit = 1;
        if (i == text.size()) {
            if (total > 0 && !bare) throw bad("a number after units needs a unit");
            bare = true;
        } else {
            switch (std::tolower(static_cast<unsigned char>(text[i++]))) {
                case 's':
                    unit = 1;
                    break;
                case 'm':
                    unit = 60;
                    break;
                case 'h':
                    unit = 3600;
                    break;
                case 'd':
                    unit = 86400;
                    break;
                default:
                    throw bad("unknown unit");
            }
        }
        total += n * unit;
        if (total > max.count()) throw bad("longer than " + std::to_string(max.count()) + " s");
    }
    return std::chrono::seconds(total);
}

}  // namespace pghaul
