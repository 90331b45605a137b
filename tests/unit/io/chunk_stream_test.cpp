// The bounded stream: byte-exact FIFO through memory and spool, budgets back
// to zero, backpressure proven by observing the blocked producer, cancel,
// corrupt and truncated spool data, a full disk, and the pwrite fallback.
#include "io/chunk_stream.hpp"

#include <doctest/doctest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <fstream>
#include <thread>

#include "protocol/error.hpp"
#include "test_support.hpp"

using pghaul::chunk_stream;
using pghaul::chunk_stream_options;
using pghaul::memory_budget;
using pghaul::spool_dir;
using pghaul::spool_options;
using pghaul::test::difference;

namespace {

constexpr std::size_t small_chunk = 4096;

chunk_stream_options opts(std::size_t chunk = small_chunk) {
    chunk_stream_options o;
    o.chunk_size = chunk;
    o.name = "public.t";
    return o;
}

// Pushes `data` in random pieces (0 to 3 chunks long), then finishes.
bool push_randomly(chunk_stream& s, std::string_view data, std::uint64_t seed, std::size_t chunk) {
    std::mt19937_64 rng(seed);
    while (!data.empty()) {
        std::size_t n = std::min<std::size_t>(data.size(), rng() % (3 * chunk + 1));
        if (!s.push(data.substr(0, n))) return false;
        data.remove_prefix(n);
    }
    return s.finish();
}

// Pops everything; `spooled` records which chunks came from the spool.
std::string drain(chunk_stream& s, std::string* pattern = nullptr) {
    std::string out;
    while (auto c = s.pop()) {
        out += c->data();
        if (pattern) *pattern += c->from_spool() ? 'S' : 'M';
    }
    return out;
}

void flip_byte(const std::filesystem::path& p, std::uint64_t at) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
    REQUIRE(f);
}

}  // namespace

TEST_CASE("memory only: pieces of any size come out as the same bytes") {
    std::uint64_t seed = pghaul::test::test_seed();
    std::mt19937_64 rng(seed);
    std::string data = pghaul::test::copy_like_data(200000, rng);
    memory_budget mem(1 << 20);
    chunk_stream s(mem, nullptr, opts());
    REQUIRE(push_randomly(s, data, seed, small_chunk));
    CHECK(difference(drain(s), data) == "");
    CHECK(mem.used() == 0);
    CHECK(s.stats().chunks == (data.size() + small_chunk - 1) / small_chunk);
    CHECK(s.stats().chunks_spooled == 0);
    CHECK_FALSE(s.spool_path().has_value());
}

TEST_CASE("an empty stream ends at once") {
    memory_budget mem(1 << 20);
    chunk_stream s(mem, nullptr, opts());
    CHECK(s.push(""));
    CHECK(s.finish());
    CHECK_FALSE(s.pop().has_value());
}

TEST_CASE("memory and spool interleave in exactly the order pushed") {
    pghaul::test::scratch_dir scratch;
    memory_budget mem(4 * 1024);
    spool_dir sd(scratch.path(), 1 << 20);
    chunk_stream s(mem, &sd, opts(1024));
    std::mt19937_64 rng(11);
    std::string data = pghaul::test::copy_like_data(15 * 1024, rng);
    std::string_view rest = data;

    REQUIRE(s.push(rest.substr(0, 10 * 1024)));  // 4 fill memory, 6 spill
    rest.remove_prefix(10 * 1024);
    std::string out, pattern;
    for (int i = 0; i < 3; ++i) {  // frees 3 chunks of memory
        auto c = s.pop();
        REQUIRE(c);
        out += c->data();
        pattern += c->from_spool() ? 'S' : 'M';
    }
    REQUIRE(s.push(rest));  // 3 fit in memory again, 2 spill
    REQUIRE(s.finish());
    out += drain(s, &pattern);
    CHECK(pattern == "MMMMSSSSSSMMMSS");
    CHECK(difference(out, data) == "");
    CHECK(mem.used() == 0);
    CHECK(sd.budget().used() == 0);
    CHECK(s.stats().chunks_spooled == 8);
    CHECK(s.stats().memory_peak == 4 * 1024);
}

