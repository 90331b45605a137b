// A sandbox server behind a link the test controls: a network namespace
// joined to this one by a veth pair (198.18.N.1 here, 198.18.N.2 there; N
// from the test process, so two suites side by side do not meet), and a
// forwarder in the namespace that passes each TCP connection to 198.18.N.2
// on to the server's Unix socket. pghaul, outside, reaches the server only
// over the veth, whose egress tc can slow (tbf) or black-hole (a peer that
// vanished: nothing sent arrives, nothing is refused). Needs root and
// iproute2 (scripts/install-deps.sh); everything is removed with the object.
#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace harness {

class remote_site {
public:
    // `super_var`: the sandbox server's superuser conninfo variable (a Unix
    // socket, e.g. PGHAUL_TGT_SUPER); the forwarded sessions authenticate as
    // local ones do there.
    explicit remote_site(const std::string& super_var);
    ~remote_site();
    remote_site(const remote_site&) = delete;
    remote_site& operator=(const remote_site&) = delete;

    // host=198.18.N.2 port=P, for a conninfo.
    std::string address() const;
    // The link towards the server: `rate` (e.g. "20mbit") with tbf; "" lifts it.
    void shape(const std::string& rate);
    // Nothing towards the server gets through until shape() or restore().
    void black_hole();
    void restore() { shape(""); }

private:
    void serve();
    void pump(int client);

    std::string ns_, veth_, here_, there_, socket_path_;
    int port_ = 0;
    int listener_ = -1;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::mutex mu_;
    std::list<std::thread> pumps_;
    std::list<int> open_fds_;
};

}  // namespace harness
