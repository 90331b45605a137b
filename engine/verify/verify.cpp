// verify: snapshot on both sides, catalog entries compared on the holders'
// connections, and table data compared by `jobs` worker pairs that send the
// same query to source and target at once. The checksum is the sum of a
// 64-bit hash of each row's text form: order-independent, duplicate-aware,
// and changed by any edit to any row, or a row moving between tables.
#include "engine/verify/verify.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "engine/catalog/catalog.hpp"
#include "engine/catalog/snapshot.hpp"
#include "engine/common/interrupt.hpp"
#include "engine/verify/detail/catalog_entries.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {
namespace {

// A row's text form depends on these settings: pin them on both sides.
constexpr const char* session_settings =
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C'; SET xmloption = content; "
    "SELECT pg_catalog.set_config('search_path', '', false)";

struct table_ref {
    std::string schema, name;
    std::int64_t bytes = 0;
    bool via_root = false;  // a partitioned table compared whole (its leaves may route differently)
    bool row_security_applies = false;  // to this side's login: counting would fail (row_security off)
    bool readable = true;               // this side's login has SELECT on it
    // Why this side's login cannot count it, or "".
    std::string uncountable() const {
        return row_security_applies ? "row-level security applies to the"
               : !readable          ? "no SELECT on it for the"
                                    : "";
    }
    std::string display() const { return sql::readable_qualified(schema, name); }
};

pg::connection open_side(const conninfo& ci, exit_code side) {
    auto c = pg::connection::open(ci, "pghaul/verify", side);
    c.exec(session_settings, "pinning output settings");
    return c;
}

// Leaf tables and populated materialized views: what holds rows. Leaves a
// copy loads through their root (catalog.hpp: leaves_loaded_via_root) are
// compared as that root's whole tree: which leaf holds a row may differ.
std::map<std::string, table_ref> list_tables(pg::connection& conn) {
    std::set<std::uint32_t> leaves, roots;
    for (auto [leaf, root] : leaves_loaded_via_root(conn)) {
        leaves.insert(leaf);
        roots.insert(root);
    }
    auto r = conn.exec(R"(
        SELECT n.nspname, c.relname, pg_table_size(c.oid), c.oid, c.relkind = 'p',
               c.relrowsecurity
                 AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user)
                 AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE')),
               has_table_privilege(c.oid, 'SELECT')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (c.relkind IN ('r', 'p') OR (c.relkind = 'm' AND c.relispopulated))
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
          AND n.nspname NOT LIKE 'pg\_temp%'
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e'))",
                       "listing tables to compare");
    std::map<std::string, table_ref> out;
    for (int i = 0; i < r.rows(); ++i) {
        const auto oid = static_cast<std::uint32_t>(r.i64(i, 3));
        const bool partitioned = r.boolean(i, 4);
        if (leaves.count(oid) || (partitioned && !roots.count(oid))) continue;
        table_ref t{r.str(i, 0), r.str(i, 1), r.i64(i, 2), partitioned, r.boolean(i, 5), r.boolean(i, 6)};
        out[t.display()] = t;
    }
    return out;
}

std::string table_query(const table_ref& t, bool checksums) {
    // The alias is referenced as alias.*: a bare alias would resolve to a column of that name.
    std::string q = "SELECT count(*)";
    if (checksums) q += ", coalesce(sum(hashtextextended((pghaul_row.*)::text, 0)::numeric), 0)";
    return q + (t.via_root ? " FROM " : " FROM ONLY ") + sql::qualified(t.schema, t.name) + " AS pghaul_row";
}

void send(pg::connection& c, const std::string& sql, const std::string& what) {
    if (!PQsendQuery(c.raw(), sql.c_str())) c.fail(what);
}

