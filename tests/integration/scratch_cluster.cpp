// scratch_cluster: initdb, start, a non-superuser login, and removal.
#include "scratch_cluster.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/process.hpp"

namespace harness {

namespace {

const std::string bin = "/usr/lib/postgresql/15/bin/";

// Runs a server tool as the postgres OS user (CI runs as root).
pghaul::process_result as_postgres(std::vector<std::string> argv) {
    if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
    return pghaul::run_process(argv);
}

}  // namespace

scratch_cluster::scratch_cluster(const std::vector<std::string>& initdb_args) {
    // A port away from the sandboxes', one per test process.
    port_ = 56000 + static_cast<int>(::getpid() % 900);
    dir_ = "/tmp/pghaul-scratch-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    pghaul::run_process({"chown", "postgres:", dir_});
    std::vector<std::string> init = {bin + "initdb", "--no-sync",    "-D", dir_ + "/data", "-U",
                                     "postgres",     "--auth=trust", "-E", "UTF8"};
    init.insert(init.end(), initdb_args.begin(), initdb_args.end());
    auto r = as_postgres(init);
    REQUIRE_MESSAGE(r.exit_status == 0, "initdb: " << r.err << r.out);
    r = as_postgres({bin + "pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/log", "-w", "-o",
                     "-c listen_addresses='' -c port=" + std::to_string(port_) +
                         " -c unix_socket_directories=" + dir_ + " -c fsync=off",
                     "start"});
    REQUIRE_MESSAGE(r.exit_status == 0, "pg_ctl start: " << r.err << r.out);
    r = pghaul::run_process({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo("postgres"), "-c",
                             "CREATE ROLE haul_admin LOGIN CREATEDB"});
    REQUIRE_MESSAGE(r.exit_status == 0, "creating haul_admin: " << r.err);
}

scratch_cluster::~scratch_cluster() {
    as_postgres({bin + "pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string scratch_cluster::conninfo(const std::string& user, const std::string& dbname) const {
    return "host=" + dir_ + " port=" + std::to_string(port_) + " user=" + user + " dbname=" + dbname;
}

}  // namespace harness
