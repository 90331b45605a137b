// --shards, --shard and --sizes of `pghaul run`: one consolidation split
// across hosts, each running one shard of the manifest's sources (a
// Kubernetes Indexed Job, an AWS Batch array job, or hosts by hand).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <string>

#include "engine/copy/run_config.hpp"

namespace pghaul::cli {

struct shard_flags {
    int shards = 0;     // --shards N
    std::string shard;  // --shard I/N
    std::string sizes;  // --sizes FILE
};

void add_shard_flags(CLI::App& run, shard_flags& flags);

// What the flags ask for; throws usage errors naming the flag and the form
// it expects. --shards N without --shard, outside a dry run, takes this
// shard's index from JOB_COMPLETION_INDEX, else AWS_BATCH_JOB_ARRAY_INDEX
// (looked up through `env`).
using env_lookup = std::function<const char*(const char*)>;
engine::shard_spec shard_spec_of(
    const shard_flags& flags, bool dry_run,
    const env_lookup& env = [](const char* name) -> const char* { return std::getenv(name); });

// The report of shard I of N: {shard} in `path` replaced by I, else
// ".shard-I-of-N" before its extension (night.json: night.shard-3-of-8.json).
// Not sharded (or a dry run of all shards), or no path: `path` as it is.
std::string shard_path(const std::string& path, const engine::shard_spec& spec);

}  // namespace pghaul::cli
