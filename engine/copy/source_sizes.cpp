// Sources' sizes for the split into shards: read live, or from a size file.
#include "engine/copy/source_sizes.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <optional>

#include "engine/common/credentials.hpp"
#include "io/pg/connection.hpp"
#include "protocol/size.hpp"
#include "protocol/sql_quote.hpp"

namespace pghaul::engine {
namespace {

// Sources that differ only in their database are on one server with one
// login: one connection reads all their sizes. Those that name no database
// (libpq's default) share a connection only with each other.
std::string server_key(const endpoint_config& ep) {
    conninfo ci = ep.ci;
    const bool named = ci.dbname() && !ci.dbname()->empty();
    ci.erase("dbname");
    std::string key = ci.to_string() + (named ? "" : "\n(default database)");
    for (auto& arg : ep.password_command) key += "\n" + arg;
    key += "\n" + ep.password_file + "\n" + ep.password_env;
    return key + fmt::format("\n{}", fmt::ptr(ep.route.get()));
}

// The sizes of one server's sources, on a connection into the first of their
// databases that lets this login in: one dropped or closed to it fails only
// its own source. A server that cannot be reached is tried once.
void read_server_sizes(const std::vector<const source_config*>& group, std::chrono::seconds timeout,
                       source_sizes& out, std::map<std::string, std::string>& problems) {
    for (std::size_t first = 0; first < group.size(); ++first) {
        const auto& s = *group[first];
        std::optional<pg::connection> conn;
        try {
            conn.emplace(
                pg::connection::open(resolve_credentials(s.endpoint, "source \"" + s.name + "\"", timeout),
                                     "pghaul/admin", exit_code::source));
        } catch (const error& e) {
            const bool server_down = e.sqlstate().starts_with("08");
            for (auto i = first; i < (server_down ? group.size() : first + 1); ++i)
                problems[group[i]->name] = e.what();
            if (server_down) return;
            continue;
        }
        // Several sources may name one database.
        std::map<std::string, std::vector<const source_config*>> by_database;
        for (auto i = first; i < group.size(); ++i) {
            auto db = group[i]->endpoint.ci.dbname().value_or("");
            by_database[db.empty() ? PQdb(conn->raw()) : db].push_back(group[i]);
        }
        std::vector<std::string> names;
        for (auto& [db, _] : by_database) names.push_back(db);
        // pg_database_size needs CONNECT on the database (or pg_read_all_stats):
        // one closed to this login must not fail the others' query.
        auto r = conn->exec_params(
            "SELECT datname, pg_database_size(datname) FROM pg_database WHERE datname = ANY($1) AND "
            "(has_database_privilege(datname, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE'))",
            {sql::text_array(names)}, "reading the sizes of the databases to split the run into shards");
        for (int row = 0; row < r.rows(); ++row)
            for (auto* src : by_database[r.str(row, 0)]) out[src->name] = r.i64(row, 1);
        for (auto& [db, sources] : by_database)
            for (auto* src : sources)
                if (!out.count(src->name))
                    problems[src->name] =
                        "no database \"" + db + "\" this login may connect to on " + conn->endpoint();
        return;
    }
}

}  // namespace

source_sizes read_live_sizes(const run_config& cfg, bool lenient) {
    std::map<std::string, std::vector<const source_config*>> servers;
    for (auto& s : cfg.sources) servers[server_key(s.endpoint)].push_back(&s);
    source_sizes out;
    std::map<std::string, std::string> problems;
    for (auto& [_, group] : servers) {
        try {
            read_server_sizes(group, cfg.password_command_timeout, out, problems);
        } catch (const error& e) {
            for (auto* s : group)
                if (!out.count(s->name)) problems[s->name] = e.what();
        }
    }
    if (problems.empty()) return out;
    std::vector<std::string> lines;
    for (auto& [name, why] : problems) lines.push_back("[" + name + "] " + why);
    if (!lenient)
        throw error(
            exit_code::preflight,
            "cannot read the size of " + counted(static_cast<std::int64_t>(problems.size()), "source") +
                " to split the run into shards: " + fmt::format("{}", fmt::join(lines, "; ")),
            "write the sizes once with pghaul run MANIFEST --shards N --dry-run --sizes FILE (a source "
            "it cannot read counts 0 bytes there) and start every shard with --sizes FILE, or leave "
            "the source out with --exclude");
    for (auto& line : lines) spdlog::warn("{}: its size counts 0 bytes in the split", line);
    for (auto& [name, _] : problems) out[name] = 0;
    return out;
}

void write_sizes_file(const std::string& path, const source_sizes& sizes) {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::ofstream f(path);
    f << nlohmann::json{{"sources", sizes}, {"written", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now)}}.dump(2)
      << "\n";
    if (!f)
        throw error(exit_code::local, "cannot write the sizes file \"" + path + "\"",
                    "check the path and its permissions");
    spdlog::info("sizes of {} written to {}: start every shard with --sizes {}",
                 counted(static_cast<std::int64_t>(sizes.size()), "source"), path, path);
}

source_sizes read_sizes_file(const std::string& path, const std::vector<source_config>& sources) {
    const std::string rewrite = "pghaul run MANIFEST --shards N --dry-run --sizes " + path;
    std::ifstream in(path);
    if (!in)
        throw error(exit_code::usage, "cannot read the sizes file \"" + path + "\"",
                    "write it with " + rewrite);
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("sources") || !doc["sources"].is_object())
        throw error(exit_code::usage,
                    "\"" + path + "\" is not a sizes file (JSON with a \"sources\" object of sizes in bytes)",
                    "write it with " + rewrite);
    const auto& all = doc["sources"];
    const std::string written = doc.value("written", "at an unknown time");
    source_sizes out;
    std::vector<std::string> missing, unknown;
    for (auto& s : sources) {
        auto it = all.find(s.name);
        if (it == all.end())
            missing.push_back(s.name);
        else if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
            throw error(exit_code::usage,
                        "the sizes file \"" + path + "\": \"" + s.name + "\" is not a size in bytes",
                        "write it again with " + rewrite);
        else
            out[s.name] = it->get<std::int64_t>();
    }
    if (!missing.empty())
        throw error(exit_code::usage,
                    "the sizes file \"" + path + "\" (written " + written + ") has no size for " +
                        counted(static_cast<std::int64_t>(missing.size()), "source") + ": " +
                        fmt::format("{}", fmt::join(missing, ", ")),
                    "the manifest or its servers' databases changed since: write it again with " + rewrite +
                        " and start every shard with the new file");
    for (auto& [name, _] : all.items())
        if (!out.count(name)) unknown.push_back(name);
    if (!unknown.empty())
        spdlog::warn("the sizes file {} names {} this run does not have, ignored: {}", path,
                     counted(static_cast<std::int64_t>(unknown.size()), "source"),
                     fmt::format("{}", fmt::join(unknown, ", ")));
    spdlog::info("sizes of {} from {} (written {})", counted(static_cast<std::int64_t>(out.size()), "source"),
                 path, written);
    return out;
}

}  // namespace pghaul::engine
