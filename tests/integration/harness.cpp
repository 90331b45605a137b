// Integration harness implementation; every query here runs as a superuser so
// the oracle sees everything regardless of grants and row security.
#include "harness.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <optional>
#include <sstream>
#include <thread>

#include "protocol/sql_quote.hpp"

namespace harness {

namespace sql = pghaul::sql;

pghaul::conninfo server(const std::string& var, const std::string& dbname) {
    const char* v = std::getenv(var.c_str());
    if (!v || !*v) {
        FAIL("environment variable " << var << " is not set: run the suite through scripts/test.sh");
    }
    return pghaul::conninfo::parse(v).with_dbname(dbname);
}

pghaul::pg::connection connect(const std::string& var, const std::string& dbname) {
    return pghaul::pg::connection::open(server(var, dbname), "pghaul-tests", pghaul::exit_code::internal);
}

std::string src(const std::string& db) {
    return server("PGHAUL_SRC_A", db).to_string();
}
std::string tgt(const std::string& db) {
    return server("PGHAUL_TGT", db).to_string();
}

bool target_has_database(const std::string& name) {
    return connect("PGHAUL_TGT_SUPER")
               .exec_params("SELECT FROM pg_database WHERE datname = $1", {name})
               .rows() > 0;
}

void wait_for_snapshot_lock(pghaul::pg::connection& conn, const std::string& table) {
    for (int i = 0; i < 1000; ++i) {
        if (conn.exec_params("SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                             "WHERE a.application_name = 'pghaul/snapshot' AND l.relation = $1::regclass",
                             {table})
                .rows() > 0)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool wait_for_statement(const std::string& var, const std::string& app, const std::string& like) {
    auto admin = connect(var);
    for (int i = 0; i < 3000; ++i) {
        if (admin
                .exec_params("SELECT FROM pg_stat_activity WHERE application_name = $1 AND query LIKE $2 "
                             "AND state = 'active'",
                             {app, like})
                .rows() > 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

std::string unique_name(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string test_state_dir() {
    static const std::string dir =
        (std::filesystem::temp_directory_path() / ("pghaul-test-state-" + std::to_string(::getpid())))
            .string();
    return dir;
}

bool stall_target(const std::string& target_db, const std::function<bool()>& while_locked) {
    for (int i = 0; i < 4000; ++i) {
        std::optional<pghaul::pg::connection> t;
        try {
            t.emplace(connect("PGHAUL_TGT_SUPER", target_db));
            if (t->exec("SELECT FROM pg_class WHERE relname = 'stalled'").rows() > 0) {
                t->exec("BEGIN; LOCK TABLE stalled IN ACCESS EXCLUSIVE MODE");
                bool ok = while_locked();
                t->exec("COMMIT");
                return ok;
            }
        } catch (const std::exception&) {  // the database is not there yet
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

pghaul::process_result run_pghaul(const std::vector<std::string>& args, const std::vector<std::string>& env,
                                  std::chrono::milliseconds timeout) {
    std::vector<std::string> argv = {PGHAUL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    // State journals of runs that stop early go to one private directory per
    // test process, not into the build tree (a test may name its own).
    std::vector<std::string> full_env = env;  // the first of a name wins
    full_env.push_back("PGHAUL_STATE_DIR=" + test_state_dir());
    auto r = pghaul::run_process(argv, full_env, {}, timeout);
    MESSAGE("pghaul exit " << r.exit_status << "\n" << r.err.substr(0, 4000));
    return r;
}

void create_database_from(const std::string& super_var, const std::string& dbname,
                          const std::string& sql_file) {
    auto c = connect(super_var);
    drop_database(super_var, dbname);
    c.exec("CREATE DATABASE " + sql::ident(dbname));
    if (sql_file.empty()) return;
    auto r = pghaul::run_process({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                                  server(super_var, dbname).to_string(), "-f",
                                  std::string(PGHAUL_SQL_DIR) + "/" + sql_file});
    REQUIRE_MESSAGE(r.exit_status == 0, "loading " << sql_file << ": " << r.err);
}

void break_after_data(pghaul::pg::connection& conn, const std::string& table, const std::string& column) {
    conn.exec("CREATE FUNCTION lying_immutable(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1';"
              "CREATE INDEX ON " + sql::ident(table) + " (lying_immutable(" + sql::ident(column) + "));"
              "CREATE OR REPLACE FUNCTION lying_immutable(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
              "$$BEGIN RAISE EXCEPTION 'lying_immutable(%) is not what its index was built with', $1; END$$");
}

void mend_after_data(pghaul::pg::connection& conn) {
    conn.exec("CREATE OR REPLACE FUNCTION lying_immutable(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
              "$$BEGIN RETURN $1; END$$");
}

void drop_database(const std::string& super_var, const std::string& dbname) {
    auto c = connect(super_var);
    if (c.server_version() >= 130000) {
        c.exec("DROP DATABASE IF EXISTS " + sql::ident(dbname) + " WITH (FORCE)");
        return;
    }
    // 12 has no FORCE: end the sessions, then drop.
    c.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", {dbname});
    for (int i = 0;; ++i) {
        try {
            c.exec("DROP DATABASE IF EXISTS " + sql::ident(dbname));
            return;
        } catch (const pghaul::error&) {
            if (i > 50) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

void ensure_target_roles(const std::string& super_var) {
    auto c = connect(super_var);
    c.exec(R"(DO $$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_owner') THEN CREATE ROLE fx_owner NOLOGIN; END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_reader') THEN CREATE ROLE fx_reader NOLOGIN; END IF;
        END$$; GRANT fx_owner TO haul_admin)");
}

std::map<std::string, fingerprint> table_fingerprints(const std::string& var, const std::string& dbname) {
    auto conn = connect(var, dbname);
    return table_fingerprints(conn);
}

std::map<std::string, fingerprint> table_fingerprints(pghaul::pg::connection& conn) {
    auto tables = conn.exec(R"(
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated)) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' ORDER BY 1)");
    std::map<std::string, fingerprint> out;
    for (int i = 0; i < tables.rows(); ++i) {
        auto name = tables.str(i, 0);
        // Order-independent: hash of the sorted per-row hashes of the row's text form.
        auto r = conn.exec(
            "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM "
            "(SELECT md5(t::text) AS h FROM ONLY " +
            name + " t) s");
        out[name] = {r.i64(0, 0), r.str(0, 1)};
    }
    return out;
}

namespace {

// The big source's template on srca, filled and hashed on first use and
// dropped when the test program exits.
struct big_template {
    std::string name = unique_name("fail_src_template");
    std::map<std::string, fingerprint> fingerprints;
    big_template() {
        create_database_from("PGHAUL_SRC_A_SUPER", name, "");
        auto c = connect("PGHAUL_SRC_A_SUPER", name);
        c.exec(
            "CREATE TABLE big (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO big SELECT i, repeat(md5(i::text), 6) FROM generate_series(1, 1500000) i;"
            "CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10)");
        fingerprints = table_fingerprints(c);
    }
    ~big_template() {
        try {
            drop_database("PGHAUL_SRC_A_SUPER", name);
        } catch (...) {  // the server may be gone at exit; the sandbox is thrown away with it
        }
    }
    big_template(const big_template&) = delete;
    big_template& operator=(const big_template&) = delete;
};

big_template& the_big_template() {
    static big_template t;
    return t;
}

}  // namespace

std::string make_stall_source(int first_big_rows) {
    auto db = unique_name("stall_src");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE first_big (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO first_big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, " +
            std::to_string(first_big_rows) +
            ") i;"
            "CREATE TABLE stalled (id bigint PRIMARY KEY, payload text);"
            "INSERT INTO stalled SELECT i, md5(i::text) || repeat(md5((i * 7)::text), 2) "
            "FROM generate_series(1, 300000) i");
    return db;
}

bool has_spool_dir(const std::filesystem::path& parent) {
    for (auto& d : std::filesystem::directory_iterator(parent))
        if (d.path().filename().string().starts_with("pghaul-")) return true;
    return false;
}

std::string make_big_source() {
    auto& from = the_big_template();
    auto db = unique_name("fail_src");
    // FILE_COPY: the template's files as they are, not every block through the WAL.
    connect("PGHAUL_SRC_A_SUPER")
        .exec("CREATE DATABASE " + sql::ident(db) + " TEMPLATE " + sql::ident(from.name) +
              " STRATEGY FILE_COPY");
    return db;
}

const std::map<std::string, fingerprint>& big_source_fingerprints() {
    return the_big_template().fingerprints;
}

std::map<std::string, std::string> sequence_states(pghaul::pg::connection& conn) {
    auto seqs = conn.exec(R"(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' ORDER BY 1)");
    std::map<std::string, std::string> out;
    for (int i = 0; i < seqs.rows(); ++i) {
        auto r = conn.exec("SELECT last_value || '/' || is_called FROM " + seqs.str(i, 0));
        out[seqs.str(i, 0)] = r.str(0, 0);
    }
    return out;
}

std::map<std::string, std::string> large_objects(pghaul::pg::connection& conn) {
    auto r = conn.exec(R"(SELECT oid::text, md5(lo_get(oid)) || ' owner=' || lomowner::regrole || ' acl=' ||
        coalesce(lomacl::text, '') || ' comment=' || coalesce(obj_description(oid, 'pg_largeobject'), '')
        FROM pg_largeobject_metadata)");
    std::map<std::string, std::string> out;
    for (int i = 0; i < r.rows(); ++i) out[r.str(i, 0)] = r.str(i, 1);
    return out;
}

std::string database_settings(pghaul::pg::connection& conn) {
    auto r = conn.exec(R"(SELECT coalesce((SELECT array_to_string(setconfig, ';') FROM pg_db_role_setting
                               WHERE setdatabase = d.oid AND setrole = 0), '') || ' | comment=' ||
                              coalesce(shobj_description(d.oid, 'pg_database'), '') || ' | encoding=' ||
                              pg_encoding_to_char(encoding) || ' ' || datcollate || ' | grants=' ||
                              coalesce((SELECT string_agg(a.grantee::regrole::text || ':' || a.privilege_type, ','
                                                          ORDER BY 1)
                                        FROM aclexplode(d.datacl) a WHERE a.grantee <> d.datdba), '')
                          FROM pg_database d WHERE datname = current_database())");
    return r.str(0, 0);
}

std::string schema_dump(const std::string& super_var, const std::string& dbname, bool owners) {
    std::vector<std::string> argv = {"pg_dump", "--schema-only", "-d", server(super_var, dbname).to_string()};
    if (!owners) argv.push_back("--no-owner");
    auto r = pghaul::run_process(argv);
    REQUIRE_MESSAGE(r.exit_status == 0, r.err);
    // \restrict keys are random per run.
    static const std::regex restrict_line(R"(\\(un)?restrict [A-Za-z0-9]+)");
    return std::regex_replace(r.out, restrict_line, "");
}

temp_file::temp_file(const std::string& name, const std::string& content, bool executable) {
    auto dir = std::filesystem::temp_directory_path() / unique_name("pghaul-test");
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    path = (dir / name).string();
    std::ofstream(path) << content;
    std::filesystem::permissions(
        path, executable ? std::filesystem::perms::owner_all
                         : std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

temp_file::~temp_file() {
    std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

std::string sandbox_password(const std::string& var) {
    auto port = server(var).get("port").value();
    const char* file = std::getenv("PGPASSFILE");
    REQUIRE(file);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (line.find(":" + port + ":") != std::string::npos) return line.substr(line.rfind(':') + 1);
    FAIL("no password for " << var << " in " << file);
    return {};
}

std::vector<std::string> sandbox_passwords() {
    std::vector<std::string> out;
    const char* file = std::getenv("PGPASSFILE");
    REQUIRE(file);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (auto at = line.rfind(':'); at != std::string::npos) out.push_back(line.substr(at + 1));
    REQUIRE(!out.empty());
    return out;
}

bool contains_any(const std::string& text, const std::vector<std::string>& needles) {
    for (auto& n : needles)
        if (!n.empty() && text.find(n) != std::string::npos) return true;
    return false;
}

}  // namespace harness
