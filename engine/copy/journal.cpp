#include "engine/copy/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "protocol/error.hpp"

namespace pghaul::engine {
namespace {

// Keeps file names portable: the host may be a socket directory.
std::string file_safe(std::string s) {
    for (auto& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
    return s;
}

error state_error(const std::filesystem::path& path, const std::string& doing) {
    return error(exit_code::local, doing + " " + path.string() + ": " + std::strerror(errno),
                 "pass --state-dir DIR on a writable local disk");
}

void apply_record(journal_state& s, const nlohmann::json& r) {
    const auto e = r.value("e", "");
    const auto table = r.value("table", "");
    if (e == "start") {
        ++s.attempts;
        if (s.source.empty()) s.source = r.value("source", "");
    } else if (e == "created") {
        s.created = true;
    } else if (e == "database") {  // the new database's OID, right after CREATE DATABASE
        s.database_oid = r.value("oid", std::uint32_t{0});
    } else if (e == "prepared") {
        s.prepared = true;
        s.schema_hash = r.value("schema", "");
        s.snapshot = r.value("snapshot", "");
    } else if (e == "table") {
        s.tables[table] = {r.value("rows", std::uint64_t{0}), r.value("snapshot", "")};
    } else if (e == "part") {
        s.parts[table][r.value("first", std::int64_t{0})] = {r.value("rows", std::uint64_t{0}),
                                                             r.value("snapshot", "")};
    } else if (e == "reset") {  // a split table truncated for a reload
        s.parts.erase(table);
        s.tables.erase(table);
    } else if (e == "step") {
        s.steps.insert(r.value("name", ""));
    } else if (e == "attached") {
        s.attached.insert(table);
    } else if (e == "finished") {
        s.finished = true;
    } else if (e == "done") {
        s.done = true;
    }
}

}  // namespace

std::filesystem::path journal::path_for(const std::filesystem::path& dir, const conninfo& target,
                                        const std::string& target_db) {
    auto host = target.get("host").value_or(target.get("hostaddr").value_or("local"));
    auto port = target.get("port").value_or("5432");
    return dir / file_safe(host + "-" + port + "-" + target_db + ".journal");
}

std::optional<journal_state> journal::read(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        if (std::filesystem::exists(path)) throw state_error(path, "cannot read the state journal");
        return std::nullopt;
    }
    journal_state s;
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof()) break;  // no newline: torn by a crash mid-append, its step is redone
        auto r = nlohmann::json::parse(line, nullptr, false);
        if (r.is_discarded() || !r.is_object())
            throw error(exit_code::local, "the state journal " + path.string() + " is damaged",
                        "inspect it, or run with --restart to start the copy over");
        apply_record(s, r);
    }
    return s;
}

journal::journal(std::filesystem::path path) : path_(std::move(path)) {
    auto dir = path_.parent_path();
    // The default (~/.local/state/pghaul) may be the first thing under
    // ~/.local/state: its parents as usual, the directory itself private.
    std::error_code ec;
    if (!dir.empty() && dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw state_error(dir, "cannot create the state directory");
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_) throw state_error(path_, "cannot open the state journal");
    // Held while this process lives (the kernel drops it on kill -9 too).
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) throw busy_error(path_);
}

error journal::busy_error(const std::filesystem::path& path) {
    return error(exit_code::preflight,
                 "another pghaul is copying into this database right now (it holds " + path.string() + ")",
                 "wait for it to end, or stop it first");
}

bool journal::in_use(const std::filesystem::path& path) {
    detail::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

void journal::record(const std::string& event, nlohmann::json fields) {
    record_all({{event, std::move(fields)}});
}

void journal::record_all(std::vector<std::pair<std::string, nlohmann::json>> records) {
    append(std::move(records), true);
}

void journal::note_all(std::vector<std::pair<std::string, nlohmann::json>> records) {
    append(std::move(records), false);
}

void journal::append(std::vector<std::pair<std::string, nlohmann::json>> records, bool wait_for_disk) {
    std::string lines;
    for (auto& [event, fields] : records) {
        fields["e"] = event;
        lines += fields.dump() + "\n";
    }
    std::lock_guard lk(mu_);
    for (std::size_t done = 0; done < lines.size();) {
        auto n = ::write(fd_.get(), lines.data() + done, lines.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw state_error(path_, "cannot write the state journal");
        done += static_cast<std::size_t>(n);
    }
    if (wait_for_disk && ::fdatasync(fd_.get()) != 0)
        throw state_error(path_, "cannot flush the state journal");
}

void journal::remove() noexcept {
    std::lock_guard lk(mu_);
    fd_.reset();
    remove_file(path_);
}

void journal::remove_file(const std::filesystem::path& path) noexcept {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    auto dir = path.parent_path();
    if (!dir.empty() && std::filesystem::is_empty(dir, ec)) std::filesystem::remove(dir, ec);
}

std::string text_hash(std::string_view text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return fmt::format("{:016x}", h);
}

}  // namespace pghaul::engine
