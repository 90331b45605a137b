// Size parsing for command-line options and manifest keys, and printing.
#include "protocol/size.hpp"

#include <cctype>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "protocol/error.hpp"

namespace pghaul {

std::int64_t parse_size(std::string_view text) {
    std::string s(text);
    std::size_t pos = 0;
    double number = 0;
    try {
        number = std::stod(s, &pos);
    } catch (const std::exception&) {
        pos = 0;
    }
    std::string unit;
    for (char c : s.substr(pos))
        if (!std::isspace(static_cast<unsigned char>(c))) unit += static_cast<char>(std::tolower(c));
    double factor = 0;
    if (unit.empty() || unit == "b")
        factor = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        factor = 1024.0;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        factor = 1024.0 * 1024;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        factor = 1024.0 * 1024 * 1024;
    else if (unit == "t" || unit == "tb" || unit == "tib")
        factor = 1024.0 * 1024 * 1024 * 1024;
    if (pos == 0 || factor == 0 || number < 0 || !std::isfinite(number))
        throw error(exit_code::usage, "invalid size \"" + s + "\"",
                    "write a number with an optional unit: 512MB, 2GB, 1.5GiB");
    return static_cast<std::int64_t>(std::llround(number * factor));
}

std::string format_size(std::int64_t bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string counted(std::int64_t n, std::string_view noun) {
    return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

}  // namespace pghaul
