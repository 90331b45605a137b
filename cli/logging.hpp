// The log proper (spdlog), apart from progress: text or JSON lines, to the
// terminal (above a progress bar when one is drawn) and optionally a file.
#pragma once

#include <string>

#include "cli/progress.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {

struct logging_options {
    int verbosity = 0;
    bool quiet = false;
    std::string format = "text";  // text | json
    std::string file;             // also log here (appended)
};

void set_up_logging(const logging_options& opt, progress_display* display);

// The error that ends the command, for --log-file and --log-format json
// (the terminal gets it as plain "pghaul: error:" lines, printed last).
void log_fatal(const error& e);

}  // namespace pghaul::cli
