// mkdtemp gives the private directory (0700, unique name), so spool file names
// inside it need not be unguessable; O_EXCL still refuses any file already there.
#include "io/spool_dir.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "protocol/error.hpp"

namespace pghaul {

// Directories are named pghaul-<pid>-XXXXXX so a later run can tell which
// ones a killed run (kill -9, a crash, a reboot) left behind.
std::size_t sweep_stale_spool_dirs(const std::filesystem::path& parent) {
    std::size_t removed = 0;
    std::error_code ec;
    for (auto& d : std::filesystem::directory_iterator(parent, ec)) {
        auto name = d.path().filename().string();
        if (!name.starts_with("pghaul-") || !d.is_directory(ec)) continue;
        auto dash = name.find('-', 7);
        if (dash == std::string::npos) continue;
        pid_t pid = static_cast<pid_t>(std::atol(name.substr(7, dash - 7).c_str()));
        if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
        if (std::filesystem::remove_all(d.path(), ec) > 0 && !ec) ++removed;
    }
    return removed;
}

spool_dir::spool_dir(const std::filesystem::path& parent, std::size_t limit_bytes, spool_options options)
    : budget_(limit_bytes), options_(options) {
    std::string templ = (parent / ("pghaul-" + std::to_string(::getpid()) + "-XXXXXX")).string();
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
        throw error(exit_code::local,
                    "cannot create a spool directory in \"" + parent.string() + "\": " + std::strerror(errno),
                    "--spool-dir must be an existing, writable directory");
    }
    path_ = buf.data();
}

spool_dir::~spool_dir() {
    ::rmdir(path_.c_str());
}

std::unique_ptr<spool_file> spool_dir::create(std::string_view name) {
    std::string safe;
    for (char c : name.substr(0, 64)) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        safe += ok ? c : '_';
    }
    if (safe.empty()) safe = "unit";
    auto file = std::make_unique<spool_file>(path_ / (safe + "." + std::to_string(next_id_++) + ".spool"),
                                             !options_.force_pwrite && !refused_.load());
    if (!file->fallback_reason().empty()) {
        std::lock_guard lk(m_);
        if (!refused_.exchange(true)) refusal_ = file->fallback_reason();
    }
    return file;
}

std::optional<std::string> spool_dir::take_fallback_notice() {
    std::lock_guard lk(m_);
    if (!refused_.load() || told_) return std::nullopt;
    told_ = true;
    return "io_uring is not available (" + refusal_ + "): spool files use plain reads and writes";
}

}  // namespace pghaul
