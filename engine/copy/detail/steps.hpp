// Helpers shared by source_job's step files (source_job.cpp, step_*.cpp).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "protocol/error.hpp"

namespace pghaul::engine::steps {

inline double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// pg_dump writes each database-level statement on its own line(s), ending in ';'.
std::vector<std::string> split_statements(const std::string& sql);

}  // namespace pghaul::engine::steps
