// A source's post-data: each table's index builds and constraints once its
// rows are in (a big table's one by one, small tables' batched), foreign keys
// once both their tables are complete, and finish: large objects, the rest
// of post-data, sequences, grants and database settings.
#include <set>

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "engine/common/fault.hpp"
#include "engine/copy/detail/steps.hpp"
#include "engine/copy/large_objects.hpp"
#include "engine/copy/source_job.hpp"
#include "engine/copy/target_database.hpp"
#include "protocol/size.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

using steps::since;

// pg_dump writes each database-level statement on its own line(s), ending in ';'.
std::vector<std::string> steps::split_statements(const std::string& sql) {
    std::vector<std::string> out;
    std::string cur;
    std::size_t pos = 0;
    while (pos < sql.size()) {
        auto end = sql.find('\n', pos);
        if (end == std::string::npos) end = sql.size();
        cur.append(sql, pos, end - pos + 1);
        pos = end + 1;
        auto last = cur.find_last_not_of(" \n");
        if (last != std::string::npos && cur[last] == ';') {
            out.push_back(cur);
            cur.clear();
        }
    }
    // What is left after the last ';' is kept only if it is more than blank
    // lines and comments (the dump's "-- PostgreSQL database dump complete"
    // trailer follows the last database-level entry).
    std::size_t at = 0;
    while (at < cur.size()) {
        auto end = cur.find('\n', at);
        if (end == std::string::npos) end = cur.size();
        auto line = std::string_view(cur).substr(at, end - at);
        auto first = line.find_first_not_of(" \t\r");
        if (first != std::string_view::npos && !line.substr(first).starts_with("--")) {
            out.push_back(cur);
            break;
        }
        at = end + 1;
    }
    return out;
}

void source_job::build_index(pg::connection& writer, std::size_t table, std::size_t index, bool redo) {
    const auto& e = post_of(cat_.tables.at(table))->indexes.at(index);
    try {
        run_entry(writer, e);
    } catch (const error& err) {
        if (!committed_before(err, redo)) throw;
        spdlog::info("[{}] {} exists: built before the {}", cfg_.name, step_key(e),
                     redo ? "connection was lost" : "interruption");
    }
    fault_point("index-unrecorded");
    note("step", {{"name", step_key(e)}});
    fault_point("index");
    outcome_.update([&](outcome_fields& o) {
        ++o.indexes_built;
        o.index_work_done += cat_.tables.at(table).bytes;
    });
}

// One transaction, so a crash leaves all of a table's constraints or none.
void source_job::attach(pg::connection& writer, std::size_t table, bool redo) {
    const auto& t = cat_.tables.at(table);
    const auto* post = post_of(t);
    if (post && !post->after.empty()) {
        writer.exec("BEGIN", "starting the constraints of " + t.display());
        std::size_t ran = 0;
        try {
            for (auto& e : post->after) {
                run_entry(writer, e);
                ++ran;
            }
            writer.exec("COMMIT", "committing the constraints of " + t.display());
        } catch (const error& err) {
            writer.rollback();
            // Only the first statement can tell: the transaction committed all or none.
            if (ran > 0 || !committed_before(err, redo)) throw;
            spdlog::info("[{}] the constraints of {} exist: added before the {}", cfg_.name, t.display(),
                         redo ? "connection was lost" : "interruption");
        }
        fault_point("constraints-unrecorded");
        outcome_.update([&](outcome_fields& o) { o.indexes_built += post->after.size(); });
    }
    // Statistics after the load, so the planner is not blind on the new
    // database until autovacuum gets to it.
    if (run_.analyze) update_statistics(writer, {table});
    note("attached", {{"table", t.display()}});
}

std::vector<const dump_entry*> source_job::post_entries(std::size_t table) const {
    std::vector<const dump_entry*> out;
    const auto& t = cat_.tables.at(table);
    const auto* post = post_of(t);
    if (!post) return out;
    for (auto& e : post->indexes)
        if (!step_done(e)) out.push_back(&e);
    if (!attached_earlier(t))
        for (auto& e : post->after) out.push_back(&e);
    return out;
}

