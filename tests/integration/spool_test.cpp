// The spool under stress: a full file system makes the reader wait instead of
// failing, and a spool file damaged behind pghaul's back fails its unit.
#include <doctest/doctest.h>

#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace harness;
namespace fs = std::filesystem;

namespace {

// The spool files of the unit of "stalled" under `parent` (in the run's
// pghaul-* directory).
std::vector<fs::path> stalled_spool_files(const fs::path& parent) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto& d : fs::directory_iterator(parent, ec)) {
        if (!d.is_directory(ec) || !d.path().filename().string().starts_with("pghaul-")) continue;
        for (auto& f : fs::directory_iterator(d.path(), ec))
            if (f.path().filename().string().find("stalled") != std::string::npos) out.push_back(f.path());
    }
    return out;
}

// A tmpfs of `size` on a fresh directory (the suite runs as root), unmounted
// and removed with the object, whatever the test did.
struct tiny_tmpfs {
    explicit tiny_tmpfs(const std::string& size)
        : path(fs::temp_directory_path() / unique_name("spool_tmpfs")) {
        fs::create_directories(path);
        mounted = std::system(
                      ("mount -t tmpfs -o size=" + size + ",mode=0700 tmpfs " + path.string()).c_str()) == 0;
    }
    ~tiny_tmpfs() {
        if (mounted) std::system(("umount " + path.string()).c_str());
        std::error_code ec;
        fs::remove(path, ec);
    }
    fs::path path;
    bool mounted = false;
};

// Holds the target's `stalled` locked until its spool file passes 1 MB, then
// damages the file's middle: the writer waits for the lock before it reads
// any chunk, so that region is still unread.
// With `source_db`, the target stays stalled until pghaul's snapshot session
// on that source is gone (every table read, the snapshot released), so the
// damage is found when the unit can no longer be read again: without the
// wait a slow build (ASan) found it while the snapshot was still held, and
// redid the unit from the source, as it should, instead of failing.
bool stall_and_corrupt(const std::string& target_db, const fs::path& spool_dir,
                       const std::string& source_db = "") {
    auto source_read = [&] {
        auto s = connect("PGHAUL_SRC_A_SUPER");
        for (int k = 0; k < 6000; ++k) {
            if (s.exec_params("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                              "application_name = 'pghaul/snapshot'",
                              {source_db})
                    .i64(0, 0) == 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    };
    return stall_target(target_db, [&] {
        for (int k = 0; k < 1000; ++k) {
            for (auto& f : stalled_spool_files(spool_dir)) {
                std::error_code ec;
                auto size = fs::file_size(f, ec);
                if (ec || size < (1u << 20)) continue;
                std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
                io.seekp(static_cast<std::streamoff>(size / 2));
                const std::string garbage(4096, '\x5A');
                io.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
                io.flush();
                if (!io) return false;
                std::this_thread::sleep_for(std::chrono::milliseconds(300));
                return source_db.empty() || source_read();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    });
}

}  // namespace

TEST_CASE("a spool directory on a full tiny tmpfs makes the reader wait, and nothing is lost") {
    tiny_tmpfs spool("1m");
    REQUIRE(spool.mounted);
    temp_file state("keep", "");  // any state journal lands beside it and goes with it
    const auto source_db = make_stall_source();
    const auto target_db = unique_name("spool_full_tgt");

    constexpr std::uintmax_t frame_size = 256 * 1024 + 32;
    std::uintmax_t free_at_end = 0;
    auto staller = std::async(std::launch::async, [&] {
        return stall_target(target_db, [&] {
            // Stored frames are one 256 KiB chunk plus a 32-byte header: once
            // less than that is free, the next append is refused. Keep the
            // target stalled a while longer: the reader must wait, not fail.
            for (int k = 0; k < 1500; ++k) {
                if (!stalled_spool_files(spool.path).empty() &&
                    fs::space(spool.path).available < frame_size) {
                    std::this_thread::sleep_for(std::chrono::seconds(2));
                    free_at_end = fs::space(spool.path).available;
                    return true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            return false;
        });
    });
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner",
         "--memory-limit", "2MB", "--spool-dir", spool.path.string(), "--compression-level", "0"},
        {"PGHAUL_STATE_DIR=" + fs::path(state.path).parent_path().string()});
    bool filled = staller.get();
    REQUIRE(filled);
    // The refused append's partial write was truncated away, not left to
    // take the last blocks.
    CHECK(free_at_end > 0);
    CHECK(free_at_end < frame_size);
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("public.stalled: 300000 rows") != std::string::npos);
    CHECK(r.err.find("spooled as") != std::string::npos);
    CHECK(r.err.find("the spool could not grow") != std::string::npos);  // said, not silent
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    CHECK_FALSE(has_spool_dir(spool.path));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a corrupted spool file fails its unit loudly and never loads garbage") {
    const auto source_db = make_stall_source();
    const auto target_db = unique_name("spool_bad_tgt");
    // The spool, and the state journal the failed run keeps, in one private
    // directory removed at the end.
    temp_file spool_parent("keep", "");
    const auto spool_dir = fs::path(spool_parent.path).parent_path();

    auto staller =
        std::async(std::launch::async, [&] { return stall_and_corrupt(target_db, spool_dir, source_db); });
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1",
                         "--no-owner", "--memory-limit", "2MB", "--spool-dir", spool_dir.string()},
                        {"PGHAUL_STATE_DIR=" + spool_dir.string()});
    bool corrupted = staller.get();
    REQUIRE(corrupted);
    CHECK(r.exit_status == 6);
    // The error names the damaged file (after its table) and what failed
    // to check: mostly a payload, a frame header if the bytes hit one.
    CHECK(r.err.find("pghaul: error: corrupt spool data in spool file") != std::string::npos);
    CHECK(r.err.find("public.stalled") != std::string::npos);
    CHECK((r.err.find("checksum mismatch") != std::string::npos ||
           r.err.find("bad frame header") != std::string::npos));
    // Whether the failed source's database is dropped or kept for --resume,
    // it must not pass as complete, and the damaged unit loaded nothing.
    if (target_has_database(target_db)) {
        auto t = connect("PGHAUL_TGT_SUPER", target_db);
        CHECK(
            t.exec("SELECT coalesce(shobj_description(oid, 'pg_database') LIKE 'pghaul: INCOMPLETE%', false) "
                   "FROM pg_database WHERE datname = current_database()")
                .boolean(0, 0));
        CHECK(t.exec("SELECT count(*) FROM stalled").i64(0, 0) == 0);
    }
    CHECK_FALSE(has_spool_dir(spool_dir));
    // A local failure is one --resume gets past: the unit reloads from the source.
    auto resumed = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1",
                               "--no-owner", "--resume"},
                              {"PGHAUL_STATE_DIR=" + spool_dir.string()});
    CHECK(resumed.exit_status == 0);
    auto src_conn = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto tgt_conn = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(tgt_conn) == table_fingerprints(src_conn));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// F13 in the run: while the snapshot is still held (here --verify keeps it),
