// Chunked lo_get/lo_put with binary parameters: no hex doubling, bounded memory.
#include "engine/copy/large_objects.hpp"

#include <string>

namespace pghaul::engine {

std::uint64_t copy_large_objects(pg::connection& source, pg::connection& target,
                                 const std::vector<std::uint32_t>& oids) {
    constexpr std::int64_t chunk = 1 << 20;
    std::uint64_t total = 0;
    if (oids.empty()) return 0;
    target.exec("BEGIN", "starting the large object transaction");
    for (auto oid : oids) {
        const std::string what = "copying large object " + std::to_string(oid);
        const std::string id = std::to_string(oid);
        for (std::int64_t offset = 0;; offset += chunk) {
            const std::string off = std::to_string(offset), len = std::to_string(chunk);
            auto data = source.exec_formats("SELECT pg_catalog.lo_get($1::oid, $2::bigint, $3::int)",
                                            {id, off, len}, {0, 0, 0}, 1, what);
            auto bytes = data.text(0, 0);
            if (bytes.empty()) break;
            target.exec_formats("SELECT pg_catalog.lo_put($1::oid, $2::bigint, $3::bytea)", {id, off, bytes},
                                {0, 0, 1}, 0, what);
            total += bytes.size();
            if (static_cast<std::int64_t>(bytes.size()) < chunk) break;
        }
    }
    target.exec("COMMIT", "committing large objects");
    return total;
}

}  // namespace pghaul::engine
