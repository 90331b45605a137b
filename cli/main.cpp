// The pghaul executable: commands and flags, logging set-up, and the mapping
// of errors to exit codes. The work itself lives in engine/.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "engine/copy_job.hpp"
#include "engine/plan.hpp"
#include "protocol/error.hpp"

namespace {

constexpr const char* version = "0.1.0";

void set_up_logging(int verbosity, bool quiet) {
    auto logger = spdlog::stderr_color_mt("pghaul");
    spdlog::set_default_logger(logger);
    // Timestamps only where nobody watches the terminal (logs, cron mail).
    spdlog::set_pattern(isatty(STDERR_FILENO) ? "%^%l%$: %v" : "%Y-%m-%d %H:%M:%S.%e %l: %v");
    spdlog::set_level(quiet           ? spdlog::level::warn
                      : verbosity > 1 ? spdlog::level::trace
                      : verbosity > 0 ? spdlog::level::debug
                                      : spdlog::level::info);
}

int report(const pghaul::error& e) {
    std::fprintf(stderr, "pghaul: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "HINT: %s\n", e.hint().c_str());
    return static_cast<int>(e.code());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pghaul moves PostgreSQL databases between servers over parallel COPY streams.", "pghaul"};
    app.set_version_flag("-V,--version", std::string("pghaul ") + version);
    app.require_subcommand(1);
    app.footer(
        "Exit codes: 0 ok, 1 internal error, 2 bad arguments, 3 preflight failed (nothing written),\n"
        "            4 source failed, 5 target failed, 6 local failure, 7 verification mismatch.\n"
        "Connection strings take libpq's key=value or URI forms; PG* variables, ~/.pgpass and\n"
        "service files work as in psql. Every long option can also be set as PGHAUL_<NAME>.");

    int verbosity = 0;
    bool quiet = false;
    std::string source_text, target_text, on_existing = "fail";
    pghaul::engine::copy_options opt;

    auto* copy =
        app.add_subcommand("copy", "copy one database into a new, renamed database on another server");
    copy->add_option("-s,--source", source_text,
                     "source connection string (its dbname is the database to copy)")
        ->required()
        ->envname("PGHAUL_SOURCE")
        ->group("Connection");
    copy->add_option("-t,--target", target_text,
                     "target connection string; its dbname is the NEW database to create")
        ->required()
        ->envname("PGHAUL_TARGET")
        ->group("Connection");
    copy->add_option("--maintenance-db", opt.maintenance_db,
                     "database on the target to connect to for CREATE DATABASE")
        ->capture_default_str()
        ->envname("PGHAUL_MAINTENANCE_DB")
        ->group("Connection");
    copy->add_option("-j,--jobs", opt.jobs,
                     "tables copied at once (each uses one source and one target connection)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256))
        ->envname("PGHAUL_JOBS")
        ->group("Performance");
    copy->add_option("--on-existing", on_existing,
                     "when the target database exists: fail, replace (drop it) or skip")
        ->capture_default_str()
        ->check(CLI::IsMember({"fail", "replace", "skip"}))
        ->envname("PGHAUL_ON_EXISTING")
        ->group("Selection");
    copy->add_flag("-O,--no-owner", opt.no_owner,
                   "objects are owned by the target login, not the source's owners")
        ->envname("PGHAUL_NO_OWNER")
        ->group("Selection");
    copy->add_flag("-x,--no-privileges", opt.no_privileges, "do not copy grants (GRANT/REVOKE)")
        ->envname("PGHAUL_NO_PRIVILEGES")
        ->group("Selection");
    copy->add_flag("--dry-run", opt.dry_run, "print the plan and the preflight result; write nothing")
        ->envname("PGHAUL_DRY_RUN")
        ->group("Output");
    copy->add_option("--pg-dump", opt.pg_dump, "pg_dump program used for schema DDL")
        ->capture_default_str()
        ->envname("PGHAUL_PG_DUMP")
        ->group("Connection");
    for (auto* sub : {copy}) {
        sub->add_flag("-v,--verbose", verbosity, "more detail (repeat for SQL)")->group("Output");
        sub->add_flag("-q,--quiet", quiet, "warnings and errors only")->group("Output");
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : static_cast<int>(pghaul::exit_code::usage);
    }
    set_up_logging(verbosity, quiet);

    try {
        opt.source = pghaul::conninfo::parse(source_text, "source connection string");
        opt.target = pghaul::conninfo::parse(target_text, "target connection string");
        opt.existing = on_existing == "replace" ? pghaul::engine::on_existing::replace
                       : on_existing == "skip"  ? pghaul::engine::on_existing::skip
                                                : pghaul::engine::on_existing::fail;
        auto s = pghaul::engine::run_copy(opt);
        if (opt.dry_run) {
            std::cout << s.plan;
        } else if (!s.skipped) {
            double mb = static_cast<double>(s.bytes) / (1024.0 * 1024.0);
            spdlog::info(
                "copied {} tables, {} rows, {} ({} indexes/constraints, {} sequences, {} large objects) "
                "in {:.1f} s ({:.1f} MB/s) into \"{}\"{}",
                s.tables, s.rows, pghaul::engine::format_bytes(static_cast<std::int64_t>(s.bytes)), s.indexes,
                s.sequences, s.large_objects, s.seconds, s.seconds > 0 ? mb / s.seconds : 0.0,
                *opt.target.dbname(), s.warnings ? fmt::format(", {} warnings", s.warnings) : std::string());
        }
        return 0;
    } catch (const pghaul::error& e) {
        return report(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "pghaul: internal error: %s\nHINT: please report this with the command and log\n",
                     e.what());
        return static_cast<int>(pghaul::exit_code::internal);
    }
}
