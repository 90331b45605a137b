// Spool files and their directory: private modes, removal, both I/O paths,
// truncation, hole punching, and a full disk reported as a state.
#include "io/spool_file.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "io/spool_dir.hpp"
#include "protocol/error.hpp"
#include "test_support.hpp"

using pghaul::spool_dir;
using pghaul::spool_file;

using pghaul::test::bytes;

namespace {

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("the spool directory is private and removed with its owner") {
    pghaul::test::scratch_dir scratch;
    std::filesystem::path dir;
    {
        spool_dir sd(scratch.path(), 1 << 20);
        dir = sd.path();
        CHECK(dir.parent_path() == scratch.path());
        CHECK(mode_of(dir) == 0700);
        auto f = sd.create("public.events/../x");  // the name cannot leave the directory
        CHECK(f->path().parent_path() == dir);
        CHECK(mode_of(f->path()) == 0600);
    }
    CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("a missing spool directory is a local error naming it") {
    try {
        spool_dir sd("/nonexistent/pghaul-spool", 1 << 20);
        FAIL("expected an error");
    } catch (const pghaul::error& e) {
        CHECK(e.code() == pghaul::exit_code::local);
        CHECK(std::string(e.what()).find("/nonexistent/pghaul-spool") != std::string::npos);
    }
}

TEST_CASE("spool files: 0600, O_EXCL, round trip, removed on destruction") {
    pghaul::test::scratch_dir scratch;
    for (bool uring : {true, false}) {
        CAPTURE(uring);
        auto path = scratch.path() / "unit.spool";
        {
            spool_file f(path, uring);
            CHECK(f.uses_io_uring() == (uring && f.fallback_reason().empty()));
            CHECK(mode_of(path) == 0600);
            CHECK_THROWS_AS(spool_file(path, uring), pghaul::error);  // never opens a file already there

            std::string a = "first frame", b(300000, 'b');
            CHECK(f.try_append(bytes(a)) == std::optional<std::uint64_t>(0));
            CHECK(f.try_append(bytes(b)) == std::optional<std::uint64_t>(a.size()));
            std::string back(b.size(), '\0');
            f.read(a.size(), std::as_writable_bytes(std::span(back.data(), back.size())));
            CHECK(back == b);
        }
        CHECK_FALSE(std::filesystem::exists(path));
    }
}

TEST_CASE("reading past the end of a spool file is a truncation error naming the file") {
    pghaul::test::scratch_dir scratch;
    for (bool uring : {true, false}) {
        CAPTURE(uring);
        spool_file f(scratch.path() / "t.spool", uring);
        std::string a(1000, 'a');
        REQUIRE(f.try_append(bytes(a)));
        REQUIRE(::truncate(f.path().c_str(), 600) == 0);
        std::string back(1000, '\0');
        try {
            f.read(0, std::as_writable_bytes(std::span(back.data(), back.size())));
            FAIL("expected an error");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::local);
            CHECK(std::string(e.what()).find(f.path().string()) != std::string::npos);
            CHECK(std::string(e.what()).find("truncated") != std::string::npos);
        }
    }
}

TEST_CASE("consumed spool data gives its disk blocks back") {
    pghaul::test::scratch_dir scratch;
    spool_file f(scratch.path() / "p.spool", true);
    std::string mb(1 << 20, 'x');
    for (int i = 0; i < 4; ++i) REQUIRE(f.try_append(bytes(mb)));
    f.discard_before(4 << 20);
    struct stat st {};
    REQUIRE(::stat(f.path().c_str(), &st) == 0);
    CHECK(st.st_size == 4 << 20);
    CHECK(st.st_blocks * 512 < (256 << 10));
}

TEST_CASE("a full disk refuses the append as a state, leaving the file as it was") {
    pghaul::test::scratch_dir scratch;
    // RLIMIT_FSIZE stands in for a full disk: writes past it fail with EFBIG.
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    for (bool uring : {true, false}) {
        CAPTURE(uring);
        spool_file f(scratch.path() / (uring ? "u.spool" : "p.spool"), uring);
        std::string a(40000, 'a');
        struct rlimit lim = old;
        lim.rlim_cur = 100000;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
        CHECK(f.try_append(bytes(a)) == std::optional<std::uint64_t>(0));
        CHECK(f.try_append(bytes(a)) == std::optional<std::uint64_t>(40000));
        CHECK_FALSE(f.try_append(bytes(a)).has_value());  // would end at 120000
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
        CHECK(std::filesystem::file_size(f.path()) == 80000);
        CHECK(f.try_append(bytes(a)) == std::optional<std::uint64_t>(80000));  // room again: same offset
    }
    std::signal(SIGXFSZ, SIG_DFL);
}
