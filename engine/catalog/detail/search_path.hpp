// Catalog text that must read back on the target whatever its search path
// (pg_get_constraintdef, reg* values): printed under a narrow path, which the
// snapshot's transaction gets back afterwards (statistics.cpp, catalog.cpp).
#pragma once

#include <string>

#include "io/pg/connection.hpp"

namespace pghaul::engine::detail {

// Runs `read` with the transaction's search path set to `path` ("" qualifies
// every name but pg_catalog's, "pg_catalog" every name but built-ins'). On an
// exception the transaction is failed anyway, so nothing is put back.
template <class Read>
auto under_search_path(pg::connection& conn, const std::string& path, Read read) {
    const auto earlier = conn.exec("SELECT current_setting('search_path')").str(0, 0);
    conn.exec_params("SELECT pg_catalog.set_config('search_path', $1, true)", {path});
    auto r = read();
    conn.exec_params("SELECT pg_catalog.set_config('search_path', $1, true)", {earlier});
    return r;
}

}  // namespace pghaul::engine::detail
