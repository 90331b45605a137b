// The snapshot holder: one source transaction that exports the snapshot every
// reader and pg_dump import, and keeps it alive until they all have.
#pragma once

#include <string>

#include "io/pg/connection.hpp"

namespace pghaul::engine {

class snapshot_holder {
public:
    explicit snapshot_holder(pg::connection conn);
    // Holds an existing snapshot instead of exporting one (it must still be
    // held by its exporter): pghaul copy --verify checks the copy's own snapshot.
    snapshot_holder(pg::connection conn, std::string existing_id);
    const std::string& id() const { return id_; }
    // Whether the database has any security label, as the snapshot sees it
    // (true for a snapshot held outside pghaul: not asked). Without one,
    // pg_dump is told --no-security-labels, which saves its pg_seclabels
    // query: 2.5-3.7 ms of source CPU per database, measured on the fleet bench.
    bool security_labels() const { return security_labels_; }
    pg::connection& connection() { return conn_; }

private:
    pg::connection conn_;
    std::string id_;
    bool security_labels_ = true;
};

// Starts a read-only repeatable-read transaction on `conn` that sees the
// snapshot `id`, with row security off so RLS errors out instead of silently
// hiding rows from the copy.
void import_snapshot(pg::connection& conn, const std::string& id);

}  // namespace pghaul::engine
