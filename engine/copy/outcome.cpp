#include "engine/copy/outcome.hpp"

namespace pghaul::engine {

std::string_view status_name(source_status s) {
    switch (s) {
        case source_status::pending:
            return "pending";
        case source_status::skipped:
            return "skipped";
        case source_status::failed:
            return "failed";
        case source_status::done:
            return "done";
    }
    return "?";
}

std::string_view verification_name(verification v) {
    switch (v) {
        case verification::rows_match:
            return "rows match";
        case verification::counts_match:
            return "counts match";
        case verification::checksums_match:
            return "checksums match";
        case verification::mismatch:
            return "MISMATCH";
    }
    return "?";
}

void source_outcome::add_failure(const error& e) {
    constexpr std::size_t most = 20;  // a dry run's listing, not a log
    update([&](outcome_fields& o) {
        if (!o.failure)
            o.failure = e;
        else if (o.more_failures.size() < most)
            o.more_failures.push_back(e);
    });
}

void source_outcome::add_warning(std::string message) {
    update([&](outcome_fields& o) { o.warnings.push_back(std::move(message)); });
}

void source_outcome::add_bar(timeline_entry bar) {
    update([&](outcome_fields& o) { o.timeline.push_back(std::move(bar)); });
}

}  // namespace pghaul::engine
