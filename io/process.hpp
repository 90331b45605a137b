// Runs a child program (pg_dump) without a shell and captures its output.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace pghaul {

struct process_result {
    int exit_status = -1;  // exit code, or 128+signal
    std::string out;
    std::string err;
    bool timed_out = false;  // killed after `timeout`
    // Peak resident set of the child or of any child it waited for, in KiB
    // (wait4's ru_maxrss): what a memory budget's test asserts.
    long peak_rss_kib = 0;
};

// argv[0] is looked up in PATH. `extra_env` entries ("NAME=value") are added to
// the child's environment only: a password passed this way never appears on
// any process's command line.
// `fd_map` pairs (parent descriptor, child descriptor) are duplicated into the child.
// A `timeout` above zero kills the child (SIGKILL) when it runs longer, and
// so does a stop request on `stop` (the run's SIGINT: a pg_dump waiting for
// another session's lock would otherwise keep pghaul waiting with it).
process_result run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_env = {},
                           const std::vector<std::pair<int, int>>& fd_map = {},
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                           std::stop_token stop = {});

// The first line of a child's output: what an error message quotes.
std::string first_line(std::string_view text);

}  // namespace pghaul
