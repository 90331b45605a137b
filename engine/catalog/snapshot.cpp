// Snapshot export and import, as pg_dump -j does it.
#include "engine/catalog/snapshot.hpp"

#include "protocol/sql_quote.hpp"

namespace pghaul::engine {

// One round trip (three were 0.1 ms each here, a link's latency each through an agent).
snapshot_holder::snapshot_holder(pg::connection conn) : conn_(std::move(conn)) {
    auto r = conn_.exec(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET row_security = off; "
        "SELECT pg_export_snapshot(), EXISTS (SELECT FROM pg_catalog.pg_seclabel) "
        "OR EXISTS (SELECT FROM pg_catalog.pg_shseclabel)",
        "exporting the snapshot");
    id_ = r.str(0, 0);
    security_labels_ = r.boolean(0, 1);
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