// Small tables' indexes and constraints: one transaction and one round trip
// for the whole batch (2000 tables of 20 rows: each separate statement and
// commit was most of the copy). A retry or a resume goes one statement at a
// time, since the earlier try may have committed some of it.
void source_job::post_small(pg::connection& writer, const std::vector<std::size_t>& tables,
                            const std::vector<std::size_t>& analyze, bool redo) {
    if (resuming_ || redo) {
        post_small_one_by_one(writer, tables, redo);
    } else {
        std::vector<const dump_entry*> all;
        for (auto i : tables) {
            auto e = post_entries(i);
            all.insert(all.end(), e.begin(), e.end());
        }
        run_entries(writer, all,
                    tables.size() == 1
                        ? "building the indexes and constraints of " + cat_.tables[tables[0]].display()
                        : fmt::format("building the indexes and constraints of {} tables", tables.size()));
    }
    fault_point("index-unrecorded");
    fault_point("constraints-unrecorded");
    // Before "attached" is recorded, as for a big table: a resume redoes it.
    if (run_.analyze && !analyze.empty()) update_statistics(writer, analyze);
    std::vector<std::pair<std::string, nlohmann::json>> records;
    std::size_t steps = 0;
    std::int64_t work = 0;
    for (auto i : tables) {
        const auto& t = cat_.tables[i];
        if (const auto* post = post_of(t)) {
            for (auto& e : post->indexes) records.push_back({"step", {{"name", step_key(e)}}});
            steps += post->indexes.size() + post->after.size();
            work += t.bytes * static_cast<std::int64_t>(post->indexes.size());
        }
        records.push_back({"attached", {{"table", t.display()}}});
    }
    note_all(std::move(records));
    fault_point("index");
    outcome_.update([&](outcome_fields& o) {
        o.indexes_built += steps;
        o.index_work_done += work;
    });
}

// Each statement under a savepoint: one that finds its object already there
// (committed before the interruption or the lost connection) counts as done.
void source_job::post_small_one_by_one(pg::connection& writer, const std::vector<std::size_t>& tables,
                                       bool redo) {
    writer.exec("BEGIN", "starting the indexes and constraints of small tables");
    try {
        for (auto i : tables)
            for (auto* e : post_entries(i)) {
                writer.exec("SAVEPOINT pghaul_step");
                try {
                    run_entry(writer, *e);
                    writer.exec("RELEASE SAVEPOINT pghaul_step");
                } catch (const error& err) {
                    if (!committed_before(err, redo)) throw;
                    writer.exec("ROLLBACK TO SAVEPOINT pghaul_step");
                    spdlog::info("[{}] {} exists: built before the {}", cfg_.name, step_key(*e),
                                 redo ? "connection was lost" : "interruption");
                }
            }
        writer.exec("COMMIT", "committing the indexes and constraints of small tables");
    } catch (...) {
        writer.rollback();
        throw;
    }
}

// NOT VALID first: adding it takes SHARE ROW EXCLUSIVE on both tables only
// for a moment, and VALIDATE then scans under locks that let other foreign
// keys of the same tables validate at the same time. Between small tables
// (a batch, first try) the scans are short: all of them in one transaction.
void source_job::add_foreign_keys(pg::connection& writer, const std::vector<std::size_t>& fks, bool redo) {
    if (fks.size() > 1 && !resuming_ && !redo) {
        std::vector<const dump_entry*> all;
        for (auto f : fks) {
            all.push_back(&schema_.foreign_keys.at(f).add);
            all.push_back(&schema_.foreign_keys.at(f).validate);
        }
        run_entries(writer, all, fmt::format("adding {} foreign keys", fks.size()));
    } else {
        for (auto f : fks) {
            const auto& fk = schema_.foreign_keys.at(f);
            try {
                run_entry(writer, fk.add);
            } catch (const error& err) {
                if (!committed_before(err, redo)) throw;  // added before; VALIDATE is idempotent
            }
            run_entry(writer, fk.validate);
        }
    }
    std::vector<std::pair<std::string, nlohmann::json>> records;
    for (auto f : fks) records.push_back({"step", {{"name", "fk " + step_key(schema_.foreign_keys[f].add)}}});
    note_all(std::move(records));
    outcome_.update([&](outcome_fields& o) { o.indexes_built += fks.size(); });
}

