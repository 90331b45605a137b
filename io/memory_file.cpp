// memfd_create gives a regular, seekable file (pg_restore seeks in archives)
// that lives only in memory and disappears with its last descriptor.
#include "io/memory_file.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/error.hpp"

namespace pghaul {

memory_file::memory_file(const char* name, std::string_view contents) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    if (!fd_) throw error(exit_code::local, std::string("cannot create a memory file: ") + std::strerror(errno));
    ::fchmod(fd_.get(), 0600);
    for (std::size_t done = 0; done < contents.size();) {
        auto n = ::write(fd_.get(), contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            throw error(exit_code::local, std::string("cannot write a memory file: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace pghaul
