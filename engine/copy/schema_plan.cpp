// pg_dump's schema, sorted into the copy's steps: what runs before the data,
// per table once it has landed, at the end, and on the database itself.
#include "engine/copy/schema_plan.hpp"

#include <algorithm>
#include <optional>
#include <regex>
#include <set>

#include <spdlog/spdlog.h>

#include "engine/catalog/pg_dump.hpp"
#include "protocol/error.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {
namespace {

bool is_database_entry(const dump_entry& e) {
    return e.type == "DATABASE PROPERTIES" ||
           ((e.type == "COMMENT" || e.type == "ACL" || e.type == "SECURITY LABEL") &&
            e.name.starts_with("DATABASE "));
}

// A non-superuser can give an object to a role only if that role may create in
// the object's schema, so schema grants must precede the other objects
// (pg_dump places them last; a superuser never notices).
void hoist_schema_grants(std::vector<dump_entry>& entries) {
    std::vector<dump_entry> grants, rest;
    for (auto& e : entries)
        (e.type == "ACL" && e.name.starts_with("SCHEMA ") ? grants : rest).push_back(std::move(e));
    auto last_schema = std::find_if(rest.rbegin(), rest.rend(), [](auto& e) { return e.type == "SCHEMA"; });
    auto at = rest.begin() + (rest.rend() - last_schema);
    rest.insert(at, std::make_move_iterator(grants.begin()), std::make_move_iterator(grants.end()));
    entries = std::move(rest);
}

}  // namespace

void drop_grants_to(schema_plan& plan, const std::set<std::string>& roles) {
    if (roles.empty()) return;
    std::set<std::string> spelled;  // as pg_dump may write each: plain where it can, or quoted
    for (auto& r : roles) {
        spelled.insert(sql::readable(r));
        spelled.insert(sql::ident(r));
    }
    // pg_dump writes one grantee per statement, one statement per line:
    // "GRANT ... TO app;", "... TO app WITH GRANT OPTION;", "REVOKE ... FROM app;".
    auto to_skipped = [&](std::string_view line) {
        constexpr auto none = std::string_view::npos;
        const auto to = line.rfind(" TO "), from = line.rfind(" FROM ");
        const auto at = to == none ? from : from == none ? to : std::max(to, from);
        if (at == none) return false;
        auto grantee = line.substr(at + (at == to ? 4 : 6));
        for (std::string_view tail : {" WITH GRANT OPTION;", " CASCADE;", ";"})
            if (grantee.ends_with(tail)) {
                grantee.remove_suffix(tail.size());
                break;
            }
        if (auto by = grantee.find(" GRANTED BY "); by != std::string_view::npos)
            grantee = grantee.substr(0, by);
        return spelled.count(std::string(grantee)) > 0;
    };
    auto filter = [&](dump_entry& e) {
        if (e.type != "ACL" && e.type != "DEFAULT ACL") return;
        std::string kept;
        std::size_t pos = 0;
        while (pos < e.sql.size()) {
            auto end = e.sql.find('\n', pos);
            if (end == std::string::npos) end = e.sql.size();
            std::string_view line(e.sql.data() + pos, end - pos);
            auto trimmed = line.substr(0, line.find_last_not_of(" \r") + 1);
            if (!to_skipped(trimmed)) kept.append(line).append("\n");
            pos = end + 1;
        }
        e.sql = std::move(kept);
    };
    for (auto* part : {&plan.pre_data, &plan.database, &plan.post_data, &plan.acl})
        for (auto& e : *part) filter(e);
}

pg::connection open_ddl_connection(const conninfo& target, const std::string& preamble,
                                   std::string_view role) {
    auto conn = pg::connection::open(target, role, exit_code::target);
    // One round trip. Index builds sort in memory up to maintenance_work_mem
    // per connection before spilling.
    conn.exec(preamble + ";\nSET maintenance_work_mem = '256MB'", "applying pg_dump's session settings");
    return conn;
}

