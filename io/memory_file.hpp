// Bytes handed to a child process as a file that never touches a disk: a
// 0600 memfd, which the child opens by the path /proc/self/fd/N (pg_restore
// reads a schema archive this way).
#pragma once

#include <string>
#include <string_view>

#include "io/detail/unique_fd.hpp"

namespace pghaul {

class memory_file {
public:
    memory_file(const char* name, std::string_view contents);

    int fd() const { return fd_.get(); }
    // The path a child process opens it by, once fd() is mapped to `child_fd` in it.
    static std::string child_path(int child_fd) { return "/proc/self/fd/" + std::to_string(child_fd); }

private:
    detail::unique_fd fd_;
};

}  // namespace pghaul
