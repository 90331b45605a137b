// pghaul verify: does the target database equal the source? Computed on the
// servers (no rows travel to pghaul), in parallel, with the source read in one
// exported snapshot: per-table row counts and optional content checksums,
// sequences, schema objects, owners and privileges (through a role map), and
// database-level settings.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "protocol/conninfo.hpp"
#include "protocol/name_pattern.hpp"

namespace pghaul::engine {

struct verify_options {
    bool checksums = false;                       // content checksums besides row counts (reads every row)
    int jobs = 4;                                 // tables compared at once (one connection per side each)
    std::map<std::string, std::string> role_map;  // source role -> target role
    // Read the source as of this (still held) snapshot instead of a new one:
    // how copy/run verify exactly what they copied from a live source.
    std::string source_snapshot;
    // What a copy deliberately changed is not a difference: owners when
    // objects went to the target login, grants when they were skipped, and
    // per-role settings the target refused (a managed login lacks CREATEROLE).
    bool owners = true;
    bool privileges = true;
    bool role_settings = true;
    std::set<std::string> grantees_not_compared;  // target role names whose grants were skipped
    // Tables whose rows a copy left out on purpose (--exclude-table-data):
    // their rows are not compared, the rest of them is.
    std::vector<name_pattern> exclude_table_data;
    // What a copy left out whole (-T, -N) or did not choose (-t, -n): those
    // objects, and everything that belongs to them, are compared on neither
    // side.
    relation_filter exclude;
    // Tables a side's login cannot count (row-level security applies to it,
    // or no SELECT: an owner that revoked its own rights): a note and their
    // rows not compared, rather than an error. For copy's verify, whose load
    // already checked each table's row count against the source's.
    bool uncountable_rows_are_notes = false;
};

struct mismatch {
    std::string kind;    // rows, checksum, sequence, missing, extra, definition, owner, privileges, setting
    std::string object;  // what it concerns, as users write it: "table public.orders"
    std::string source;  // the source's value ("" when absent there)
    std::string target;  // the target's value ("" when absent there)
};

struct verify_result {
    std::vector<mismatch> mismatches;
    // Differences that are not mismatches: what a newer target does on its
    // own (an extension's default version, a parameter it no longer has).
    std::vector<std::string> notes;
    std::size_t tables = 0;                      // tables whose data was compared
    std::vector<std::string> rows_not_compared;  // excluded by exclude_table_data
    std::size_t left_out = 0;                    // source catalog entries not compared (exclude)
    std::size_t sequences = 0;
    std::size_t objects = 0;     // schema objects compared (incl. columns, indexes, ...)
    std::size_t privileges = 0;  // owner and grant entries compared
    std::size_t settings = 0;
    bool checksums = false;
    double seconds = 0;
    bool equal() const { return mismatches.empty(); }
};

// Compares the two databases named by the conninfos' dbnames. Throws
// pghaul::error when a server cannot be reached or a query fails; differences
// are never errors, they are the result.
verify_result verify_databases(const conninfo& source, const conninfo& target, const verify_options& opt);

std::string render_verify_text(const verify_result& r);
nlohmann::json verify_json(const verify_result& r);

}  // namespace pghaul::engine