// Collects the result of a sent query, reading until libpq has no more.
pg::result receive(pg::connection& c, const std::string& what) {
    pg::result kept;
    bool failed = false;
    while (PGresult* raw = PQgetResult(c.raw())) {
        pg::result r(raw);
        if (failed) continue;
        failed = r.status() != PGRES_TUPLES_OK;
        kept = std::move(r);
    }
    if (!kept || failed) c.fail(what, kept ? &kept : nullptr);
    return kept;
}

struct side_pair {
    pg::connection source, target;
};

void compare_tables(const std::vector<table_ref>& tables, std::vector<side_pair>& workers, bool checksums,
                    verify_result& out) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::exception_ptr first_error;
    auto work = [&](side_pair& w) {
        try {
            for (std::size_t i; !stop && (i = next++) < tables.size();) {
                const auto& t = tables[i];
                const std::string q = table_query(t, checksums), what = "comparing table " + t.display();
                send(w.source, q, what);
                send(w.target, q, what);
                auto s = receive(w.source, what);
                auto g = receive(w.target, what);
                spdlog::debug("verify {}: {} / {} rows", t.display(), s.str(0, 0), g.str(0, 0));
                std::lock_guard lock(mu);
                if (s.str(0, 0) != g.str(0, 0))
                    out.mismatches.push_back({"rows", "table " + t.display(), s.str(0, 0), g.str(0, 0)});
                else if (checksums && s.str(0, 1) != g.str(0, 1))
                    out.mismatches.push_back({"checksum", "table " + t.display(), s.str(0, 1), g.str(0, 1)});
            }
        } catch (const error& e) {
            std::lock_guard lock(mu);
            // Counting through row security or past a missing grant compares nothing.
            if (!first_error)
                first_error = std::make_exception_ptr(
                    sqlstate::insufficient_privilege(e)
                        ? error(e.code(), e.what(),
                                "verify as a login that reads every table and bypasses row security (a "
                                "superuser, "
                                "or a role with BYPASSRLS that is a member of pg_read_all_data)",
                                e.sqlstate())
                        : e);
            stop = true;
        } catch (...) {
            std::lock_guard lock(mu);
            if (!first_error) first_error = std::current_exception();
            stop = true;
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers.size(); ++i) threads.emplace_back(work, std::ref(workers[i]));
    work(workers[0]);
    for (auto& th : threads) th.join();
    if (first_error) std::rethrow_exception(first_error);
}

// Across major versions some differences are the newer server's own doing;
// they become notes, everything else stays a mismatch:
// - a view's query as the target prints it: 16+ leaves single-table column
//   references unqualified. The source's text is parsed on the target (a
//   temporary view, rolled back) and printed back: equal means the same query.
// - a setting the copy left out because the target has no such parameter
//   (force_parallel_mode on 16+; custom "x.y" names exist everywhere).
void settle_version_differences(const conninfo& target, pg::connection& target_snapshot, verify_result& res) {
    std::optional<pg::connection> scratch;
    std::erase_if(res.mismatches, [&](const mismatch& m) {
        if (m.kind == "definition" && !m.source.empty() &&
            (m.object.starts_with("view ") || m.object.starts_with("materialized view "))) {
            if (!scratch) scratch.emplace(open_side(target, exit_code::target));
            try {
                scratch->exec(
                    "BEGIN; SET LOCAL search_path = ''; CREATE TEMPORARY VIEW pghaul_reparse AS " + m.source,
                    "parsing the source's definition of " + m.object + " on the target");
                auto printed = scratch->exec("SELECT pg_get_viewdef('pg_temp.pghaul_reparse'::regclass)",
                                             "printing it back");
                bool same = printed.str(0, 0) == m.target;
                scratch->exec("ROLLBACK", "dropping the temporary view");
                return same;
            } catch (const error&) {
                scratch->rollback();
                return false;
            }
        }
        if (m.kind == "setting" && m.target.empty()) {
            auto name = m.object.substr(m.object.find("setting ") + 8);
            name = name.substr(0, name.find(' '));
            if (name.find('.') != std::string::npos) return false;
            auto known = target_snapshot.exec_params("SELECT FROM pg_settings WHERE name = $1", {name},
                                                     "looking up a parameter on the target");
            if (known.rows() > 0) return false;
            res.notes.push_back(m.object + " = " + m.source +
                                ": the target's PostgreSQL has no such parameter (the copy left it out)");
            return true;
        }
        return false;
    });
}