std::string entry_object(const dump_entry& e) {
    static const std::set<std::string> on_table = {"CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT", "TRIGGER",
                                                   "POLICY", "RULE"};
    auto named = [&](const std::string& name) {
        return e.schema == "-" ? sql::readable(name) : sql::readable_qualified(e.schema, name);
    };
    if (auto space = e.name.find(' '); space != std::string::npos && on_table.count(e.type))
        return sql::readable(e.name.substr(space + 1)) + " on " + named(e.name.substr(0, space));
    return named(e.name);
}

std::string entry_display(const dump_entry& e) {
    return e.type + " " + entry_object(e);
}

void run_entry(pg::connection& conn, const dump_entry& e) {
    const auto name = entry_display(e);
    spdlog::trace("{}: {}", name, e.sql);
    conn.exec(e.sql, "creating " + name);
}

void run_entries(pg::connection& conn, const std::vector<const dump_entry*>& entries, std::string_view what) {
    if (entries.empty()) return;
    std::string sql = "BEGIN;\n";
    for (auto* e : entries) {
        spdlog::trace("{} {}.{}: {}", e->type, e->schema, e->name, e->sql);
        sql += e->sql;
        sql += "\n";
    }
    sql += "COMMIT;";
    try {
        conn.exec(sql, what);
        return;
    } catch (const error& e) {
        if (sqlstate::connection_lost(e)) throw;
        conn.rollback();
    }
    conn.exec("BEGIN", what);
    try {
        for (auto* e : entries) run_entry(conn, *e);
        conn.exec("COMMIT", what);
    } catch (...) {
        conn.rollback();
        throw;
    }
}

void run_entries_in_transaction(pg::connection& conn, const std::vector<const dump_entry*>& entries,
                                std::string_view what) {
    if (entries.empty()) return;
    std::string sql = "SAVEPOINT pghaul_batch;\n";
    for (auto* e : entries) {
        spdlog::trace("{} {}.{}: {}", e->type, e->schema, e->name, e->sql);
        sql += e->sql;
        sql += "\n";
    }
    sql += "RELEASE SAVEPOINT pghaul_batch;";
    try {
        conn.exec(sql, what);
        return;
    } catch (const error& e) {
        if (sqlstate::connection_lost(e)) throw;
    }
    conn.exec("ROLLBACK TO SAVEPOINT pghaul_batch", what);
    for (auto* e : entries) run_entry(conn, *e);
}

std::string rename_database_in(std::string sql, const std::string& from, const std::string& to) {
    // pg_dump writes the name bare when it is a plain identifier, quoted otherwise.
    std::vector<std::string> forms = {sql::ident(from)};
    static const std::regex plain("[a-z_][a-z0-9_$]*");
    if (std::regex_match(from, plain)) forms.push_back(from);
    for (auto& f : forms)
        for (const char* after : {" ", ";", "\n"}) {
            std::string needle = "DATABASE " + f + after;
            std::string replacement = "DATABASE " + sql::ident(to) + after;
            for (auto at = sql.find(needle); at != std::string::npos;
                 at = sql.find(needle, at + replacement.size()))
                sql.replace(at, needle.size(), replacement);
        }
    return sql;
}

