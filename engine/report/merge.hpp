// A sharded run (pghaul run --shard I/N) writes one report per shard; merged,
// they are one report of the shape render_html_report takes, over the files'
// JSON alone (no file, no server: unit-tested as data).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/error.hpp"

namespace pghaul::engine {

struct shard_report {
    std::string file;  // named in messages and in the merged report's "shards"
    nlohmann::json report;
};

struct merged_report {
    nlohmann::json report;
    // One per shard to run again (its report missing, a source of its part
    // missing from it, or it failed), said once the outputs are written.
    std::vector<error> to_rerun;
};

// Every source of every shard, marked with its shard ("shard": I; its timing
// stays relative to its own shard's start), a "missing" source for each one
// of the manifest's split that no report has, "shards" (one entry per shard
// index, given or not), "seconds" the longest shard's, and "exit_code":
//   0 when every shard was given, exited 0 and has all its sources; else
//   8 when a shard or a source is missing; else
//   130/143 when a shard was interrupted (the first by shard index); else
//   the shards' code when all exited with the same one; else
//   8 (some sources failed, the others are done).
// One report without "shard" (a run without --shard) merges into itself.
// Throws exit_code::usage naming the files when the reports do not fit
// together: several without "shard", different shard counts, two reports of
// one shard, shards that split the manifest differently, a source in two.
merged_report merge_shard_reports(const std::vector<shard_report>& shards);

}  // namespace pghaul::engine