TEST_CASE("FIFO holds under random pieces with a tiny memory budget, threads, every level") {
    std::uint64_t seed = pghaul::test::test_seed();
    std::mt19937_64 rng(seed);
    std::string data = pghaul::test::copy_like_data(3 << 20, rng);
    for (int level : {0, 1, 3}) {
        for (bool force_pwrite : {false, true}) {
            CAPTURE(level);
            CAPTURE(force_pwrite);
            pghaul::test::scratch_dir scratch;
            memory_budget mem(3 * small_chunk);
            spool_dir sd(scratch.path(), 64 << 20, spool_options{level, force_pwrite});
            std::string out;
            {
                chunk_stream s(mem, &sd, opts());
                std::jthread producer([&] { CHECK(push_randomly(s, data, seed + level, small_chunk)); });
                std::mt19937_64 crng(seed ^ 0x5eed);
                while (auto c = s.pop()) {
                    out += c->data();
                    if (crng() % 8 == 0) std::this_thread::yield();  // vary the interleaving
                }
                producer.join();
                CHECK(s.stats().bytes_in == data.size());
                CHECK(s.spool_uses_io_uring() == (s.spool_path() && !force_pwrite && !sd.io_uring_refused()));
                MESSAGE("level " << level << std::string(force_pwrite ? " pwrite" : " io_uring") << ": "
                                 << s.stats().chunks_spooled << " of " << s.stats().chunks
                                 << " chunks spooled");
            }
            CHECK(difference(out, data) == "");
            CHECK(mem.used() == 0);
            CHECK(sd.budget().used() == 0);
            CHECK(mem.peak() <= mem.limit());
        }
    }
}

TEST_CASE("several streams share both budgets; all data arrives and the budgets end at zero") {
    std::uint64_t seed = pghaul::test::test_seed();
    pghaul::test::scratch_dir scratch;
    memory_budget mem(8 * small_chunk);
    spool_dir sd(scratch.path(), 6 * (small_chunk + 64), spool_options{1, false});
    constexpr int units = 4;
    std::vector<std::string> in(units), out(units);
    std::vector<std::unique_ptr<chunk_stream>> streams;
    for (int u = 0; u < units; ++u) {
        std::mt19937_64 rng(seed + u);
        in[u] = pghaul::test::copy_like_data(400000 + 1000 * u, rng);
        streams.push_back(std::make_unique<chunk_stream>(mem, &sd, opts()));
    }
    {
        std::vector<std::jthread> threads;
        for (int u = 0; u < units; ++u) {
            threads.emplace_back(
                [&, u] { CHECK(push_randomly(*streams[u], in[u], seed * 3 + u, small_chunk)); });
            threads.emplace_back([&, u] { out[u] = drain(*streams[u]); });
        }
    }
    for (int u = 0; u < units; ++u) CHECK(difference(out[u], in[u]) == "");
    CHECK(mem.used() == 0);
    CHECK(sd.budget().used() == 0);
    CHECK(sd.budget().peak() <= sd.budget().limit());
}

