// Running pg_dump: its version, and one schema section in a snapshot.
#include "engine/catalog/pg_dump.hpp"

#include <optional>
#include <regex>

#include "io/secret_file.hpp"
#include "protocol/error.hpp"

namespace pghaul::engine {

int pg_dump_major(const std::string& pg_dump) {
    auto r = run_process({pg_dump, "--version"});
    static const std::regex version(R"(\(PostgreSQL\) (\d+))");
    std::smatch m;
    if (r.exit_status != 0 || !std::regex_search(r.out, m, version))
        throw error(exit_code::local,
                    "cannot tell the version of " + pg_dump + ": " + first_line(r.out + r.err),
                    "install postgresql-client (scripts/install-deps.sh) or pass --pg-dump PATH");
    return std::stoi(m[1]);
}

process_result run_pg_dump(const schema_options& opt, const conninfo& source, const std::string& snapshot,
                           const std::string& section) {
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
    ci.set_default("application_name", "pghaul/pg_dump");
    std::vector<std::string> argv = {
        opt.pg_dump,          "--section=" + section, "--snapshot=" + snapshot,
        "--no-subscriptions", "--no-password",        "--dbname=" + ci.to_string()};
    if (section == "pre-data") argv.push_back("--create");
    if (opt.no_owner) argv.push_back("--no-owner");
    if (opt.no_privileges) argv.push_back("--no-privileges");
    auto r = run_process(argv, env, fds);
    if (r.exit_status != 0)
        throw error(
            exit_code::source,
            "pg_dump --section=" + section + " failed on " + source.endpoint() + ": " + first_line(r.err),
            "run pg_dump --schema-only against the source by hand to see the full error");
    return r;
}

}  // namespace pghaul::engine
