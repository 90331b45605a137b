#include "protocol/name_pattern.hpp"

#include "protocol/error.hpp"

namespace pghaul {
namespace {

bool regex_special(char c) {
    return std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos;
}

}  // namespace

name_pattern name_pattern::parse(std::string_view text, kind k, std::string_view what) {
    auto bad = [&](const std::string& why) {
        return error(
            exit_code::usage,
            "invalid " + std::string(what) + " pattern \"" + std::string(text) + "\": " + why,
            "write NAME or SCHEMA.NAME, with * and ? as wildcards and \"Quoted\" for names as written");
    };
    std::vector<std::string> parts(1);
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
                parts.back() += '"';  // "" inside quotes: one quote
                ++i;
            } else {
                quoted = !quoted;
            }
        } else if (quoted) {
            if (regex_special(c)) parts.back() += '\\';
            parts.back() += c;
        } else if (c == '.') {
            parts.emplace_back();
        } else if (c == '*') {
            parts.back() += ".*";
        } else if (c == '?') {
            parts.back() += '.';
        } else if (c == '$') {
            parts.back() += "\\$";
        } else {
            parts.back() += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
    }
    if (quoted) throw bad("a double quote is not closed");
    const std::size_t most = k == kind::schema ? 1 : 2;
    if (parts.size() > most)
        throw bad(k == kind::schema ? "a schema pattern has no dots (quote a name that has one)"
                                    : "at most SCHEMA.NAME (quote a name that has a dot)");
    for (auto& p : parts)
        if (p.empty()) throw bad("an empty name");
    name_pattern out;
    out.text_ = std::string(text);
    out.kind_ = k;
    try {
        if (parts.size() == 2) out.schema_.emplace(parts[0], std::regex::ECMAScript);
        out.name_ = std::regex(parts.back(), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw bad(std::string("not a valid regular expression (") + e.what() + ")");
    }
    return out;
}

bool name_pattern::matches(std::string_view schema, std::string_view name) const {
    const std::string s(schema), n(name);
    if (kind_ == kind::schema) return std::regex_match(s, name_);
    if (schema_ && !std::regex_match(s, *schema_)) return false;
    return std::regex_match(n, name_);
}

bool any_matches(const std::vector<name_pattern>& patterns, std::string_view schema, std::string_view name) {
    for (auto& p : patterns)
        if (p.matches(schema, name)) return true;
    return false;
}

std::vector<std::string> relation_filter::pg_dump_args() const {
    std::vector<std::string> out;
    for (auto& p : tables) out.push_back("--exclude-table=" + p.text());
    for (auto& p : schemas) out.push_back("--exclude-schema=" + p.text());
    return out;
}

std::string relation_filter::describe() const {
    std::string out;
    auto add = [&](const char* flag, const std::vector<name_pattern>& ps) {
        for (auto& p : ps) out += (out.empty() ? "" : ", ") + std::string(flag) + " " + p.text();
    };
    // Long names: pghaul's -t is --target.
    add("--table", only_tables);
    add("--schema", only_schemas);
    add("--exclude-table", tables);
    add("--exclude-schema", schemas);
    return out;
}

std::string exact_pattern(std::string_view schema, std::string_view name) {
    auto quoted = [](std::string_view part) {
        std::string q = "\"";
        for (char c : part) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    };
    return name.empty() ? quoted(schema) : quoted(schema) + "." + quoted(name);
}

}  // namespace pghaul
