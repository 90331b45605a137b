// The near end of the link, inside pghaul: a listener on 127.0.0.1 that
// libpq and pg_dump connect to as if it were the source. Each connection it
// accepts becomes one TLS connection to the agent, which connects it on to
// `server`; bytes are zstd-compressed on the link both ways. It runs its own
// io_context thread for its lifetime (RAII: the destructor stops and joins it).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "io/link/tls.hpp"

namespace pghaul::link {

struct link_totals {
    std::uint64_t raw_sent = 0, wire_sent = 0;          // towards the source
    std::uint64_t wire_received = 0, raw_received = 0;  // from it
    std::uint64_t connections = 0;
};

class forwarder {
public:
    // `agent`: host:port of the agent; `server`: host:port of the source as
    // the agent's --allow names it. Throws usage errors for bad addresses or files.
    forwarder(std::string agent, const tls_files& files, std::string server, int level);
    ~forwarder();
    forwarder(const forwarder&) = delete;
    forwarder& operator=(const forwarder&) = delete;

    int port() const noexcept { return port_; }
    const std::string& agent() const noexcept { return agent_; }
    const std::string& server() const noexcept { return server_; }
    // Asks the agent whether it takes this host's certificate and reaches the
    // server, without a PostgreSQL session; throws a preflight error naming the
    // agent and what it said.
    void check();
    // Why the last connection through the link failed, if one did (for the
    // error libpq gives, which only sees the connection close).
    std::string last_error() const;
    link_totals totals() const;

    // The link session carrying the local connection whose client end is
    // at `client_port` on 127.0.0.1 (getsockname of libpq's socket): its
    // id, or "" if there is none (yet).
    std::string session_of(int client_port) const;
    // Asks the agent to keep that session's server connection open for up
    // to `seconds` after its link drops (HOLD; the agent caps it with its
    // --max-hold): a transaction holding a snapshot outlives a dropped link.
    // Returns the seconds granted; 0 when refused (the agent's answer goes
    // to last_error). RELEASE ends the hold, and a held session with it.
    int hold(const std::string& session, std::chrono::seconds seconds);
    void release(const std::string& session);

    // What the sessions report, shared with them: a session still pending
    // when the io_context is destroyed (after every member declared below it)
    // reports into this, not into a half-destroyed forwarder.
    // The counters move as the bytes do (the progress reads them each second).
    struct shared_state {
        std::mutex mu;
        std::string last_error;
        std::atomic<std::uint64_t> raw_sent{0}, wire_sent{0}, wire_received{0}, raw_received{0}, connections{0};
        std::map<int, std::string> session_by_port;  // open sessions, by their local client's port
        void note_error(std::string e);
    };

    std::shared_ptr<shared_state> state_for_sessions() const { return state_; }

private:
    friend struct forward_session;
    // One request line on a connection of its own (CHECK, HOLD, RELEASE): the agent's answer.
    std::string ask(const std::string& request);

    std::string agent_, server_, agent_host_, agent_port_;
    int level_;
    boost::asio::io_context io_{1};
    boost::asio::ssl::context ctx_;
    boost::asio::ip::tcp::acceptor acceptor_;
    int port_ = 0;
    std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
    std::jthread thread_;
};

}  // namespace pghaul::link
