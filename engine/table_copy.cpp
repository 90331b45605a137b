// The data path: CopyData messages are appended into one large buffer and sent
// on in big writes, with no per-row parsing or allocation beyond libpq's own.
#include "engine/table_copy.hpp"

#include "protocol/sql_quote.hpp"

namespace pghaul::engine {
namespace {

constexpr std::size_t flush_bytes = 1 << 20;

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

table_copy_result copy_table(pg::connection& source, pg::connection& target, const table_info& table,
                             const table_info::page_range* part) {
    const std::string cols = column_list(table);
    const std::string format = table.binary() ? "FORMAT binary" : "FORMAT text";
    std::string what = "copying table \"" + table.display() + "\"";
    std::string copy_out = "COPY " + table.qualified() + cols + " TO STDOUT (" + format + ")";
    std::string copy_in = "COPY " + table.qualified() + cols + " FROM STDIN (" + format + ", FREEZE)";
    if (part) {
        what += " pages " + std::to_string(part->first) + "-" +
                (part->end < 0 ? "end" : std::to_string(part->end));
        copy_out = "COPY (SELECT " + select_list(table) + " FROM ONLY " + table.qualified() +
                   " WHERE ctid >= " + tid(part->first) +
                   (part->end < 0 ? "" : " AND ctid < " + tid(part->end)) + ") TO STDOUT (" + format + ")";
        copy_in = "COPY " + table.qualified() + cols + " FROM STDIN (" + format + ")";
        target.exec("BEGIN", what);
    } else {
        // TRUNCATE in the loading transaction lets COPY FREEZE write frozen rows.
        target.exec("BEGIN; TRUNCATE ONLY " + table.qualified(), what + " (truncate)");
    }
    table_copy_result res;
    try {
        target.begin_copy(copy_in, PGRES_COPY_IN, what + " (into the target)");
        try {
            source.begin_copy(copy_out, PGRES_COPY_OUT, what + " (out of the source)");
            std::string buf;
            buf.reserve(flush_bytes + 65536);
            while (source.get_copy_data(buf)) {
                if (buf.size() >= flush_bytes) {
                    res.bytes += buf.size();
                    target.put_copy_data(buf);
                    buf.clear();
                }
            }
            res.bytes += buf.size();
            if (!buf.empty()) target.put_copy_data(buf);
            res.rows = source.end_copy_out().command_rows();
        } catch (...) {
            // Abort the target's COPY; if the source is mid-stream, stop it too.
            source.request_cancel();
            source.drain();
            target.abort_copy_in("pghaul: copy aborted");
            throw;
        }
        auto loaded = target.end_copy_in().command_rows();
        if (loaded != res.rows)
            throw error(exit_code::target, what + ": source sent " + std::to_string(res.rows) +
                                               " rows but target loaded " + std::to_string(loaded));
        target.exec("COMMIT", what + " (commit)");
    } catch (...) {
        target.rollback();
        throw;
    }
    return res;
}

}  // namespace pghaul::engine
