// A source's data: one table, or one part of a split table, from its reader
// connection into the target, and the checks that the rows arrived.
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "engine/common/fault.hpp"
#include "engine/copy/detail/steps.hpp"
#include "engine/copy/source_job.hpp"
#include "engine/copy/table_copy.hpp"
#include "protocol/size.hpp"

namespace pghaul::engine {

using steps::since;

// TRUNCATE + COPY FREEZE saves the table a later anti-wraparound vacuum, but
// TRUNCATE makes new files for the table, its TOAST table and index: with
// thousands of small tables that was most of the copy (2000 tables of 20 rows:
// 3.5 ms a table, the kernel busy creating inodes). A small table that is
// certainly still empty (created by this attempt's pre-data, first try) is
// just loaded; a retry or a resumed reload truncates, so it cannot double rows.
constexpr std::int64_t freeze_from_bytes = 8LL << 20;

void source_job::copy(pg::connection& reader, pg::connection& writer, std::size_t table,
                      std::optional<std::size_t> part_index, int attempt) {
    const auto& t = cat_.tables.at(table);
    if (t.data_excluded) {
        // Its definition is in; its rows stay behind, as asked. The read
        // transaction begin_read opened ends here, as a read's would: left
        // open, the reader's next table could not import the snapshot.
        end_read(reader, "ending the read of " + t.display());
        unit_read(t.oid, -1);
        note("table", {{"table", t.display()}, {"rows", 0}, {"snapshot", snapshot_id_}});
        spdlog::info("[{}] {}: rows left out (--exclude-table-data)", cfg_.name, t.display());
        outcome_.update(
            [&](outcome_fields& o) { o.results[t.oid] = table_result{.snapshot = snapshot_id_}; });
        return;
    }
    const table_info::page_range* part = part_index ? &t.parts.at(*part_index) : nullptr;
    auto start = std::chrono::steady_clock::now();
    const bool truncate = t.bytes >= freeze_from_bytes || resuming_ || attempt > 0;
    auto r = copy_table(reader, writer, t, part, truncate, *data_path_, [&] {
        end_read(reader, "ending the read of " + t.display());
        unit_read(t.oid, part ? part->first : -1);
    });
    if (r.disk_full > 0)
        warn(fmt::format(
            "{}: the spool could not grow: disk full or a file size limit ({} writes refused); the "
            "source read waited {:.1f} s for the target instead (--spool-dir on a bigger disk, a "
            "lower --spool-limit, or a higher ulimit -f)",
            t.display(), r.disk_full, r.reader_waited_s));
    table_result res{r.rows, r.bytes, since(start), r.spooled_bytes, r.spool_file_bytes, snapshot_id_};
    if (part) {
        note("part",
             {{"table", t.display()}, {"first", part->first}, {"rows", r.rows}, {"snapshot", snapshot_id_}});
        spdlog::debug("[{}] {} pages {}-{}: {} rows, {} in {:.2f} s", cfg_.name, t.display(), part->first,
                      part->end, r.rows, format_size(static_cast<std::int64_t>(r.bytes)), res.seconds);
        outcome_.update([&](outcome_fields& o) {
            auto& total = o.results[t.oid];
            total.rows += res.rows;
            total.bytes += res.bytes;
            total.seconds += res.seconds;
            total.spooled_bytes += res.spooled_bytes;
            total.spool_file_bytes += res.spool_file_bytes;
            total.snapshot = res.snapshot;
        });
        return;
    }
    // copy_table has checked that the target loaded as many rows as the source
    // sent; a count after the commit is one more round trip and scan a table,
    // kept for --verify (it catches another session writing into the copy).
    if (run_.verify != run_config::verify_level::none) verify_count(writer, t, r.rows);
    note("table", {{"table", t.display()}, {"rows", r.rows}, {"snapshot", snapshot_id_}});
    fault_point("data");
    log_table(t, res);
    outcome_.update([&](outcome_fields& o) { o.results[t.oid] = res; });
}

// A split table's parts each committed on their own: the count checks that
// no part went in twice (a retried part whose first commit went through).
void source_job::verify_split(pg::connection& writer, std::size_t table) {
    const auto& t = cat_.tables.at(table);
    const table_result total = outcome_.update([&](outcome_fields& o) { return o.results[t.oid]; });
    verify_count(writer, t, total.rows);
    log_table(t, total);
}

// The load is committed; its count is the verification: nothing later in the
// run changes table rows, and row security and grants (which could hide rows
// from this login) arrive only in finish().
void source_job::verify_count(pg::connection& writer, const table_info& t, std::uint64_t expected) {
    auto n = static_cast<std::uint64_t>(
        writer.exec("SELECT count(*) FROM " + t.rows_of(), "verifying " + t.display()).i64(0, 0));
    if (n != expected)
        throw error(
            exit_code::verify,
            "row count of " + t.display() + " differs after the copy: source " + std::to_string(expected) +
                " in the snapshot, target " + std::to_string(n),
            "something else wrote into the new database during the copy; rerun with on_existing replace");
}

void source_job::log_table(const table_info& t, const table_result& r) {
    bool notable =
        r.bytes >= (64u << 20) || r.seconds >= 1.0 || !t.binary() || !t.parts.empty() || r.spooled_bytes;
    spdlog::log(
        notable ? spdlog::level::info : spdlog::level::debug, "[{}] {}: {} rows, {} in {:.2f} s{}{}{}",
        cfg_.name, t.display(), r.rows, format_size(t.bytes), r.seconds,
        t.parts.empty() ? "" : fmt::format(" (connection-seconds, {} parts)", t.parts.size()),
        t.binary() ? "" : " (text format: " + t.text_reason + ")",
        r.spooled_bytes
            ? fmt::format(" ({} spooled as {})", format_size(static_cast<std::int64_t>(r.spooled_bytes)),
                          format_size(static_cast<std::int64_t>(r.spool_file_bytes)))
            : "");
}

}  // namespace pghaul::engine
