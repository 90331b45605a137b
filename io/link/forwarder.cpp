// The near end of the link (see the header).
#include "io/link/forwarder.hpp"

#include <openssl/ssl.h>

// clang-format off: <utility> first, Boost 1.74's awaitable.hpp uses std::exchange without it
#include <utility>
// clang-format on
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <memory>
#include <cstdio>
#include <random>

#include "io/link/detail/pump.hpp"
#include "protocol/error.hpp"

namespace pghaul::link {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

std::string random_id() {
    std::random_device rd;
    std::string id;
    char word[9];
    for (int i = 0; i < 4; ++i) {
        std::snprintf(word, sizeof word, "%08x", static_cast<unsigned>(rd()));
        id += word;
    }
    return id;
}

}  // namespace

struct forward_session {
    forward_session(forwarder& f, tcp::socket local)
        : fw(f), local(std::move(local)), link(this->local.get_executor(), f.ctx_), deflate(f.level_) {
        boost::system::error_code ec;
        client_port = this->local.remote_endpoint(ec).port();
    }
    void close() {
        boost::system::error_code ec;
        local.close(ec);
        link.next_layer().close(ec);
        std::lock_guard lk(state->mu);
        if (auto it = state->session_by_port.find(client_port); it != state->session_by_port.end() && it->second == id)
            state->session_by_port.erase(it);
    }
    // TLS to the agent and the request line; returns the agent's answer.
    awaitable<std::string> open(const std::string& request) {
        // An agent that does not answer (a black-holed address) fails the
        // connection in this long, not after the kernel's two minutes.
        auto deadline = detail::deadline(link.get_executor(), detail::setup_timeout, [this] {
            timed_out = true;
            close();
        });
        tcp::resolver resolver(link.get_executor());
        auto eps = co_await resolver.async_resolve(fw.agent_host_, fw.agent_port_, use_awaitable);
        co_await asio::async_connect(link.next_layer(), eps, use_awaitable);
        link.next_layer().set_option(tcp::no_delay(true));
        link.next_layer().set_option(asio::socket_base::keep_alive(true));
        SSL_set_tlsext_host_name(link.native_handle(), fw.agent_host_.c_str());
        link.set_verify_callback(asio::ssl::host_name_verification(fw.agent_host_));
        co_await link.async_handshake(asio::ssl::stream_base::client, use_awaitable);
        co_await detail::write_line(link, std::string(detail::hello) + " " + request);
        asio::streambuf buf(detail::max_line);
        co_return co_await detail::read_line(link, buf);
    }
    // Why opening failed: the deadline says so itself (the socket it closed
    // only says "Operation canceled").
    std::string failure(const std::exception& e) const;
    bool timed_out = false;  // the setup deadline closed it
    forwarder& fw;           // only while opening: a pending session may outlive it
    std::shared_ptr<forwarder::shared_state> state = fw.state_;
    // The agent's name for the session (HOLD, RELEASE): random, so one
    // client cannot guess another's; the agent checks the certificate too.
    std::string id = random_id();
    int client_port = 0;
    tcp::socket local;
    asio::ssl::stream<tcp::socket> link;
    deflater deflate;
    inflater inflate;
};

namespace {

std::string describe(const std::string& agent, const std::exception& e) {
    if (auto* se = dynamic_cast<const boost::system::system_error*>(&e))
        return "the agent link to " + agent + " failed: " + se->code().message();
    return "the agent link to " + agent + " failed: " + e.what();
}

}  // namespace

std::string forward_session::failure(const std::exception& e) const {
    if (timed_out)
        return "the agent at " + fw.agent() + " did not answer within " +
               std::to_string(detail::setup_timeout.count()) + " s";
    return describe(fw.agent(), e);
}

