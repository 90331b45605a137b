#include "cli/run_settings.hpp"

#include "protocol/duration.hpp"
#include "protocol/error.hpp"
#include "protocol/size.hpp"

namespace pghaul::cli {
namespace {

// An optional setting's flag, its default text (what run_config holds; the
// unit test checks they agree) shown in the help.
template <typename T>
CLI::Option* setting(CLI::App& sub, const std::string& flag, std::optional<T>& into, const std::string& help,
                     const std::string& default_text, const std::string& group) {
    auto* o = sub.add_option(flag, into, help)->group(group);
    if (!default_text.empty()) o->default_str(default_text);
    return o;
}

}  // namespace

void add_run_setting_flags(CLI::App& sub, run_setting_flags& f) {
    const std::string conn = "Connection", perf = "Performance", sel = "Selection", out = "Output",
                      rec = "Recovery";
    setting(sub, "--maintenance-db", f.maintenance_db,
            "database on the target to connect to for CREATE DATABASE", "postgres", conn);
    setting(sub, "--pg-dump", f.pg_dump, "pg_dump program used for schema DDL", "pg_dump", conn);
    setting(sub, "-j,--jobs", f.jobs,
            "tables copied at once (each uses one source and one target connection)", "4", perf)
        ->check(CLI::Range(1, 256));
    sub.add_flag("--no-analyze", f.no_analyze, "skip ANALYZE of each table after its load")->group(perf);
    sub.add_flag("--analyze-all", f.analyze_all,
                 "also ANALYZE the tables under 1 MB that autovacuum will analyze on its own soon after "
                 "(more rows than its autovacuum_analyze_threshold); over --no-analyze")
        ->group(perf);
    setting(sub, "--memory-limit", f.memory_limit,
            "in-flight COPY data of all tables together; beyond it data spools", "64MB", perf);
    setting(sub, "--spool-dir", f.spool_dir,
            "where data spools when the target is slower (default: $TMPDIR or /tmp)", "", perf);
    setting(sub, "--spool-limit", f.spool_limit,
            "disk the spool may use (0: never spool; the reader waits instead)", "8GB", perf);
    setting(sub, "--compression-level", f.compression_level, "zstd level for spooled data (0: store)", "1",
            perf)
        ->check(CLI::Range(0, 19));
    setting(sub, "--split-tables-larger-than", f.split_tables_larger_than,
            "copy tables bigger than this in ctid ranges on several connections (0: never)", "4GB", perf);
    setting(sub, "--split-part-size", f.split_part_size, "size of each part of a split table", "256MB", perf);
    setting(sub, "--on-existing", f.on_existing,
            "when a target database exists: fail, replace (drop it) or skip", "fail", sel)
        ->check(CLI::IsMember({"fail", "replace", "skip"}));
    setting(sub, "--missing-roles", f.missing_roles,
            "roles the target lacks: fail, create (NOLOGIN) or owner", "fail", sel)
        ->check(CLI::IsMember({"fail", "create", "owner"}));
    sub.add_flag("-x,--no-privileges", f.no_privileges, "do not copy grants (GRANT/REVOKE)")->group(sel);
    setting(
        sub, "--verify", f.verify,
        "at the end, against the copy's snapshot: none (row counts per table only), counts (also sequences, "
        "schema, owners, privileges, settings) or checksums (and content)",
        "none", out)
        ->check(CLI::IsMember({"none", "counts", "checksums"}));
    setting(sub, "--retry-window", f.retry_window,
            "retry a unit whose server went away or refused until this long after its first failure", "5m",
            rec);
    setting(sub, "--lock-wait-timeout", f.lock_wait_timeout,
            "fail a source whose tables another session keeps locked longer than this (0: wait, saying who "
            "holds the lock)",
            "0", rec);
    setting(sub, "--password-command-timeout", f.password_command_timeout,
            "give up on a password_command that has not answered by then", "30s", conn);
    setting(sub, "--password-max-age", f.password_max_age,
            "run password_command again for connections opened after its password is this old (short-lived "
            "cloud tokens)",
            "10m", conn);
}

void apply_run_setting_flags(const run_setting_flags& f, engine::run_config& cfg) {
    if (f.maintenance_db) {
        cfg.maintenance_db = *f.maintenance_db;
        // The manifest checks its own maintenance_db against each target_db.
        for (auto& s : cfg.sources)
            if (s.target_db == cfg.maintenance_db)
                throw error(exit_code::usage,
                            "--maintenance-db \"" + cfg.maintenance_db + "\" is source \"" + s.name +
                                "\"'s target_db: pghaul connects to it in order to create the others",
                            "give another --maintenance-db (postgres is the usual one)");
    }
    if (f.pg_dump) cfg.pg_dump = *f.pg_dump;
    if (f.jobs) cfg.jobs = *f.jobs;
    if (f.no_analyze) cfg.analyze = false;
    if (f.analyze_all) cfg.analyze = cfg.analyze_all = true;
    if (f.memory_limit) cfg.memory_limit = parse_size(*f.memory_limit);
    if (f.spool_dir) cfg.spool_dir = *f.spool_dir;
    if (f.spool_limit) cfg.spool_limit = parse_size(*f.spool_limit);
    if (f.compression_level) cfg.compression_level = *f.compression_level;
    if (f.split_tables_larger_than) cfg.split_tables_larger_than = parse_size(*f.split_tables_larger_than);
    if (f.split_part_size) cfg.split_part_size = parse_size(*f.split_part_size);
    if (f.on_existing) cfg.existing = parse_on_existing(*f.on_existing);
    if (f.missing_roles) cfg.missing_roles = parse_missing_roles(*f.missing_roles);
    if (f.no_privileges) cfg.no_privileges = true;
    if (f.verify) {
        using level = engine::run_config::verify_level;
        cfg.verify = *f.verify == "checksums" ? level::checksums
                     : *f.verify == "counts"  ? level::counts
                                              : level::none;
    }
    if (f.retry_window) cfg.retry_window = parse_duration(*f.retry_window);
    if (f.lock_wait_timeout) cfg.lock_wait_timeout = parse_duration(*f.lock_wait_timeout);
    if (f.password_command_timeout)
        cfg.password_command_timeout = parse_duration(*f.password_command_timeout);
    if (f.password_max_age) cfg.password_max_age = parse_duration(*f.password_max_age);
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
