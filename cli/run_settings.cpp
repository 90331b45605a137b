#include "cli/run_settings.hpp"

#include <algorithm>
#include <type_traits>

#include "protocol/duration.hpp"
#include "protocol/error.hpp"
#include "protocol/size.hpp"

namespace pghaul::cli {
namespace {

using engine::run_config;

// How each kind of value lands in run_config: the member it sets.
template <auto member>
void set_number(run_config& c, const setting_value& v) {
    using T = std::remove_reference_t<decltype(c.*member)>;
    c.*member = static_cast<T>(std::get<std::int64_t>(v));
}
template <auto member>
void set_seconds(run_config& c, const setting_value& v) {
    c.*member = std::get<std::chrono::seconds>(v);
}
template <auto member>
void set_text(run_config& c, const setting_value& v) {
    c.*member = std::get<std::string>(v);
}
template <auto member>
void set_flag(run_config& c, const setting_value& v) {
    c.*member = std::get<bool>(v);
}

void set_maintenance_db(run_config& c, const setting_value& v) {
    c.maintenance_db = std::get<std::string>(v);
    // The manifest checks its own maintenance_db against each target_db as
    // it reads them; a flag comes after the sources.
    for (auto& s : c.sources)
        if (s.target_db == c.maintenance_db)
            throw error(exit_code::usage,
                        "--maintenance-db \"" + c.maintenance_db + "\" is source \"" + s.name +
                            "\"'s target_db: pghaul connects to it in order to create the others",
                        "give another --maintenance-db (postgres is the usual one)");
}

void set_analyze_all(run_config& c, const setting_value& v) {
    c.analyze_all = std::get<bool>(v);
    if (c.analyze_all) c.analyze = true;  // over analyze = false, as its help says
}

void set_verify(run_config& c, const setting_value& v) {
    using level = run_config::verify_level;
    const auto& s = std::get<std::string>(v);
    c.verify = s == "checksums" ? level::checksums : s == "counts" ? level::counts : level::none;
}

const std::string_view conn = "Connection", perf = "Performance", sel = "Selection", out = "Output",
                       rec = "Recovery";

const std::vector<run_setting> table = {
    {.key = "maintenance_db",
     .section = "target",
     .kind = setting_kind::text,
     .help = "database on the target to connect to for CREATE DATABASE",
     .default_text = "postgres",
     .group = conn,
     .apply = set_maintenance_db},
    {.key = "max_connections",
     .section = "target",
     .kind = setting_kind::integer,
     .help = "pghaul's connections to the target at most, across every pghaul process given the same cap (the "
             "shards of a run): slots kept by the target itself in advisory locks; a process waits for a "
             "slot and says so (0: no cap; at least 2: the maintenance connection and one worker)",
     .default_text = "0",
     .group = conn,
     .lo = 0,
     .hi = 100000,
     .apply = set_number<&run_config::max_connections>},
    {.key = "pg_dump",
     .section = "run",
     .kind = setting_kind::text,
     .help = "pg_dump program used for schema DDL",
     .default_text = "pg_dump",
     .group = conn,
     .apply = set_text<&run_config::pg_dump>},
    {.key = "jobs",
     .section = "run",
     .names = "-j,--jobs",
     .kind = setting_kind::integer,
     .help = "tables copied at once (each uses one source and one target connection)",
     .default_text = "4",
     .group = perf,
     .lo = 1,
     .hi = 256,
     .apply = set_number<&run_config::jobs>},
    {.key = "analyze",
     .section = "run",
     .names = "--no-analyze",
     .kind = setting_kind::flag,
     .help = "skip ANALYZE of each table after its load",
     .group = perf,
     .flag_sets = false,
     .apply = set_flag<&run_config::analyze>},
    {.key = "analyze_all",
     .section = "run",
     .kind = setting_kind::flag,
     .help = "also ANALYZE the tables under 1 MB that autovacuum will analyze on its own soon after (more "
             "rows than its autovacuum_analyze_threshold); over --no-analyze",
     .group = perf,
     .apply = set_analyze_all},
    {.key = "memory_limit",
     .section = "run",
     .kind = setting_kind::size,
     .help = "in-flight COPY data of all tables together; beyond it data spools",
     .default_text = "64MB",
     .group = perf,
     .apply = set_number<&run_config::memory_limit>},
    {.key = "spool_dir",
     .section = "run",
     .kind = setting_kind::path,
     .help = "where data spools when the target is slower (default: $TMPDIR or /tmp)",
     .group = perf,
     .apply = set_text<&run_config::spool_dir>},
    {.key = "spool_limit",
     .section = "run",
     .kind = setting_kind::size,
     .help = "disk the spool may use (0: never spool; the reader waits instead)",
     .default_text = "8GB",
     .group = perf,
     .apply = set_number<&run_config::spool_limit>},
    // Out of range, the first spill of the night failed: checked on the way in.
    {.key = "compression_level",
     .section = "run",
     .kind = setting_kind::integer,
     .help = "zstd level for spooled data (0: store)",
     .default_text = "1",
     .group = perf,
     .lo = 0,
     .hi = 19,
     .apply = set_number<&run_config::compression_level>},
    {.key = "split_tables_larger_than",
     .section = "run",
     .kind = setting_kind::size,
     .help = "copy tables bigger than this in ctid ranges on several connections (0: never)",
     .default_text = "4GB",
     .group = perf,
     .apply = set_number<&run_config::split_tables_larger_than>},
    {.key = "split_part_size",
     .section = "run",
     .kind = setting_kind::size,
     .help = "size of each part of a split table",
     .default_text = "256MB",
     .group = perf,
     .apply = set_number<&run_config::split_part_size>},
    {.key = "on_existing",
     .section = "run",
     .kind = setting_kind::choice,
     .help = "when a target database exists: fail, replace (drop it) or skip",
     .default_text = "fail",
     .group = sel,
     .choices = {"fail", "replace", "skip"},
     .apply = [](run_config& c,
                 const setting_value& v) { c.existing = parse_on_existing(std::get<std::string>(v)); }},
    {.key = "missing_roles",
     .section = "run",
     .kind = setting_kind::choice,
     .help = "roles the target lacks: fail, create (NOLOGIN) or owner",
     .default_text = "fail",
     .group = sel,
     .choices = {"fail", "create", "owner"},
     .apply =
         [](run_config& c, const setting_value& v) {
             c.missing_roles = parse_missing_roles(std::get<std::string>(v));
         }},
    {.key = "no_privileges",
     .section = "run",
     .names = "-x,--no-privileges",
     .kind = setting_kind::flag,
     .help = "do not copy grants (GRANT/REVOKE)",
     .group = sel,
     .apply = set_flag<&run_config::no_privileges>},
    {.key = "verify",
     .section = "run",
     .kind = setting_kind::choice,
     .help = "at the end, against the copy's snapshot: none (row counts per table only), counts (also "
             "sequences, schema, owners, privileges, settings) or checksums (and content)",
     .default_text = "none",
     .group = out,
     .choices = {"none", "counts", "checksums"},
     .apply = set_verify},
    {.key = "report",
     .section = "run",
     .kind = setting_kind::path,
     .help = "write the JSON run report to this file (over the manifest's report)",
     .group = out,
     .apply = set_text<&run_config::report_path>},
    {.key = "retry_window",
     .section = "run",
     .kind = setting_kind::duration,
     .help = "retry a unit whose server went away or refused until this long after its first failure (0: "
             "never)",
     .default_text = "5m",
     .group = rec,
     .zero_allowed = true,
     .apply = set_seconds<&run_config::retry_window>},
    {.key = "lock_wait_timeout",
     .section = "run",
     .kind = setting_kind::duration,
     .help = "fail a source whose tables another session keeps locked longer than this (0: wait, saying who "
             "holds the lock)",
     .default_text = "0",
     .group = rec,
     .zero_allowed = true,
     .apply = set_seconds<&run_config::lock_wait_timeout>},
    {.key = "password_command_timeout",
     .section = "run",
     .kind = setting_kind::duration,
     .help = "give up on a password_command that has not answered by then",
     .default_text = "30s",
     .group = conn,
     .apply = set_seconds<&run_config::password_command_timeout>},
    {.key = "password_max_age",
     .section = "run",
     .kind = setting_kind::duration,
     .help = "run password_command again for connections opened after its password is this old "
             "(short-lived cloud tokens; 0: for every connection)",
     .default_text = "10m",
     .group = conn,
     .zero_allowed = true,
     .apply = set_seconds<&run_config::password_max_age>},
};

std::string key_as_flag(std::string_view key) {
    std::string flag = "--" + std::string(key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
}

std::string value_name(const run_setting& s) {
    switch (s.kind) {
        case setting_kind::integer:
            return "INT";
        case setting_kind::size:
            return "SIZE";
        case setting_kind::duration:
            return "DURATION";
        case setting_kind::path:
            return "PATH";
        case setting_kind::choice:
        case setting_kind::text:
        case setting_kind::flag:
            break;
    }
    return "TEXT";
}

}  // namespace

std::string run_setting::flag_names() const {
    return names.empty() ? key_as_flag(key) : std::string(names);
}

const std::vector<run_setting>& run_settings() {
    return table;
}

const run_setting* find_run_setting(std::string_view section, std::string_view key) {
    for (const auto& s : table)
        if (s.section == section && s.key == key) return &s;
    return nullptr;
}

setting_value parse_setting_text(const run_setting& s, const std::string& text) {
    const std::string flag = key_as_flag(s.key);
    switch (s.kind) {
        case setting_kind::integer: {
            std::size_t end = 0;
            long long v = 0;
            try {
                v = std::stoll(text, &end);
            } catch (const std::exception&) {
                end = 0;
            }
            if (end == 0 || end != text.size() || v < s.lo || v > s.hi)
                throw error(exit_code::usage, flag + " must be a whole number from " + std::to_string(s.lo) +
                                                  " to " + std::to_string(s.hi) + ", not \"" + text + "\"");
            return static_cast<std::int64_t>(v);
        }
        case setting_kind::size:
            return parse_size(text);
        case setting_kind::duration: {
            auto d = parse_duration(text);
            if (d.count() == 0 && !s.zero_allowed)
                throw error(exit_code::usage, flag + " must be more than 0 seconds");
            return d;
        }
        case setting_kind::choice:
            if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end()) {
                std::string names;
                for (auto c : s.choices) names += (names.empty() ? "" : ", ") + std::string(c);
                throw error(exit_code::usage, flag + " must be one of " + names + ", not \"" + text + "\"");
            }
            return text;
        case setting_kind::text:
        case setting_kind::path:
            if (text.empty()) throw error(exit_code::usage, flag + " must not be empty");
            return text;
        case setting_kind::flag:
            break;
    }
    return s.flag_sets;
}

void add_run_setting_flags(CLI::App& sub, run_setting_flags& f) {
    for (const auto& s : table) {
        const std::string key(s.key);
        if (s.kind == setting_kind::flag) {
            sub.add_flag(s.flag_names(), f.flags[key], std::string(s.help))->group(std::string(s.group));
            continue;
        }
        auto* o = sub.add_option(s.flag_names(), f.values[key], std::string(s.help))
                      ->group(std::string(s.group))
                      ->type_name(value_name(s));
        if (!s.default_text.empty()) o->default_str(std::string(s.default_text));
        if (s.kind == setting_kind::integer) o->check(CLI::Range(s.lo, s.hi));
        if (s.kind == setting_kind::choice)
            o->check(CLI::IsMember(std::vector<std::string>(s.choices.begin(), s.choices.end())));
    }
}

void apply_run_setting_flags(const run_setting_flags& f, run_config& cfg) {
    // In the table's order, so --analyze-all comes after --no-analyze whatever
    // the order on the command line (PGHAUL_NO_ANALYZE set, --analyze-all given).
    for (const auto& s : table) {
        const std::string key(s.key);
        if (s.kind == setting_kind::flag) {
            if (auto it = f.flags.find(key); it != f.flags.end() && it->second) s.apply(cfg, s.flag_sets);
        } else if (auto it = f.values.find(key); it != f.values.end() && it->second) {
            s.apply(cfg, parse_setting_text(s, *it->second));
        }
    }
}

engine::on_existing parse_on_existing(const std::string& s) {
    using engine::on_existing;
    return s == "replace" ? on_existing::replace : s == "skip" ? on_existing::skip : on_existing::fail;
}

engine::missing_roles_mode parse_missing_roles(const std::string& s) {
    using engine::missing_roles_mode;
    return s == "create"  ? missing_roles_mode::create
           : s == "owner" ? missing_roles_mode::owner
                          : missing_roles_mode::fail;
}

}  // namespace pghaul::cli