// Planner statistics for tables whose rows are in. On a PostgreSQL 18+
// target, the source's where read_statistics found them fit: a few calls a
// table, where ANALYZE reads a sample of up to 30,000 rows. ANALYZE for the
// rest, and for any table whose statistics did not apply cleanly (the
// functions warn and return false rather than fail). Many small tables go a
// hundred at a time: each chunk's transaction keeps the locks it takes (a
// table and its indexes each) well inside max_locks_per_transaction, and
// statistics lost to a target crash cost nothing, so the commits do not wait
// for their flush.
void source_job::update_statistics(pg::connection& conn, const std::vector<std::size_t>& tables, bool small) {
    constexpr std::size_t chunk = 100;
    for (std::size_t first = 0; first < tables.size(); first += chunk) {
        const std::vector<std::size_t> some(
            tables.begin() + static_cast<std::ptrdiff_t>(first),
            tables.begin() + static_cast<std::ptrdiff_t>(std::min(first + chunk, tables.size())));
        auto left = restore_statistics(conn, some);
        if (small && !run_.analyze_all) left = not_left_to_autovacuum(conn, left);
        if (left.empty()) continue;
        std::string list;
        for (auto i : left) list += (list.empty() ? "" : ", ") + cat_.tables.at(i).qualified();
        conn.exec("BEGIN; SET LOCAL synchronous_commit = off; ANALYZE " + list + "; COMMIT",
                  left.size() == 1 ? "analyzing " + cat_.tables.at(left[0]).display()
                                   : fmt::format("analyzing {} small tables", left.size()));
        outcome_.update([&](outcome_fields& o) { o.statistics_analyzed += left.size(); });
    }
}

// Of small `tables`, those autovacuum will not analyze on its own: all of
// them where it does not run or count rows; else those with per-table
// autovacuum settings, loaded through a partitioned root (autovacuum never
// analyzes one), or with too few rows to pass its threshold (the load's
// inserts are its changes since the last analyze, and CREATE INDEX set
// reltuples to the rows, so it analyzes a table of n rows when n > threshold
// + scale_factor * n). Measured on 15: autovacuum had analyzed every such
// table 25 s after the copy, and none of 51 or 54 rows (threshold 55.1, 55.4).
std::vector<std::size_t> source_job::not_left_to_autovacuum(pg::connection& conn,
                                                            const std::vector<std::size_t>& tables) {
    if (tables.empty()) return tables;
    auto s = conn.exec(
        "SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on', "
        "current_setting('autovacuum_analyze_threshold')::float8, "
        "current_setting('autovacuum_analyze_scale_factor')::float8",
        "reading the target's autovacuum settings");
    if (s.str(0, 0) != "t") return tables;
    const double threshold = std::stod(s.str(0, 1)), scale = std::stod(s.str(0, 2));
    std::string rows;
    for (auto i : tables)
        rows += (rows.empty() ? "(" : ", (") + std::to_string(i) + ", " +
                sql::literal(cat_.tables.at(i).qualified()) + "::regclass)";
    auto own = conn.exec("SELECT v.i FROM (VALUES " + rows +
                             ") v(i, r) JOIN pg_catalog.pg_class c ON c.oid = v.r "
                             "WHERE EXISTS (SELECT FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum%')",
                         "reading the tables' own autovacuum settings");
    std::set<std::size_t> keep;
    for (int k = 0; k < own.rows(); ++k) keep.insert(static_cast<std::size_t>(own.i64(k, 0)));
    std::vector<std::size_t> now;
    outcome_.update([&](outcome_fields& o) {
        for (auto i : tables) {
            const auto& t = cat_.tables.at(i);
            const auto it = o.results.find(t.oid);
            const double n = it == o.results.end() ? 0 : static_cast<double>(it->second.rows);
            if (keep.contains(i) || t.via_root || n <= threshold + scale * n)
                now.push_back(i);
            else
                ++o.statistics_left_to_autovacuum;
        }
    });
    return now;
}

// Sets the source's statistics on those of `tables` that have them; returns
// the tables still to analyze.
std::vector<std::size_t> source_job::restore_statistics(pg::connection& conn,
                                                        const std::vector<std::size_t>& tables) {
    std::vector<std::size_t> left;
    std::string rows;
    for (auto i : tables) {
        const auto& calls = cat_.tables.at(i).statistics;
        if (calls.empty())
            left.push_back(i);
        else
            rows += (rows.empty() ? "(" : ", (") + std::to_string(i) + ", ARRAY[" + calls + "])";
    }
    if (rows.empty()) return left;
    std::size_t restored = tables.size() - left.size();
    try {
        // A statistic that does not apply is a WARNING and a false result:
        // the false sends the table to ANALYZE, the warning would only reach
        // stderr raw.
        conn.exec("SET client_min_messages = error");
        auto r = conn.exec("SELECT t FROM (VALUES " + rows + ") v(t, ok) WHERE false = ANY(ok)",
                           "setting planner statistics from the source's");
        conn.exec("SET client_min_messages = warning");
        for (int k = 0; k < r.rows(); ++k) left.push_back(static_cast<std::size_t>(r.i64(k, 0)));
        restored -= static_cast<std::size_t>(r.rows());
    } catch (const error& e) {
        if (sqlstate::connection_lost(e)) throw;
        conn.exec("SET client_min_messages = warning");
        warn(std::string("setting the source's planner statistics failed (") + e.what() +
             "); analyzing instead");
        left = tables;
        restored = 0;
    }
    outcome_.update([&](outcome_fields& o) { o.statistics_restored += restored; });
    return left;
}

