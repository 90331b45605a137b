// Reads the manifest of `pghaul run` into an engine::run_config. Every key is
// checked, and all problems are reported together so one edit fixes them all.
#include "cli/manifest.hpp"
#include "cli/run_settings.hpp"
#include "protocol/suggest.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "protocol/conninfo.hpp"
#include "protocol/duration.hpp"
#include "protocol/error.hpp"
#include "protocol/name_pattern.hpp"
#include "protocol/size.hpp"

namespace pghaul::cli {
namespace {

// PostgreSQL silently truncates longer names (NAMEDATALEN - 1), so two long
// target_db values could end up as one database.
constexpr std::size_t max_name_bytes = 63;

std::string type_name(toml::node_type t) {
    switch (t) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date or time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string in_quotes(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

// Source names end up in log prefixes and report keys: keep them plain.
bool valid_source_name(std::string_view name) {
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == '.';
    });
}

// A relative report path means "next to the manifest", not "wherever pghaul was started".
std::string beside_manifest(const std::string& manifest_path, const std::string& file) {
    std::filesystem::path p(file);
    if (p.is_absolute()) return file;
    return (std::filesystem::path(manifest_path).parent_path() / p).lexically_normal().string();
}

// Collects problems while the document is walked; the getters report a
// missing key or a wrong type themselves and return nothing in that case.
// No getter quotes a conninfo or password_command value: either may hold a secret.
class checker {
public:
    explicit checker(std::string path) : path_(std::move(path)) {}

    const std::string& path() const { return path_; }

    void add(const toml::source_region& at, std::string text) {
        problems_.push_back({at.begin.line, at.begin.column, std::move(text)});
    }

    void wrong_type(const toml::node& n, std::string_view full_key, std::string_view expected) {
        add(n.source(),
            in_quotes(full_key) + " must be " + std::string(expected) + ", not " + type_name(n.type()));
    }

    void check_keys(const toml::table& t, std::string_view prefix,
                    const std::vector<std::string_view>& known) {
        for (const auto& [key, value] : t) {
            if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
            std::string text = "unknown key " + in_quotes(join(prefix, key.str()));
            const auto best = closest(key.str(), std::vector<std::string>(known.begin(), known.end()));
            if (!best.empty()) text += " (did you mean " + in_quotes(best) + "?)";
            add(key.source(), std::move(text));
        }
    }

    // The node at key as T (std::string, bool, std::int64_t, toml::array, toml::table),
    // or null after reporting a missing required key or a wrong type.
    template <typename T>
    auto typed(const toml::table& t, std::string_view key, std::string_view prefix, bool required,
               std::string_view expected) -> decltype(t.get(key)->template as<T>()) {
        const toml::node* n = t.get(key);
        if (!n) {
            if (required) add(t.source(), "missing key " + in_quotes(join(prefix, key)));
            return nullptr;
        }
        auto* v = n->template as<T>();
        if (!v) wrong_type(*n, join(prefix, key), expected);
        return v;
    }

    // A non-empty string.
    std::optional<std::string> string(const toml::table& t, std::string_view key, std::string_view prefix,
                                      bool required) {
        auto* v = typed<std::string>(t, key, prefix, required, "a string");
        if (!v) return std::nullopt;
        if (v->get().empty()) {
            add(v->source(), in_quotes(join(prefix, key)) + " must not be empty");
            return std::nullopt;
        }
        return v->get();
    }

    std::optional<bool> boolean(const toml::table& t, std::string_view key, std::string_view prefix) {
        auto* v = typed<bool>(t, key, prefix, false, "true or false");
        return v ? std::optional(v->get()) : std::nullopt;
    }

    // A size as a string ("512MB") or a plain number of bytes.
    std::optional<std::int64_t> size(const toml::table& t, std::string_view key, std::string_view prefix) {
        auto* node = t.get(key);
        if (!node) return std::nullopt;
        if (auto* n = node->as_integer()) return n->get();
        auto* v = typed<std::string>(t, key, prefix, false, "a size such as \"512MB\"");
        if (!v) return std::nullopt;
        try {
            return parse_size(v->get());
        } catch (const error& e) {
            add(v->source(), in_quotes(join(prefix, key)) + ": " + e.what());
            return std::nullopt;
        }
    }

