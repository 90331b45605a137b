// Identifier and literal quoting, following PostgreSQL's lexical rules.
#include "protocol/sql_quote.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace pghaul::sql {
namespace {

// PostgreSQL's reserved keywords (and a few others quote_ident quotes); a
// word missing here is only printed without quotes, never ambiguous.
// clang-format off
constexpr std::string_view reserved_words[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "both", "case", "cast", "check", "collate", "collation", "column",
    "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
    "current_schema", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze", "from", "full",
    "grant", "group", "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
    "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not",
    "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary",
    "references", "returning", "right", "select", "session_user", "similar", "some", "symmetric",
    "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user",
    "using", "variadic", "verbose", "when", "where", "window", "with"};
// clang-format on

bool is_reserved(std::string_view w) {
    return std::find(std::begin(reserved_words), std::end(reserved_words), w) != std::end(reserved_words);
}

}  // namespace

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

std::string readable(std::string_view name) {
    bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9') && !is_reserved(name);
    bool control = false;
    for (unsigned char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
        if (c < 0x20 || c == 0x7f) control = true;
    }
    if (plain) return std::string(name);
    if (!control) return ident(name);
    std::string out = "U&\"";
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\%04X", c);
            out += esc;
            continue;
        }
        if (c == '"' || c == '\\') out += static_cast<char>(c);
        out += static_cast<char>(c);
    }
    return out + '"';
}

std::string readable_qualified(std::string_view schema, std::string_view name) {
    return readable(schema) + "." + readable(name);
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
