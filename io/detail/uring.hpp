// One io_uring ring used synchronously by one thread: submit a read or write,
// wait for its completion. Owns the ring (io_uring_queue_exit on destruction).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

namespace pghaul::detail {

class uring {
public:
    // A ring, or the reason the kernel refused one (seccomp, io_uring_disabled,
    // RLIMIT_MEMLOCK on old kernels, ENOSYS).
    static std::variant<std::unique_ptr<uring>, std::string> try_create(unsigned entries);

    uring(const uring&) = delete;
    uring& operator=(const uring&) = delete;
    ~uring();

    // Like pwrite/pread: bytes transferred, or -errno. One call, may be short.
    ssize_t write(int fd, const void* buf, std::size_t n, std::uint64_t offset);
    ssize_t read(int fd, void* buf, std::size_t n, std::uint64_t offset);

private:
    struct ring;
    explicit uring(std::unique_ptr<ring> r);
    ssize_t run_one();

    std::unique_ptr<ring> r_;
};

}  // namespace pghaul::detail
