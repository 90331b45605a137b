// The run settings copy and run share: the defaults their help shows are
// run_config's, and a flag overrides only what it names.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "cli/manifest.hpp"
#include "cli/run_settings.hpp"
#include "protocol/duration.hpp"
#include "protocol/error.hpp"
#include "protocol/size.hpp"

using namespace pghaul;

namespace {

std::string default_of(CLI::App& app, const std::string& name) {
    return app.get_option(name)->get_default_str();
}

}  // namespace

TEST_CASE("the defaults the help shows are the engine's") {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    const engine::run_config d;
    CHECK(default_of(app, "--maintenance-db") == d.maintenance_db);
    CHECK(default_of(app, "--pg-dump") == d.pg_dump);
    CHECK(std::stoi(default_of(app, "--jobs")) == d.jobs);
    CHECK(parse_size(default_of(app, "--memory-limit")) == d.memory_limit);
    CHECK(parse_size(default_of(app, "--spool-limit")) == d.spool_limit);
    CHECK(std::stoi(default_of(app, "--compression-level")) == d.compression_level);
    CHECK(parse_size(default_of(app, "--split-tables-larger-than")) == d.split_tables_larger_than);
    CHECK(parse_size(default_of(app, "--split-part-size")) == d.split_part_size);
    CHECK(cli::parse_on_existing(default_of(app, "--on-existing")) == d.existing);
    CHECK(cli::parse_missing_roles(default_of(app, "--missing-roles")) == d.missing_roles);
    CHECK(default_of(app, "--verify") == "none");
    CHECK(d.verify == engine::run_config::verify_level::none);
    CHECK(parse_duration(default_of(app, "--retry-window")) == d.retry_window);
    CHECK(parse_duration(default_of(app, "--lock-wait-timeout")) == d.lock_wait_timeout);
    CHECK(parse_duration(default_of(app, "--password-command-timeout")) == d.password_command_timeout);
    CHECK(parse_duration(default_of(app, "--password-max-age")) == d.password_max_age);
    CHECK(d.analyze);
    CHECK_FALSE(d.analyze_all);
    CHECK_FALSE(d.no_privileges);
}

TEST_CASE("flags given override the manifest's settings; the rest stay as the manifest has them") {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    app.parse(std::vector<std::string>{"2m", "--password-max-age", "5s", "--password-command-timeout", "1h",
                                       "--retry-window", "--no-analyze", "512MB", "--memory-limit", "3",
                                       "--jobs"});  // CLI11 takes them last to first
    engine::run_config manifest;
    manifest.jobs = 8;
    manifest.spool_limit = 1LL << 30;
    manifest.verify = engine::run_config::verify_level::counts;
    cli::apply_run_setting_flags(f, manifest);
    CHECK(manifest.jobs == 3);
    CHECK(manifest.memory_limit == 512LL << 20);
    CHECK_FALSE(manifest.analyze);
    CHECK(manifest.retry_window == std::chrono::hours(1));
    CHECK(manifest.password_command_timeout == std::chrono::seconds(5));
    CHECK(manifest.password_max_age == std::chrono::minutes(2));
    CHECK(manifest.spool_limit == 1LL << 30);
    CHECK(manifest.verify == engine::run_config::verify_level::counts);
}

TEST_CASE("--analyze-all analyzes even where the manifest said analyze = false, or --no-analyze") {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    app.parse(std::vector<std::string>{"--analyze-all"});
    engine::run_config manifest;
    manifest.analyze = false;
    cli::apply_run_setting_flags(f, manifest);
    CHECK(manifest.analyze);
    CHECK(manifest.analyze_all);
    // PGHAUL_NO_ANALYZE in the environment and --analyze-all on the command
    // line: the flag is the later word, not a usage error.
    CLI::App both;
    cli::run_setting_flags g;
    cli::add_run_setting_flags(both, g);
    both.parse(std::vector<std::string>{"--analyze-all", "--no-analyze"});
    engine::run_config cfg;
    cli::apply_run_setting_flags(g, cfg);
    CHECK(cfg.analyze);
    CHECK(cfg.analyze_all);
}

TEST_CASE("--maintenance-db cannot be a source's target database, as in the manifest") {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    app.parse(std::vector<std::string>{"app_db_a", "--maintenance-db"});
    engine::run_config manifest;
    engine::source_config a;
    a.name = "a";
    a.target_db = "app_db_a";
    manifest.sources.push_back(a);
    try {
        cli::apply_run_setting_flags(f, manifest);
        FAIL("accepted");
    } catch (const error& e) {
        CHECK(e.code() == exit_code::usage);
        CHECK(std::string(e.what()).find("source \"a\"'s target_db") != std::string::npos);
    }
}

