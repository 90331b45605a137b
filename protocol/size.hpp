// Byte sizes as users write them (16MB, 512MiB, 2GB, 1.5G, 4096) and as pghaul prints them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pghaul {

// kB/MB/GB/TB and KiB/MiB/GiB/TiB are both powers of 1024, as in PostgreSQL's
// own settings; a bare number is bytes. Throws pghaul::error (usage) naming
// the text on anything else.
std::int64_t parse_size(std::string_view text);

// "512 B", "1.5 kB", "3.2 GB": powers of 1024 with PostgreSQL's unit names.
std::string format_size(std::int64_t bytes);

// "1 table", "2 tables": a count with its noun (plural by a trailing s).
std::string counted(std::int64_t n, std::string_view noun);

}  // namespace pghaul
