// Spool directories left by killed runs are swept; live runs' are not.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/spool_dir.hpp"

TEST_CASE("stale spool directories of dead processes are removed, live ones kept") {
    namespace fs = std::filesystem;
    auto parent = fs::temp_directory_path() / ("pghaul-sweep-test-" + std::to_string(::getpid()));
    fs::create_directories(parent);
    auto dead = parent / "pghaul-999999999-abcdef";  // above any pid_max
    auto live = parent / ("pghaul-" + std::to_string(::getpid()) + "-ghijkl");
    auto other = parent / "not-pghaul";
    for (auto& d : {dead, live, other}) {
        fs::create_directories(d);
        std::ofstream(d / "0.spool") << "data";
    }
    CHECK(pghaul::sweep_stale_spool_dirs(parent) == 1);
    CHECK_FALSE(fs::exists(dead));
    CHECK(fs::exists(live));
    CHECK(fs::exists(other));
    {
        pghaul::spool_dir sd(parent, 1 << 20);  // its own name carries this pid
        CHECK(sd.path().filename().string().starts_with("pghaul-" + std::to_string(::getpid()) + "-"));
        CHECK(pghaul::sweep_stale_spool_dirs(parent) == 0);
    }
    fs::remove_all(parent);
}
