// Byte sizes as users write them: 16MB, 512MiB, 2GB, 1.5G, 4096.
#pragma once

#include <cstdint>
#include <string_view>

namespace pghaul {

// kB/MB/GB/TB and KiB/MiB/GiB/TiB are both powers of 1024, as in PostgreSQL's
// own settings; a bare number is bytes. Throws pghaul::error (usage) naming
// the text on anything else.
std::int64_t parse_size(std::string_view text);

}  // namespace pghaul