TEST_CASE("spool files are 0600 while they exist and gone afterwards") {
    pghaul::test::scratch_dir scratch;
    memory_budget mem(0);  // everything spills
    std::filesystem::path dir, file;
    {
        spool_dir sd(scratch.path(), 1 << 20);
        dir = sd.path();
        {
            chunk_stream s(mem, &sd, opts());
            std::string data(10 * small_chunk, 'z');
            REQUIRE(s.push(data));
            REQUIRE(s.finish());
            REQUIRE(s.spool_path());
            file = *s.spool_path();
            struct stat st {};
            REQUIRE(::stat(file.c_str(), &st) == 0);
            CHECK((st.st_mode & 07777) == 0600);
            CHECK(st.st_uid == ::geteuid());
            CHECK(difference(drain(s), data) == "");
            CHECK(std::filesystem::exists(file));  // until the stream is destroyed
        }
        CHECK_FALSE(std::filesystem::exists(file));
        CHECK(std::filesystem::is_empty(dir));
    }
    CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("corrupt spool data fails loudly, naming the file, after only good chunks") {
    std::mt19937_64 rng(pghaul::test::test_seed());
    std::string data = pghaul::test::copy_like_data(20 * small_chunk, rng);
    enum damage { payload, header, truncated, swapped };
    for (int level : {0, 1}) {
        for (damage d : {payload, header, truncated, swapped}) {
            if (d == swapped && level != 0) continue;  // needs frames of equal size
            CAPTURE(level);
            CAPTURE(int(d));
            pghaul::test::scratch_dir scratch;
            memory_budget mem(0);
            spool_dir sd(scratch.path(), 16 << 20, spool_options{level, false});
            chunk_stream s(mem, &sd, opts());
            REQUIRE(s.push(data));
            REQUIRE(s.finish());
            auto path = *s.spool_path();
            auto size = std::filesystem::file_size(path);
            if (d == payload) flip_byte(path, size / 2 + 100);
            if (d == header) flip_byte(path, 8);  // the first frame's sequence number
            if (d == truncated) std::filesystem::resize_file(path, size - 100);
            if (d == swapped) {  // frames 3 and 4 trade places: each is intact, but out of order
                constexpr std::size_t f = small_chunk + pghaul::frame_header_size;
                std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
                std::string a(f, '\0'), b(f, '\0');
                io.seekg(3 * f);
                io.read(a.data(), f);
                io.read(b.data(), f);
                io.seekp(3 * f);
                io.write(b.data(), f);
                io.write(a.data(), f);
                REQUIRE(io);
            }

            std::string out;
            try {
                while (auto c = s.pop()) out += c->data();
                FAIL("damage went unnoticed");
            } catch (const pghaul::error& e) {
                CHECK(e.code() == pghaul::exit_code::local);
                CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
                MESSAGE(std::string(e.what()));
            }
            CHECK(difference(data.substr(0, out.size()), out) ==
                  "");  // what came out before the damage is right
            CHECK(out.size() < data.size());
            CHECK(s.cancelled());
            CHECK_FALSE(s.push("more"));
            CHECK_THROWS_AS(s.pop(), pghaul::error);
        }
    }
}

TEST_CASE("memory and spool full: the producer blocks until the consumer drains") {
    pghaul::test::scratch_dir scratch;
    memory_budget mem(2 * small_chunk);
    // Level 0 stores: frames are chunk + header, so two fit exactly.
    spool_dir sd(scratch.path(), 2 * (small_chunk + pghaul::frame_header_size), spool_options{0, false});
    chunk_stream s(mem, &sd, opts());
    std::mt19937_64 rng(3);
    std::string data = pghaul::test::copy_like_data(10 * small_chunk, rng);
    std::atomic<bool> done{false};
    std::jthread producer([&] {
        CHECK(s.push(data));
        CHECK(s.finish());
        done = true;
    });
    mem.wait_for_waiters(1);          // the producer is waiting inside push,
    sd.budget().wait_for_waiters(1);  // for memory or spool space

    CHECK_FALSE(done.load());
    CHECK(mem.used() == mem.limit());
    CHECK(sd.budget().used() == sd.budget().limit());
    CHECK(s.stats().chunks == 4);
    std::string out = drain(s);
    producer.join();
    CHECK(done.load());
    CHECK(difference(out, data) == "");
    CHECK(s.stats().producer_waits >= 1);
    CHECK(mem.used() == 0);
    CHECK(sd.budget().used() == 0);
}

TEST_CASE("without a spool the producer waits for memory alone") {
    memory_budget mem(2 * small_chunk);
    chunk_stream s(mem, nullptr, opts());
    std::string data(5 * small_chunk, 'm');
    std::jthread producer([&] { CHECK(push_randomly(s, data, 1, small_chunk)); });
    mem.wait_for_waiters(1);
    CHECK(difference(drain(s), data) == "");
}

TEST_CASE("cancel wakes a blocked producer and a waiting consumer, and frees the budgets") {
    for (bool external : {false, true}) {
        CAPTURE(external);
        pghaul::test::scratch_dir scratch;
        memory_budget mem(2 * small_chunk);
        spool_dir sd(scratch.path(), 2 * (small_chunk + pghaul::frame_header_size), spool_options{0, false});
        std::stop_source run_stop;
        chunk_stream s(mem, &sd, opts(), run_stop.get_token());
        std::string data(20 * small_chunk, 'c');
        std::atomic<int> pushed{-1};
        std::jthread producer([&] { pushed = s.push(data) ? 1 : 0; });
        mem.wait_for_waiters(1);
        if (external) {
            run_stop.request_stop();  // e.g. the run's SIGINT
        } else {
            s.cancel();
        }
        producer.join();
        CHECK(pushed.load() == 0);
        CHECK(mem.used() == 0);
        CHECK(sd.budget().used() == 0);
        CHECK(mem.waiters() == 0);
        try {
            s.pop();
            FAIL("a cancelled stream must not look finished");
        } catch (const pghaul::error& e) {
            CHECK(e.code() == pghaul::exit_code::interrupted);
        }
        CHECK_FALSE(s.finish());
    }
    // A consumer waiting for data that will never come.
    memory_budget mem(1 << 20);
    chunk_stream s(mem, nullptr, opts());
    std::atomic<int> outcome{0};
    std::jthread consumer([&] {
        try {
            s.pop();
            outcome = 1;
        } catch (const pghaul::error& e) {
            outcome = e.code() == pghaul::exit_code::interrupted ? 2 : 3;
        }
    });
    s.cancel();
    consumer.join();
    CHECK(outcome.load() == 2);
}

TEST_CASE("a full disk turns into waiting for memory; no data is lost") {
    std::uint64_t seed = pghaul::test::test_seed();
    pghaul::test::scratch_dir scratch;
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    std::mt19937_64 rng(seed);
    std::string data = pghaul::test::copy_like_data(200 * small_chunk, rng);
    memory_budget mem(2 * small_chunk);
    spool_dir sd(scratch.path(), 64 << 20, spool_options{0, false});
    std::string out;
    pghaul::chunk_stream_stats st;
    {
        chunk_stream s(mem, &sd, opts());
        struct rlimit lim = old;
        lim.rlim_cur = 20 * small_chunk;  // the "disk" holds under 20 frames, ever
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
        std::jthread producer([&] { CHECK(push_randomly(s, data, seed, small_chunk)); });
        out = drain(s);
        producer.join();
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
        st = s.stats();
    }
    std::signal(SIGXFSZ, SIG_DFL);
    CHECK(difference(out, data) == "");
    MESSAGE(st.disk_full << " appends refused, " << st.chunks_spooled << " chunks spooled");
    CHECK(st.chunks_spooled < 20);
    CHECK(mem.used() == 0);
    CHECK(sd.budget().used() == 0);
}

#if defined(__NR_io_uring_setup)
TEST_CASE("where the kernel refuses io_uring, spooling falls back to pwrite and says so once") {
    // A child process forbids io_uring_setup with seccomp, as some container
    // sandboxes do, then spools through a stream; its exit code tells the story.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog {
            static_cast<unsigned short>(std::size(filter)), filter
        };
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
            ::_exit(10);
        }
        int rc = 0;
        try {
            pghaul::test::scratch_dir scratch;
            memory_budget mem(0);
            spool_dir sd(scratch.path(), 1 << 20);
            chunk_stream s(mem, &sd, opts());
            std::string data(5 * small_chunk + 7, 'f');
            if (!s.push(data) || !s.finish()) rc = 11;
            std::string out;
            while (auto c = s.pop()) out += c->data();
            auto notice = sd.take_fallback_notice();
            if (out != data)
                rc = 12;
            else if (s.spool_uses_io_uring() || !sd.io_uring_refused())
                rc = 13;
            else if (!notice || notice->find("io_uring") == std::string::npos)
                rc = 14;
            else if (sd.take_fallback_notice())
                rc = 15;  // said once only
        } catch (...) {
            rc = 16;
        }
        ::_exit(rc);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
