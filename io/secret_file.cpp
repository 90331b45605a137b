// memfd_create gives a regular file (libpq insists on one) that lives only in
// memory and disappears with its last descriptor.
#include "io/secret_file.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "protocol/error.hpp"

namespace pghaul {

std::optional<std::string> read_password_file(const std::string& path, bool& others_may_read) {
    others_may_read = false;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    others_may_read = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
    if (others_may_read) return std::nullopt;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

secret_file::secret_file(std::string_view password) {
    fd_ = ::memfd_create("pghaul-pgpass", MFD_CLOEXEC);
    if (fd_ < 0)
        throw error(exit_code::local, std::string("cannot create a memory file: ") + std::strerror(errno));
    // libpq ignores a password file that group or others may read.
    ::fchmod(fd_, 0600);
    std::string line = "*:*:*:*:" + pgpass_escape(password) + "\n";
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::close(fd_);
        throw error(exit_code::local, std::string("cannot write a memory file: ") + std::strerror(errno));
    }
    std::fill(line.begin(), line.end(), '\0');
}

secret_file::~secret_file() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace pghaul
