// pghaul report --merge as a user runs it, on shard reports written here (no
// server): the merged JSON and HTML, a missing shard named for its rerun with
// exit 8 after both are written, and refusals that write nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace harness;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json shard_json(int index, int count, const std::string& source, const json& split) {
    return {
        {"target", "admin@tgt:5432/postgres"},
        {"seconds", 3.5},
        {"exit_code", 0},
        {"command",
         {"pghaul", "run", "fleet.toml", "--shard", std::to_string(index) + "/" + std::to_string(count)}},
        {"roles", {{"mode", "fail"}}},
        {"sources",
         {{{"name", source},
           {"status", "done"},
           {"target_db", source},
           {"tables", 1},
           {"tables_planned", 1},
           {"rows", 10},
           {"bytes", 8192},
           {"seconds", 1.0},
           {"timeline",
            {{{"phase", "copy"}, {"object", "public.t"}, {"worker", 1}, {"start_s", 0.2}, {"end_s", 0.9}}}},
           {"table_details", json::array()}}}},
        {"shard", {{"index", index}, {"count", count}, {"sizes_from", "live"}, {"assignment", split}}}};
}

}  // namespace

TEST_CASE("pghaul report --merge: shards' reports into one JSON and HTML; a missing shard is exit 8") {
    const json split = {{"a", 0}, {"b", 1}, {"c", 2}};
    temp_file s0("fleet.shard-0-of-3.json", shard_json(0, 3, "a", split).dump());
    const fs::path dir = fs::path(s0.path).parent_path();
    const auto s2 = (dir / "fleet.shard-2-of-3.json").string(),
               s1 = (dir / "fleet.shard-1-of-3.json").string();
    std::ofstream(s2) << shard_json(2, 3, "c", split).dump();
    const auto out_json = (dir / "merged.json").string(), out_html = (dir / "merged.html").string();

    auto partial = run_pghaul({"report", "--merge", s0.path, s2, "--json", out_json, "--html", out_html});
    CHECK(partial.exit_status == 8);
    CHECK(partial.err.find("shard 1 of 3: no report given; listed as missing: \"b\"") != std::string::npos);
    CHECK(partial.err.find("HINT: run it: pghaul run fleet.toml --shard 1/3") != std::string::npos);
    auto merged = json::parse(read_file(out_json));
    CHECK(merged["exit_code"] == 8);
    REQUIRE(merged["sources"].size() == 3);
    CHECK(merged["sources"][1]["status"] == "missing");
    CHECK(merged["shards"][1]["status"] == "missing");
    CHECK(read_file(out_html).find("1 of 3 sources missing") != std::string::npos);

    // With the third shard: exit 0, sources in shard order.
    std::ofstream(s1) << shard_json(1, 3, "b", split).dump();
    fs::remove(out_html);
    auto whole = run_pghaul({"report", "--merge", s2, s1, s0.path, "--html", out_html});
    CHECK(whole.exit_status == 0);
    CHECK(read_file(out_html).find("All 3 sources done") != std::string::npos);

    // Shards of another split: refused before anything is written, naming both files.
    std::ofstream(s1) << shard_json(1, 3, "b", {{"a", 0}, {"b", 2}, {"c", 2}}).dump();
    fs::remove(out_json);
    auto apart = run_pghaul({"report", "--merge", s0.path, s1, s2, "--json", out_json});
    CHECK(apart.exit_status == 2);
    CHECK(apart.err.find("the shards split the manifest differently") != std::string::npos);
    CHECK(apart.err.find(s0.path) != std::string::npos);
    CHECK(apart.err.find(s1) != std::string::npos);
    CHECK(apart.err.find("HINT: re-run them with the same --sizes file") != std::string::npos);
    CHECK_FALSE(fs::exists(out_json));

    // Each form's missing pieces are usage errors.
    auto nothing = run_pghaul({"report", "--merge", s0.path, s2});
    CHECK(nothing.exit_status == 2);
    CHECK(nothing.err.find("without --json or --html") != std::string::npos);
    auto two = run_pghaul({"report", s0.path, s2, "--html", out_html});
    CHECK(two.exit_status == 2);
    CHECK(two.err.find("pghaul report --merge") != std::string::npos);
    auto not_report = run_pghaul({"report", "--merge", s0.path, out_html, "--json", out_json});
    CHECK(not_report.exit_status == 2);
    CHECK(not_report.err.find("report \"" + out_html + "\" is not valid JSON") != std::string::npos);
    CHECK_FALSE(fs::exists(out_json));
}