    // A duration as a string ("30s", "10m") or a plain number of seconds.
    std::optional<std::chrono::seconds> duration(const toml::table& t, std::string_view key,
                                                 std::string_view prefix, bool zero_allowed) {
        auto* node = t.get(key);
        if (!node) return std::nullopt;
        std::optional<std::chrono::seconds> d;
        if (auto* n = node->as_integer()) {
            if (n->get() >= 0) d = std::chrono::seconds(n->get());
        } else {
            auto* v = typed<std::string>(t, key, prefix, false, "a duration such as \"30s\" or \"10m\"");
            if (!v) return std::nullopt;
            try {
                d = parse_duration(v->get());
            } catch (const error& e) {
                add(v->source(), in_quotes(join(prefix, key)) + ": " + e.what());
                return std::nullopt;
            }
        }
        if (d && (d->count() > 0 || zero_allowed)) return d;
        add(node->source(), in_quotes(join(prefix, key)) + " must be " +
                                (zero_allowed ? "0 or more" : "more than 0") + " seconds");
        return std::nullopt;
    }

    // An integer setting within [lo, hi], as its flag's range check has it.
    std::optional<int> integer(const toml::table& t, std::string_view key, std::string_view prefix,
                               std::int64_t lo, std::int64_t hi) {
        auto* v = typed<std::int64_t>(t, key, prefix, false, "an integer");
        if (!v) return std::nullopt;
        if (v->get() < lo || v->get() > hi) {
            add(v->source(), in_quotes(join(prefix, key)) + " must be from " + std::to_string(lo) + " to " +
                                 std::to_string(hi) + ", not " + std::to_string(v->get()));
            return std::nullopt;
        }
        return static_cast<int>(v->get());
    }

    template <typename E>
    std::optional<E> choice(const toml::table& t, std::string_view key, std::string_view prefix,
                            const std::vector<std::pair<std::string_view, E>>& options) {
        auto s = string(t, key, prefix, false);
        if (!s) return std::nullopt;
        std::string names;
        for (const auto& [name, value] : options) {
            if (name == *s) return value;
            names += (names.empty() ? "" : ", ") + in_quotes(name);
        }
        add(t.get(key)->source(),
            in_quotes(join(prefix, key)) + " must be one of " + names + ", not " + in_quotes(*s));
        return std::nullopt;
    }

    std::optional<conninfo> conninfo_at(const toml::table& t, std::string_view prefix) {
        auto text = string(t, "conninfo", prefix, true);
        if (!text) return std::nullopt;
        try {
            return conninfo::parse(*text, join(prefix, "conninfo"));
        } catch (const error& e) {
            add(t.get("conninfo")->source(), e.what());  // conninfo::parse redacts its message
            return std::nullopt;
        }
    }

    // Where an endpoint's secret comes from: password_command, password_file
    // (beside the manifest when relative) or password_env; one at most.
    void secret_source(const toml::table& t, std::string_view prefix, engine::endpoint_config& ep) {
        ep.password_command = argv(t, prefix);
        if (auto file = string(t, "password_file", prefix, false)) ep.password_file = beside_manifest(path(), *file);
        if (auto name = string(t, "password_env", prefix, false)) {
            const bool valid = std::isalpha(static_cast<unsigned char>(name->front())) || name->front() == '_';
            if (!valid || name->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                              std::string::npos)
                add(t.get("password_env")->source(),
                    in_quotes(join(prefix, "password_env")) + " must name an environment variable (letters, digits, _)");
            else
                ep.password_env = *name;
        }
        const int given = !ep.password_command.empty() + !ep.password_file.empty() + !ep.password_env.empty();
        if (given > 1)
            add(t.source(), "give only one of " + in_quotes(join(prefix, "password_command")) + ", " +
                                in_quotes(join(prefix, "password_file")) + " and " +
                                in_quotes(join(prefix, "password_env")));
    }

    // An argv; its elements are never quoted back, since one may be a secret.
    std::vector<std::string> argv(const toml::table& t, std::string_view prefix) {
        std::string full = join(prefix, "password_command");
        auto* a = typed<toml::array>(t, "password_command", prefix, false,
                                     "an array of strings (argv, run without a shell)");
        if (!a) return {};
        if (a->empty()) {
            add(a->source(), in_quotes(full) + " must not be empty; leave it out instead");
            return {};
        }
        std::vector<std::string> out;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const toml::node& e = *a->get(i);
            std::string item = full + "[" + std::to_string(i) + "]";
            if (!e.is_string())
                wrong_type(e, item, "a string");
            else if (e.as_string()->get().empty())
                add(e.source(), in_quotes(item) + " must not be empty");
            else
                out.push_back(e.as_string()->get());
        }
        return out;
    }

