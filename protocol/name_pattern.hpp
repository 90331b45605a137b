// Object name patterns as pg_dump and psql read them (-n, -N, -t, -T,
// --exclude-table-data): `*` any run of characters, `?` one, `.` between
// schema and name, double quotes for a name as written (case, dots and stars
// kept), unquoted letters folded to lower case, and the other regular
// expression characters ([0-9], a|b) as in a regular expression. A pattern
// must match the whole name.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace pghaul {

class name_pattern {
public:
    enum class kind { schema, relation };
    // Throws pghaul::error (usage) naming `what` ("--exclude-table") and the pattern.
    static name_pattern parse(std::string_view text, kind k, std::string_view what);

    // A schema pattern matches the schema; a relation pattern without a
    // schema part matches the name in every schema.
    bool matches(std::string_view schema, std::string_view name = {}) const;
    const std::string& text() const { return text_; }

private:
    std::string text_;
    kind kind_ = kind::relation;
    std::optional<std::regex> schema_;
    std::regex name_;
};

// True when any of `patterns` matches.
bool any_matches(const std::vector<name_pattern>& patterns, std::string_view schema,
                 std::string_view name = {});

// What a copy takes and leaves out whole. -T/--exclude-table leaves out
// tables, and also views, sequences and foreign tables, of those names;
// -N/--exclude-schema everything in those schemas (pg_dump's options of the
// same names). -t/--table and -n/--schema choose instead: a relation comes
// when it matches a -t pattern (if any) and its schema a -n pattern (if
// any), and no -T or -N pattern. Unlike pg_dump's -t and -n, which leave out
// every schema, type and function the tables need, choosing leaves out only
// the other relations (-t) and schemas (-n).
struct relation_filter {
    std::vector<name_pattern> tables;        // -T
    std::vector<name_pattern> schemas;       // -N
    std::vector<name_pattern> only_tables;   // -t
    std::vector<name_pattern> only_schemas;  // -n
    bool empty() const { return tables.empty() && schemas.empty() && !chooses(); }
    bool chooses() const { return !only_tables.empty() || !only_schemas.empty(); }
    bool excludes_schema(std::string_view schema) const {
        return any_matches(schemas, schema) || (!only_schemas.empty() && !any_matches(only_schemas, schema));
    }
    bool excludes(std::string_view schema, std::string_view name) const {
        return excludes_schema(schema) || any_matches(tables, schema, name) ||
               (!only_tables.empty() && !any_matches(only_tables, schema, name));
    }
    // Named by -T or -N itself (not just left unchosen by -t or -n).
    bool names(std::string_view schema, std::string_view name) const {
        return any_matches(schemas, schema) || any_matches(tables, schema, name);
    }
    // pg_dump's arguments for -T and -N. Choosing (-t, -n) has no pg_dump
    // equivalent: the caller lists what is left out (exact_pattern).
    std::vector<std::string> pg_dump_args() const;
    // "-T audit_*, -N scratch" for messages and reports.
    std::string describe() const;
};

// A pattern that matches exactly this name (or schema.name), whatever its
// characters: each part quoted, quotes doubled.
std::string exact_pattern(std::string_view schema, std::string_view name = {});

}  // namespace pghaul
