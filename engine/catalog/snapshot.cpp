// Snapshot export and import, as pg_dump -j does it.
#include "engine/catalog/snapshot.hpp"

#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

snapshot_holder::snapshot_holder(pg::connection conn) : conn_(std::move(conn)) {
    conn_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "starting the snapshot transaction");
    conn_.exec("SET row_security = off", "turning row security off on the source");
    id_ = conn_.exec("SELECT pg_export_snapshot()", "exporting the snapshot").str(0, 0);
}

// An empty search_path makes text output of reg* values schema-qualified, so
// they resolve on the target whatever its search_path.
snapshot_holder::snapshot_holder(pg::connection conn, std::string existing_id)
    : conn_(std::move(conn)), id_(std::move(existing_id)) {
    import_snapshot(conn_, id_);
}

void import_snapshot(pg::connection& conn, const std::string& id) {
    conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT " +
                  sql::literal(id) +
                  "; SET row_security = off; SELECT pg_catalog.set_config('search_path', '', false)",
              "importing snapshot " + id);
}

}  // namespace pghaul::engine
