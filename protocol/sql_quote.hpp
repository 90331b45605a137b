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

// A standard-conforming string literal ('it''s'); an E'' literal when the value
// holds a backslash, so it reads the same whatever standard_conforming_strings says.
std::string literal(std::string_view value);

// A text[] input literal ({"a","b\"c"}) for passing name lists as one parameter.
std::string text_array(const std::vector<std::string>& values);

}  // namespace pghaul::sql
