// What `pghaul run` is asked to do: one target, many sources, read from a
// manifest (cli/manifest.cpp) or built from `pghaul copy`'s flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/common/endpoint.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/name_pattern.hpp"

namespace pghaul::engine {

enum class on_existing { fail, replace, skip };

// What to do with roles the sources reference and the target lacks.
enum class missing_roles_mode {
    fail,    // list them all and stop before writing anything
    create,  // create them NOLOGIN on the target, memberships preserved
    owner,   // objects owned by the target login (pg_dump --no-owner); grants to them skipped
};

struct source_config {
    std::string name;  // label in logs and the report
    endpoint_config endpoint;
    std::string target_db;  // the new database on the target
    int jobs = 0;           // at most this many connections to this source (0: no own cap)
    std::map<std::string, std::string> role_map;  // source role -> target role
    std::string origin;                           // "file:line" of the manifest entry, for messages
    // A snapshot exported and held by someone else (pg_export_snapshot() in an
    // open transaction): copy as of it instead of exporting one, so a resumed
    // run reads what the interrupted one read.
    std::string snapshot;
    // Several databases of the server (shell patterns such as "*" or "app_*",
    // and exclusions): expanded into one source each before preflight (see
    // source_expand.hpp), with target_db as a template of {source} and
    // {database}. Empty: the conninfo's one database.
    std::vector<std::string> databases;
    std::vector<std::string> exclude_databases;
    // Databases --only or --exclude named as SOURCE.DATABASE: each must be
    // on the server (a typo in an --exclude would otherwise copy it).
    std::vector<std::string> named_databases;
    // Tables copied without their rows (pg_dump's --exclude-table-data): audit
    // logs, caches, queues. Their definitions, indexes and grants come along.
    std::vector<name_pattern> exclude_table_data;
    // Tables (also views, sequences) and schemas left out whole: pg_dump's
    // --exclude-table and --exclude-schema.
    relation_filter exclude;
    // The name a source role has on the target.
    std::string target_role(const std::string& role) const {
        auto it = role_map.find(role);
        return it == role_map.end() ? role : it->second;
    }
};

// --shards/--shard (pghaul run): this run is shard `index` of `count`, 0-based
// as JOB_COMPLETION_INDEX; index -1 with a count: a dry run of all shards.
// The split comes from the sources' sizes: read from sizes_path if given
// (a dry run of all shards writes it there), else from the servers.
struct shard_spec {
    int index = -1;
    int count = 0;  // 0: not sharded
    std::string sizes_path;
};

struct run_config {
    // --only/--exclude left part of the manifest out: even when this run
    // succeeds, the finished sources' state stays, so the full command run
    // again leaves them as they are.
    bool partial_selection = false;
    endpoint_config target;  // its dbname, if any, is the maintenance database
    std::string maintenance_db = "postgres";
    int jobs = 4;  // connections pghaul may use on the target in total
    // [target] max_connections: pghaul's connections to the target at most,
    // across every process with the same cap (the shards of a run): kept by
    // the target in advisory locks (target_slots.hpp). 0: no such cap.
    int max_connections = 0;
    on_existing existing = on_existing::fail;
    missing_roles_mode missing_roles = missing_roles_mode::fail;
    bool no_privileges = false;
    std::string report_path;  // JSON report; empty: none
    std::string pg_dump = "pg_dump";
    // Tables bigger than this (heap + TOAST) are copied in ctid page ranges of
    // about split_part_size by several connections at once; 0 turns it off.
    // Measured at 3 GB on 2 cores (bench/README.md): splitting cost 1.7 s of
    // 14.5 (parts contend for the table's extension lock and lose FREEZE, and
    // there is no idle core to fill), so only really big tables split.
    std::int64_t split_tables_larger_than = 4LL << 30;
    std::int64_t split_part_size = 256LL << 20;
    bool analyze = true;  // ANALYZE each table once loaded and indexed
    // Also the small tables (under 1 MB) that autovacuum will analyze on its
    // own within about autovacuum_naptime of the run: more rows than its
    // threshold, on a target where it runs. Off by default: on a fleet of
    // application databases those ANALYZEs were a fifth of the run's CPU
    // (bench/README.md), work the pg_dump | pg_restore loop leaves to
    // autovacuum too; the tables autovacuum never analyzes (fewer rows) and
    // the bigger ones, whose statistics matter most, are still analyzed.
    bool analyze_all = false;
    // Bounded memory: all units' in-flight COPY data together; beyond it data
    // is zstd-compressed (compression_level; 0 stores) into spool files under
    // spool_dir (default: the temporary directory), at most spool_limit bytes
    // (0: no spooling, the reader waits for the writer instead).
    std::int64_t memory_limit = 64LL << 20;
    std::string spool_dir;
    std::int64_t spool_limit = 8LL << 30;
    int compression_level = 1;
    // At the end of each source, before its snapshot is released: none (the
    // per-table row counts only, always done), counts (also sequences, schema
    // objects, owners, privileges, settings), checksums (and content sums).
    enum class verify_level { none, counts, checksums } verify = verify_level::none;
    // The state journal (engine/journal.hpp): one file per target database in
    // state_dir. A run that finds one refuses unless told to continue what it
    // records (resume) or to drop the unfinished database and start over (restart).
    std::string state_dir = "pghaul-state";  // the CLI passes a per-user absolute default
    // password_command: killed after this long; run again for a connection
    // opened once its last result is this old (tokens expire).
    std::chrono::seconds password_command_timeout{30};
    std::chrono::seconds password_max_age{600};
    // A unit that failed on a lost or refused connection is retried until
    // this long after its first failure (a failover or reboot takes minutes).
    std::chrono::seconds retry_window{300};
    // Locking the source's tables waits this long for a session holding one
    // in ACCESS EXCLUSIVE mode (saying who, every 10 s); 0: as long as it takes.
    std::chrono::seconds lock_wait_timeout{0};
    enum class earlier_state { refuse, resume, restart } earlier = earlier_state::refuse;
    shard_spec shard;
    std::vector<source_config> sources;
};

}  // namespace pghaul::engine
