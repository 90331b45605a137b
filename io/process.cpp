// posix_spawn plus a poll loop over stdout and stderr, so a child that writes a
// lot to either never blocks on a full pipe.
#include "io/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

#include "protocol/error.hpp"

extern char** environ;

namespace pghaul {
namespace {

// Owns a file descriptor.
class fd {
public:
    fd() = default;
    explicit fd(int v) : v_(v) {}
    fd(fd&& o) noexcept : v_(o.v_) { o.v_ = -1; }
    fd& operator=(fd&& o) noexcept {
        std::swap(v_, o.v_);
        return *this;
    }
    ~fd() {
        if (v_ >= 0) ::close(v_);
    }
    int get() const { return v_; }
    void reset() {
        if (v_ >= 0) ::close(v_);
        v_ = -1;
    }

private:
    int v_ = -1;
};

std::pair<fd, fd> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        throw error(exit_code::local, std::string("cannot create a pipe: ") + std::strerror(errno));
    return {fd(p[0]), fd(p[1])};
}

}  // namespace

std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\n')));
}

process_result run_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                           const std::vector<std::pair<int, int>>& fd_map, std::chrono::milliseconds timeout,
                           std::stop_token stop) {
    auto [out_r, out_w] = make_pipe();
    auto [err_r, err_w] = make_pipe();

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    // dup2 clears close-on-exec on the child's copy only.
    for (auto [from, to] : fd_map) posix_spawn_file_actions_adddup2(&actions, from, to);

    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    // An extra entry replaces the inherited one of the same name (getenv takes the first).
    auto overridden = [&](std::string_view entry) {
        auto name = entry.substr(0, entry.find('=') + 1);
        for (auto& e : extra_env)
            if (e.starts_with(name)) return true;
        return false;
    };
    for (char** e = environ; *e; ++e)
        if (!overridden(*e)) envp.push_back(*e);
    for (auto& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    // pghaul ignores SIGPIPE and SIGXFSZ; an ignored signal would stay ignored in the
    // child, so children get the default back (as a shell would give them).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGXFSZ);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw error(exit_code::local, "cannot run " + argv[0] + ": " + std::strerror(rc),
                    "install it (scripts/install-deps.sh) or put it on PATH");
    out_w.reset();
    err_w.reset();

    process_result res;
    pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    std::string* sinks[2] = {&res.out, &res.err};
    int open_fds = 2;
    char buf[65536];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Asked to stop, the child gets SIGTERM (pg_dump's handler then cancels
    // its query: a backend waiting for a lock would not notice its client
    // gone), and SIGKILL if it has not ended two seconds later. The callback
    // is gone before the child is reaped, so the pid cannot be someone else's.
    std::optional<std::stop_callback<std::function<void()>>> term_on_stop;
    term_on_stop.emplace(stop, std::function<void()>([pid] { ::kill(pid, SIGTERM); }));
    std::optional<std::chrono::steady_clock::time_point> kill_at;
    while (open_fds > 0) {
        int wait_ms = -1;
        if (stop.stop_requested()) {
            const auto now = std::chrono::steady_clock::now();
            if (!kill_at) kill_at = now + std::chrono::seconds(2);
            if (now >= *kill_at) {
                ::kill(pid, SIGKILL);
                break;
            }
            wait_ms = 100;
        }
        if (timeout.count() > 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                // Its pipes may be held open by its own children: stop reading, kill it.
                ::kill(pid, SIGKILL);
                res.timed_out = true;
                break;
            }
            wait_ms = wait_ms < 0 ? static_cast<int>(left.count())
                                  : std::min(wait_ms, static_cast<int>(left.count()));
        }
        int ready = ::poll(fds, 2, wait_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (ready == 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    term_on_stop.reset();
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    res.peak_rss_kib = usage.ru_maxrss;
    res.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return res;
}

}  // namespace pghaul
