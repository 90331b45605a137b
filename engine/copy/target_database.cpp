// The target database's life: exists, dropped, claimed by this run,
// marked INCOMPLETE until its copy is finished.
#include "engine/copy/target_database.hpp"

#include <chrono>
#include <thread>

#include "protocol/error.hpp"
#include "protocol/sql_quote.hpp"
#include "protocol/sqlstate.hpp"

namespace pghaul::engine {

bool database_exists(pg::connection& maint, const std::string& name) {
    return maint
               .exec_params("SELECT FROM pg_database WHERE datname = $1", {name},
                            "checking the target database")
               .rows() > 0;
}

// FORCE (13+) ends the database's sessions, but a non-superuser may not end
// an autovacuum worker's (42501; autovacuum finds a fresh copy's new tables
// quickly). A plain DROP DATABASE stops autovacuum workers itself, so it is
// the fallback once the login's own sessions (a killed run's) are ended; on
// 12 it is the only way, retried while ended sessions are still exiting.
void drop_database(pg::connection& maint, const std::string& name) {
    const std::string what = "dropping database \"" + name + "\"";
    const int version = maint.server_version();
    if (version >= 130000) {
        try {
            maint.exec("DROP DATABASE IF EXISTS " + sql::ident(name) + " WITH (FORCE)", what);
            return;
        } catch (const error& e) {
            if (!sqlstate::insufficient_privilege(e)) throw;
        }
    }
    maint.exec_params(std::string("SELECT pg_terminate_backend(pid") + (version >= 140000 ? ", 10000" : "") +
                          ") FROM pg_stat_activity "
                          "WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()",
                      {name}, what);
    for (int attempt = 0;; ++attempt) {
        try {
            maint.exec("DROP DATABASE IF EXISTS " + sql::ident(name), what);
            return;
        } catch (const error& e) {
            // object_in_use: on 12 the sessions just ended may still be exiting
            if (e.sqlstate() != "55006" || version >= 130000 || attempt >= 50) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
}

std::uint32_t database_oid(pg::connection& conn, const std::string& name) {
    auto r = conn.exec_params("SELECT oid FROM pg_database WHERE datname = $1", {name},
                              "looking up database \"" + name + "\"");
    return r.rows() ? static_cast<std::uint32_t>(r.i64(0, 0)) : 0;
}

bool try_claim_database(pg::connection& maint, const std::string& name) {
    // 1885825121: "pgha", so pghaul's locks are told apart from the application's.
    return maint
        .exec_params("SELECT pg_try_advisory_lock(1885825121, hashtext($1))", {name},
                     "claiming database \"" + name + "\" for this run")
        .boolean(0, 0);
}

bool marked_incomplete(pg::connection& conn, const std::string& db) {
    auto r =
        conn.exec_params("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                         {db}, "reading the comment of database \"" + db + "\"");
    return r.rows() > 0 && !r.is_null(0, 0) && r.str(0, 0).starts_with(incomplete_marker);
}

}  // namespace pghaul::engine