// Issue 15's drift: each run setting is one row of cli/run_settings.cpp,
// and its flag and its manifest key must read a value the same way and
// refuse the same values. Every row is tried, so a new row is covered.
namespace {

std::string fingerprint(const engine::run_config& c) {
    std::ostringstream o;
    o << c.maintenance_db << '|' << c.pg_dump << '|' << c.jobs << '|' << c.analyze << c.analyze_all << '|'
      << c.memory_limit << '|' << c.spool_dir << '|' << c.spool_limit << '|' << c.compression_level << '|'
      << c.split_tables_larger_than << '|' << c.split_part_size << '|' << static_cast<int>(c.existing) << '|'
      << static_cast<int>(c.missing_roles) << '|' << c.no_privileges << '|' << static_cast<int>(c.verify)
      << '|' << c.report_path << '|' << c.retry_window.count() << '|' << c.lock_wait_timeout.count() << '|'
      << c.password_command_timeout.count() << '|' << c.password_max_age.count() << '|' << c.max_connections;
    return o.str();
}

const std::string sources = "[[source]]\nname = \"a\"\nconninfo = \"host=s\"\ntarget_db = \"d\"\n";

std::string manifest_with(const cli::run_setting& s, const std::string& value) {
    const std::string line = std::string(s.key) + " = " + value + "\n";
    return "[target]\nconninfo = \"host=t\"\n" +
           (s.section == "target" ? line + "[run]\n" : "[run]\n" + line) + sources;
}

engine::run_config from_flag(const cli::run_setting& s, const std::string& value) {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    std::string flag = s.flag_names();
    flag = flag.substr(flag.rfind(',') + 1);
    std::vector<std::string> args;  // CLI11 takes them last to first
    if (s.kind != cli::setting_kind::flag) args.push_back(value);
    args.push_back(flag);
    app.parse(args);
    auto cfg = cli::parse_manifest("[target]\nconninfo = \"host=t\"\n" + sources, "m.toml");
    cli::apply_run_setting_flags(f, cfg);
    return cfg;
}

}  // namespace

TEST_CASE("each run setting reads the same from its flag and its manifest key, and both refuse the same") {
    const auto defaults =
        fingerprint(cli::parse_manifest("[target]\nconninfo = \"host=t\"\n" + sources, "m.toml"));
    int rows = 0;
    for (const auto& s : cli::run_settings()) {
        CAPTURE(s.key);
        using kind = cli::setting_kind;
        std::string text, toml;
        std::vector<std::string> bad;  // as flag text; the manifest gets each as a string
        switch (s.kind) {
            case kind::integer:
                text = toml = std::to_string(s.hi);
                bad = {std::to_string(s.hi + 1), std::to_string(s.lo - 1)};
                break;
            case kind::size:
                text = "3GB";
                bad = {"3 parsecs"};
                break;
            case kind::duration:
                text = "90s";
                bad = {"soon"};
                if (!s.zero_allowed) bad.push_back("0");
                break;
            case kind::choice:
                text = std::string(s.choices.back());
                bad = {"sometimes"};
                break;
            case kind::text:
                text = "x_db";
                bad = {""};
                break;
            case kind::path:
                text = "/tmp/x";
                bad = {""};
                break;
            case kind::flag:
                toml = s.flag_sets ? "true" : "false";
                break;
        }
        if (toml.empty()) toml = "\"" + text + "\"";
        const auto by_flag = fingerprint(from_flag(s, text));
        const auto by_manifest = fingerprint(cli::parse_manifest(manifest_with(s, toml), "m.toml"));
        CHECK(by_flag == by_manifest);
        CHECK(by_flag != defaults);  // the row sets something
        for (const auto& b : bad) {
            CAPTURE(b);
            const std::string as_toml = s.kind == kind::integer ? b : "\"" + b + "\"";
            CHECK_THROWS(from_flag(s, b));
            CHECK_THROWS(cli::parse_manifest(manifest_with(s, as_toml), "m.toml"));
        }
        // A duration as a bare number of seconds, in the manifest only.
        if (s.kind == kind::duration)
            CHECK(fingerprint(cli::parse_manifest(manifest_with(s, "90"), "m.toml")) == by_manifest);
        ++rows;
    }
    CHECK(rows == static_cast<int>(cli::run_settings().size()));
    CHECK(rows >= 20);
}
