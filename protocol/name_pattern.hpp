// Object name patterns as pg_dump and psql read them (-N, -T,
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

// What a copy leaves out whole, as pg_dump's --exclude-table (-T: tables,
// and also views, sequences and foreign tables of that name) and
// --exclude-schema (-N: everything in the schema).
struct relation_filter {
    std::vector<name_pattern> tables;
    std::vector<name_pattern> schemas;
    bool empty() const { return tables.empty() && schemas.empty(); }
    bool excludes_schema(std::string_view schema) const { return any_matches(schemas, schema); }
    bool excludes(std::string_view schema, std::string_view name) const {
        return excludes_schema(schema) || any_matches(tables, schema, name);
    }
    // pg_dump's arguments for the same exclusions.
    std::vector<std::string> pg_dump_args() const;
    // "-T audit_*, -N scratch" for messages and reports.
    std::string describe() const;
};

}  // namespace pghaul
