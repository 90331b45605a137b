// A password handed to a child process (pg_dump) without argv, environment or
// disk: a 0600 memfd holding a one-line pgpass file, mapped into the child at a
// fixed descriptor and named by PGPASSFILE=/proc/self/fd/N.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/pgpass.hpp"  // pgpass_escape, for the file it writes

namespace pghaul {

class secret_file {
public:
    static constexpr int child_fd = 3;

    explicit secret_file(std::string_view password);
    secret_file(const secret_file&) = delete;
    secret_file& operator=(const secret_file&) = delete;
    ~secret_file();

    int fd() const { return fd_; }
    // The environment entry the child needs (a path, not the secret).
    static std::string env_entry() { return "PGPASSFILE=/proc/self/fd/" + std::to_string(child_fd); }

private:
    int fd_ = -1;
};

// A password file's text, read as libpq reads one: none when the file is
// missing, not a regular file, or readable by others than its owner (then
// `others_may_read` says so, for those who refuse rather than ignore it).
std::optional<std::string> read_password_file(const std::string& path, bool& others_may_read);

}  // namespace pghaul
