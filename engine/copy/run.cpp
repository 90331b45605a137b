// The run: preflight all sources (read-only), settle roles and extensions,
// then hand every source that is still good to the one scheduler.
#include "engine/copy/run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <semaphore>
#include <set>
#include <thread>

#include "engine/common/credentials.hpp"
#include "engine/common/fault.hpp"
#include "engine/common/interrupt.hpp"
#include "engine/common/via.hpp"
#include "engine/copy/data_path.hpp"
#include "engine/copy/dry_run.hpp"
#include "engine/copy/progress_tally.hpp"
#include "engine/copy/report.hpp"
#include "engine/copy/roles.hpp"
#include "engine/copy/shard_split.hpp"
#include "engine/copy/source_expand.hpp"
#include "engine/copy/source_job.hpp"
#include "engine/copy/source_sizes.hpp"
#include "engine/copy/target_slots.hpp"
#include "engine/copy/worker_pool.hpp"
#include "io/link/forwarder.hpp"
#include "protocol/size.hpp"

namespace pghaul::engine {
namespace {

// The copy rate a dry run's estimate assumes: measured 200-220 MB/s with
// --jobs 2 on the 2-core development VM (bench/README.md); real servers differ.
constexpr double assumed_mb_per_s = 150.0;

std::string dry_run_plan(const std::vector<std::unique_ptr<source_job>>& jobs, const nlohmann::json& roles,
                         const std::string& target, const run_config& cfg,
                         const std::vector<std::string>& matched) {
    std::string out = fmt::format("plan: {} source(s) into {} with {} connections on the target\n",
                                  jobs.size(), target, cfg.jobs);
    for (auto& m : matched) out += "databases matched by " + m + "\n";
    std::int64_t total = 0;
    for (auto& jp : jobs) {
        auto& j = *jp;
        const auto& cat = j.catalog();
        const auto o = j.outcome().copy();
        out += fmt::format("\n[{}] {} -> new database \"{}\"\n", j.name(), j.config().endpoint.ci.endpoint(),
                           j.target_db());
        if (o.status == source_status::skipped) {
            out += "  skipped: " + o.skipped_because + "\n";
            continue;
        }
        if (auto existing = j.existing_target(); !existing.empty()) out += "  " + existing + "\n";
        if (o.failure) out += "  WILL FAIL: " + std::string(o.failure->what()) + "\n";
        if (o.failure && o.failure->hint().size()) out += "  HINT: " + o.failure->hint() + "\n";
        for (auto& also : o.more_failures) {
            out += "  ALSO: " + std::string(also.what()) + "\n";
            if (also.hint().size()) out += "  HINT: " + also.hint() + "\n";
        }
        if (cat.tables.empty() && o.failure) continue;
        // The tables' sizes, as the table list, the progress and the report
        // count them; the database's size on disk (catalog, free space) apart.
        const std::int64_t bytes = cat.data_bytes();
        total += bytes;
        out += fmt::format(
            "  {} in {} tables ({} database on disk), {} sequences, {} large objects; estimated {:.0f} s at "
            "{:.0f} MB/s\n",
            format_size(bytes), cat.tables.size(), format_size(cat.database.bytes), cat.sequences.size(),
            cat.large_objects.size(), static_cast<double>(bytes) / 1048576.0 / assumed_mb_per_s,
            assumed_mb_per_s);
        out += describe_tables(cat);
        out += "  steps: " + describe_steps(cat, cfg.analyze) + "\n";
        if (!cat.extensions.empty()) {
            out += "  extensions:";
            for (auto& [n, v] : cat.extensions) out += " " + n + " " + v;
            out += "\n";
        }
        for (auto& [from, to] : j.config().role_map) out += "  role map: " + from + " -> " + to + "\n";
        if (roles["missing"].contains(j.name()))
            out += "  roles missing on the target: " + roles["missing"][j.name()].dump() + "\n";
        for (auto& w : o.warnings) out += "  warning: " + w + "\n";
    }
    if (!roles["to_create"].empty())
        out += "\nroles to create (NOLOGIN): " + roles["to_create"].dump() + "\n";
    for (auto& s : roles["shared"])
        out += "shared role: " + s["role"].get<std::string>() + " is used by " + s["sources"].dump() + "\n";
    out += fmt::format("\ntotal {}; estimated {:.0f} s\n", format_size(total),
                       static_cast<double>(total) / 1048576.0 / assumed_mb_per_s);
    return out;
}

// --shards/--shard: every source of the manifest (after expansion) split by
// size, and cfg.sources narrowed to this shard's. The state directory may be
// shared by shards as it is: journals are one per target database
// (journal::path_for), each locked while a run holds it, and shards run
// disjoint sources, so disjoint target databases.
struct shard_choice {
    nlohmann::json report;  // the report's "shard": what a merge of the shards' reports checks
    std::string table;      // for the dry run
};

shard_choice choose_shard(run_config& cfg, bool dry_run) {
    const auto& spec = cfg.shard;
    // A dry run of all shards writes the file the shards then read.
    const bool writes = dry_run && spec.index < 0 && !spec.sizes_path.empty();
    const bool from_file = !spec.sizes_path.empty() && !writes;
    if (!from_file && !dry_run)
        spdlog::warn(
            "the split into shards comes from sizes read now: shards started at different times may "
            "split the sources differently; write the sizes once with --shards {} --dry-run --sizes FILE "
            "and start every shard with --sizes FILE",
            spec.count);
    const auto sizes =
        from_file ? read_sizes_file(spec.sizes_path, cfg.sources) : read_live_sizes(cfg, dry_run);
    if (writes) write_sizes_file(spec.sizes_path, sizes);
    std::vector<sized_source> all;
    std::int64_t total = 0, mine = 0;
    for (auto& s : cfg.sources) {
        all.push_back({s.name, sizes.at(s.name)});
        total += all.back().bytes;
    }
    const auto shard_of = split_into_shards(all, spec.count);
    shard_choice out;
    out.report = {{"index", spec.index},
                  {"count", spec.count},
                  {"sizes_from", from_file ? spec.sizes_path : "live"},
                  {"assignment", shard_of}};
    if (dry_run)
        out.table = fmt::format("{} in {} shards by database size ({} in all; shards numbered from 0){}:\n",
                                counted(static_cast<std::int64_t>(all.size()), "source"), spec.count,
                                format_size(total), from_file ? ", sizes from " + spec.sizes_path : "") +
                    describe_shards(all, shard_of, spec.count, assumed_mb_per_s) +
                    (spec.index < 0 ? "" : fmt::format("the plan is of shard {}'s sources\n", spec.index)) +
                    "\n";
    if (spec.index < 0) return out;
    for (auto& s : all)
        if (shard_of.at(s.name) == spec.index) mine += s.bytes;
    std::erase_if(cfg.sources, [&](const source_config& s) { return shard_of.at(s.name) != spec.index; });
    spdlog::info("shard {} of {} (0-based): {} of {} sources, {} of {}", spec.index, spec.count,
                 cfg.sources.size(), all.size(), format_size(mine), format_size(total));
    return out;
}

// A shard with no sources (more shards than sources) succeeds at once, with
// its report: a merge still finds every shard's.
run_result empty_shard(const run_config& cfg, const shard_choice& shard, bool dry_run,
                       const event_sink& events) {
    run_result res;
    res.summary_line =
        fmt::format("shard {} of {} has no sources: nothing to do", cfg.shard.index, cfg.shard.count);
    res.plan = shard.table + res.summary_line + "\n";
    res.report = {{"target", cfg.target.ci.endpoint()},
                  {"seconds", 0.0},
                  {"sources", nlohmann::json::array()},
                  {"shard", shard.report},
                  {"exit_code", 0}};
    if (events && !dry_run)
        events(
            {{"event", "run_finished"}, {"exit_code", 0}, {"summary", res.summary_line}, {"seconds", 0.0}});
    return res;
}

// Progress from what pghaul moves itself (bytes read from the sources) against
// the planned sizes (see progress_tally); no load on the servers. One event a second.
nlohmann::json progress_event(const std::vector<std::unique_ptr<source_job>>& jobs, data_path& path,
                              std::chrono::steady_clock::time_point t0) {
    progress_tally tally;
    tally.read = path.bytes_read().load();
    nlohmann::json sources = nlohmann::json::array();
    std::int64_t index_planned = 0, index_done = 0;
    for (auto& j : jobs) {
        std::int64_t bytes = 0, finished = 0, indexing = 0;
        j->outcome().read([&](const outcome_fields& o) {
            for (auto& t : j->catalog().tables) {
                if (t.data_excluded) continue;  // nothing of it is read
                bytes += t.bytes;
                indexing += t.bytes * t.index_count;
                auto r = o.results.find(t.oid);
                if (r == o.results.end()) continue;
                finished += t.bytes;
                if (!r->second.earlier) tally.finished_read += r->second.bytes;
            }
            if (o.status != source_status::skipped) {
                tally.planned += bytes;
                tally.finished += finished;
                // Counted whole once the source is done, however its indexes were counted on the way.
                index_planned += indexing;
                index_done +=
                    o.status == source_status::done ? indexing : std::min(indexing, o.index_work_done);
            }
            sources.push_back({{"source", j->name()},
                               {"status", o.status == source_status::pending ? std::string_view("running")
                                                                             : status_name(o.status)},
                               {"tables_done", o.results.size()},
                               {"tables", j->catalog().tables.size()},
                               {"bytes_planned", bytes},
                               {"bytes_done", finished}});
        });
        // Behind an agent: the link's bytes as they move (the whole link's,
        // shared by the databases of one source entry).
        if (const auto& route = j->config().endpoint.route) {
            const auto t = route->totals();
            sources.back()["link_bytes"] = t.raw_received + t.raw_sent;
            sources.back()["link_wire_bytes"] = t.wire_received + t.wire_sent;
        }
    }
    return {{"event", "progress"},
            {"elapsed_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
            {"bytes_read", tally.read},
            {"bytes_done", tally.done()},
            {"bytes_planned", tally.planned},
            {"index_work_done", index_done},
            {"index_work_planned", index_planned},
            {"sources", sources}};
}

double seconds_of(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}
double seconds_of(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e9;
}

// pghaul's own time: the process's CPU (and its children's, pg_dump), and
// on the data path, per role, CPU against what the threads waited for.
nlohmann::json profile_of(data_profile& p, double wall) {
    rusage self{}, children{};
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    const double reader_wall = seconds_of(p.reader_wall_ns.load()),
                 reader_cpu = seconds_of(p.reader_cpu_ns.load());
    const double reader_held = seconds_of(p.reader_held_ns.load());
    const double writer_wall = seconds_of(p.writer_wall_ns.load()),
                 writer_cpu = seconds_of(p.writer_cpu_ns.load());
    const double writer_starved = seconds_of(p.writer_starved_ns.load());
    const double cpu = seconds_of(self.ru_utime) + seconds_of(self.ru_stime);
    return {{"wall_s", wall},
            {"cpu_s", cpu},
            {"cpu_user_s", seconds_of(self.ru_utime)},
            {"cpu_system_s", seconds_of(self.ru_stime)},
            {"children_cpu_s", seconds_of(children.ru_utime) + seconds_of(children.ru_stime)},
            {"peak_rss_mib", static_cast<double>(self.ru_maxrss) / 1024.0},
            {"units", p.units.load()},
            {"readers",
             {{"wall_s", reader_wall},
              {"cpu_s", reader_cpu},
              {"held_back_s", reader_held},
              {"waiting_for_sources_s", std::max(0.0, reader_wall - reader_cpu - reader_held)}}},
            {"writers",
             {{"wall_s", writer_wall},
              {"cpu_s", writer_cpu},
              {"waiting_for_data_s", writer_starved},
              {"waiting_for_targets_s", std::max(0.0, writer_wall - writer_cpu - writer_starved)}}},
            {"elsewhere_cpu_s", std::max(0.0, cpu - reader_cpu - writer_cpu)}};
}

// Preflight of every source, nothing written: earlier attempts and the
// target's databases on the one maintenance connection, the sources (a
// connection, a snapshot and catalog queries each, mostly waiting) several
// at once. Each source's pg_dump starts as soon as its snapshot exists, so
// the dumps overlap the catalog reads, the other sources' preflight and the
// first loads.
void preflight_all(std::vector<std::unique_ptr<source_job>>& jobs, pg::connection& maint, bool dry_run,
                   std::counting_semaphore<>& dump_gate) {
    auto check_interrupt = [] {
        if (int sig = interrupt_signal())
            throw error(static_cast<exit_code>(128 + sig), "interrupted before anything was written");
    };
    auto pending = [&] {
        std::vector<source_job*> out;
        for (auto& j : jobs)
            if (j->status() == source_status::pending) out.push_back(j.get());
        return out;
    };
    // `go_on`: the step checks the target side only, so a dry run notes its
    // problem and goes on to check the source too (a run stops at the first).
    auto each = [&](source_job& j, auto step, bool go_on) {
        try {
            if (!step()) j.outcome().set_status(source_status::skipped);
        } catch (const error& e) {
            if (dry_run && go_on)
                j.note_problem(e);
            else
                j.fail(e);
        }
    };
    for (auto& j : jobs) {
        check_interrupt();
        each(
            *j, [&] { return j->preflight_earlier(maint, dry_run); }, true);
    }
    {
        auto todo = pending();
        std::atomic<std::size_t> next{0};
        const int target_version = maint.server_version();
        auto work = [&] {
            for (std::size_t i; (i = next++) < todo.size() && !run_stop_token().stop_requested();)
                each(
                    *todo[i],
                    [&] {
                        todo[i]->preflight_source(target_version, dry_run ? nullptr : &dump_gate);
                        return true;
                    },
                    false);
        };
        std::vector<std::jthread> threads;
        for (std::size_t t = 1; t < std::min<std::size_t>(todo.size(), 4); ++t) threads.emplace_back(work);
        work();
    }
    for (auto* j : pending()) {
        check_interrupt();
        if (!j->outcome().failure())  // a dry run's earlier-state problem already says what is there
            each(
                *j, [&] { return j->preflight_target(maint, dry_run); }, true);
    }
}

// How many workers the target lets this login connect: its CONNECTION
// LIMIT and the server's free slots, less what the login holds already (the
// run's maintenance connection among them). Fewer workers, with a warning,
// rather than a run that fails at its first refused connection.
int workers_within_limits(pg::connection& maint, int jobs) {
    auto r = maint.exec(
        "SELECT r.rolconnlimit, (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user), "
        "current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), r.rolsuper "
        "FROM pg_roles r WHERE r.rolname = current_user",
        "reading the target login's connection limits");
    const auto limit = r.i64(0, 0), mine = r.i64(0, 1), free = r.i64(0, 2);
    const bool super = r.boolean(0, 3);
    std::int64_t room = super ? jobs : free;
    if (limit >= 0) room = std::min(room, limit - mine);
    if (room >= jobs) return jobs;
    const int workers = static_cast<int>(std::max<std::int64_t>(1, room));
    spdlog::warn(
        "the target allows this login {} more connection(s) ({}): running with {} worker(s) instead of {}",
        std::max<std::int64_t>(0, room),
        limit >= 0 && limit - mine <= free ? "its connection limit is " + std::to_string(limit)
                                           : "the server's max_connections is nearly used up",
        workers, jobs);
    return workers;
}

}  // namespace

run_result run(const run_config& requested, bool dry_run, const event_sink& events) {
    auto t0 = std::chrono::steady_clock::now();
    run_result res;
    // Sources naming several databases become one source each (before the
    // jobs, which keep a reference to this config for the whole run).
    run_config cfg = requested;
    // Links to agents first: listing a server's databases goes through them too.
    for (auto& s : cfg.sources) {
        if (s.endpoint.via.address.empty()) continue;
        open_route(s.endpoint, "source \"" + s.name + "\"", 1);
        spdlog::info("[{}] reaching {} through the agent at {} (TLS, zstd)", s.name,
                     s.endpoint.route->server(), s.endpoint.via.address);
    }
    std::vector<std::string> matched;
    expand_sources(cfg, matched);
    std::optional<shard_choice> shard;
    if (cfg.shard.count > 0) shard = choose_shard(cfg, dry_run);
    if (shard && cfg.sources.empty()) return empty_shard(cfg, *shard, dry_run, events);
    fresh_credentials target_creds(cfg.target, "the target", cfg.password_command_timeout,
                                   cfg.password_max_age);
    conninfo server = target_creds.get().with_dbname(cfg.maintenance_db);
    // Under a cap: the maintenance connection, and a worker's connections (one,
    // and two more to verify a source), each a slot. A dry run only looks: no slot.
    const int per_worker = cfg.verify == run_config::verify_level::none ? 1 : 3;
    if (cfg.max_connections > 0 && cfg.max_connections < 1 + per_worker)
        throw error(exit_code::usage,
                    "[target] max_connections = " + std::to_string(cfg.max_connections) +
                        " leaves the run no worker: it needs " + std::to_string(1 + per_worker) +
                        (per_worker > 1 ? " with --verify (a worker verifies on two more connections)" : "") +
                        ", the maintenance connection and one worker's",
                    "raise max_connections, or leave it out for no cap");
    int slots = 0;
    auto maint = [&] {
        if (cfg.max_connections == 0 || dry_run) return pg::connection::open(server, "pghaul/admin", exit_code::target);
        auto s = open_with_slots(server, cfg.max_connections, 1 + per_worker, 1 + per_worker * cfg.jobs,
                                 run_stop_token());
        slots = s.slots;
        return std::move(s.conn);
    }();
    spdlog::info("target {} ({}): PostgreSQL {}", maint.endpoint(), maint.transport(),
                 maint.server_version() / 10000);
    if (!maint.exec("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
             .boolean(0, 0))
        throw error(exit_code::preflight,
                    "the target login on " + maint.endpoint() + " may not create databases",
                    "ALTER ROLE <login> CREATEDB, or ask the server's administrator");
    // A standby, or a login whose sessions start read-only, would fail at
    // CREATE DATABASE after the sources' snapshots are taken.
    auto ro =
        maint.exec("SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')::bool");
    if (ro.boolean(0, 0))
        throw error(exit_code::preflight, "the target " + maint.endpoint() + " is a standby (read-only)",
                    "point the target at the primary server");
    if (ro.boolean(0, 1))
        throw error(
            exit_code::preflight,
            "the target login's sessions on " + maint.endpoint() +
                " are read-only (default_transaction_read_only = on)",
            "ALTER ROLE <login> SET default_transaction_read_only = off, or use a login that may write");

    nlohmann::json profile;
    // At most this many pg_dumps at once (see preflight_all). Declared before
    // the jobs: their pending dumps use it until the jobs are gone.
    std::counting_semaphore<> dump_gate(std::max(2, cfg.jobs));
    std::vector<std::unique_ptr<source_job>> jobs;
    for (auto& s : cfg.sources) jobs.push_back(std::make_unique<source_job>(s, cfg, target_creds));
    preflight_all(jobs, maint, dry_run, dump_gate);
    check_extensions(jobs, maint);
    fault_point("roles");  // a test pauses here: every schema dump is converted before roles settle
    auto roles = settle_roles(jobs, maint, cfg, dry_run);
    int workers = cfg.jobs;  // fewer if the target's connection limits say so

    if (dry_run) {
        res.plan = (shard ? shard->table : "") + dry_run_plan(jobs, roles, maint.endpoint(), cfg, matched);
    } else {
        const bool many = cfg.sources.size() > 1;
        std::vector<source_job*> ready;
        for (auto& j : jobs) {
            if (j->status() == source_status::pending)
                ready.push_back(j.get());
            else if (auto f = j->outcome().failure(); f && many)
                spdlog::error("[{}] {}{}", j->name(), f->what(),
                              f->hint().empty() ? "" : "\nHINT: " + f->hint());
        }
        data_path path(cfg);
        shared_maintenance shared{maint, {}};
        for (auto* j : ready) {
            j->set_data_path(&path);
            j->set_maintenance(&shared);
        }
        if (events) {
            nlohmann::json plan = progress_event(jobs, path, t0);
            plan["event"] = "run_started";
            events(plan);
        }
        std::jthread ticker([&](std::stop_token st) {
            while (events && !st.stop_requested()) {
                std::mutex m;
                std::unique_lock lk(m);
                std::condition_variable_any().wait_for(lk, st, std::chrono::seconds(1), [] { return false; });
                if (!st.stop_requested()) events(progress_event(jobs, path, t0));
            }
        });
        workers = workers_within_limits(maint, cfg.jobs);
        if (slots > 0) {
            workers = std::min(workers, (slots - 1) / per_worker);
            spdlog::info("{} on the target within its max_connections = {} ({} slots held, with the "
                         "maintenance connection)",
                         counted(workers, "worker"), cfg.max_connections, slots);
        }
        auto stats = run_pool(ready, workers, cfg.retry_window, many, events);
        ticker.request_stop();
        if (events) events(progress_event(jobs, path, t0));  // the final numbers
        while (auto notice = path.take_notice()) spdlog::info("{}", *notice);
        auto peak = path.memory().peak();
        spdlog::debug("data path: peak {} of the memory budget",
                      format_size(static_cast<std::int64_t>(peak)));
        profile = profile_of(path.profile(),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        profile["connections"] = {{"opened", stats.target_opened + stats.reader_opened},
                                  {"target_opened", stats.target_opened},
                                  {"reader_opened", stats.reader_opened},
                                  {"snapshot_sessions_lent", stats.snapshot_sessions_lent},
                                  {"source_switches", stats.switches}};
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    auto report = make_report(jobs, maint.endpoint(), seconds, roles, t0);
    res.summary = report.table;
    res.report = std::move(report.json);
    res.report["target_transport"] = maint.transport();
    // Bytes on each agent link against the bytes they carried (a link is
    // shared by the databases of one source entry, which each name it).
    for (auto& j : jobs)
        if (const auto& route = j->config().endpoint.route)
            for (auto& s : res.report["sources"])
                if (s.value("name", "") == j->name()) s["via"] = {{"agent", route->agent()}, {"server", route->server()}};
    std::set<const link::forwarder*> seen;
    for (auto& s : cfg.sources) {
        const auto* f = s.endpoint.route.get();
        if (!f || !seen.insert(f).second) continue;
        const auto t = f->totals();
        const double ratio =
            t.wire_received ? static_cast<double>(t.raw_received) / static_cast<double>(t.wire_received) : 0;
        res.report["links"].push_back({{"agent", f->agent()},
                                       {"server", f->server()},
                                       {"connections", t.connections},
                                       {"received_bytes", t.raw_received},
                                       {"received_wire_bytes", t.wire_received},
                                       {"sent_bytes", t.raw_sent},
                                       {"sent_wire_bytes", t.wire_sent},
                                       {"ratio", ratio}});
        spdlog::info(
            "link to {} through the agent at {}: {} received as {} on the wire ({:.1f}x), {} connections",
            f->server(), f->agent(), format_size(static_cast<std::int64_t>(t.raw_received)),
            format_size(static_cast<std::int64_t>(t.wire_received)), ratio, t.connections);
    }
    if (!profile.is_null()) res.report["profile"] = std::move(profile);
    if (shard) res.report["shard"] = shard->report;
    std::uint64_t rows = 0, bytes = 0, tables = 0;
    for (auto& s : res.report["sources"]) {
        rows += s["rows"].get<std::uint64_t>();
        bytes += s["bytes"].get<std::uint64_t>();
        tables += s["tables"].get<std::uint64_t>();
    }
    res.summary_line = fmt::format("{}, {}, {} in {:.1f} s ({:.1f} MB/s)",
                                   counted(static_cast<std::int64_t>(tables), "table"),
                                   counted(static_cast<std::int64_t>(rows), "row"),
                                   format_size(static_cast<std::int64_t>(bytes)), seconds,
                                   seconds > 0 ? static_cast<double>(bytes) / 1048576.0 / seconds : 0.0);
    // Warnings (a setting the target lacks, an extension or collation version
    // that changed) scroll past in a long log: the last line counts them.
    // The run's own count too: a role shared by sources, fewer workers than asked.
    std::size_t warned = roles.value("shared", nlohmann::json::array()).size() + (workers < cfg.jobs ? 1 : 0);
    for (auto& j : jobs)
        warned += j->outcome().read([](const outcome_fields& o) { return o.warnings.size(); });
    if (warned > 0)
        res.summary_line +=
            fmt::format("; {} warning{} (see the log or the report)", warned, warned == 1 ? "" : "s");
    // Of several sources, each failure says whose it is: the recap at the end
    // and run_finished are read long after the per-source lines scrolled by.
    // A source behind an agent: libpq only saw its connection close, the
    // link knows why (the agent gone, its refusal).
    for (auto& j : jobs)
        if (const auto f = j->outcome().failure(); f) {
            std::string hint = f->hint();
            if (const auto& route = j->config().endpoint.route; route && !route->last_error().empty())
                hint = "the link said: " + route->last_error() + (hint.empty() ? "" : "; ") + hint;
            res.failures.push_back(error(f->code(), (cfg.sources.size() == 1 ? "" : "[" + j->name() + "] ") + f->what(),
                                         hint, f->sqlstate(), f->disposition()));
        }
    if (res.failures.empty() && !dry_run && !cfg.partial_selection)
        for (auto& j : jobs) j->forget_state();
    if (!res.failures.empty())
        res.code = cfg.sources.size() == 1 ? res.failures.front().code() : exit_code::partial;
    // An interrupted run says so, whatever else happened (the done sources are kept).
    if (int sig = interrupt_signal(); sig != 0 && !res.failures.empty())
        res.code = static_cast<exit_code>(128 + sig);
    res.report["exit_code"] = static_cast<int>(res.code);
    if (events && !dry_run) {
        nlohmann::json finished = {{"event", "run_finished"},
                                   {"exit_code", static_cast<int>(res.code)},
                                   {"summary", res.summary_line},
                                   {"seconds", seconds}};
        // What ended the run, as the terminal's last lines say it.
        if (!res.failures.empty()) {
            finished["error"] = res.failures.front().what();
            finished["hint"] = res.failures.front().hint();
            nlohmann::json all = nlohmann::json::array();
            for (auto& f : res.failures) all.push_back({{"error", f.what()}, {"hint", f.hint()}});
            finished["failures"] = all;
        }
        events(finished);
    }
    return res;
}

}  // namespace pghaul::engine
