// Synchronous use of io_uring: one operation in flight, submit and wait in one
// system call. Buffered writes on current kernels complete inline, so deeper
// queues bought nothing measurable for spooling (see chunk_stream.hpp).
#include "io/detail/uring.hpp"

#include <liburing.h>

#include <cerrno>
#include <cstring>

namespace pghaul::detail {

struct uring::ring {
    io_uring r{};
};

std::variant<std::unique_ptr<uring>, std::string> uring::try_create(unsigned entries) {
    auto rg = std::make_unique<ring>();
    int rc = io_uring_queue_init(entries, &rg->r, 0);
    if (rc < 0) return std::string("io_uring_queue_init: ") + std::strerror(-rc);
    return std::unique_ptr<uring>(new uring(std::move(rg)));
}

uring::uring(std::unique_ptr<ring> r) : r_(std::move(r)) {}

uring::~uring() {
    io_uring_queue_exit(&r_->r);
}

ssize_t uring::write(int fd, const void* buf, std::size_t n, std::uint64_t offset) {
    io_uring_sqe* sqe = io_uring_get_sqe(&r_->r);
    if (!sqe) return -EBUSY;  // cannot happen: one operation at a time
    io_uring_prep_write(sqe, fd, buf, static_cast<unsigned>(n), offset);
    return run_one();
}

ssize_t uring::read(int fd, void* buf, std::size_t n, std::uint64_t offset) {
    io_uring_sqe* sqe = io_uring_get_sqe(&r_->r);
    if (!sqe) return -EBUSY;
    io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(n), offset);
    return run_one();
}

ssize_t uring::run_one() {
    int rc;
    do {
        rc = io_uring_submit_and_wait(&r_->r, 1);
    } while (rc == -EINTR);
    if (rc < 0) return rc;
    io_uring_cqe* cqe = nullptr;
    do {
        rc = io_uring_wait_cqe(&r_->r, &cqe);
    } while (rc == -EINTR);
    if (rc < 0) return rc;
    ssize_t res = cqe->res;
    io_uring_cqe_seen(&r_->r, cqe);
    return res;
}

}  // namespace pghaul::detail
