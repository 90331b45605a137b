// The run settings copy and run share: the defaults their help shows are
// run_config's, and a flag overrides only what it names.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

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

// Issue 15's drift: each run setting is a flag of copy and run and a [run]
// key of the manifest. Every flag here must be a key the manifest takes (a
// new flag without its key fails this test), and where the flag checks a
// range, the manifest refuses what the flag refuses.
TEST_CASE("every run setting flag is a [run] manifest key, with the flag's range") {
    CLI::App app;
    cli::run_setting_flags f;
    cli::add_run_setting_flags(app, f);
    // A valid manifest value per key; the key is the flag's name with '_'
    // for '-' (--no-analyze is analyze = false).
    const std::map<std::string, std::string> valid = {
        {"maintenance_db", "\"postgres\""},
        {"pg_dump", "\"pg_dump\""},
        {"jobs", "2"},
        {"analyze", "false"},
        {"analyze_all", "true"},
        {"memory_limit", "\"64MB\""},
        {"spool_dir", "\"/tmp\""},
        {"spool_limit", "\"1GB\""},
        {"compression_level", "3"},
        {"split_tables_larger_than", "\"4GB\""},
        {"split_part_size", "\"256MB\""},
        {"on_existing", "\"skip\""},
        {"missing_roles", "\"owner\""},
        {"no_privileges", "true"},
        {"verify", "\"counts\""},
        {"retry_window", "\"5m\""},
        {"lock_wait_timeout", "\"30s\""},
        {"password_command_timeout", "\"30s\""},
        {"password_max_age", "\"10m\""},
    };
    const std::map<std::string, std::string> out_of_range = {{"jobs", "0"}, {"compression_level", "20"}};
    const std::string sources = "[[source]]\nname = \"a\"\nconninfo = \"host=s\"\ntarget_db = \"d\"\n";
    int keys = 0;
    for (const auto* o : app.get_options()) {
        if (o->get_lnames().empty() || o->get_lnames().front() == "help") continue;
        const std::string flag = "--" + o->get_lnames().front();
        std::string key = flag.substr(2);
        std::replace(key.begin(), key.end(), '-', '_');
        if (key == "no_analyze") key = "analyze";
        CAPTURE(flag);
        auto it = valid.find(key);
        REQUIRE_MESSAGE(it != valid.end(), "no manifest key known for " << flag);
        // maintenance_db belongs to [target], every other one to [run].
        auto manifest = [&](const std::string& value) {
            const std::string line = key + " = " + value + "\n";
            return "[target]\nconninfo = \"host=t\"\n" + (key == "maintenance_db" ? line + "[run]\n" : "[run]\n" + line) +
                   sources;
        };
        CHECK_NOTHROW(cli::parse_manifest(manifest(it->second), "m.toml"));
        if (auto bad = out_of_range.find(key); bad != out_of_range.end())
            CHECK_THROWS(cli::parse_manifest(manifest(bad->second), "m.toml"));
        ++keys;
    }
    CHECK(keys == static_cast<int>(valid.size()));
}
