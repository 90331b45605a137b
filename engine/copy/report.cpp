// Report rendering from the jobs' outcomes.
#include "engine/copy/report.hpp"

#include <fmt/format.h>

#include "protocol/size.hpp"

namespace pghaul::engine {
namespace {

double secs(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    if (a.time_since_epoch().count() == 0 || b.time_since_epoch().count() == 0) return 0;
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

run_report make_report(const std::vector<std::unique_ptr<source_job>>& jobs,
                       const std::string& target_endpoint, double seconds, const nlohmann::json& roles,
                       std::chrono::steady_clock::time_point origin) {
    run_report out;
    out.json = {{"target", target_endpoint},
                {"seconds", seconds},
                {"roles", roles},
                {"sources", nlohmann::json::array()}};
    out.table = fmt::format("{:<20} {:<20} {:>7} {:>12} {:>10} {:>8} {:>8}  {:<8} {}\n", "source",
                            "target db", "tables", "rows", "size", "time s", "MB/s", "result", "verified");
    for (auto& jp : jobs) {
        auto& j = *jp;
        const auto o = j.outcome().copy();  // one consistent reading
        std::uint64_t rows = 0, bytes = o.large_object_bytes;
        nlohmann::json tables = nlohmann::json::array();
        // After a --resume the tables may come from more than one snapshot: which from which.
        nlohmann::json snapshots = nlohmann::json::object();
        for (auto& t : j.catalog().tables) {
            auto it = o.results.find(t.oid);
            if (it == o.results.end()) continue;
            // One size per table everywhere (dry run, progress, log, report):
            // its size on the source. What went over the wire is stream_bytes.
            const std::uint64_t size = t.data_excluded ? 0 : static_cast<std::uint64_t>(t.bytes);
            rows += it->second.rows;
            bytes += size;
            tables.push_back({{"name", t.display()},
                              {"rows", it->second.rows},
                              {"bytes", size},
                              {"stream_bytes", it->second.bytes},
                              {"seconds", it->second.seconds},
                              {"spooled_bytes", it->second.spooled_bytes},
                              {"format", t.binary() ? "binary" : "text"},
                              {"rows_excluded", t.data_excluded},
                              {"snapshot", it->second.snapshot},
                              {"loaded_by_earlier_attempt", it->second.earlier}});
            snapshots[it->second.snapshot].push_back(t.display());
        }
        double took = secs(o.started, o.ended);
        double mbs = took > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / took : 0;
        bool verified = o.status == source_status::done;
        nlohmann::json src = {
            {"name", j.name()},
            {"source", j.config().endpoint.ci.endpoint()},
            {"source_transport", j.source_transport()},
            {"target_db", j.target_db()},
            {"status", status_name(o.status)},
            {"tables", o.results.size()},
            {"tables_planned", j.catalog().tables.size()},
            {"rows", rows},
            {"bytes", bytes},
            {"indexes", o.indexes_built},
            {"statistics",
             {{"given_the_sources", o.statistics_restored},
              {"analyzed", o.statistics_analyzed},
              {"left_to_autovacuum", o.statistics_left_to_autovacuum}}},
            {"sequences", j.catalog().sequences.size()},
            {"large_objects", j.catalog().large_objects.size()},
            {"left_out", j.catalog().excluded},
            {"seconds", took},
            {"mb_per_s", mbs},
            {"verified", verified},
            // What the end-of-copy check found: only a done source was checked.
            {"verification", verified ? nlohmann::json(verification_name(o.verified)) : nlohmann::json()},
            {"snapshot_released_after_s", secs(o.started, o.snapshot_released)},
            {"resumed", j.resuming()},
            {"snapshots", snapshots},
            {"warnings", o.warnings},
            {"started_s", secs(origin, o.started)},
            {"ended_s", secs(origin, o.ended)},
            {"table_details", tables}};
        nlohmann::json timeline = nlohmann::json::array();
        for (auto& e : o.timeline)
            timeline.push_back({{"phase", e.phase},
                                {"object", e.object},
                                {"worker", e.worker},
                                {"start_s", secs(origin, e.start)},
                                {"end_s", secs(origin, e.end)},
                                {"ok", e.ok}});
        src["timeline"] = std::move(timeline);
        if (o.failure)
            src["error"] = {{"code", static_cast<int>(o.failure->code())},
                            {"message", o.failure->what()},
                            {"hint", o.failure->hint()},
                            {"sqlstate", o.failure->sqlstate()}};
        out.json["sources"].push_back(src);
        out.table += fmt::format(
            "{:<20} {:<20} {:>7} {:>12} {:>10} {:>8.1f} {:>8.1f}  {:<8} {}\n", j.name(), j.target_db(),
            o.results.size(), rows, format_size(static_cast<std::int64_t>(bytes)), took, mbs,
            status_name(o.status), verified ? verification_name(o.verified) : std::string_view("-"));
    }
    return out;
}

}  // namespace pghaul::engine
