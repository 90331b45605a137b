// The data path: each CopyData message goes from libpq's buffer into the
// unit's bounded chunk stream (one copy) and leaves it in 256 KiB writes, with
// no per-row parsing or allocation beyond libpq's own.
#include "engine/copy/table_copy.hpp"

#include <time.h>

#include <chrono>
#include <functional>
#include <thread>
#include <utility>

#include "engine/common/fault.hpp"
#include "engine/common/interrupt.hpp"
#include "io/chunk_stream.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {
namespace {

std::uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t ns_since(std::chrono::steady_clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t).count());
}

// Adds one thread's wall and CPU time to the profile when it goes out of scope.
struct thread_clock {
    std::atomic<std::uint64_t>& wall;
    std::atomic<std::uint64_t>& cpu;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::uint64_t cpu_start = thread_cpu_ns();
    ~thread_clock() {
        wall += ns_since(start);
        cpu += thread_cpu_ns() - cpu_start;
    }
};

// How often the reader adds to the run's shared byte counter.
constexpr std::uint64_t progress_bytes = 1 << 20;

std::string column_list(const table_info& t) {
    if (t.columns.empty()) return {};
    std::string out = " (";
    for (std::size_t i = 0; i < t.columns.size(); ++i) out += (i ? ", " : "") + sql::ident(t.columns[i]);
    return out + ")";
}

std::string select_list(const table_info& t) {
    std::string out;
    for (std::size_t i = 0; i < t.columns.size(); ++i) out += (i ? ", " : "") + sql::ident(t.columns[i]);
    return out;
}

std::string tid(std::int64_t page) {
    return sql::literal("(" + std::to_string(page) + ",0)") + "::tid";
}

}  // namespace

// Two threads per unit: this one writes to the target from the unit's chunk
// stream while a reader thread fills it from the source. The stream bounds
// memory across all units and spools (zstd) what does not fit, so a slow
// target does not hold the source's read back.
table_copy_result relay(pg::connection& source, pg::connection& target, data_path& path,
                        const std::string& what, const std::function<void()>& open_target,
                        const std::function<void()>& read_done) {
    // The run's stop wakes a reader waiting for memory or spool room (SIGINT).
    chunk_stream stream(path.memory(), path.spool(), {.name = what}, run_stop_token());
    auto& progress = path.bytes_read();
    table_copy_result res;
    std::exception_ptr read_error;
    auto& prof = path.profile();
    ++prof.units;
    thread_clock writer_clock{prof.writer_wall_ns, prof.writer_cpu_ns};
    std::jthread reader([&] {
        thread_clock reader_clock{prof.reader_wall_ns, prof.reader_cpu_ns};
        try {
            // Each message goes straight from libpq's buffer into the stream's
            // chunk: one copy per byte. The shared progress counter is
            // touched once per progress_bytes, not per row.
            pg::copy_buffer row;
            std::uint64_t unreported = 0;
            bool open = true;
            while (open && source.get_copy_data(row)) {
                auto bytes = row.view();
                res.bytes += bytes.size();
                unreported += bytes.size();
                if (unreported >= progress_bytes) progress += std::exchange(unreported, 0);
                open = stream.push(bytes);
            }
            progress += unreported;
            if (open) open = stream.finish();
            if (!open) {  // the writer gave up: stop the source's COPY too
                source.request_cancel();
                source.drain();
                return;
            }
            res.rows = source.end_copy_out().command_rows();
            read_done();
        } catch (...) {
            read_error = std::current_exception();
            stream.cancel();
        }
    });
    try {
        // The source is already streaming: a target that waits (a lock, a
        // busy server) fills memory and spool instead of holding the read back.
        open_target();
        for (;;) {
            auto waiting = std::chrono::steady_clock::now();
            auto c = stream.pop();
            prof.writer_starved_ns += ns_since(waiting);
            if (!c) break;
            target.put_copy_data(c->data());
        }
    } catch (...) {
        stream.cancel();
        reader.join();
        target.abort_copy_in("pghaul: copy aborted");
        // A cancelled stream is the symptom; the reader's error is the cause.
        if (read_error) std::rethrow_exception(read_error);
        throw;
    }
    reader.join();
    if (read_error) {
        target.abort_copy_in("pghaul: copy aborted");
        std::rethrow_exception(read_error);
    }
    auto st = stream.stats();
    res.spooled_bytes = st.bytes_spooled;
    res.spool_file_bytes = st.spool_bytes_written;
    res.disk_full = st.disk_full;
    res.reader_waited_s = std::chrono::duration<double>(st.producer_wait_time).count();
    prof.reader_held_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(st.producer_wait_time).count());
    return res;
}