    // Table patterns as pg_dump reads them (protocol/name_pattern.hpp).
    std::vector<name_pattern> table_patterns(const toml::table& t, std::string_view key,
                                             std::string_view prefix,
                                             name_pattern::kind k = name_pattern::kind::relation) {
        std::vector<name_pattern> out;
        for (auto& text :
             patterns(t, key, prefix,
                      k == name_pattern::kind::relation ? "an array of table names or patterns"
                                                        : "an array of schema names or patterns"))
            try {
                out.push_back(name_pattern::parse(text, k, join(prefix, key)));
            } catch (const error& e) {
                add(t.get(key)->source(), e.what());
            }
        return out;
    }

    // A non-empty array of non-empty strings (database names or shell patterns).
    std::vector<std::string> patterns(const toml::table& t, std::string_view key, std::string_view prefix,
                                      std::string_view expected = "an array of database names or patterns") {
        auto* a = typed<toml::array>(t, key, prefix, false, expected);
        if (!a) return {};
        std::string full = join(prefix, key);
        if (a->empty()) add(a->source(), in_quotes(full) + " must not be empty; leave it out instead");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const toml::node& e = *a->get(i);
            std::string item = full + "[" + std::to_string(i) + "]";
            if (!e.is_string())
                wrong_type(e, item, "a string");
            else if (e.as_string()->get().empty())
                add(e.source(), in_quotes(item) + " must not be empty");
            else
                out.push_back(e.as_string()->get());
        }
        return out;
    }

    std::map<std::string, std::string> role_map(const toml::table& t, std::string_view prefix) {
        std::string full = join(prefix, "role_map");
        auto* m =
            typed<toml::table>(t, "role_map", prefix, false, "a table of source_role = \"target_role\"");
        if (!m) return {};
        std::map<std::string, std::string> out;
        for (const auto& [key, value] : *m) {
            std::string item = join(full, key.str());
            if (key.str().empty())
                add(key.source(), in_quotes(full) + " has an empty source role name");
            else if (!value.is_string())
                wrong_type(value, item, "a string (the target role)");
            else if (value.as_string()->get().empty())
                add(value.source(), in_quotes(item) + " must not be empty");
            else
                out.emplace(key.str(), value.as_string()->get());
        }
        return out;
    }

    // One error listing every problem, in the order they appear in the file.
    void throw_if_any() const {
        if (problems_.empty()) return;
        auto sorted = problems_;
        std::stable_sort(sorted.begin(), sorted.end(), [](const problem& a, const problem& b) {
            return std::pair(a.line, a.column) < std::pair(b.line, b.column);
        });
        std::string msg = path_ + ": " + std::to_string(sorted.size()) +
                          (sorted.size() == 1 ? " problem" : " problems") + " in the manifest";
        for (const auto& p : sorted) {
            msg += "\n  " + path_;
            if (p.line > 0) msg += ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
            msg += ": " + p.text;
        }
        throw error(exit_code::usage, std::move(msg));
    }

private:
    struct problem {
        toml::source_index line, column;  // line 0: the file as a whole
        std::string text;
    };
    std::string path_;
    std::vector<problem> problems_;
};

// A [run] (or [target]) setting, checked as its row in cli/run_settings.cpp
// says and set through it: the manifest cannot drift from the flags.
void read_setting(checker& c, const toml::table& t, const run_setting& s, engine::run_config& cfg) {
    const std::string_view key = s.key, prefix = s.section;
    std::optional<setting_value> v;
    switch (s.kind) {
        case setting_kind::integer:
            if (auto i = c.integer(t, key, prefix, s.lo, s.hi)) v = std::int64_t{*i};
            break;
        case setting_kind::size:
            if (auto i = c.size(t, key, prefix)) v = *i;
            break;
        case setting_kind::duration:
            if (auto d = c.duration(t, key, prefix, s.zero_allowed)) v = *d;
            break;
        case setting_kind::choice: {
            std::vector<std::pair<std::string_view, std::string_view>> options;
            for (auto name : s.choices) options.emplace_back(name, name);
            if (auto name = c.choice<std::string_view>(t, key, prefix, options)) v = std::string(*name);
            break;
        }
        case setting_kind::text:
            if (auto text = c.string(t, key, prefix, false)) v = *text;
            break;
        case setting_kind::path:
            if (auto text = c.string(t, key, prefix, false)) v = beside_manifest(c.path(), *text);
            break;
        case setting_kind::flag:
            if (auto b = c.boolean(t, key, prefix)) v = *b;
            break;
    }
    if (v) s.apply(cfg, *v);
}

