// --shards: the split every shard computes on its own must be the same
// whatever order it lists the sources in, and balanced; no server.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine/copy/shard_split.hpp"

using namespace pghaul::engine;

namespace {

std::vector<std::int64_t> loads(const std::vector<sized_source>& sources,
                                const std::map<std::string, int>& split, int shards) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(shards));
    for (auto& s : sources) out[static_cast<std::size_t>(split.at(s.name))] += s.bytes;
    return out;
}

}  // namespace

TEST_CASE("the split is the same for every order of the same sources") {
    // Equal sizes among them, so the order of ties is exercised too.
    std::vector<sized_source> sources = {{"a", 50}, {"b", 20}, {"c", 20}, {"d", 70}, {"e", 5}, {"f", 20}};
    std::sort(sources.begin(), sources.end(), [](auto& x, auto& y) { return x.name < y.name; });
    const auto first = split_into_shards(sources, 3);
    int orders = 0;
    do {
        CHECK(split_into_shards(sources, 3) == first);
        ++orders;
    } while (std::next_permutation(sources.begin(), sources.end(),
                                   [](auto& x, auto& y) { return x.name < y.name; }));
    CHECK(orders == 720);
}

TEST_CASE("largest first onto the least loaded shard balances the bytes") {
    const std::vector<sized_source> sources = {{"s10", 10}, {"s9", 9}, {"s8", 8}, {"s7", 7},
                                               {"s6", 6},   {"s5", 5}, {"s4", 4}};
    const auto split = split_into_shards(sources, 3);
    CHECK(split.at("s10") == 0);
    CHECK(split.at("s9") == 1);
    CHECK(split.at("s8") == 2);
    CHECK(split.at("s7") == 2);
    CHECK(split.at("s6") == 1);
    CHECK(split.at("s5") == 0);
    CHECK(split.at("s4") == 0);
    CHECK(loads(sources, split, 3) == std::vector<std::int64_t>{19, 15, 15});

    // One big database and many small ones: the big one has a shard to itself.
    std::vector<sized_source> fleet = {{"big", 1000}};
    for (int i = 0; i < 40; ++i) fleet.push_back({"small" + std::to_string(i), 25});
    const auto f = split_into_shards(fleet, 2);
    CHECK(loads(fleet, f, 2) == std::vector<std::int64_t>{1000, 1000});
    CHECK(std::count_if(f.begin(), f.end(), [](auto& kv) { return kv.second == 0; }) == 1);
}

TEST_CASE("more shards than sources leaves shards empty; one shard takes everything") {
    const std::vector<sized_source> sources = {{"a", 1}, {"b", 2}};
    const auto wide = split_into_shards(sources, 5);
    CHECK(wide.at("b") == 0);
    CHECK(wide.at("a") == 1);
    CHECK(loads(sources, wide, 5) == std::vector<std::int64_t>{2, 1, 0, 0, 0});
    for (auto& [name, shard] : split_into_shards(sources, 1)) CHECK(shard == 0);
    CHECK(split_into_shards({}, 4).empty());
}

TEST_CASE("ties: equal sizes go by name in byte order, equal loads to the lowest shard") {
    // 'B' (0x42) < 'a' (0x61) < 'z' < "é" (0xC3 0xA9): bytes, not locale, not signed char.
    const std::vector<sized_source> sources = {{"\xc3\xa9t\xc3\xa9", 7}, {"z", 7}, {"a", 7}, {"B", 7}};
    const auto split = split_into_shards(sources, 3);
    CHECK(split.at("B") == 0);
    CHECK(split.at("a") == 1);
    CHECK(split.at("z") == 2);
    CHECK(split.at("\xc3\xa9t\xc3\xa9") == 0);
}

TEST_CASE("the dry run's table: per shard its count, size, estimate and names") {
    const std::vector<sized_source> sources = {{"b", 3LL << 30}, {"a", 1LL << 30}, {"c", 1LL << 30}};
    const auto split = split_into_shards(sources, 3);
    const auto text = describe_shards(sources, split, 3, 150.0);
    CHECK(text.find("    0        1     3.0 GB        20 s  b\n") != std::string::npos);
    CHECK(text.find("    1        1     1.0 GB         7 s  a\n") != std::string::npos);
    CHECK(text.find("    2        1     1.0 GB         7 s  c\n") != std::string::npos);
    CHECK(
        describe_shards(sources, split_into_shards(sources, 4), 4, 150.0).find("    3        0        0 B") !=
        std::string::npos);
}
