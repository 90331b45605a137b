// Expanding multi-database sources: the pure rules (patterns, names) and the
// one query that lists a server's databases.
#include "engine/copy/source_expand.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "engine/common/credentials.hpp"
#include "io/pg/connection.hpp"

namespace pghaul::engine {

bool glob_match(std::string_view pattern, std::string_view name) {
    // Iterative matching with one backtrack point for the last '*'.
    std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            ++p;
            ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

std::vector<std::string> select_databases(const std::vector<std::string>& all,
                                          const std::vector<std::string>& include,
                                          const std::vector<std::string>& exclude) {
    std::vector<std::string> out;
    for (auto& db : all) {
        const bool named = std::find(include.begin(), include.end(), db) != include.end();
        // The maintenance database holds nothing of an application's unless named.
        if (db == "postgres" && !named) continue;
        const bool in = named || std::any_of(include.begin(), include.end(),
                                             [&](const std::string& p) { return glob_match(p, db); });
        const bool out_ = std::any_of(exclude.begin(), exclude.end(),
                                      [&](const std::string& p) { return glob_match(p, db); });
        if (in && !out_) out.push_back(db);
    }
    return out;
}

std::string expand_target_name(const std::string& pattern, const std::string& source,
                               const std::string& database) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size();) {
        if (pattern.compare(i, 8, "{source}") == 0) {
            out += source;
            i += 8;
        } else if (pattern.compare(i, 10, "{database}") == 0) {
            out += database;
            i += 10;
        } else {
            out += pattern[i++];
        }
    }
    return out;
}

std::string expanded_source_name(const std::string& source, const std::string& database) {
    std::string out = source + ".";
    for (char c : database)
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
    return out;
}

namespace {

std::vector<std::string> list_databases(const source_config& s, std::chrono::seconds timeout) {
    auto ci = resolve_credentials(s.endpoint, "source \"" + s.name + "\"", timeout);
    if (!ci.dbname() || ci.dbname()->empty()) ci = ci.with_dbname("postgres");
    auto conn = pg::connection::open(ci, "pghaul/admin", exit_code::source);
    auto r =
        conn.exec("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname",
                  "listing the databases of source \"" + s.name + "\"");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

void expand_sources(run_config& cfg, std::vector<std::string>& matched) {
    if (std::none_of(cfg.sources.begin(), cfg.sources.end(),
                     [](const source_config& s) { return !s.databases.empty(); }))
        return;
    std::vector<source_config> out;
    for (auto& s : cfg.sources) {
        if (s.databases.empty()) {
            out.push_back(s);
            continue;
        }
        auto all = list_databases(s, cfg.password_command_timeout);
        for (auto& named : s.named_databases)
            if (std::find(all.begin(), all.end(), named) == all.end())
                throw error(exit_code::preflight,
                            "\"" + s.name + "." + named + "\" (--only or --exclude): source \"" + s.name +
                                "\" has no database \"" + named + "\" on " + s.endpoint.ci.endpoint() +
                                " (it has: " + join(all) + ")",
                            "name one of its databases as SOURCE.DATABASE");
        auto chosen = select_databases(all, s.databases, s.exclude_databases);
        if (chosen.empty())
            throw error(exit_code::preflight,
                        "source \"" + s.name + "\" (" + s.origin + "): databases [" + join(s.databases) +
                            "] match no database on " + s.endpoint.ci.endpoint() + " (it has: " + join(all) +
                            ")",
                        "check the patterns and exclude; `postgres` is only copied when named");
        matched.push_back(s.name + ": " + join(chosen) + " (of " + std::to_string(all.size()) +
                          " databases on " + s.endpoint.ci.endpoint() + ")");
        for (auto& db : chosen) {
            source_config one = s;
            one.databases.clear();
            one.exclude_databases.clear();
            one.named_databases.clear();
            one.name = expanded_source_name(s.name, db);
            one.endpoint.ci = s.endpoint.ci.with_dbname(db);
            one.target_db = expand_target_name(s.target_db, s.name, db);
            out.push_back(std::move(one));
        }
    }
    // The same checks the manifest makes of literal names, now that they exist.
    std::map<std::string, std::string> seen;
    for (auto& s : out) {
        const auto& db = s.target_db;
        if (db.empty() || db.size() > 63 || db == "template0" || db == "template1" ||
            db == cfg.maintenance_db)
            throw error(exit_code::preflight,
                        "source \"" + s.name + "\": target database name \"" + db +
                            "\" is empty, longer than 63 bytes or a system database",
                        "change target_db (" + s.origin + "); {source} and {database} are filled in");
        auto [it, fresh] = seen.try_emplace(db, s.name);
        if (!fresh)
            throw error(exit_code::preflight,
                        "sources \"" + it->second + "\" and \"" + s.name + "\" would both be copied into \"" +
                            db + "\"",
                        "make target_db unique per database, e.g. target_db = \"{source}_{database}\"");
    }
    cfg.sources = std::move(out);
}

}  // namespace pghaul::engine