table_copy_result copy_table(pg::connection& source, pg::connection& target, const table_info& table,
                             const table_info::page_range* part, bool truncate, data_path& path,
                             const std::function<void()>& read_done) {
    const std::string cols = column_list(table);
    const std::string format = table.binary() ? "FORMAT binary" : "FORMAT text";
    std::string what = "copying table " + table.display();
    std::string copy_out = "COPY " + table.qualified() + cols + " TO STDOUT (" + format + ")";
    std::string copy_in =
        "COPY " + table.qualified() + cols + " FROM STDIN (" + format + (truncate ? ", FREEZE)" : ")");
    if (table.via_root) {
        // The whole tree through its root: the target routes each row (COPY
        // FREEZE and TRUNCATE ONLY are refused on a partitioned table).
        copy_out = "COPY (SELECT " + select_list(table) + " FROM " + table.qualified() + ") TO STDOUT (" +
                   format + ")";
        copy_in = "COPY " + table.qualified() + cols + " FROM STDIN (" + format + ")";
    }
    if (part) {
        what += " pages " + std::to_string(part->first) + "-" +
                (part->end < 0 ? "end" : std::to_string(part->end));
        copy_out = "COPY (SELECT " + select_list(table) + " FROM ONLY " + table.qualified() +
                   " WHERE ctid >= " + tid(part->first) +
                   (part->end < 0 ? "" : " AND ctid < " + tid(part->end)) + ") TO STDOUT (" + format + ")";
        copy_in = "COPY " + table.qualified() + cols + " FROM STDIN (" + format + ")";
    }
    // TRUNCATE in the loading transaction lets COPY FREEZE write frozen rows
    // (and skips WAL at wal_level minimal); a part shares its table with other
    // parts, so it only appends. The commit does not wait for its WAL flush
    // (as pgcopydb): a load lost to a server crash is caught by --resume, which
    // re-counts every table it keeps. DDL keeps synchronous commits, since a
    // resume trusts the index builds it recorded. (2000 small tables here:
    // no difference within the noise; their DDL round trips dominate.)
    const std::string begin = std::string("BEGIN; SET LOCAL synchronous_commit = off") +
                              (part || !truncate ? "" : "; TRUNCATE " + table.rows_of());
    table_copy_result res;
    try {
        source.begin_copy(copy_out, PGRES_COPY_OUT, what + " (out of the source)");
        res = relay(
            source, target, path, what,
            [&] {
                target.exec(begin, what + " (begin)");
                target.begin_copy(copy_in, PGRES_COPY_IN, what + " (into the target)");
            },
            read_done);
        auto loaded = target.end_copy_in().command_rows();
        if (loaded != res.rows)
            throw error(exit_code::target, what + ": source sent " + std::to_string(res.rows) +
                                               " rows but target loaded " + std::to_string(loaded));
        try {
            target.exec("COMMIT", what + " (commit)");
            if (lost_ack(part ? "part-commit" : "table-commit"))
                throw error(exit_code::target, what + " (commit): server closed the connection unexpectedly",
                            "", "08006");
        } catch (const error& e) {
            // A connection lost during COMMIT leaves its outcome unknown. A
            // whole table reloads safely (TRUNCATE first); a part appends, so
            // redoing one that did commit would double its rows.
            if (!part || !sqlstate::connection_lost(e)) throw;
            throw error(exit_code::target,
                        std::string(e.what()) + " (the part may or may not have committed)",
                        "run the same command with --resume: the table is emptied and loaded again whole",
                        e.sqlstate(), disposition::resume_later);
        }
    } catch (const error& e) {
        target.rollback();
        // B8: a row over 1 GB in COPY form (two 600 MB columns) cannot leave
        // the server at all: "out of memory ... Cannot enlarge string buffer".
        if (e.code() == exit_code::source && e.sqlstate() == "54000" && e.hint().empty())
            throw error(exit_code::source, e.what(),
                        "a row of " + table.display() +
                            " is larger than PostgreSQL's 1 GB limit for one row in COPY (no COPY-based "
                            "tool can read it): leave the table out with --exclude-table " +
                            table.display() + " and move it in pieces (a column at a time)",
                        e.sqlstate());
        throw;
    } catch (...) {
        target.rollback();
        throw;
    }
    return res;
}

}  // namespace pghaul::engine
