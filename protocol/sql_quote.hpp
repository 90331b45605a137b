// Quoting of SQL identifiers and literals: every name pghaul puts into SQL goes
// through these, never string pasting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pghaul::sql {

// Always double-quotes, so reserved words, mixed case and unicode survive.
std::string ident(std::string_view name);

// schema.name, each part quoted.
std::string qualified(std::string_view schema, std::string_view name);

// For people (log lines, reports, journal keys): a name quoted only where
// PostgreSQL needs it, as quote_ident does (upper case, spaces, punctuation,
// a leading digit, a reserved word), so `orders` stays orders and `My "T"`
// becomes "My ""T""". A name holding control characters (a newline would
// split a log line) is written in U&"…" form with \000A-style escapes. One
// spelling per name, so the result also serves as a key.
std::string readable(std::string_view name);

// schema.name, each part readable().
std::string readable_qualified(std::string_view schema, std::string_view name);

// A standard-conforming string literal ('it''s'); an E'' literal when the value
// holds a backslash, so it reads the same whatever standard_conforming_strings says.
std::string literal(std::string_view value);

// A text[] input literal ({"a","b\"c"}) for passing name lists as one parameter.
std::string text_array(const std::vector<std::string>& values);

}  // namespace pghaul::sql