void source_job::finish(pg::connection& ddl, int worker, const std::vector<std::size_t>& analyze, bool redo) {
    active_guard guard(*this, ddl);
    // The post-data transaction clears the INCOMPLETE comment: if it did,
    // the try whose connection was lost committed it.
    if (redo && !finished_earlier_ && !marked_incomplete(ddl, cfg_.target_db)) finished_earlier_ = true;
    const bool verifying = run_.verify != run_config::verify_level::none;
    if (!finished_earlier_) {
        // Written with lo_put at fixed offsets: a resumed attempt rewrites them harmlessly.
        // (Without large objects the snapshot may be gone already: see unit_read.)
        if (!cat_.large_objects.empty()) {
            std::optional<std::uint64_t> bytes;
            try {
                if (holder_) bytes = copy_large_objects(holder_->connection(), ddl, cat_.large_objects);
            } catch (const error&) {
                if (PQstatus(holder_->connection().raw()) != CONNECTION_BAD) throw;
                std::lock_guard lk(snapshot_mu_);
                lose_holder_locked();
                if (!holder_detached_) throw;
                ddl.rollback();  // the large object transaction it began: begun again below
            }
            if (!bytes) {
                // The holder's link dropped and the agent holds its transaction: a new session imports the snapshot.
                auto importer = pg::connection::open(source_conninfo(), "pghaul/reader", exit_code::source);
                import_snapshot(importer, snapshot_id_);
                bytes = copy_large_objects(importer, ddl, cat_.large_objects);
            }
            outcome_.update([&](outcome_fields& o) { o.large_object_bytes = *bytes; });
        }
        // Every reader is done: the source's snapshot can go, unless the end-of-copy
        // verification is to compare against it.
        if (!verifying) release_snapshot();
        outcome_.read([&](const outcome_fields& o) {
            spdlog::info("[{}] data: {} and {} indexes/constraints done ({:.1f} s)", cfg_.name,
                         counted(static_cast<std::int64_t>(cat_.tables.size()), "table"), o.indexes_built,
                         since(o.started));
        });
        if (run_.analyze) {
            update_statistics(ddl, analyze, true);
            outcome_.read([&](const outcome_fields& o) {
                spdlog::info(
                    "[{}] planner statistics: {} tables given the source's, {} analyzed, {} left to "
                    "autovacuum{}",
                    cfg_.name, o.statistics_restored, o.statistics_analyzed, o.statistics_left_to_autovacuum,
                    o.statistics_left_to_autovacuum > 0 ? " (--analyze-all does them now)" : "");
            });
        }
        finish_post_data(ddl);
        record("finished");
    } else if (!verifying) {
        release_snapshot();
    }
    if (verifying) verify_against_snapshot(ddl, worker);
    record("done");  // kept until the whole run is done: a --resume skips this source
    outcome_.update([](outcome_fields& o) {
        o.ended = std::chrono::steady_clock::now();
        o.status = source_status::done;
    });
}

