// The password file's lines (see the header).
#include "protocol/pgpass.hpp"

#include <vector>

namespace pghaul {
namespace {

// A line's fields, unescaped; the last (the password) takes the rest.
std::vector<std::string> fields(std::string_view line) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '\\' && i + 1 < line.size()) {
            out.back() += line[++i];
        } else if (c == ':' && out.size() < 5) {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

}  // namespace

std::string pgpass_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == ':' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::optional<std::string> pgpass_lookup(std::string_view text, std::string_view host, std::string_view port,
                                         std::string_view database, std::string_view user) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        auto f = fields(line);
        if (f.size() != 5) continue;
        auto match = [](const std::string& pattern, std::string_view value) {
            return pattern == "*" || pattern == value;
        };
        if (match(f[0], host) && match(f[1], port) && match(f[2], database) && match(f[3], user)) return f[4];
    }
    return std::nullopt;
}

}  // namespace pghaul