schema_plan build_schema_plan(const std::string& pre_data_sql, const std::string& post_data_sql,
                              const source_catalog& cat, const std::string& target_db) {
    schema_plan plan;
    auto pre_script = parse_dump_script(pre_data_sql);
    plan.preamble = pre_script.preamble;
    for (auto& e : pre_script.entries) {
        if (e.type == "DATABASE") continue;  // pghaul creates the database under its new name
        if (e.type == "SCHEMA" && e.name == "public" && cat.public_owned_by_bootstrap) {
            // initdb's owner of a pre-15 public (see catalog.hpp): the target's
            // own public keeps its owner.
            static const std::regex owner_stmt(R"(ALTER SCHEMA public OWNER TO [^;]+;\s*)");
            e.sql = std::regex_replace(e.sql, owner_stmt, "");
        }
        if (is_database_entry(e)) {
            e.sql = rename_database_in(e.sql, cat.database.name, target_db);
            plan.database.push_back(std::move(e));
        } else if (e.type == "ACL" && (e.name.starts_with("TABLE ") || e.name.starts_with("SEQUENCE ") ||
                                       e.name.starts_with("LARGE OBJECT "))) {
            // Grants on what pghaul writes go after the data: an owner may have
            // revoked its own rights (REVOKE ... FROM owner), which would refuse
            // the load. Schema grants stay in order: ALTER ... OWNER needs them.
            plan.acl.push_back(std::move(e));
        } else {
            plan.pre_data.push_back(std::move(e));
        }
    }

    hoist_schema_grants(plan.pre_data);
    // Once every schema and its grants exist, before the objects that go to
    // owners without CREATE there (see source_catalog::owners_without_create);
    // taken back with the grants after the data.
    auto after_schemas = std::find_if(plan.pre_data.rbegin(), plan.pre_data.rend(), [](auto& e) {
        return e.type == "SCHEMA" || (e.type == "ACL" && e.name.starts_with("SCHEMA "));
    });
    std::set<std::string> made;  // not those left out (-N, -n)
    for (auto& e : plan.pre_data)
        if (e.type == "SCHEMA") made.insert(e.name);
    std::vector<dump_entry> temporary;
    for (auto& [schema, role] : cat.owners_without_create) {
        if (!made.contains(schema)) continue;
        temporary.push_back(
            {"SCHEMA " + schema, "ACL", "-", "",
             "GRANT CREATE ON SCHEMA " + sql::ident(schema) + " TO " + sql::ident(role) + ";\n"});
        plan.acl.push_back(
            {"SCHEMA " + schema, "ACL", "-", "",
             "REVOKE CREATE ON SCHEMA " + sql::ident(schema) + " FROM " + sql::ident(role) + ";\n"});
    }
    plan.pre_data.insert(plan.pre_data.begin() + (plan.pre_data.rend() - after_schemas), temporary.begin(),
                         temporary.end());

    std::map<std::uint32_t, bool> is_data_table;
    for (auto& t : cat.tables) is_data_table[t.oid] = true;
    // After every table exists, and first thing once every table is loaded.
    for (auto& c : cat.deferred_checks) {
        if (!is_data_table.count(c.table)) continue;
        plan.pre_data.push_back({c.name, "CHECK CONSTRAINT", c.schema, "", c.drop});
        plan.post_data.push_back({c.name, "CHECK CONSTRAINT", c.schema, "", c.add});
    }
    for (auto& e : parse_dump_script(post_data_sql).entries) {
        if (e.type == "INDEX") {
            auto it = cat.index_owner.find({e.schema, e.name});
            if (it != cat.index_owner.end() && is_data_table.count(it->second)) {
                plan.per_table[it->second].indexes.push_back(std::move(e));
                continue;
            }
        } else if (e.type == "FK CONSTRAINT") {
            auto it = cat.foreign_keys.find({e.schema, e.name});
            auto end = e.sql.find_last_not_of(" \n;");
            if (it != cat.foreign_keys.end() && is_data_table.count(it->second.table) &&
                is_data_table.count(it->second.referenced) && end != std::string::npos) {
                dump_entry validate{e.name, e.type, e.schema, e.owner, it->second.validate};
                e.sql = e.sql.substr(0, end + 1) + " NOT VALID;\n";
                plan.foreign_keys.push_back(
                    {std::move(e), std::move(validate), it->second.table, it->second.referenced});
                continue;
            }
        } else if (e.type == "CONSTRAINT") {
            auto it = cat.constraint_owner.find({e.schema, e.name});
            if (it != cat.constraint_owner.end() && is_data_table.count(it->second.table)) {
                auto& post = plan.per_table[it->second.table];
                if (it->second.index_def.empty()) {
                    post.after.push_back(std::move(e));
                } else {
                    // ADD CONSTRAINT ... PRIMARY KEY takes an exclusive lock and so
                    // serialises a table's index builds; a plain unique index built
                    // alongside the others, then attached, does not.
                    post.indexes.push_back({e.name, "INDEX", e.schema, e.owner, it->second.index_def});
                    post.after.push_back({e.name, e.type, e.schema, e.owner, it->second.add_using_index});
                }
                continue;
            }
        }
        plan.post_data.push_back(std::move(e));
    }
    return plan;
}

}  // namespace pghaul::engine
