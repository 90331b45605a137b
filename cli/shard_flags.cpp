// The --shards flags (see the header).
#include "cli/shard_flags.hpp"

#include <filesystem>
#include <regex>

#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

constexpr int max_shards = 1000;

// The hint of every mistake in a shard's number.
constexpr const char* numbering =
    "shards are numbered from 0, as JOB_COMPLETION_INDEX (Kubernetes Indexed Job) and "
    "AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) number them: --shard 0/8 to --shard 7/8";

// "I/N" with 0 <= I < N <= max_shards.
engine::shard_spec parse_index_of(const std::string& text) {
    static const std::regex form(R"(([0-9]{1,4})/([0-9]{1,4}))");
    std::smatch m;
    if (std::regex_match(text, m, form)) {
        const int index = std::stoi(m[1].str()), count = std::stoi(m[2].str());
        if (count >= 1 && count <= max_shards && index < count) return {index, count, {}};
    }
    throw error(exit_code::usage,
                "--shard \"" + text + "\": expected I/N, this shard's index I (0 to N-1) of N shards (1 to " +
                    std::to_string(max_shards) + ")",
                numbering);
}

// The index a Kubernetes Indexed Job or an AWS Batch array job gives its pod or job.
int index_from_environment(int count, const env_lookup& env) {
    for (const char* var : {"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"}) {
        const char* value = env(var);
        if (!value || !*value) continue;
        static const std::regex digits("[0-9]{1,4}");
        if (std::regex_match(value, digits) && std::stoi(value) < count) return std::stoi(value);
        throw error(exit_code::usage,
                    std::string(var) + "=\"" + value + "\" is not a shard index from 0 to " +
                        std::to_string(count - 1) + " (--shards " + std::to_string(count) + ")",
                    numbering);
    }
    throw error(exit_code::usage, "--shards " + std::to_string(count) + " does not say which shard this is",
                "give --shard I/N, or set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it) or "
                "AWS_BATCH_JOB_ARRAY_INDEX (an AWS Batch array job sets it); --dry-run shows every shard");
}

}  // namespace

void add_shard_flags(CLI::App& run, shard_flags& flags) {
    run.add_option("--shards", flags.shards,
                   "split the sources across N hosts by database size, each running one shard; the index is "
                   "--shard's or, without it, JOB_COMPLETION_INDEX's, else AWS_BATCH_JOB_ARRAY_INDEX's (both "
                   "0-based); with --dry-run, the split of all shards")
        ->check(CLI::Range(1, max_shards))
        ->type_name("N")
        ->group("Shards");
    run.add_option("--shard", flags.shard,
                   "run shard I of N (I/N, 0-based: 0/8 to 7/8, the numbering of JOB_COMPLETION_INDEX and "
                   "AWS_BATCH_JOB_ARRAY_INDEX)")
        ->type_name("I/N")
        ->group("Shards");
    run.add_option(
           "--sizes", flags.sizes,
           "the sources' sizes the split comes from: --shards N --dry-run writes them to FILE, a shard "
           "reads them, so shards started at different times split alike")
        ->type_name("FILE")
        ->group("Shards");
}

engine::shard_spec shard_spec_of(const shard_flags& flags, bool dry_run, const env_lookup& env) {
    engine::shard_spec spec;
    if (!flags.shard.empty()) {
        spec = parse_index_of(flags.shard);
        if (flags.shards != 0 && flags.shards != spec.count)
            throw error(exit_code::usage,
                        "--shard " + flags.shard + " and --shards " + std::to_string(flags.shards) +
                            " disagree on the number of shards",
                        "give --shard I/N alone, or the same N to both");
    } else if (flags.shards != 0) {
        spec.count = flags.shards;
        if (!dry_run) spec.index = index_from_environment(spec.count, env);
    } else if (!flags.sizes.empty()) {
        throw error(
            exit_code::usage, "--sizes needs --shards N or --shard I/N",
            "write the sizes with --shards N --dry-run --sizes FILE, then run each shard with --sizes FILE");
    }
    spec.sizes_path = flags.sizes;
    return spec;
}

std::string shard_path(const std::string& path, const engine::shard_spec& spec) {
    if (path.empty() || spec.index < 0) return path;
    const std::string index = std::to_string(spec.index);
    if (auto at = path.find("{shard}"); at != std::string::npos) {
        std::string out = path;
        for (; at != std::string::npos; at = out.find("{shard}", at + index.size()))
            out.replace(at, 7, index);
        return out;
    }
    std::filesystem::path p(path);
    const auto tag = ".shard-" + index + "-of-" + std::to_string(spec.count);
    return (p.parent_path() / (p.stem().string() + tag + p.extension().string())).string();
}

}  // namespace pghaul::cli
