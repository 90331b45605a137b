// Running pg_dump (its version, the schema archive in a snapshot) and
// pg_restore (an archive's sections as SQL).
#include "engine/catalog/pg_dump.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <regex>

#include "engine/common/interrupt.hpp"
#include "io/memory_file.hpp"
#include "io/secret_file.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {
namespace {

// pg_dump's error line and its "detail:" line (e.g. the two versions of a
// "server version mismatch"), which the first line alone leaves out.
std::string error_lines(const std::string& err) {
    std::string out = first_line(err);
    for (auto at = err.find("detail: "); at != std::string::npos; at = err.find("detail: ", at + 1)) {
        auto end = err.find('\n', at);
        out += "; " + err.substr(at, end == std::string::npos ? std::string::npos : end - at);
    }
    return out;
}

}  // namespace

std::string resolve_pg_dump(const std::string& name) {
    namespace fs = std::filesystem;
    static std::mutex mu;
    static std::map<std::string, std::string> known;
    std::lock_guard lk(mu);
    if (auto it = known.find(name); it != known.end()) return it->second;
    std::optional<fs::path> found;
    if (name.find('/') != std::string::npos) {
        found = name;
    } else if (const char* path = std::getenv("PATH")) {
        std::string_view dirs(path);
        for (std::size_t start = 0; start <= dirs.size() && !found;) {
            auto end = std::min(dirs.find(':', start), dirs.size());
            fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
            if (::access(candidate.c_str(), X_OK) == 0) found = candidate;
            start = end + 1;
        }
    }
    std::error_code ec;
    std::string resolved = name;
    if (found && fs::canonical(*found, ec).filename() == "pg_wrapper") {
        int best = -1;
        for (auto& dir : fs::directory_iterator("/usr/lib/postgresql", ec)) {
            const auto version = dir.path().filename().string();
            if (version.empty() || !std::all_of(version.begin(), version.end(), ::isdigit)) continue;
            auto tool = dir.path() / "bin" / fs::path(name).filename();
            if (std::stoi(version) > best && ::access(tool.c_str(), X_OK) == 0) {
                best = std::stoi(version);
                resolved = tool.string();
            }
        }
    }
    return known[name] = resolved;
}

// Asked once per program per run, not once per source.
int pg_dump_major(const std::string& pg_dump) {
    static std::mutex mu;
    static std::map<std::string, int> known;
    std::lock_guard lk(mu);
    if (auto it = known.find(pg_dump); it != known.end()) return it->second;
    auto r = run_process({pg_dump, "--version"});
    static const std::regex version(R"(\(PostgreSQL\) (\d+))");
    std::smatch m;
    if (r.exit_status != 0 || !std::regex_search(r.out, m, version))
        throw error(exit_code::local,
                    "cannot tell the version of " + pg_dump + ": " + first_line(r.out + r.err),
                    "install postgresql-client (scripts/install-deps.sh) or pass --pg-dump PATH");
    return known[pg_dump] = std::stoi(m[1]);
}

std::string dump_schema_archive(const std::string& pg_dump, const conninfo& source,
                                const std::string& snapshot, std::chrono::seconds lock_wait_timeout,
                                const std::vector<std::string>& selection) {
    conninfo ci = source;
    std::vector<std::string> env;
    std::vector<std::pair<int, int>> fds;
    std::optional<secret_file> passfile;
    if (auto pw = ci.get("password")) {
        // Not PGPASSWORD: the secret stays out of every process's argv and environment.
        passfile.emplace(*pw);
        env.push_back(secret_file::env_entry());
        fds.emplace_back(passfile->fd(), secret_file::child_fd);
        ci.erase("password");
        ci.erase("passfile");
    }
    std::optional<memory_file> service;
    if (auto key_password = ci.get("sslpassword")) {
        // No environment variable carries a client key's passphrase; a
        // service file does, read by the child like the password file.
        if (auto named = ci.get("service"))
            throw error(exit_code::usage,
                        "the source connection string names service \"" + *named +
                            "\" and gives sslpassword: pg_dump could only get it on its command line, "
                            "which other local users can read",
                        "put sslpassword in that service's entry of the service file instead");
        // The service file's syntax cannot carry these (libpq trims each line).
        if (key_password->find_first_of("\r\n") != std::string::npos ||
            (!key_password->empty() && std::isspace(static_cast<unsigned char>(key_password->back()))))
            throw error(
                exit_code::usage,
                "the source's sslpassword has a line break or ends in a space, which pg_dump cannot be given",
                "use a passphrase without line breaks or trailing spaces");
        constexpr int service_fd = secret_file::child_fd + 1;
        service.emplace("pghaul-service", "[pghaul]\nsslpassword=" + *key_password + "\n");
        env.push_back("PGSERVICEFILE=" + memory_file::child_path(service_fd));
        fds.emplace_back(service->fd(), service_fd);
        ci.erase("sslpassword");
        ci.set("service", "pghaul");
    }
    ci.set_default("application_name", "pghaul/pg_dump");
    // Both sections, not --schema-only: that would leave out large objects'
    // metadata, which pre-data creates (their contents are copied later).
    std::vector<std::string> argv = {pg_dump,
                                     "--format=custom",
                                     "--compress=0",
                                     "--section=pre-data",
                                     "--section=post-data",
                                     "--snapshot=" + snapshot,
                                     "--no-subscriptions",
                                     "--no-password",
                                     "--dbname=" + ci.to_string()};
    // pg_dump waits for the same table locks as the snapshot holder: it must
    // give up when the holder does, not hang the failed source.
    if (lock_wait_timeout.count() > 0)
        argv.push_back("--lock-wait-timeout=" + std::to_string(lock_wait_timeout.count()) + "s");
    argv.insert(argv.end(), selection.begin(), selection.end());
    auto r = run_process(argv, env, fds, {}, run_stop_token());
    if (r.exit_status != 0)
        throw error(exit_code::source,
                    "pg_dump of the schema failed on " + source.endpoint() + ": " + error_lines(r.err),
                    "run pg_dump --schema-only against the source by hand to see the full error");
    return std::move(r.out);
}

std::string restore_section(const schema_options& opt, const std::string& archive,
                            const std::string& section) {
    // pg_restore of the same installation as pg_dump reads its archive version.
    const auto slash = opt.pg_dump.rfind('/');
    const std::string pg_restore =
        slash == std::string::npos ? "pg_restore" : opt.pg_dump.substr(0, slash + 1) + "pg_restore";
    constexpr int child_fd = 3;
    memory_file file("pghaul-schema", archive);
    std::vector<std::string> argv = {pg_restore, "--section=" + section, "--file=-"};
    if (section == "pre-data") argv.push_back("--create");
    if (opt.no_owner) argv.push_back("--no-owner");
    if (opt.no_privileges) argv.push_back("--no-privileges");
    argv.push_back(memory_file::child_path(child_fd));
    auto r = run_process(argv, {}, {{file.fd(), child_fd}});
    if (r.exit_status != 0)
        throw error(exit_code::local, pg_restore + " --section=" + section + " failed: " + first_line(r.err),
                    "check that pg_restore is installed next to " + opt.pg_dump);
    return std::move(r.out);
}

}  // namespace pghaul::engine
