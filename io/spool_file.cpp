// Spool I/O through io_uring, or pread/pwrite where io_uring is forbidden
// (some container sandboxes). Both loop over short transfers and EINTR.
#include "io/spool_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "io/detail/uring.hpp"
#include "protocol/error.hpp"

namespace pghaul {

namespace {

constexpr std::size_t max_io = std::size_t(1) << 30;  // one operation moves at most this
constexpr std::uint64_t punch_granule = 4096;

bool disk_full(int err) {
    return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

std::string quoted(const std::filesystem::path& p) {
    return "\"" + p.string() + "\"";
}

std::unique_ptr<detail::uring> make_ring(std::string& reason) {
    auto r = detail::uring::try_create(2);
    if (auto* s = std::get_if<std::string>(&r)) {
        reason = *s;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<detail::uring>>(r));
}

}  // namespace

spool_file::spool_file(std::filesystem::path path, bool use_io_uring) : path_(std::move(path)) {
    fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd_) {
        throw error(exit_code::local,
                    "cannot create spool file " + quoted(path_) + ": " + std::strerror(errno),
                    "--spool-dir must be a writable directory");
    }
    // The umask may only have taken bits away; make the mode exact anyway.
    ::fchmod(fd_.get(), 0600);
    if (use_io_uring) {
        writer_ = make_ring(fallback_reason_);
        if (writer_) reader_ = make_ring(fallback_reason_);
        if (!reader_) writer_.reset();  // all or nothing: one code path per file
    }
}

spool_file::~spool_file() {
    reader_.reset();
    writer_.reset();
    fd_.reset();
    ::unlink(path_.c_str());
}

std::optional<std::uint64_t> spool_file::try_append(std::span<const std::byte> data) {
    std::uint64_t at = end_;
    std::size_t done = 0;
    while (done < data.size()) {
        std::size_t n = std::min(data.size() - done, max_io);
        ssize_t rc = writer_ ? writer_->write(fd_.get(), data.data() + done, n, at + done)
                             : ::pwrite(fd_.get(), data.data() + done, n, static_cast<off_t>(at + done));
        int err = rc < 0 ? (writer_ ? static_cast<int>(-rc) : errno) : 0;
        if (rc > 0) {
            done += static_cast<std::size_t>(rc);
        } else if (err == EINTR || err == EAGAIN) {
            continue;
        } else if (disk_full(err) || rc == 0) {
            // Drop what did fit so the blocks are free again; the next
            // append starts at the same offset.
            [[maybe_unused]] int best_effort = ::ftruncate(fd_.get(), static_cast<off_t>(end_));
            return std::nullopt;
        } else {
            throw error(exit_code::local,
                        "cannot write spool file " + quoted(path_) + ": " + std::strerror(err));
        }
    }
    end_ += data.size();
    return at;
}

void spool_file::read(std::uint64_t offset, std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        std::size_t n = std::min(out.size() - done, max_io);
        ssize_t rc = reader_ ? reader_->read(fd_.get(), out.data() + done, n, offset + done)
                             : ::pread(fd_.get(), out.data() + done, n, static_cast<off_t>(offset + done));
        int err = rc < 0 ? (reader_ ? static_cast<int>(-rc) : errno) : 0;
        if (rc > 0) {
            done += static_cast<std::size_t>(rc);
        } else if (rc == 0) {
            throw error(exit_code::local,
                        "corrupt spool data in spool file " + quoted(path_) + ": truncated, " +
                            std::to_string(offset + done) + " bytes long where " +
                            std::to_string(offset + out.size()) + " were written",
                        "something else changed the file under --spool-dir; copy the unit again");
        } else if (err != EINTR && err != EAGAIN) {
            throw error(exit_code::local,
                        "cannot read spool file " + quoted(path_) + ": " + std::strerror(err));
        }
    }
}

void spool_file::discard_before(std::uint64_t offset) noexcept {
    std::uint64_t upto = offset / punch_granule * punch_granule;
    if (!punch_holes_ || upto <= discarded_) return;
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(discarded_),
                    static_cast<off_t>(upto - discarded_)) != 0) {
        punch_holes_ = false;  // EOPNOTSUPP and the like: keep the blocks till the end
        return;
    }
    discarded_ = upto;
}

}  // namespace pghaul
