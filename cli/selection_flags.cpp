#include "cli/selection_flags.hpp"

namespace pghaul::cli {
namespace {

std::vector<name_pattern> parse_all(const std::vector<std::string>& texts, name_pattern::kind k,
                                    std::string_view flag) {
    std::vector<name_pattern> out;
    for (auto& t : texts) out.push_back(name_pattern::parse(t, k, flag));
    return out;
}

}  // namespace

void add_selection_flags(CLI::App& sub, selection_flags& f, selection_use use) {
    const bool copy = use == selection_use::copy;
    auto add = [&](const std::string& flag, std::vector<std::string>& into, const std::string& env,
                   const std::string& for_copy, const std::string& for_verify) {
        sub.add_option(flag, into, (copy ? for_copy : for_verify) + " (pg_dump's patterns; repeatable)")
            ->envname(env)
            ->group("Selection");
    };
    // -t is --target in pghaul, so pg_dump's -t is --table only.
    add("--table", f.table, "PGHAUL_TABLE",
        "copy only these tables (or views, sequences); the rest of the database's schema comes",
        "the tables the copy chose: compare only them");
    add("-n,--schema", f.schema, "PGHAUL_SCHEMA", "copy only these schemas and what is in them",
        "the schemas the copy chose: compare only them");
    add("-T,--exclude-table", f.exclude_table, "PGHAUL_EXCLUDE_TABLE",
        "leave these tables (or views, sequences) out entirely",
        "tables (or views, sequences) the copy left out: compared on neither side");
    add("-N,--exclude-schema", f.exclude_schema, "PGHAUL_EXCLUDE_SCHEMA",
        "leave these schemas and everything in them out",
        "schemas the copy left out: compared on neither side");
    add("--exclude-table-data", f.exclude_table_data, "PGHAUL_EXCLUDE_TABLE_DATA",
        "copy these tables' definitions but not their rows",
        "tables whose rows the copy left out: compare all of them but their rows");
}

relation_filter relation_filter_of(const selection_flags& f) {
    using k = name_pattern::kind;
    relation_filter out;
    out.only_tables = parse_all(f.table, k::relation, "--table");
    out.only_schemas = parse_all(f.schema, k::schema, "--schema");
    out.tables = parse_all(f.exclude_table, k::relation, "--exclude-table");
    out.schemas = parse_all(f.exclude_schema, k::schema, "--exclude-schema");
    return out;
}

std::vector<name_pattern> table_data_patterns(const selection_flags& f) {
    return parse_all(f.exclude_table_data, name_pattern::kind::relation, "--exclude-table-data");
}

}  // namespace pghaul::cli