// The keys of [section] that are settings, for check_keys.
std::vector<std::string_view> setting_keys(std::string_view section) {
    std::vector<std::string_view> keys;
    for (const auto& s : run_settings())
        if (s.section == section) keys.push_back(s.key);
    return keys;
}

void read_target(checker& c, const toml::table& root, engine::run_config& cfg) {
    if (!root.contains("target"))
        return c.add({}, "missing table [target] (the server the databases are copied to)");
    auto* t = c.typed<toml::table>(root, "target", "", true, "a table");
    if (!t) return;
    auto keys = setting_keys("target");
    keys.insert(keys.end(), {"conninfo", "password_command", "password_file", "password_env"});
    c.check_keys(*t, "target", keys);
    if (auto ci = c.conninfo_at(*t, "target")) {
        // Kept as written: the engine swaps in each target_db itself.
        if (auto db = ci->dbname(); db && !db->empty()) cfg.maintenance_db = *db;
        cfg.target.ci = std::move(*ci);
    }
    c.secret_source(*t, "target", cfg.target);
    for (const auto& s : run_settings())
        if (s.section == "target") read_setting(c, *t, s, cfg);
}

void read_run(checker& c, const toml::table& root, engine::run_config& cfg) {
    auto* t = c.typed<toml::table>(root, "run", "", false, "a table");
    if (!t) return;
    c.check_keys(*t, "run", setting_keys("run"));
    for (const auto& s : run_settings())
        if (s.section == "run") read_setting(c, *t, s, cfg);
}

void check_target_db(checker& c, const toml::node& at, const std::string& full, const std::string& db,
                     const std::string& maintenance_db) {
    if (db.size() > max_name_bytes)
        c.add(at.source(), in_quotes(full) + " is " + std::to_string(db.size()) +
                               " bytes long; PostgreSQL database names hold at most 63");
    else if (db == "template0" || db == "template1")
        c.add(at.source(), in_quotes(full) + " cannot be the template database " + in_quotes(db));
    else if (db == maintenance_db)
        c.add(at.source(), in_quotes(full) + " cannot be the maintenance database " + in_quotes(db) +
                               ", which pghaul connects to in order to create the others");
}

engine::source_config read_source(checker& c, const toml::table& t, const std::string& prefix,
                                  const std::string& maintenance_db) {
    c.check_keys(
        t, prefix,
        {"name", "conninfo", "password_command", "password_file", "password_env", "target_db", "jobs", "role_map", "snapshot", "databases",
         "exclude", "exclude_table_data", "exclude_table", "exclude_schema", "table", "schema", "via"});
    engine::source_config s;
    s.origin = c.path() + ":" + std::to_string(t.source().begin.line);
    if (auto name = c.string(t, "name", prefix, true)) {
        if (valid_source_name(*name))
            s.name = *name;
        else
            c.add(t.get("name")->source(), in_quotes(prefix + ".name") +
                                               " may hold only letters, digits, '-', '_' and '.', not " +
                                               in_quotes(*name));
    }
    if (auto ci = c.conninfo_at(t, prefix)) s.endpoint.ci = std::move(*ci);
    c.secret_source(t, prefix, s.endpoint);
    // via = { address = "agent-a.example.net:7433", ca = "...", cert = "...", key = "..." }
    if (auto* via = c.typed<toml::table>(t, "via", prefix, false, "a table of address, ca, cert and key")) {
        const auto at = join(prefix, "via");
        c.check_keys(*via, at, {"address", "ca", "cert", "key"});
        s.endpoint.via.address = c.string(*via, "address", at, true).value_or("");
        s.endpoint.via.tls.ca = c.string(*via, "ca", at, true).value_or("");
        s.endpoint.via.tls.cert = c.string(*via, "cert", at, true).value_or("");
        s.endpoint.via.tls.key = c.string(*via, "key", at, true).value_or("");
    }
    s.exclude_table_data = c.table_patterns(t, "exclude_table_data", prefix);
    s.exclude.tables = c.table_patterns(t, "exclude_table", prefix);
    s.exclude.schemas = c.table_patterns(t, "exclude_schema", prefix, name_pattern::kind::schema);
    s.exclude.only_tables = c.table_patterns(t, "table", prefix);
    s.exclude.only_schemas = c.table_patterns(t, "schema", prefix, name_pattern::kind::schema);
    s.databases = c.patterns(t, "databases", prefix);
    s.exclude_databases = c.patterns(t, "exclude", prefix);
    if (!s.exclude_databases.empty() && s.databases.empty())
        c.add(t.get("exclude")->source(), in_quotes(prefix + ".exclude") + " needs " +
                                              in_quotes(prefix + ".databases") +
                                              " (the databases to choose from)");
    if (!s.databases.empty()) {
        // One entry, many databases: target_db is a template, "{database}" by default.
        s.target_db = c.string(t, "target_db", prefix, false).value_or("{database}");
        const bool several =
            s.databases.size() > 1 || s.databases[0].find_first_of("*?") != std::string::npos;
        if (several && s.target_db.find("{database}") == std::string::npos)
            c.add((t.get("target_db") ? t.get("target_db") : &t)->source(),
                  in_quotes(prefix + ".target_db") + " must contain {database} when " +
                      in_quotes(prefix + ".databases") + " can match several (e.g. \"{source}_{database}\")");
    } else if (auto db = c.string(t, "target_db", prefix, true)) {
        check_target_db(c, *t.get("target_db"), prefix + ".target_db", *db, maintenance_db);
        s.target_db = *db;
    }
    // A source's own cap on its connections, in the range of the run's jobs.
    const auto* jobs = find_run_setting("run", "jobs");
    if (auto j = c.integer(t, "jobs", prefix, jobs->lo, jobs->hi)) s.jobs = *j;
    s.role_map = c.role_map(t, prefix);
    if (auto snap = c.string(t, "snapshot", prefix, false)) s.snapshot = *snap;
    return s;
}

