// Splitting one run's sources across hosts (--shards): which shard runs
// which source, from the sources' sizes alone, so every shard that is given
// the same sizes computes the same split without talking to the others.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pghaul::engine {

struct sized_source {
    std::string name;  // unique among the sources
    std::int64_t bytes = 0;
};

// The shard (0 .. shards - 1) of each source, by name. Largest first (ties by
// name, in byte order), each onto the shard with the fewest bytes so far
// (ties: the one with fewer sources, then the lowest index): the same sources in any order give the same split.
// A source is never split; with more shards than sources some stay empty.
std::map<std::string, int> split_into_shards(const std::vector<sized_source>& sources, int shards);

// For --shards N --dry-run: one line per shard with its sources, bytes, an
// estimate at `mb_per_s`, and the names of its sources.
std::string describe_shards(const std::vector<sized_source>& sources,
                            const std::map<std::string, int>& shard_of, int shards, double mb_per_s);

}  // namespace pghaul::engine
