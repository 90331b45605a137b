// --shards, --shard and --sizes as `pghaul run` reads them: the forms, the
// index from a Kubernetes or AWS Batch environment, and each shard's report path.
#include <doctest/doctest.h>

#include <map>

#include "cli/shard_flags.hpp"
#include "protocol/error.hpp"

using namespace pghaul;

namespace {

engine::shard_spec spec_of(const std::vector<std::string>& args, bool dry_run = false,
                           const std::map<std::string, std::string>& env = {}) {
    CLI::App app;
    cli::shard_flags flags;
    cli::add_shard_flags(app, flags);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last to first
    app.parse(reversed);
    return cli::shard_spec_of(flags, dry_run, [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

// The usage error's message, or "" when the flags are accepted.
std::string refusal(const std::vector<std::string>& args, bool dry_run = false,
                    const std::map<std::string, std::string>& env = {}) {
    try {
        spec_of(args, dry_run, env);
    } catch (const error& e) {
        CHECK(e.code() == exit_code::usage);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("--shard I/N: 0-based, I below N, N up to 1000") {
    auto s = spec_of({"--shard", "3/8"});
    CHECK(s.index == 3);
    CHECK(s.count == 8);
    CHECK(spec_of({"--shard", "0/1"}).index == 0);
    CHECK(spec_of({"--shard", "999/1000"}).count == 1000);
    CHECK(spec_of({"--shard", "7/8", "--shards", "8"}).index == 7);
    for (const char* bad : {"3", "8/8", "-1/4", "a/b", "3/8x", "1/1001", "0/0", "/4", "3/", " 3/8"}) {
        CAPTURE(bad);
        const auto why = refusal({std::string("--shard=") + bad});
        CHECK(why.find("--shard \"" + std::string(bad) + "\": expected I/N") != std::string::npos);
    }
    CHECK(refusal({"--shard", "3/8", "--shards", "4"}).find("disagree on the number of shards") !=
          std::string::npos);
    // The hint says how shards are numbered.
    try {
        spec_of({"--shard", "8/8"});
    } catch (const error& e) {
        CHECK(std::string(e.hint()).find("numbered from 0") != std::string::npos);
    }
}

TEST_CASE("--shards N takes its index from JOB_COMPLETION_INDEX, else AWS_BATCH_JOB_ARRAY_INDEX") {
    CHECK(spec_of({"--shards", "4"}, false, {{"JOB_COMPLETION_INDEX", "2"}}).index == 2);
    CHECK(spec_of({"--shards", "4"}, false, {{"AWS_BATCH_JOB_ARRAY_INDEX", "3"}}).index == 3);
    CHECK(
        spec_of({"--shards", "4"}, false, {{"JOB_COMPLETION_INDEX", "1"}, {"AWS_BATCH_JOB_ARRAY_INDEX", "3"}})
            .index == 1);
    // --shard wins over the environment.
    CHECK(spec_of({"--shards", "4", "--shard", "0/4"}, false, {{"JOB_COMPLETION_INDEX", "1"}}).index == 0);
    const auto none = refusal({"--shards", "4"});
    CHECK(none.find("does not say which shard") != std::string::npos);
    CHECK(refusal({"--shards", "4"}, false, {{"JOB_COMPLETION_INDEX", "4"}})
              .find("JOB_COMPLETION_INDEX=\"4\"") != std::string::npos);
    CHECK(refusal({"--shards", "4"}, false, {{"AWS_BATCH_JOB_ARRAY_INDEX", "x"}})
              .find("AWS_BATCH_JOB_ARRAY_INDEX=\"x\" is not a shard index from 0 to 3") != std::string::npos);
    // A dry run of --shards N shows every shard, whatever the environment says.
    auto all = spec_of({"--shards", "8", "--sizes", "s.json"}, true, {{"JOB_COMPLETION_INDEX", "1"}});
    CHECK(all.index == -1);
    CHECK(all.count == 8);
    CHECK(all.sizes_path == "s.json");
    CHECK(refusal({"--sizes", "s.json"}).find("--sizes needs --shards N or --shard I/N") !=
          std::string::npos);
    // Not sharded.
    CHECK(spec_of({}).count == 0);
}

TEST_CASE("--shards out of range is CLI11's usage error") {
    CHECK_THROWS_AS(spec_of({"--shards", "0"}), CLI::ValidationError);
    CHECK_THROWS_AS(spec_of({"--shards", "1001"}), CLI::ValidationError);
}

TEST_CASE("each shard's report gets its own path") {
    const engine::shard_spec s{3, 8, {}};
    CHECK(cli::shard_path("night.json", s) == "night.shard-3-of-8.json");
    CHECK(cli::shard_path("/var/reports/night.html", s) == "/var/reports/night.shard-3-of-8.html");
    CHECK(cli::shard_path("runs.d/night", s) == "runs.d/night.shard-3-of-8");
    CHECK(cli::shard_path("night-{shard}.json", s) == "night-3.json");
    CHECK(cli::shard_path("{shard}/night-{shard}.json", s) == "3/night-3.json");
    CHECK(cli::shard_path("", s).empty());
    CHECK(cli::shard_path("night.json", engine::shard_spec{}) == "night.json");
    CHECK(cli::shard_path("night.json", engine::shard_spec{-1, 8, {}}) == "night.json");
}