namespace {

awaitable<void> upstream(std::shared_ptr<forward_session> s) {
    try {
        // Each request is a frame of its own, so that the agent's
        // decompressor can rest while the server answers (and between queries).
        co_await detail::deflate_pump(s->local, s->link, s->deflate, s->state->raw_sent, s->state->wire_sent,
                                      detail::rest_always);
    } catch (const std::exception&) {
    }
    s->close();
}

awaitable<void> downstream(std::shared_ptr<forward_session> s) {
    try {
        co_await detail::inflate_pump(s->link, s->local, s->inflate, s->state->wire_received,
                                      s->state->raw_received, ends_ready_for_query);
    } catch (const std::exception&) {
    }
    s->close();
}

awaitable<void> forward(std::shared_ptr<forward_session> s) {
    try {
        auto answer = co_await s->open("CONNECT " + s->fw.server() + " SESSION " + s->id);
        if (answer != "OK") {
            s->state->note_error(answer.starts_with("ERR ") ? answer.substr(4) : "the agent said: " + answer);
            s->close();
            co_return;
        }
    } catch (const std::exception& e) {
        s->state->note_error(s->failure(e));
        s->close();
        co_return;
    }
    ++s->state->connections;
    {
        std::lock_guard lk(s->state->mu);
        s->state->session_by_port[s->client_port] = s->id;
    }
    auto ex = s->local.get_executor();
    asio::co_spawn(ex, upstream(s), asio::detached);
    asio::co_spawn(ex, downstream(s), asio::detached);
}

// An exception out of a detached coroutine would leave io_context::run() and
// end the process: a failed accept (too many open files) is noted and the
// loop goes on after a pause; only the forwarder's own stop ends it.
awaitable<void> accept_loop(forwarder& f, tcp::acceptor& acc) {
    for (;;) {
        boost::system::error_code ec;
        auto sock = co_await acc.async_accept(asio::redirect_error(use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
        if (ec) {
            f.state_for_sessions()->note_error("the link could not accept pghaul's connection: " + ec.message());
            asio::steady_timer pause(acc.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(acc.get_executor(), forward(std::make_shared<forward_session>(f, std::move(sock))),
                       asio::detached);
    }
}

}  // namespace

forwarder::forwarder(std::string agent, const tls_files& files, std::string server, int level)
    : agent_(std::move(agent)),
      server_(std::move(server)),
      level_(level),
      ctx_(client_context(files, {"--via-ca", "--via-cert", "--via-key"})),
      acceptor_(io_) {
    std::tie(agent_host_, agent_port_) = detail::split_address(agent_, "--via");
    detail::split_address(server_, "the source's host:port");
    // Loopback only: nothing but this process's libpq and pg_dump reach it.
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(*this, acceptor_), asio::detached);
    thread_ = std::jthread([this] { io_.run(); });
}

forwarder::~forwarder() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

std::string forwarder::ask(const std::string& request) {
    auto probe = [this, request]() -> awaitable<std::string> {
        auto s = std::make_shared<forward_session>(*this, tcp::socket(io_));
        try {
            auto answer = co_await s->open(request);
            s->close();
            co_return answer;
        } catch (const std::exception& e) {
            s->close();
            co_return "ERR " + s->failure(e);
        }
    };
    return asio::co_spawn(io_, probe(), asio::use_future).get();
}

void forwarder::check() {
    auto answer = ask("CHECK " + server_);
    if (answer == "OK") return;
    throw error(exit_code::preflight,
                "through the agent at " + agent_ + " to " + server_ + ": " +
                    (answer.starts_with("ERR ") ? answer.substr(4) : answer),
                "check that the agent runs, that --via-ca signed its certificate and its --client-ca this "
                "host's (--via-cert), and that its --allow names " +
                    server_);
}

std::string forwarder::session_of(int client_port) const {
    std::lock_guard lk(state_->mu);
    auto it = state_->session_by_port.find(client_port);
    return it == state_->session_by_port.end() ? "" : it->second;
}

int forwarder::hold(const std::string& session, std::chrono::seconds seconds) {
    auto answer = ask("HOLD " + session + " " + std::to_string(seconds.count()));
    if (answer.starts_with("OK ")) return std::atoi(answer.c_str() + 3);
    state_->note_error("the agent would not hold the snapshot's session: " +
                       (answer.starts_with("ERR ") ? answer.substr(4) : answer));
    return 0;
}

void forwarder::release(const std::string& session) {
    ask("RELEASE " + session);
}

std::string forwarder::last_error() const {
    std::lock_guard lk(state_->mu);
    return state_->last_error;
}

link_totals forwarder::totals() const {
    return {state_->raw_sent.load(), state_->wire_sent.load(), state_->wire_received.load(),
            state_->raw_received.load(), state_->connections.load()};
}

void forwarder::shared_state::note_error(std::string e) {
    std::lock_guard lk(mu);
    last_error = std::move(e);
}

}  // namespace pghaul::link
