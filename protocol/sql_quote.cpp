// Identifier and literal quoting, following PostgreSQL's lexical rules.
#include "protocol/sql_quote.hpp"

namespace pghaul::sql {

std::string ident(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 2);
    out += '"';
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string qualified(std::string_view schema, std::string_view name) {
    return ident(schema) + "." + ident(name);
}

std::string literal(std::string_view value) {
    bool has_backslash = value.find('\\') != std::string_view::npos;
    std::string out;
    out.reserve(value.size() + 3);
    if (has_backslash) out += 'E';
    out += '\'';
    for (char c : value) {
        if (c == '\'') out += '\'';
        if (c == '\\') out += '\\';
        out += c;
    }
    out += '\'';
    return out;
}

std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : values[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace pghaul::sql
