// One consolidation split across hosts (--shards): a dry run writes the
// sources' sizes, two shards run side by side from that file, and together
// they copy every source exactly once, each equal to its source.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.hpp"

using namespace harness;

namespace {

// A small database of `rows` rows in two tables, so the sources differ in size.
void make_source(const std::string& super_var, const std::string& db, int rows) {
    create_database_from(super_var, db, "");
    connect(super_var, db)
        .exec(
            "CREATE TABLE items (id int PRIMARY KEY, code text NOT NULL, at timestamptz);"
            "INSERT INTO items SELECT g, md5(g::text), '2024-01-01'::timestamptz + g * interval '1 minute' "
            "FROM generate_series(1, " +
            std::to_string(rows) +
            ") g;"
            "CREATE TABLE notes (id int PRIMARY KEY REFERENCES items, body text);"
            "INSERT INTO notes SELECT id, repeat(code, 3) FROM items WHERE id % 3 = 0;");
}

// A report a shard wrote beside `file` (its temp_file directory, removed with it).
nlohmann::json report_beside(const temp_file& file, const std::string& name) {
    return nlohmann::json::parse(read_file((std::filesystem::path(file.path).parent_path() / name).string()));
}

std::set<std::string> names_of(const nlohmann::json& report) {
    std::set<std::string> out;
    for (auto& s : report["sources"]) out.insert(s["name"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("two shards side by side copy every source once, as the dry run's sizes split them") {
    const auto prefix = unique_name("shard");
    const std::vector<std::string> on_a = {prefix + "_a1", prefix + "_a2", prefix + "_a3"};
    const std::vector<std::string> on_b = {prefix + "_b1", prefix + "_b2"};
    for (std::size_t i = 0; i < on_a.size(); ++i)
        make_source("PGHAUL_SRC_A_SUPER", on_a[i], 2000 + 9000 * static_cast<int>(i));
    for (std::size_t i = 0; i < on_b.size(); ++i)
        make_source("PGHAUL_SRC_B_SUPER", on_b[i], 5000 + 6000 * static_cast<int>(i));
    std::map<std::string, std::pair<std::string, std::string>> source_of;  // name -> (server, database)
    for (auto& db : on_a) source_of["srva." + db] = {"PGHAUL_SRC_A_SUPER", db};
    for (auto& db : on_b) source_of["srvb." + db] = {"PGHAUL_SRC_B_SUPER", db};

    temp_file sizes("sizes.json", "");
    temp_file report("night.json", "");
    temp_file manifest("fleet.toml", R"([target]
conninfo = ")" + server("PGHAUL_TGT").to_string() +
                                         R"("

[run]
jobs = 2
missing_roles = "owner"

[[source]]
name = "srva"
conninfo = ")" + server("PGHAUL_SRC_A").to_string() +
                                         R"("
databases = [")" + prefix + R"(_*"]
target_db = "{database}_copy"

[[source]]
name = "srvb"
conninfo = ")" + server("PGHAUL_SRC_B").to_string() +
                                         R"("
databases = [")" + prefix + R"(_*"]
target_db = "{database}_copy"
)");

    // The dry run of all shards: the table of shards, the sizes file, nothing on the target.
    auto plan = run_pghaul({"run", manifest.path, "--shards", "2", "--dry-run", "--sizes", sizes.path});
    REQUIRE(plan.exit_status == 0);
    CHECK(plan.out.find("5 sources in 2 shards by database size") != std::string::npos);
    CHECK(plan.out.find("shard  sources") != std::string::npos);
    CHECK(plan.out.find("plan: 5 source(s)") != std::string::npos);
    const auto written = nlohmann::json::parse(read_file(sizes.path));
    REQUIRE(written["sources"].size() == 5);
    for (auto& [name, _] : source_of) CHECK(written["sources"][name].get<std::int64_t>() > 0);
    CHECK(written.contains("written"));
    for (auto& db : on_a) CHECK_FALSE(target_has_database(db + "_copy"));

    // Both shards at once, as two hosts would run them.
    auto shard = [&](int i) {
        return std::async(std::launch::async, [&, i] {
            return run_pghaul({"run", manifest.path, "--shard", std::to_string(i) + "/2", "--sizes",
                               sizes.path, "--report", report.path});
        });
    };
    auto first = shard(0), second = shard(1);
    const auto r0 = first.get(), r1 = second.get();
    CHECK(r0.exit_status == 0);
    CHECK(r1.exit_status == 0);
    CHECK(r0.err.find("shard 0 of 2 (0-based): ") != std::string::npos);
    CHECK(r0.err.find("may split the sources differently") == std::string::npos);  // sizes from the file

    // Every source copied, equal to its source.
    for (auto& [name, src] : source_of) {
        CAPTURE(name);
        const auto sf = table_fingerprints(src.first, src.second);
        CHECK(sf.size() == 2);
        CHECK(table_fingerprints("PGHAUL_TGT_SUPER", src.second + "_copy") == sf);
    }

    // Each shard's report under its own name; together every source exactly once,
    // and both shards agreed on the split.
    const auto rep0 = report_beside(report, "night.shard-0-of-2.json");
    const auto rep1 = report_beside(report, "night.shard-1-of-2.json");
    CHECK(rep0["shard"]["index"] == 0);
    CHECK(rep1["shard"]["index"] == 1);
    CHECK(rep0["shard"]["count"] == 2);
    CHECK(rep0["shard"]["sizes_from"] == sizes.path);
    CHECK(rep0["shard"]["assignment"] == rep1["shard"]["assignment"]);
    REQUIRE(rep0["shard"]["assignment"].size() == 5);
    std::set<std::string> all;
    for (const auto* rep : {&rep0, &rep1}) {
        const int index = (*rep)["shard"]["index"];
        std::set<std::string> assigned;
        for (auto& [name, to] : (*rep)["shard"]["assignment"].items())
            if (to == index) assigned.insert(name);
        CHECK(names_of(*rep) == assigned);
        CHECK_FALSE(assigned.empty());
        for (auto& s : (*rep)["sources"]) {
            CHECK(s["status"] == "done");
            CHECK(all.insert(s["name"].get<std::string>()).second);  // in no other shard
        }
    }
    CHECK(all.size() == source_of.size());

    // In a Kubernetes Indexed Job the index comes from the environment: shard 1
    // again, whose copies are there now (skipped, so it opens no source).
    temp_file env_report("env-{shard}.json", "");
    auto env_run = run_pghaul({"run", manifest.path, "--shards", "2", "--sizes", sizes.path, "--on-existing",
                               "skip", "--report", env_report.path},
                              {"JOB_COMPLETION_INDEX=1"});
    CHECK(env_run.exit_status == 0);
    const auto rep_env = report_beside(env_report, "env-1.json");
    CHECK(rep_env["shard"]["index"] == 1);
    CHECK(names_of(rep_env) == names_of(rep1));

    // More shards than sources: the last one has nothing to do, and says so.
    // Without --sizes the sizes are read live, with the warning.
    auto empty = run_pghaul({"run", manifest.path, "--shard", "5/6", "--report", report.path});
    CHECK(empty.exit_status == 0);
    CHECK(empty.err.find("shard 5 of 6 has no sources: nothing to do") != std::string::npos);
    CHECK(empty.err.find("may split the sources differently") != std::string::npos);
    CHECK(report_beside(report, "night.shard-5-of-6.json")["sources"].empty());

    // A sizes file that lacks sources (the manifest changed since): refused, naming them.
    temp_file stale("stale.json", R"({"sources": {"srva.)" + on_a[0] + R"(": 1000}, "written": "then"})");
    auto refused = run_pghaul({"run", manifest.path, "--shard", "0/2", "--sizes", stale.path});
    CHECK(refused.exit_status == 2);
    CHECK(refused.err.find("has no size for 4 sources: srva." + on_a[1]) != std::string::npos);
    CHECK(refused.err.find("--shards N --dry-run --sizes") != std::string::npos);

    for (auto& [name, src] : source_of) {
        drop_database("PGHAUL_TGT_SUPER", src.second + "_copy");
        drop_database(src.first, src.second);
    }
}

// The cap that holds across shards: three shards at once under [target]
// max_connections = 4 (jobs 2 each, which would be 9 connections), the
// target's pghaul sessions sampled all along; one shard dies mid-run (kill
// -9 after its first table) and is run again by its index with --resume, as
// an Indexed Job retries it. Every database ends equal to its source, each
// source in exactly one shard's report.
TEST_CASE("three shards under max_connections = 4 stay within it; a shard killed mid-run reruns by index") {
    const auto prefix = unique_name("capped");
    std::map<std::string, std::pair<std::string, std::string>> source_of;  // name -> (server, database)
    for (int i = 0; i < 3; ++i) {
        make_source("PGHAUL_SRC_A_SUPER", prefix + "_a" + std::to_string(i), 3000 + 7000 * i);
        make_source("PGHAUL_SRC_B_SUPER", prefix + "_b" + std::to_string(i), 4000 + 6000 * i);
        source_of["srva." + prefix + "_a" + std::to_string(i)] = {"PGHAUL_SRC_A_SUPER", prefix + "_a" + std::to_string(i)};
        source_of["srvb." + prefix + "_b" + std::to_string(i)] = {"PGHAUL_SRC_B_SUPER", prefix + "_b" + std::to_string(i)};
    }
    temp_file sizes("sizes.json", "");
    temp_file report("capped.json", "");
    temp_file manifest("fleet.toml", "[target]\nconninfo = \"" + server("PGHAUL_TGT").to_string() +
                                         "\"\nmax_connections = 4\n\n[run]\njobs = 2\nmissing_roles = \"owner\"\n"
                                         "\n[[source]]\nname = \"srva\"\nconninfo = \"" +
                                         server("PGHAUL_SRC_A").to_string() + "\"\ndatabases = [\"" + prefix +
                                         "_*\"]\ntarget_db = \"{database}_copy\"\n\n[[source]]\nname = \"srvb\"\n"
                                         "conninfo = \"" +
                                         server("PGHAUL_SRC_B").to_string() + "\"\ndatabases = [\"" + prefix +
                                         "_*\"]\ntarget_db = \"{database}_copy\"\n");
    REQUIRE(run_pghaul({"run", manifest.path, "--shards", "3", "--dry-run", "--sizes", sizes.path}).exit_status == 0);
    // A cap that leaves no worker would wait for ever: refused at once.
    for (auto [cap, verify] : {std::pair{"1", "none"}, std::pair{"3", "counts"}}) {
        auto r = run_pghaul({"run", manifest.path, "--shard", "0/3", "--sizes", sizes.path, "--max-connections", cap,
                             "--verify", verify});
        CHECK(r.exit_status == 2);
        CHECK(r.err.find("leaves the run no worker") != std::string::npos);
    }

    std::atomic<bool> sampling{true};
    std::atomic<std::int64_t> most{0}, samples{0};
    std::thread sampler([&] {
        auto c = connect("PGHAUL_TGT_SUPER", "postgres");
        while (sampling) {
            const auto n = c.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pghaul/%' "
                                  "AND application_name <> 'pghaul/slot-probe'")
                               .i64(0, 0);
            most = std::max(most.load(), n);
            ++samples;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    auto shard = [&](int i, std::vector<std::string> env, std::vector<std::string> extra = {}) {
        return std::async(std::launch::async, [&, i, env, extra] {
            std::vector<std::string> args = {"run", manifest.path, "--shard", std::to_string(i) + "/3",
                                             "--sizes", sizes.path, "--report", report.path};
            args.insert(args.end(), extra.begin(), extra.end());
            return run_pghaul(args, env);
        });
    };
    auto s0 = shard(0, {}), s1 = shard(1, {}), s2 = shard(2, {"PGHAUL_FAULT=kill:data"});
    const auto r0 = s0.get(), r1 = s1.get(), r2 = s2.get();
    CHECK(r0.exit_status == 0);
    CHECK(r1.exit_status == 0);
    CHECK(r2.exit_status == 128 + 9);
    // Shard 2 again, by its index, continuing what it committed.
    const auto again = shard(2, {}, {"--resume"}).get();
    CHECK_MESSAGE(again.exit_status == 0, again.err);
    sampling = false;
    sampler.join();

    CHECK(samples > 10);
    CHECK(most <= 4);
    CHECK(most >= 2);
    CHECK((r0.err + r1.err + r2.err).find("free connection slots on the target (its max_connections = 4") !=
          std::string::npos);
    for (auto& [name, src] : source_of) {
        CAPTURE(name);
        CHECK(table_fingerprints("PGHAUL_TGT_SUPER", src.second + "_copy") == table_fingerprints(src.first, src.second));
    }
    std::set<std::string> all;
    for (int i = 0; i < 3; ++i) {
        const auto rep = report_beside(report, "capped.shard-" + std::to_string(i) + "-of-3.json");
        for (auto& s : rep["sources"]) {
            // The rerun skips what the killed attempt finished (none here, unless it raced ahead).
            CHECK((s["status"] == "done" || (i == 2 && s["status"] == "skipped")));
            CHECK(all.insert(s["name"].get<std::string>()).second);
        }
    }
    CHECK(all.size() == source_of.size());
    // One report for the night: the three shards' merged, every source in it, done.
    temp_file merged("merged.json", "");
    const auto dir = std::filesystem::path(report.path).parent_path();
    auto merge = run_pghaul({"report", "--merge", (dir / "capped.shard-0-of-3.json").string(),
                             (dir / "capped.shard-1-of-3.json").string(), (dir / "capped.shard-2-of-3.json").string(),
                             "--json", merged.path});
    CHECK_MESSAGE(merge.exit_status == 0, merge.err);
    const auto night = nlohmann::json::parse(read_file(merged.path));
    CHECK(night["sources"].size() == source_of.size());
    CHECK(night["shards"].size() == 3);
    for (auto& [name, src] : source_of) {
        drop_database("PGHAUL_TGT_SUPER", src.second + "_copy");
        drop_database(src.first, src.second);
    }
}
