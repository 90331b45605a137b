// --help and --version read like PostgreSQL's tools and tell the truth: every
// long option of every command can come from a PGHAUL_* variable, and the
// version names the libpq and pg_dump in use.
#include <doctest/doctest.h>

#include <regex>
#include <sstream>

#include "harness.hpp"

using namespace harness;

TEST_CASE("every command's long options show their PGHAUL_* environment variable") {
    for (const char* cmd : {"copy", "run", "audit", "verify", "clients", "report", "agent"}) {
        CAPTURE(cmd);
        auto r = run_pghaul({cmd, "--help"});
        REQUIRE(r.exit_status == 0);
        REQUIRE(r.out.find("Usage:") != std::string::npos);
        std::istringstream lines(r.out);
        int options = 0;
        // Options are listed two spaces in (examples in the footer are indented further).
        static const std::regex option_line(R"(^  (-\w,)?--([a-z][a-z-]*))");
        for (std::string line; std::getline(lines, line);) {
            std::smatch m;
            if (!std::regex_search(line, m, option_line) || m[2] == "help") continue;
            ++options;
            CAPTURE(line);
            CHECK(line.find("(Env:PGHAUL_") != std::string::npos);
        }
        CHECK(options > 0);
    }
    auto top = run_pghaul({"--help"});
    for (const char* part : {"Examples:", "Environment:", "Exit codes:", "Report bugs"})
        CHECK(top.out.find(part) != std::string::npos);
}

TEST_CASE("--version names pghaul, libpq and the pg_dump it will use") {
    auto r = run_pghaul({"--version"});
    CHECK(r.exit_status == 0);
    CHECK(std::regex_search(
        r.out, std::regex(R"(^pghaul \d+\.\d+\.\d+\nlibpq \d+\.\d+\npg_dump: pg_dump \(PostgreSQL\) \d+)")));
}

TEST_CASE("the state directory defaults to a per-user absolute place, the same from any directory") {
    auto xdg = run_pghaul({"copy", "--help"}, {"XDG_STATE_HOME=/var/tmp/xdg-state", "HOME=/home/nobody"});
    CHECK(xdg.out.find("--state-dir TEXT=/var/tmp/xdg-state/pghaul ") != std::string::npos);
    auto home = run_pghaul({"run", "--help"}, {"XDG_STATE_HOME=", "HOME=/home/nobody"});
    CHECK(home.out.find("--state-dir TEXT=/home/nobody/.local/state/pghaul ") != std::string::npos);
}

// Issue 13 item 5: command-line mistakes get the manifest's treatment.
TEST_CASE("command-line mistakes: pghaul: error:, did you mean, help COMMAND, usage when bare") {
    auto bare = run_pghaul({});
    CHECK(bare.exit_status == 2);
    CHECK(bare.err.find("Usage: pghaul") != std::string::npos);

    auto command = run_pghaul({"cpy"});
    CHECK(command.exit_status == 2);
    CHECK(command.err.find("pghaul: error: unknown command \"cpy\" (did you mean \"copy\"?)") !=
          std::string::npos);

    auto flag =
        run_pghaul({"copy", "--job", "3", "--source", "host=a dbname=b", "--target", "host=c dbname=d"});
    CHECK(flag.exit_status == 2);
    CHECK(flag.err.find("pghaul: error: unknown option --job for pghaul copy (did you mean --jobs?)") !=
          std::string::npos);
    CHECK(flag.err.find("HINT: pghaul copy --help lists its options") != std::string::npos);
    CHECK(run_pghaul({"run", "m.toml", "--verfy", "counts"}).err.find("did you mean --verify?") !=
          std::string::npos);

    auto number =
        run_pghaul({"copy", "--jobs", "x", "--source", "host=a dbname=b", "--target", "host=c dbname=d"});
    CHECK(number.exit_status == 2);
    CHECK(number.err.find("pghaul: error: --jobs: \"x\" is not a number (1 to 256)") != std::string::npos);

    auto help = run_pghaul({"help", "copy"});
    CHECK(help.exit_status == 0);
    CHECK(help.out.find("Usage: pghaul copy") != std::string::npos);
    CHECK(help.out == run_pghaul({"copy", "--help"}).out);
}