// The read-only fence of a cutover (pghaul clients --fence read-only) is a
// database setting the copy leaves out on purpose: a note, not a mismatch.
void settle_left_out_fence(verify_result& res) {
    std::erase_if(res.mismatches, [&](const mismatch& m) {
        if (m.kind != "setting" || !m.target.empty() || m.source != "on" ||
            !m.object.ends_with("setting default_transaction_read_only"))
            return false;
        res.notes.push_back(m.object + " = on: the copy left out the source's read-only fence");
        return true;
    });
}

}  // namespace

verify_result verify_databases(const conninfo& source, const conninfo& target, const verify_options& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    verify_result res;
    res.checksums = opt.checksums;
    // Both sides in one snapshot each: the holders export, the workers import.
    snapshot_holder src_holder =
        opt.source_snapshot.empty()
            ? snapshot_holder(open_side(source, exit_code::source))
            : snapshot_holder(open_side(source, exit_code::source), opt.source_snapshot);
    snapshot_holder tgt_holder(open_side(target, exit_code::target));
    auto src_tables = list_tables(src_holder.connection());
    auto tgt_tables = list_tables(tgt_holder.connection());

    std::vector<table_ref> common;  // tables on one side only are reported by the catalog comparison
    for (auto& [name, t] : src_tables) {
        if (!tgt_tables.count(name) || opt.exclude.excludes(t.schema, t.name)) continue;
        if (any_matches(opt.exclude_table_data, t.schema, t.name)) {
            res.rows_not_compared.push_back(t.display());
        } else if (const auto& g = tgt_tables.at(name);
                   opt.uncountable_rows_are_notes && !(t.uncountable() + g.uncountable()).empty()) {
            res.notes.push_back(
                "rows of " + t.display() + " not compared: " +
                (t.uncountable().empty() ? g.uncountable() + " target" : t.uncountable() + " source") +
                " login (a superuser, or BYPASSRLS and pg_read_all_data, could count them)");
        } else {
            common.push_back(t);
        }
    }
    std::sort(common.begin(), common.end(), [](auto& a, auto& b) { return a.bytes > b.bytes; });
    res.tables = common.size();

    const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(opt.jobs, common.size()));
    std::vector<side_pair> workers;
    if (!common.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
            side_pair p{open_side(source, exit_code::source), open_side(target, exit_code::target)};
            import_snapshot(p.source, src_holder.id());
            import_snapshot(p.target, tgt_holder.id());
            workers.push_back(std::move(p));
        }
    }
    // The catalog is compared on the holders while the workers count.
    std::optional<std::thread> data;
    std::exception_ptr data_error;
    verify_result data_res;
    if (!workers.empty())
        data.emplace([&] {
            try {
                compare_tables(common, workers, opt.checksums, data_res);
            } catch (...) {
                data_error = std::current_exception();
            }
        });
    std::exception_ptr catalog_error;
    try {
        const int sv = src_holder.connection().server_version(),
                  tv = tgt_holder.connection().server_version();
        // What the copy left out is compared on neither side: the target may
        // have some of it on its own (schema public, made by CREATE DATABASE).
        auto s = detail::read_catalog_entries(src_holder.connection(), opt.role_map, tv, opt.exclude,
                                              &res.left_out);
        auto t = detail::read_catalog_entries(tgt_holder.connection(), {}, sv, opt.exclude);
        auto skipped = [&](const auto& entry) {
            const auto& k = entry.first;
            return (!opt.owners && k.kind == "owner") || (!opt.privileges && k.kind == "privileges") ||
                   (k.kind == "privileges" && opt.grantees_not_compared.count(k.aspect)) ||
                   (!opt.role_settings && k.kind == "setting" &&
                    k.object.find(" for role ") != std::string::npos);
        };
        std::erase_if(s, skipped);
        std::erase_if(t, skipped);
        detail::compare_entries(s, t, res);
        if (sv / 10000 != tv / 10000) settle_version_differences(target, tgt_holder.connection(), res);
        settle_left_out_fence(res);
    } catch (...) {
        catalog_error = std::current_exception();
    }
    if (data) {
        // Ctrl-C: cancel what the servers run, so the workers stop at once.
        {
            std::stop_callback cancel(run_stop_token(), [&] {
                for (auto& w : workers) {
                    w.source.request_cancel();
                    w.target.request_cancel();
                }
            });
            data->join();
        }
    }
    if (run_stop_token().stop_requested()) throw error(exit_code::interrupted, "verify was interrupted");
    if (catalog_error) std::rethrow_exception(catalog_error);
    if (data_error) std::rethrow_exception(data_error);
    // Data mismatches first, in table order, then the catalog's.
    std::sort(data_res.mismatches.begin(), data_res.mismatches.end(),
              [](auto& a, auto& b) { return a.object < b.object; });
    res.mismatches.insert(res.mismatches.begin(), data_res.mismatches.begin(), data_res.mismatches.end());
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
}

