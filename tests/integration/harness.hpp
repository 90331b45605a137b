// Integration test harness: the sandbox servers started by
// scripts/pg-sandbox.sh, the pghaul binary as a user runs it, and the oracle
// that compares a target database with its source.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/pg/connection.hpp"
#include "io/process.hpp"
#include "protocol/conninfo.hpp"

namespace harness {

// Conninfo of a sandbox server from the environment (PGHAUL_SRC_A, PGHAUL_TGT,
// PGHAUL_TGT_SUPER, ...). Missing variables fail the test: the suite never
// passes by skipping its servers.
pghaul::conninfo server(const std::string& var, const std::string& dbname = "postgres");
pghaul::pg::connection connect(const std::string& var, const std::string& dbname = "postgres");

// Conninfo text for pghaul's --source (srca, as the `haul` login) and
// --target (as the non-superuser `haul_admin`) naming `db`.
std::string src(const std::string& db);
std::string tgt(const std::string& db);
bool target_has_database(const std::string& name);
// Waits (bounded) until pghaul's snapshot holder has locked `table` in the
// database `conn` is on: from then on the copy's snapshot is fixed.
void wait_for_snapshot_lock(pghaul::pg::connection& conn, const std::string& table);

// Waits (bounded, about 15 s) until a session of `app` on the server behind
// `var` is running a statement LIKE `like`; false if none showed up.
bool wait_for_statement(const std::string& var, const std::string& app, const std::string& like);

// Once `target_db` on the target has its table "stalled", holds an exclusive
// lock on it while `while_locked` runs; returns what that returned (false if
// the table never appeared, within about 10 s).
bool stall_target(const std::string& target_db, const std::function<bool()>& while_locked);

// A database name no other test uses.
std::string unique_name(const std::string& prefix);

// Where run_pghaul's runs keep their state journals (PGHAUL_STATE_DIR).
std::string test_state_dir();
// A whole file's bytes (a report, a log).
std::string read_file(const std::string& path);

// Runs bin/pghaul with the arguments (and extra NAME=value environment entries).
// `timeout` above zero: killed (SIGKILL) when it runs longer, for a test
// whose failure would otherwise be a hang.
pghaul::process_result run_pghaul(const std::vector<std::string>& args,
                                  const std::vector<std::string>& env = {},
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

// A file in a fresh private temporary directory, removed with the object.
struct temp_file {
    explicit temp_file(const std::string& name, const std::string& content, bool executable = false);
    ~temp_file();
    std::string path;
};

// The sandbox password of a server ("srca", "tgt") from its pgpass file.
std::string sandbox_password(const std::string& var);

// Creates `dbname` on the server behind `super_var` and runs the SQL file.
void create_database_from(const std::string& super_var, const std::string& dbname,
                          const std::string& sql_file);
void drop_database(const std::string& super_var, const std::string& dbname);
// Makes a copy of the database behind `conn` fail after its data has landed,
// as no preflight can foresee: an index on `table` (`column` int) over a
// function declared IMMUTABLE that was then replaced by one that raises, so
// the index the source holds cannot be built again. The error names
// `lying_immutable`; mend_after_data(conn) makes the function honest again.
void break_after_data(pghaul::pg::connection& conn, const std::string& table, const std::string& column);
void mend_after_data(pghaul::pg::connection& conn);
// The fixture's roles on the target, with the target login a member of the owner.
void ensure_target_roles(const std::string& super_var = "PGHAUL_TGT_SUPER");

// Per-table row count and content hash.
struct fingerprint {
    std::int64_t rows = 0;
    std::string hash;
    bool operator==(const fingerprint&) const = default;
};
std::map<std::string, fingerprint> table_fingerprints(pghaul::pg::connection& conn);
// The same for database `dbname` on the server behind `var`, on a connection of its own.
std::map<std::string, fingerprint> table_fingerprints(const std::string& var, const std::string& dbname);

// A database on srca with one table big enough that its COPY runs for a while
// (1.5M rows, ~300 MB) and a small one; returns its name. Each is a file copy
// of one template the test program fills once (1 s here against 5 s to fill).
std::string make_big_source();
// The tables of every make_big_source() database as made, hashed once from
// the template (each hash of the big table takes seconds): what a copy of an
// unchanged big source must equal. A test that writes to its source hashes it.
const std::map<std::string, fingerprint>& big_source_fingerprints();
// A database on srca with two tables for one job to copy: while "first_big"
// (`first_big_rows` rows, 600,000 are about 90 MB) copies, a test locks
// "stalled" (300,000 rows) on the target, so its data waits in memory and
// spool. Returns its name.
std::string make_stall_source(int first_big_rows = 600000);
// Whether a run's pghaul-* spool directory is under `parent`.
bool has_spool_dir(const std::filesystem::path& parent);
std::map<std::string, std::string> sequence_states(pghaul::pg::connection& conn);
std::map<std::string, std::string> large_objects(pghaul::pg::connection& conn);
std::string database_settings(pghaul::pg::connection& conn);  // ALTER DATABASE ... SET, comment, ACL
// pg_dump --schema-only; without owners where the copy gave everything to the target login.
std::string schema_dump(const std::string& super_var, const std::string& dbname, bool owners = true);

// Every password the sandbox uses: no output may contain one.
std::vector<std::string> sandbox_passwords();
bool contains_any(const std::string& text, const std::vector<std::string>& needles);

}  // namespace harness