// Post-data, sequences, grants and database settings in one transaction that
// also clears the INCOMPLETE comment: after a crash it either all happened
// (and the comment says so) or none of it did, so a resume never runs a step twice.
void source_job::finish_post_data(pg::connection& ddl) {
    std::vector<const dump_entry*> entries, publications;
    for (auto& e : schema_.post_data)
        (e.type.starts_with("PUBLICATION") ? publications : entries).push_back(&e);
    ddl.exec("BEGIN", "starting the post-data transaction");
    run_entries_in_transaction(ddl, entries, "running post-data");
    // A publication FOR ALL TABLES or TABLES IN SCHEMA needs a superuser on
    // the target. It is the source's replication set-up, not its data (the
    // audit lists it): refused, it is left out with a warning rather than
    // losing the copy at its last step.
    for (auto* e : publications) {
        ddl.exec("SAVEPOINT pghaul_publication", "setting a savepoint");
        try {
            for (auto& stmt : steps::split_statements(e->sql)) ddl.exec(stmt, "creating " + entry_display(*e));
            ddl.exec("RELEASE SAVEPOINT pghaul_publication", "releasing the savepoint");
        } catch (const error& err) {
            if (!sqlstate::insufficient_privilege(err)) throw;
            ddl.exec("ROLLBACK TO SAVEPOINT pghaul_publication", "rolling back to the savepoint");
            warn("left out " + entry_display(*e) + ": " + first_line(err.what()) +
                 "; a superuser can create it on the target if the new database is to publish");
        }
    }
    // Post-data's REFRESH filled the materialized views: analyzed like the
    // tables, while the login still owns the database (it may give it to the
    // source's owner below), so the planner is not blind on them either.
    if (run_.analyze) {
        std::string views;
        for (auto& e : schema_.post_data)
            if (e.type == "MATERIALIZED VIEW DATA")
                views += (views.empty() ? "" : ", ") + sql::qualified(e.schema, e.name);
        if (!views.empty()) ddl.exec("ANALYZE " + views, "analyzing materialized views");
    }
    // setval is not transactional, and idempotent: a redo sets the same value.
    // A few hundred a statement: one round trip each at 10^4 sequences is slow.
    constexpr std::size_t batch = 200;
    for (std::size_t first = 0; first < cat_.sequences.size(); first += batch) {
        std::string sql;
        for (std::size_t i = first; i < std::min(first + batch, cat_.sequences.size()); ++i) {
            const auto& s = cat_.sequences[i];
            sql += std::string(sql.empty() ? "SELECT " : ", ") + "pg_catalog.setval(" +
                   sql::literal(sql::qualified(s.schema, s.name)) + ", " + std::to_string(s.last_value) +
                   ", " + (s.is_called ? "true" : "false") + ")";
        }
        ddl.exec(sql, "setting the sequences");
    }
    entries.clear();
    for (auto& e : schema_.acl) entries.push_back(&e);
    run_entries_in_transaction(ddl, entries, "granting privileges");
    revoke_temporary_grants(ddl);

    // Database-level settings, comment, grants and owner follow the copy to its
    // new name, one statement at a time: a managed target refuses ALTER ROLE ...
    // IN DATABASE without CREATEROLE, which must not take the others with it.
    ddl.exec("COMMENT ON DATABASE " + sql::ident(cfg_.target_db) + " IS NULL",
             "clearing the in-progress marker");
    auto tolerated = [&](const std::string& stmt, const std::string& what, const std::string& note) {
        ddl.exec("SAVEPOINT pghaul_setting", "setting a savepoint");
        try {
            ddl.exec(stmt, what);
            ddl.exec("RELEASE SAVEPOINT pghaul_setting", "releasing the savepoint");
        } catch (const error& err) {
            if (sqlstate::connection_lost(err)) throw;
            ddl.exec("ROLLBACK TO SAVEPOINT pghaul_setting", "rolling back to the savepoint");
            warn(err.what() + note);
        }
    };
    for (auto& e : schema_.database)
        for (auto& stmt : steps::split_statements(e.sql)) {
            // The fence of a cutover (pghaul clients --fence read-only) on the
            // old database would make the new one read-only for its clients.
            if (stmt.find("SET default_transaction_read_only TO 'on'") != std::string::npos &&
                stmt.starts_with("ALTER DATABASE")) {
                warn(
                    "left out the source database's default_transaction_read_only = on (a read-only "
                    "fence, e.g. pghaul clients --fence read-only): the copy stays writable; ALTER "
                    "DATABASE " +
                    sql::ident(cfg_.target_db) + " SET default_transaction_read_only = on if you meant it");
                continue;
            }
            tolerated(stmt, "applying \"" + stmt.substr(0, stmt.find_last_not_of(" \n;") + 1) + "\"", "");
        }
    const std::string owner = cfg_.target_role(cat_.database.owner);
    if (!schema_opt_.no_owner && owner != ddl.exec("SELECT current_user").str(0, 0))
        tolerated("ALTER DATABASE " + sql::ident(cfg_.target_db) + " OWNER TO " + sql::ident(owner),
                  "giving database \"" + cfg_.target_db + "\" to its source owner \"" + owner + "\"",
                  " (the target login keeps ownership)");
    fault_point("post-data");
    ddl.exec("COMMIT", "committing post-data");
    spdlog::info("[{}] post-data: {} steps, {} sequences, grants and database settings done ({:.1f} s)",
                 cfg_.name, schema_.post_data.size(), cat_.sequences.size(), since(outcome_.started()));
}

}  // namespace pghaul::engine
