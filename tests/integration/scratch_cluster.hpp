// A throwaway PostgreSQL 15 cluster for one test, for what the shared
// sandbox cannot be: a server initialized differently (an ICU default
// locale). initdb and the server run as the postgres OS user on a Unix
// socket in a private directory; the cluster is stopped and deleted with the
// object. About 2 s.
#pragma once

#include <string>
#include <vector>

namespace harness {

class scratch_cluster {
public:
    // `initdb_args`: what differs from the sandbox's (e.g. --locale-provider=icu).
    explicit scratch_cluster(const std::vector<std::string>& initdb_args);
    ~scratch_cluster();
    scratch_cluster(const scratch_cluster&) = delete;
    scratch_cluster& operator=(const scratch_cluster&) = delete;

    // A conninfo of `user` to `dbname` over the socket (trusted: no password).
    std::string conninfo(const std::string& user, const std::string& dbname = "postgres") const;

private:
    std::string dir_;
    int port_ = 0;
};

}  // namespace harness