std::string render_verify_text(const verify_result& r) {
    std::string out;
    for (auto& m : r.mismatches) {
        // An object with no definition of its own (a table, a schema) that one
        // side lacks: "exists" on the other, not "(none)" on both.
        auto v = [&](const std::string& s, bool present) {
            return !s.empty() ? s : present ? std::string("exists") : std::string("(none)");
        };
        out += fmt::format("MISMATCH [{}] {}\n    source: {}\n    target: {}\n", m.kind, m.object,
                           v(m.source, m.kind == "missing"), v(m.target, m.kind == "extra"));
    }
    for (auto& n : r.notes) out += "note: " + n + "\n";
    if (!r.rows_not_compared.empty()) {
        std::string list;
        for (auto& t : r.rows_not_compared) list += (list.empty() ? "" : ", ") + t;
        out += "rows not compared (--exclude-table-data): " + list + "\n";
    }
    if (r.left_out > 0)
        out += fmt::format(
            "not compared: {} source catalog entries left out by the copy's --table, --schema, "
            "--exclude-table or --exclude-schema\n",
            r.left_out);
    out += fmt::format(
        "{} {} tables ({}), {} sequences, {} schema objects, {} owner/privilege entries, {} settings "
        "compared in {:.1f} s: {}\n",
        r.equal() ? "equal:" : "DIFFERENT:", r.tables,
        r.checksums ? "row counts and checksums" : "row counts", r.sequences, r.objects, r.privileges,
        r.settings, r.seconds,
        r.equal() ? "no differences" : std::to_string(r.mismatches.size()) + " mismatch(es)");
    return out;
}

nlohmann::json verify_json(const verify_result& r) {
    nlohmann::json list = nlohmann::json::array();
    for (auto& m : r.mismatches)
        list.push_back({{"kind", m.kind}, {"object", m.object}, {"source", m.source}, {"target", m.target}});
    return {{"equal", r.equal()},
            {"checksums", r.checksums},
            {"compared",
             {{"tables", r.tables},
              {"sequences", r.sequences},
              {"schema_objects", r.objects},
              {"privileges", r.privileges},
              {"settings", r.settings}}},
            {"seconds", r.seconds},
            {"notes", r.notes},
            {"rows_not_compared", r.rows_not_compared},
            {"left_out_entries", r.left_out},
            {"mismatches", list}};
}

}  // namespace pghaul::engine
