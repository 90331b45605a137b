// Merging a sharded run's reports, as data: sources of every shard marked with
// it, missing shards and sources listed and named for a rerun, each refusal
// (not a shard's report, other counts, one index twice, another split, a
// source in two), the exit code rule, and the merged report rendered.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "engine/report/html.hpp"
#include "engine/report/merge.hpp"

using namespace pghaul::engine;
using nlohmann::json;

namespace {

json source(const std::string& name, const std::string& status = "done", int rows = 100) {
    return {{"name", name},
            {"status", status},
            {"target_db", name + "_db"},
            {"tables", 2},
            {"tables_planned", 2},
            {"rows", rows},
            {"bytes", 1048576},
            {"seconds", 2.0},
            {"started_s", 0.1},
            {"ended_s", 2.1},
            {"warnings", json::array()},
            {"table_details", json::array()},
            {"timeline",
             {{{"phase", "copy"}, {"object", "public.t"}, {"worker", 1}, {"start_s", 0.5}, {"end_s", 1.5}}}}};
}

// a and b in shard 0, c in shard 1, d in shard 2.
const json fleet_split = {{"a", 0}, {"b", 0}, {"c", 1}, {"d", 2}};

shard_report shard_file(int index, int count, json sources, int code = 0, json split = fleet_split) {
    return {fmt::format("fleet.shard-{}-of-{}.json", index, count),
            {{"target", "admin@tgt:5432/postgres"},
             {"seconds", 10.0 + index},
             {"exit_code", code},
             {"host", fmt::format("pod-{}", index)},
             {"command", {"pghaul", "run", "fleet.toml", "--shard", fmt::format("{}/{}", index, count)}},
             {"roles", {{"mode", "create"}, {"created", {fmt::format("role_{}", index % 2)}}}},
             {"sources", std::move(sources)},
             {"shard",
              {{"index", index}, {"count", count}, {"sizes_from", "sizes.json"}, {"assignment", split}}}}};
}

std::vector<shard_report> whole_fleet() {
    return {shard_file(2, 3, {source("d")}), shard_file(0, 3, {source("a"), source("b", "done", 50)}),
            shard_file(1, 3, {source("c")})};
}

// The refusal's message and hint (every refusal is a usage error).
std::string refusal(const std::vector<shard_report>& shards) {
    try {
        merge_shard_reports(shards);
    } catch (const pghaul::error& e) {
        CHECK(e.code() == pghaul::exit_code::usage);
        return std::string(e.what()) + "\nHINT: " + e.hint();
    }
    FAIL("merged");
    return "";
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("merge: every shard's sources, marked with their shard, in shard order") {
    auto m = merge_shard_reports(whole_fleet());
    const auto& r = m.report;
    REQUIRE(r["sources"].size() == 4);
    std::vector<std::pair<std::string, int>> got;
    for (auto& s : r["sources"]) got.emplace_back(s["name"], s["shard"]);
    CHECK(got == std::vector<std::pair<std::string, int>>{{"a", 0}, {"b", 0}, {"c", 1}, {"d", 2}});
    // Timing stays relative to the source's own shard's start.
    CHECK(r["sources"][3]["timeline"][0]["start_s"] == 0.5);
    CHECK(r["sources"][3]["started_s"] == 0.1);
    CHECK(r["seconds"] == 12.0);  // the longest shard
    CHECK(r["exit_code"] == 0);
    CHECK(r["target"] == "admin@tgt:5432/postgres");
    CHECK(m.to_rerun.empty());
    REQUIRE(r["shards"].size() == 3);
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        const auto& e = r["shards"][i];
        CHECK(e["index"] == i);
        CHECK(e["file"] == fmt::format("fleet.shard-{}-of-3.json", i));
        CHECK(e["status"] == "done");
        CHECK(e["exit_code"] == 0);
        CHECK(e["seconds"] == 10.0 + i);
        CHECK(e["host"] == fmt::format("pod-{}", i));
        CHECK(e["sizes_from"] == "sizes.json");
    }
    CHECK(r["shards"][0]["sources"] == 2);
    // Roles are global on the target: each name once.
    CHECK(r["roles"]["created"] == json{"role_0", "role_1"});
    CHECK(r["roles"]["mode"] == "create");
}

TEST_CASE("merge: the merged report renders with totals over all shards and a row per shard's worker") {
    auto html = render_html_report(merge_shard_reports(whole_fleet()).report);
    CHECK(has(html, "All 4 sources done"));
    CHECK(has(html, "<dd>350</dd>"));  // rows: 100 + 50 + 100 + 100
    CHECK(has(html, "<dd>4.0 MB</dd>"));
    for (int i = 0; i < 3; ++i) {
        CHECK(has(html, fmt::format("shard {} \u00b7 worker 1", i)));
        CHECK(has(html, fmt::format("fleet.shard-{}-of-3.json", i)));
    }
    CHECK(has(html, "(shard 2)"));
    CHECK(has(html, "each shard's times count from its own start"));
}

TEST_CASE("merge: a missing shard's sources are listed as missing, the code is 8, the rerun is named") {
    auto shards = whole_fleet();
    shards.erase(shards.begin() + 2);  // shard 1
    auto m = merge_shard_reports(shards);
    const auto& r = m.report;
    CHECK(r["exit_code"] == 8);
    REQUIRE(r["sources"].size() == 4);
    const auto& c = r["sources"][2];
    CHECK(c["name"] == "c");
    CHECK(c["status"] == "missing");
    CHECK(c["shard"] == 1);
    CHECK(c["rows"] == 0);
    CHECK(has(c["error"]["hint"], "pghaul run fleet.toml --shard 1/3"));
    CHECK(r["shards"][1]["status"] == "missing");
    CHECK(r["shards"][1]["file"].is_null());
    CHECK(r["shards"][1]["sources"] == 1);
    REQUIRE(m.to_rerun.size() == 1);
    CHECK(m.to_rerun[0].code() == pghaul::exit_code::partial);
    CHECK(has(m.to_rerun[0].what(), "shard 1 of 3: no report given"));
    CHECK(has(m.to_rerun[0].what(), "\"c\""));
    CHECK(has(m.to_rerun[0].hint(), "pghaul run fleet.toml --shard 1/3"));
    CHECK(has(render_html_report(r), "1 of 4 sources missing"));

    // Without an assignment, a missing shard is still one.
    auto bare = merge_shard_reports({shard_file(0, 2, {source("a")}, 0, json::object())});
    CHECK(bare.report["exit_code"] == 8);
    CHECK(bare.report["sources"].size() == 1);
    REQUIRE(bare.to_rerun.size() == 1);
    CHECK(has(bare.to_rerun[0].hint(), "--shard 1/2"));
}

TEST_CASE("merge: a source of the split that its shard's report lacks is missing") {
    auto shards = whole_fleet();
    shards[1] = shard_file(0, 3, {source("a")});  // no "b"
    auto m = merge_shard_reports(shards);
    CHECK(m.report["exit_code"] == 8);
    REQUIRE(m.report["sources"].size() == 4);
    CHECK(m.report["sources"][1]["name"] == "b");
    CHECK(m.report["sources"][1]["status"] == "missing");
    CHECK(m.report["shards"][0]["status"] == "done");
    REQUIRE(m.to_rerun.size() == 1);
    CHECK(has(m.to_rerun[0].what(), "fleet.shard-0-of-3.json"));
    CHECK(has(m.to_rerun[0].hint(), "--shard 0/3"));
}

TEST_CASE("merge: a multi-database source is split as one and reported per database") {
    const json split = {{"dev", 0}, {"prod", 1}};
    auto m = merge_shard_reports({shard_file(0, 2, {source("dev.app"), source("dev.crm")}, 0, split),
                                  shard_file(1, 2, {source("prod")}, 0, split)});
    CHECK(m.report["exit_code"] == 0);
    CHECK(m.report["sources"].size() == 3);
    CHECK(m.to_rerun.empty());
}

TEST_CASE("merge: the exit code") {
    auto codes = [](std::vector<int> c) {
        std::vector<shard_report> shards;
        const char* names[] = {"a", "c", "d"};
        for (int i = 0; i < 3; ++i)
            shards.push_back(shard_file(i, 3, {source(names[i], c[i] ? "failed" : "done")}, c[i],
                                        {{"a", 0}, {"c", 1}, {"d", 2}}));
        auto m = merge_shard_reports(shards);
        CHECK(m.to_rerun.size() ==
              static_cast<std::size_t>(std::count_if(c.begin(), c.end(), [](int x) { return x != 0; })));
        return m.report["exit_code"].get<int>();
    };
    CHECK(codes({0, 0, 0}) == 0);
    CHECK(codes({3, 3, 3}) == 3);  // all refused alike: the fleet was
    CHECK(codes({0, 4, 0}) == 8);  // some sources failed, the others are done
    CHECK(codes({7, 3, 0}) == 8);
    CHECK(codes({8, 143, 130}) == 143);  // interrupted says so, the first by shard index
    auto failed = merge_shard_reports({shard_file(0, 1, {source("a", "failed")}, 4, {{"a", 0}})});
    CHECK(failed.report["exit_code"] == 4);
    REQUIRE(failed.to_rerun.size() == 1);
    CHECK(failed.to_rerun[0].code() == pghaul::exit_code::source);
    CHECK(has(failed.to_rerun[0].what(), "exited 4: 1 of 1 sources failed"));
    CHECK(has(failed.to_rerun[0].hint(), "pghaul run fleet.toml --shard 0/1 --resume"));
    CHECK(failed.report["shards"][0]["status"] == "failed");
}

TEST_CASE("merge: one report without \"shard\" merges into itself; with others it is refused") {
    json plain = {{"target", "t"}, {"exit_code", 8}, {"sources", {source("a")}}};
    auto m = merge_shard_reports({{"plain.json", plain}});
    CHECK(m.report["sources"] == plain["sources"]);
    CHECK(m.report["exit_code"] == 8);
    CHECK(m.report["shards"][0]["file"] == "plain.json");
    CHECK(m.to_rerun.empty());

    auto why = refusal({shard_file(0, 3, {source("a"), source("b")}), {"plain.json", plain}});
    CHECK(has(why, "report \"plain.json\" has no \"shard\""));
    CHECK(has(why, "pghaul report plain.json --html"));
}

TEST_CASE("merge: reports of different splits, one shard twice, a source in two: refused, naming the files") {
    auto counts = refusal({shard_file(0, 3, {source("a")}), shard_file(1, 4, {source("c")})});
    CHECK(has(counts,
              "\"fleet.shard-0-of-3.json\" is shard 0 of 3 but \"fleet.shard-1-of-4.json\" is shard 1 of 4"));

    auto twice = whole_fleet();
    twice.push_back(shard_file(1, 3, {}));
    twice.back().file = "again.json";
    auto dup = refusal(twice);
    CHECK(has(dup, "\"fleet.shard-1-of-3.json\" and \"again.json\" are both shard 1 of 3"));

    auto other = whole_fleet();
    other[2] = shard_file(1, 3, {source("c")}, 0, {{"a", 0}, {"b", 1}, {"c", 1}, {"d", 2}});
    auto split = refusal(other);
    CHECK(has(split,
              "source \"b\" is in shard 0 by \"fleet.shard-0-of-3.json\" but in shard 1 by "
              "\"fleet.shard-1-of-3.json\": the shards split the manifest differently"));
    CHECK(has(split, "HINT: re-run them with the same --sizes file"));
    // A source one split has and the other lacks.
    other[2] = shard_file(1, 3, {source("c")}, 0, {{"a", 0}, {"b", 0}, {"c", 1}, {"d", 2}, {"e", 1}});
    CHECK(has(refusal(other), "source \"e\" is in no shard by \"fleet.shard-0-of-3.json\""));

    auto two = whole_fleet();
    two[0] = shard_file(2, 3, {source("d"), source("a")});
    auto both = refusal(two);
    CHECK(has(both,
              "source \"a\" is in two shards' reports: \"fleet.shard-0-of-3.json\" (shard 0) and "
              "\"fleet.shard-2-of-3.json\" (shard 2)"));
}

TEST_CASE("merge: a malformed \"shard\" or an unfinished shard's report is refused, naming it") {
    for (auto bad :
         {json("x"), json{{"index", 3}, {"count", 3}}, json{{"index", 0}, {"count", 0}},
          json{{"index", 0}, {"count", 2}, {"assignment", {{"a", 2}}}}, json{{"index", "0"}, {"count", 2}}}) {
        CAPTURE(bad.dump());
        auto r = shard_file(0, 2, {source("a")});
        r.report["shard"] = bad;
        CHECK(has(refusal({r}), "report \"fleet.shard-0-of-2.json\" has a malformed \"shard\""));
    }
    auto r = shard_file(0, 3, {source("a"), source("b")});
    r.report.erase("exit_code");
    CHECK(has(refusal({r}), "is not a finished shard's report"));
    CHECK(has(refusal({}), "no report to merge"));
}