// the damaged unit is read from the source once more and loaded whole.
TEST_CASE("a corrupted spool file is redone from the source in the same run while the snapshot is held") {
    const auto source_db = make_stall_source();
    const auto target_db = unique_name("spool_redo_tgt");
    temp_file spool_parent("keep", "");
    const auto spool_dir = fs::path(spool_parent.path).parent_path();
    auto staller = std::async(std::launch::async, [&] { return stall_and_corrupt(target_db, spool_dir); });
    auto r = run_pghaul(
        {"copy", "--source", src(source_db), "--target", tgt(target_db), "--jobs", "1", "--no-owner",
         "--memory-limit", "2MB", "--spool-dir", spool_dir.string(), "--verify", "counts"},
        {"PGHAUL_STATE_DIR=" + spool_dir.string()});
    REQUIRE(staller.get());
    CHECK(r.exit_status == 0);
    CHECK(r.err.find("corrupt spool data in spool file") != std::string::npos);
    CHECK(r.err.find("(attempt 1); retrying in") != std::string::npos);
    CHECK_FALSE(has_spool_dir(spool_dir));
    auto src_conn = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto tgt_conn = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(tgt_conn) == table_fingerprints(src_conn));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("a run removes the spool directories that killed runs left behind, and no one else's") {
    const auto dir = fs::temp_directory_path() / unique_name("spool_sweep");
    fs::create_directories(dir);
    // pid_max is at most 2^22: this pid cannot be running.
    const auto stale = dir / "pghaul-4194305-Abc123";
    const auto alive = dir / ("pghaul-" + std::to_string(::getpid()) + "-Def456");
    for (const auto& d : {stale, alive}) {
        fs::create_directories(d);
        std::ofstream(d / "t.0.spool") << "frames of a killed run";
    }
    const auto source_db = unique_name("sweep_src");
    const auto target_db = unique_name("sweep_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    s.exec("CREATE TABLE t AS SELECT i, md5(i::text) AS m FROM generate_series(1, 1000) i");
    auto r = run_pghaul({"copy", "--source", src(source_db), "--target", tgt(target_db), "--no-owner",
                         "--spool-dir", dir.string()});
    CHECK(r.exit_status == 0);
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(alive / "t.0.spool"));
    CHECK(r.err.find("removed 1 spool directory") != std::string::npos);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    fs::remove_all(dir);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// H2b: the source is released once every table has been read; a target
// writer lost after that cannot be retried (nothing to read from). The copy
// must stop resumable and the exit code must name the target, not the source.
TEST_CASE("a target writer lost after the source was released: exit 5, the copy kept, --resume finishes") {
    const auto source_db = make_stall_source();
    const auto target_db = unique_name("late_tgt");
    auto staller = std::async(std::launch::async, [&] {
        return stall_target(target_db, [&] {
            auto source_admin = connect("PGHAUL_SRC_A_SUPER");
            auto target_admin = connect("PGHAUL_TGT_SUPER");
            for (int k = 0; k < 3000; ++k) {
                // Released: no pghaul session on the source pins a snapshot or runs a query.
                bool released =
                    source_admin
                        .exec_params(
                            "SELECT FROM pg_stat_activity WHERE datname = $1 AND application_name "
                            "LIKE 'pghaul/%' AND (backend_xmin IS NOT NULL OR state <> 'idle')",
                            {source_db})
                        .rows() == 0;
                if (released &&
                    target_admin
                            .exec_params(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 "
                                "AND application_name = 'pghaul/worker' AND wait_event_type = 'Lock'",
                                {target_db})
                            .rows() > 0) {
                    std::this_thread::sleep_for(std::chrono::seconds(2));
                    return true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            return false;
        });
    });
    const std::vector<std::string> copy{"copy",   "--source", src(source_db), "--target", tgt(target_db),
                                        "--jobs", "1",        "--no-owner"};
    auto r = run_pghaul(copy);
    REQUIRE(staller.get());
    CHECK(r.exit_status == 5);
    CHECK(r.err.find("again after its write to the target failed") != std::string::npos);
    CHECK(r.err.find("kept the unfinished database") != std::string::npos);
    REQUIRE(target_has_database(target_db));
    auto resume = copy;
    resume.push_back("--resume");
    CHECK(run_pghaul(resume).exit_status == 0);
    auto s = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto t = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(table_fingerprints(t) == table_fingerprints(s));
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
