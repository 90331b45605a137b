// The SQLSTATE table behind sqlstate.hpp.
#include "protocol/sqlstate.hpp"

namespace pghaul::sqlstate {

family classify(std::string_view code) {
    if (code.empty()) return family::none;
    if (code.starts_with("08")) return family::connection;
    if (code == "57P01" || code == "57P02" || code == "57P03") return family::shutdown;
    if (code == "40001" || code == "40P01") return family::conflict;
    if (code == "53300") return family::too_many_connections;
    if (code.starts_with("53")) return family::resources;
    if (code == "42P07" || code == "42710" || code == "42P16" || code == "55000") return family::already_exists;
    if (code == "42501") return family::privilege;
    return family::other;
}

bool retry_now(const error& e) {
    // resume_later never; redo_once only as the pool allows (once, while the
    // snapshot is held: worker_pool.cpp's retryable).
    if (e.disposition() != disposition::by_sqlstate) return false;
    switch (classify(e.sqlstate())) {
        case family::connection:
        case family::shutdown:
        case family::conflict:
        case family::too_many_connections:
            return true;
        default:
            return false;
    }
}

bool resumable(const error& e) {
    if (static_cast<int>(e.code()) >= 128 || e.code() == exit_code::local) return true;
    if (e.disposition() == disposition::resume_later) return true;
    switch (classify(e.sqlstate())) {
        case family::connection:
        case family::shutdown:
        case family::too_many_connections:
        case family::resources:
            return true;
        default:
            return false;
    }
}

bool already_exists(const error& e) {
    return classify(e.sqlstate()) == family::already_exists;
}

bool insufficient_privilege(const error& e) {
    return classify(e.sqlstate()) == family::privilege;
}

bool connection_lost(const error& e) {
    const auto f = classify(e.sqlstate());
    return f == family::none || f == family::connection;
}

}  // namespace pghaul::sqlstate