void read_sources(checker& c, const toml::table& root, engine::run_config& cfg) {
    const char* none = "no [[source]] sections: the manifest needs at least one";
    if (!root.contains("source")) return c.add({}, none);
    auto* a = c.typed<toml::array>(root, "source", "", true, "an array of tables ([[source]] sections)");
    if (!a) return;
    if (a->empty()) return c.add(a->source(), none);

    // value -> "<source> (line N)" of the first source that used it
    std::map<std::string, std::string> names, target_dbs;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& e = *a->get(i);
        std::string prefix = "source[" + std::to_string(i) + "]";
        const toml::table* t = e.as_table();
        if (!t) {
            c.wrong_type(e, prefix, "a table");
            continue;
        }
        engine::source_config s = read_source(c, *t, prefix, cfg.maintenance_db);
        std::string line = " (line " + std::to_string(t->source().begin.line) + ")";
        if (!s.name.empty()) {
            auto [it, fresh] = names.try_emplace(s.name, prefix + line);
            if (!fresh)
                c.add(t->get("name")->source(), "source name " + in_quotes(s.name) + " is used twice: by " +
                                                    it->second + " and " + prefix + line);
        }
        if (!s.target_db.empty() && s.databases.empty()) {  // templates are checked once expanded
            std::string label = (s.name.empty() ? prefix : in_quotes(s.name)) + line;
            auto [it, fresh] = target_dbs.try_emplace(s.target_db, label);
            if (!fresh)
                c.add(t->get("target_db")->source(), "sources " + it->second + " and " + label +
                                                         " both have target_db " + in_quotes(s.target_db) +
                                                         "; each needs a database of its own");
        }
        cfg.sources.push_back(std::move(s));
    }
}

struct file_closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

engine::run_config parse_manifest(std::string_view text, const std::string& path_for_messages) {
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(path_for_messages));
    } catch (const toml::parse_error& e) {
        // toml++ describes the syntax, quoting at most a character of the text.
        const auto& at = e.source().begin;
        throw error(exit_code::usage, path_for_messages + ":" + std::to_string(at.line) + ":" +
                                          std::to_string(at.column) +
                                          ": invalid TOML: " + std::string(e.description()));
    }
    checker c(path_for_messages);
    engine::run_config cfg;
    c.check_keys(root, "", {"target", "run", "source"});
    read_target(c, root, cfg);  // first: maintenance_db is checked against each target_db
    read_run(c, root, cfg);
    read_sources(c, root, cfg);
    c.throw_if_any();
    return cfg;
}

engine::run_config load_manifest(const std::string& path) {
    std::unique_ptr<std::FILE, file_closer> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        throw error(exit_code::usage,
                    "cannot open manifest " + in_quotes(path) + ": " + std::strerror(errno));
    std::string text;
    char buf[65536];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f.get())) text.append(buf, n);
    // A directory opens fine on Linux and fails only here, with EISDIR.
    if (std::ferror(f.get()))
        throw error(exit_code::usage,
                    "cannot read manifest " + in_quotes(path) + ": " + std::strerror(errno));
    return parse_manifest(text, path);
}

}  // namespace pghaul::cli
