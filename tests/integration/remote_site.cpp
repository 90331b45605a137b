#include "remote_site.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <future>

#include "harness.hpp"
#include "io/process.hpp"

namespace harness {
namespace {

void run(const std::vector<std::string>& argv, bool must = true) {
    auto r = pghaul::run_process(argv);
    if (must) REQUIRE_MESSAGE(r.exit_status == 0, argv[0] << " " << argv[1] << " … failed: " << r.err);
}

bool write_all(int fd, const char* p, ssize_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, static_cast<std::size_t>(n));
        if (w <= 0) return false;
        p += w;
        n -= w;
    }
    return true;
}

}  // namespace

remote_site::remote_site(const std::string& super_var) {
    const auto pid = static_cast<unsigned>(::getpid());
    ns_ = "pghaul-t" + std::to_string(pid);
    veth_ = "phr" + std::to_string(pid % 100000) + "a";
    const std::string peer = "phr" + std::to_string(pid % 100000) + "b";
    const std::string net = "198.18." + std::to_string((pid / 64) % 256) + ".";
    here_ = net + std::to_string((pid % 64) * 4 + 1);
    there_ = net + std::to_string((pid % 64) * 4 + 2);
    auto ci = server(super_var);
    socket_path_ = ci.get("host").value_or("") + "/.s.PGSQL." + ci.get("port").value_or("5432");
    REQUIRE_MESSAGE(::geteuid() == 0, "the remote-site tests need root (network namespaces)");

    run({"ip", "netns", "del", ns_}, false);  // a killed run's
    run({"ip", "netns", "add", ns_});
    run({"ip", "link", "add", veth_, "type", "veth", "peer", "name", peer});
    run({"ip", "link", "set", peer, "netns", ns_});
    run({"ip", "addr", "add", here_ + "/30", "dev", veth_});
    run({"ip", "link", "set", veth_, "up"});
    run({"ip", "netns", "exec", ns_, "ip", "addr", "add", there_ + "/30", "dev", peer});
    run({"ip", "netns", "exec", ns_, "ip", "link", "set", peer, "up"});

    // The listener lives in the namespace: its thread joins it first.
    std::promise<int> bound;
    auto port = bound.get_future();
    acceptor_ = std::thread([this, &bound] {
        try {
            const int nsfd = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
            if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0)
                throw std::runtime_error("joining " + ns_ + ": " + std::strerror(errno));
            ::close(nsfd);
            listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            ::inet_pton(AF_INET, there_.c_str(), &a.sin_addr);
            socklen_t len = sizeof a;
            if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
                ::listen(listener_, 16) != 0 ||
                ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
                throw std::runtime_error(std::string("listening: ") + std::strerror(errno));
            bound.set_value(ntohs(a.sin_port));
        } catch (...) {
            bound.set_exception(std::current_exception());
            return;
        }
        serve();
    });
    try {
        port_ = port.get();
    } catch (const std::exception& e) {
        acceptor_.join();
        run({"ip", "netns", "del", ns_}, false);
        FAIL(e.what());
    }
}

remote_site::~remote_site() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    {
        std::lock_guard lk(mu_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : pumps_) t.join();
    if (listener_ >= 0) ::close(listener_);
    run({"ip", "netns", "del", ns_}, false);  // takes the veth pair with it
    run({"ip", "link", "del", veth_}, false);
}

std::string remote_site::address() const {
    return "host=" + there_ + " port=" + std::to_string(port_);
}

void remote_site::shape(const std::string& rate) {
    run({"tc", "qdisc", "del", "dev", veth_, "root"}, false);
    if (!rate.empty())
        run({"tc", "qdisc", "add", "dev", veth_, "root", "tbf", "rate", rate, "burst", "32kbit", "latency",
             "400ms"});
}

// A bucket of one byte: no packet ever fits, so every one is dropped.
void remote_site::black_hole() {
    run({"tc", "qdisc", "del", "dev", veth_, "root"}, false);
    run({"tc", "qdisc", "add", "dev", veth_, "root", "tbf", "rate", "8bit", "burst", "1", "limit", "1"});
}

void remote_site::serve() {
    while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        std::lock_guard lk(mu_);
        open_fds_.push_back(client);
        pumps_.emplace_back([this, client] { pump(client); });
    }
}

// Bytes both ways until either side closes (or the site goes).
void remote_site::pump(int client) {
    const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket_path_.c_str(), sizeof a.sun_path - 1);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        {
            std::lock_guard lk(mu_);
            open_fds_.push_back(server);
        }
        char buf[65536];
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        for (bool open = true; open && !stop_;) {
            if (::poll(p, 2, 100) <= 0) continue;
            for (int i = 0; i < 2 && open; ++i) {
                if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
                open = n > 0 && write_all(p[1 - i].fd, buf, n);
            }
        }
    }
    std::lock_guard lk(mu_);
    for (int fd : {client, server}) {
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
        open_fds_.remove(fd);
    }
}

}  // namespace harness
