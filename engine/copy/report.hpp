// The run report: a summary table for the terminal and the same as JSON. It
// holds endpoints with passwords redacted, never a secret.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/copy/source_job.hpp"

namespace pghaul::engine {

struct run_report {
    nlohmann::json json;
    std::string table;  // for the terminal
};

// `origin` is when the run started: timeline times are seconds since then.
run_report make_report(const std::vector<std::unique_ptr<source_job>>& jobs,
                       const std::string& target_endpoint, double seconds, const nlohmann::json& roles,
                       std::chrono::steady_clock::time_point origin);

}  // namespace pghaul::engine
