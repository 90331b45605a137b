// The manifest of `pghaul run` (TOML: [target], [run], [[source]]...) read
// into an engine::run_config, with every problem reported at file:line:column.
#pragma once

#include <string>
#include <string_view>

#include "engine/copy/run_config.hpp"

namespace pghaul::cli {

// Reads the file and parses it. Throws pghaul::error (usage) if the file cannot
// be read, is not valid TOML, or breaks any rule (all such problems in one message).
engine::run_config load_manifest(const std::string& path);

// Parses manifest text. path_for_messages prefixes every message, goes into each
// source's origin, and its directory anchors a relative [run].report path.
engine::run_config parse_manifest(std::string_view text, const std::string& path_for_messages);

}  // namespace pghaul::cli
