// The agent (see the header). One io_context run by `threads` threads; each
// session lives on a strand of its own (its sockets' executor), so two
// sessions compress on two cores while each session's steps stay in order.
// A session is a coroutine that authenticates, connects, then spawns the two
// pumps, which share the session and close both sockets when either ends.
// What sessions share (the registry, the memory budget, the log) is locked.
#include "io/link/agent.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

// clang-format off: <utility> first, Boost 1.74's awaitable.hpp uses std::exchange without it
#include <utility>
// clang-format on
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "io/link/detail/pump.hpp"
#include "io/link/scram.hpp"
#include "io/memory_budget.hpp"
#include "io/secret_file.hpp"
#include "protocol/pgpass.hpp"
#include "protocol/error.hpp"
#include "protocol/size.hpp"

namespace pghaul::link {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

std::string ratio(std::uint64_t raw, std::uint64_t wire) {
    if (wire == 0) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.1fx", static_cast<double>(raw) / static_cast<double>(wire));
    return b;
}

// The certificate's common name, for the log.
std::string peer_name(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return "?";
    char cn[256] = "?";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
}

struct session {
    session(tcp::socket s, asio::ssl::context& ctx, int level, int max_level, memory_budget& budget,
            const log_fn& log)
        : link(std::move(s), ctx),
          db(link.get_executor()),
          deflate(level, &budget),
          max_level(max_level),
          inflate(agent_window_log,
                  {.budget = &budget, .credit = request_decoder_credit(), .overdraw = true}),
          budget(budget),
          log(log) {
        boost::system::error_code ec;
        auto ep = link.next_layer().remote_endpoint(ec);
        from = ec ? "?" : ep.address().to_string();
    }
    ~session() {
        budget.release(reserved);
        if (!server.empty())
            log(false, "session ended: client " + client + " (" + from + ") to " + server + ": " +
                           std::to_string(link_in) + " B in on the link (" + std::to_string(db_out) +
                           " B to the server, " + ratio(db_out, link_in) + "), " + std::to_string(db_in) +
                           " B from the server (" + std::to_string(link_out) + " B out on the link, " +
                           ratio(db_in, link_out) + ", zstd level " + level_name(deflate.level()) +
                           " at the end" + memory_note() + ")");
    }
    // What the --memory-limit did to the session, if anything.
    std::string memory_note() const {
        const auto n = deflate.starved();
        std::string note = n == 0 ? ""
                                  : "; " + std::to_string(n) + " read" + (n == 1 ? "" : "s") +
                                        " sent uncompressed: the --memory-limit had no room for the level";
        if (const auto over = inflate.most_overdrawn(); over > 0)
            note += "; decompressing its requests (an older pghaul's, in one long frame) took " +
                    format_size(static_cast<std::int64_t>(over)) + " past the --memory-limit";
        return note;
    }
    // On the session's strand only.
    void close() {
        boost::system::error_code ec;
        link.next_layer().close(ec);
        db.close(ec);
        if (hold_timer) hold_timer->cancel();
    }
    // What a session holds however idle, taken when it starts. Its zstd
    // contexts are charged as zstd allocates them, and go back when it rests.
    bool reserve_buffers() {
        if (reserved > 0) return true;
        if (!budget.try_acquire(session_buffers())) return false;
        reserved = session_buffers();
        return true;
    }
    // Whether the budget has room now for the compressor at `level` (adapt
    // asks before it climbs; the allocation itself is charged when zstd makes it).
    bool room_for(int level) const {
        const auto have = compressor_memory(deflate.level()), need = compressor_memory(level);
        return need <= have || budget.used() + (need - have) <= budget.limit();
    }
    // The server's end is open: no EOF or error waiting on it (data may be).
    bool server_alive() {
        char c;
        const auto n = ::recv(db.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    asio::ssl::stream<tcp::socket> link;
    // TCP, or a Unix socket when the agent runs on the database host itself.
    asio::generic::stream_protocol::socket db;
    deflater deflate;
    int max_level;
    inflater inflate;
    std::string from, client = "?", server;
    std::uint64_t link_in = 0, db_out = 0, db_in = 0, link_out = 0;
    memory_budget& budget;
    std::size_t reserved = 0;  // the buffers
    const log_fn& log;
    // The forwarder's name for this session (CONNECT ... SESSION <id>), for HOLD and RELEASE.
    std::string id;
    // HOLD: when the link drops, the server connection stays open this long
    // (its transaction, and a snapshot it exported, with it) instead of
    // closing with the link; RELEASE or the time up closes it.
    // Set by the HOLD or RELEASE session, on its own strand: atomic.
    std::atomic<long> hold_for_s{0};
    bool holding = false;
    std::optional<asio::steady_timer> hold_timer;
};

// Sessions by id, for HOLD and RELEASE, which arrive on a session of their own.
struct session_registry {
    std::mutex mu;
    std::map<std::string, std::weak_ptr<session>> by_id;
};

// A pump is over: its side or the other closed, or failed. A held session
// whose server is still there loses only its link; anything else ends.
void pump_ended(const std::shared_ptr<session>& s) {
    if (s->holding) {
        if (!s->server_alive()) s->close();
        return;
    }
    const std::chrono::seconds hold_for{s->hold_for_s.load()};
    if (hold_for.count() == 0 || !s->server_alive()) {
        s->close();
        return;
    }
    s->holding = true;
    boost::system::error_code ec;
    s->link.next_layer().close(ec);
    s->log(true, "the link of client " + s->client + " to " + s->server +
                     " dropped: its server session is held " + std::to_string(hold_for.count()) +
                     " s (it holds a snapshot) unless released");
    s->hold_timer.emplace(s->db.get_executor(), hold_for);
    s->hold_timer->async_wait([s, hold_for](const boost::system::error_code& e) {
        if (e || !s->holding) return;
        s->log(false, "the held session of client " + s->client + " to " + s->server + " closed: its " +
                          std::to_string(hold_for.count()) + " s are up");
        s->close();
    });
}

awaitable<void> to_server(std::shared_ptr<session> s) {
    try {
        // pghaul ends a frame with each request: between them the decompressor rests.
        co_await detail::inflate_pump(s->link, s->db, s->inflate, s->link_in, s->db_out, detail::rest_always);
    } catch (const std::exception&) {
    }
    pump_ended(s);
}

awaitable<void> to_client(std::shared_ptr<session> s) {
    try {
        co_await detail::deflate_pump(
            s->db, s->link, s->deflate, s->db_in, s->link_out, ends_ready_for_query,
            detail::adapt{.max_level = s->max_level,
                          .may_climb_to = [p = s.get()](int level) { return p->room_for(level); }});
    } catch (const std::exception&) {
    }
    pump_ended(s);
}

std::uint32_t be32(const std::string& b, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

std::string with_be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

// The sign-in's reads and writes, through the link's zstd streams and counted.
awaitable<void> from_client(session& s, std::string& buf, std::size_t need) {
    std::array<char, 16 * 1024> raw;
    while (buf.size() < need) {
        const auto n = co_await s.link.async_read_some(asio::buffer(raw), use_awaitable);
        s.link_in += n;
        auto out = s.inflate.push({raw.data(), n});
        buf.append(out.data(), out.size());
        s.db_out += out.size();
    }
}

awaitable<void> to_client_bytes(session& s, const std::string& bytes) {
    auto z = s.deflate.push({bytes.data(), bytes.size()});
    co_await asio::async_write(s.link, asio::buffer(z.data(), z.size()), use_awaitable);
    s.db_in += bytes.size();
    s.link_out += z.size();
}

awaitable<void> from_server(session& s, std::string& buf, std::size_t need) {
    std::array<char, 16 * 1024> raw;
    while (buf.size() < need) {
        const auto n = co_await s.db.async_read_some(asio::buffer(raw), use_awaitable);
        buf.append(raw.data(), n);
    }
}

awaitable<void> to_server_message(session& s, char type, const std::string& payload) {
    const std::string m =
        std::string(1, type) + with_be32(static_cast<std::uint32_t>(payload.size() + 4)) + payload;
    co_await asio::async_write(s.db, asio::buffer(m), use_awaitable);
}

// Signs in to the server with the password the agent holds for the user and
// database the client's startup packet names: the client then sees only the
// server's AuthenticationOk (or its error). Without a password for them, the
// startup goes through and the client signs in itself. Returns false when the
// session is over (the sign-in failed: the client has the server's error).
awaitable<bool> sign_in(std::shared_ptr<session> s, const std::string& passwords, const std::string& server) {
    std::string c;
    std::uint32_t len = 0;
    for (;;) {
        co_await from_client(*s, c, 8);
        len = be32(c, 0);
        const auto code = be32(c, 4);
        if (len < 8 || len > 10000) throw error(exit_code::source, "not a PostgreSQL startup packet");
        co_await from_client(*s, c, len);
        if (code == 80877103 || code == 80877104) {  // SSLRequest, GSSENCRequest: the link is TLS already
            c.erase(0, len);
            co_await to_client_bytes(*s, "N");
            continue;
        }
        break;
    }
    std::string user, database;
    for (std::size_t at = 8; at < len;) {
        const auto key_end = c.find('\0', at);
        if (key_end == std::string::npos || key_end >= len || key_end == at) break;
        const auto value_end = c.find('\0', key_end + 1);
        if (value_end == std::string::npos) break;
        const auto key = c.substr(at, key_end - at), value = c.substr(key_end + 1, value_end - key_end - 1);
        if (key == "user") user = value;
        if (key == "database") database = value;
        at = value_end + 1;
    }
    if (database.empty()) database = user;
    const auto colon = server.rfind(':');
    auto host = server.substr(0, colon);
    if (host.front() == '/') host = "localhost";  // as libpq looks a socket directory up
    const auto password = pgpass_lookup(passwords, host, server.substr(colon + 1), database, user);
    co_await asio::async_write(s->db, asio::buffer(c), use_awaitable);  // the startup (or a cancel request)
    if (!password || be32(c, 4) == 80877102) co_return true;
    s->log(false,
           "signing in to " + server + " as " + user + " for client " + s->client + " with the agent's password");
    std::string b;
    std::optional<scram_client> scram;
    for (;;) {
        co_await from_server(*s, b, 5);
        const auto size = 1 + be32(b, 1);
        co_await from_server(*s, b, size);
        const auto m = b.substr(0, size);
        b.erase(0, size);
        if (m[0] == 'E') {  // the server refused: the client gets its error
            co_await to_client_bytes(*s, m);
            co_return false;
        }
        if (m[0] != 'R') {  // a notice, say: the client may as well see it
            co_await to_client_bytes(*s, m);
            continue;
        }
        const auto kind = be32(m, 5);
        const auto data = m.substr(9);
        if (kind == 0) {  // AuthenticationOk, and whatever the server sent after it
            co_await to_client_bytes(*s, m + b);
            co_return true;
        }
        if (kind == 3) {
            co_await to_server_message(*s, 'p', *password + '\0');
        } else if (kind == 5) {
            co_await to_server_message(*s, 'p', md5_password(user, *password, data.substr(0, 4)) + '\0');
        } else if (kind == 10) {
            if (data.find("SCRAM-SHA-256") == std::string::npos)
                throw error(exit_code::source, server + " offers no SASL mechanism the agent speaks");
            scram.emplace(*password);
            const auto first = scram->first_message();
            co_await to_server_message(*s, 'p',
                                       std::string("SCRAM-SHA-256") + '\0' +
                                           with_be32(static_cast<std::uint32_t>(first.size())) + first);
        } else if (kind == 11 && scram) {
            co_await to_server_message(*s, 'p', scram->final_message(data));
        } else if (kind == 12 && scram) {
            if (!scram->verify(data))
                throw error(exit_code::source, server + " did not prove it knows the password (SCRAM)");
        } else {
            throw error(exit_code::source,
                        server + " asks for a sign-in the agent does not speak (" + std::to_string(kind) + ")");
        }
    }
}

// A session starts once its buffers fit (--memory-limit): it waits up to
// 8 s for others to end, then is refused with the reason, which pghaul
// shows: inside libpq's default connect_timeout (10 s), which would
// otherwise end the wait with "timeout expired" and no reason.
awaitable<bool> admit(std::shared_ptr<session> s) {
    constexpr int tries = 80;
    for (int i = 0; i < tries; ++i) {
        if (s->reserve_buffers()) co_return true;
        if (i == 0)
            s->log(false, "client " + s->client + " waits for memory: the agent's --memory-limit of " +
                              format_size(static_cast<std::int64_t>(s->budget.limit())) + " is taken by its sessions");
        asio::steady_timer pause(s->link.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(use_awaitable);
    }
    s->log(true, "refused client " + s->client + " at " + s->from + ": the agent's --memory-limit of " +
                     format_size(static_cast<std::int64_t>(s->budget.limit())) + " stayed taken for 8 s");
    co_await detail::write_line(s->link, "ERR the agent is at its --memory-limit of " +
                                             format_size(static_cast<std::int64_t>(s->budget.limit())) +
                                             " (its other sessions); try again once some end");
    co_return false;
}

// HOLD <id> <seconds> and RELEASE <id>: only the client whose session it is
// (the same certificate name) may keep or end it.
std::string hold_or_release(session& from, session_registry& sessions, const std::string& request, int max_hold_s) {
    std::istringstream words(request);
    std::string verb, id;
    long seconds = 0;
    words >> verb >> id;
    if (verb == "HOLD" && !(words >> seconds && seconds > 0)) return "ERR HOLD needs a number of seconds";
    std::shared_ptr<session> s;
    {
        std::lock_guard lk(sessions.mu);
        if (auto it = sessions.by_id.find(id); it != sessions.by_id.end()) s = it->second.lock();
    }
    // Its client and server were set before it was registered, and stay.
    if (!s || s->client != from.client) return "ERR no session " + id + " of this client";
    if (verb == "HOLD") {
        const long held = std::min<long>(seconds, max_hold_s);
        s->hold_for_s = held;
        return "OK " + std::to_string(held);
    }
    s->hold_for_s = 0;
    // Its sockets and `holding` belong to its strand.
    asio::post(s->link.get_executor(), [s] {
        if (!s->holding) return;
        s->log(false, "the held session of client " + s->client + " to " + s->server + " released");
        s->close();
    });
    return "OK";
}

awaitable<void> serve(std::shared_ptr<session> s, const agent_options& opt, const std::string& passwords,
                      session_registry& sessions) {
    // A client that connects and then says nothing holds no session for long:
    // the handshake, the request and the server's connect get this long.
    auto deadline = detail::deadline(s->link.get_executor(), detail::setup_timeout, [w = std::weak_ptr(s)] {
        if (auto alive = w.lock()) alive->close();
    });
    try {
        co_await s->link.async_handshake(asio::ssl::stream_base::server, use_awaitable);
    } catch (const boost::system::system_error& e) {
        s->log(true,
               "refused a client at " + s->from + ": TLS handshake failed (" + e.code().message() + ")");
        co_return;
    }
    s->client = peer_name(s->link.native_handle());
    try {
        asio::streambuf buf(detail::max_line);
        const auto line = co_await detail::read_line(s->link, buf);
        const std::string hello = std::string(detail::hello) + " ", connect = hello + "CONNECT ",
                          check = hello + "CHECK ";
        if (line.starts_with(hello + "HOLD ") || line.starts_with(hello + "RELEASE ")) {
            co_await detail::write_line(s->link,
                                        hold_or_release(*s, sessions, line.substr(hello.size()), opt.max_hold_s));
            co_return;
        }
        const bool only_check = line.starts_with(check);
        if (!only_check && !line.starts_with(connect)) {
            s->log(true, "refused client " + s->client + " at " + s->from + ": not a pghaul link request");
            co_await detail::write_line(s->link, "ERR not a pghaul link request (this is a pghaul agent)");
            co_return;
        }
        auto server = line.substr(only_check ? check.size() : connect.size());
        if (const auto named = server.find(" SESSION "); named != std::string::npos) {
            s->id = server.substr(named + 9);
            server.erase(named);
        }
        if (std::find(opt.allow.begin(), opt.allow.end(), server) == opt.allow.end()) {
            s->log(true,
                   "refused client " + s->client + " at " + s->from + ": " + server + " is not --allow'ed");
            co_await detail::write_line(s->link, "ERR the agent does not connect to " + server +
                                                     " (its --allow list does not name it)");
            co_return;
        }
        if (!only_check && !co_await admit(s)) co_return;
        auto [host, port] = detail::split_address(server, "server");
        std::string failed;
        try {
            if (host.front() == '/') {
                // "host" is the socket directory, as in a conninfo.
                co_await s->db.async_connect(
                    asio::local::stream_protocol::endpoint(host + "/.s.PGSQL." + port), use_awaitable);
            } else {
                tcp::resolver resolver(s->link.get_executor());
                auto eps = co_await resolver.async_resolve(host, port, use_awaitable);
                for (auto it = eps.begin();; ++it) {
                    try {
                        co_await s->db.async_connect(it->endpoint(), use_awaitable);
                        break;
                    } catch (const boost::system::system_error&) {
                        boost::system::error_code ec;
                        s->db.close(ec);
                        if (std::next(it) == eps.end()) throw;
                    }
                }
                s->db.set_option(tcp::no_delay(true));
            }
        } catch (const boost::system::system_error& e) {
            failed = e.code().message();
        }
        if (!failed.empty()) {
            s->log(true, "client " + s->client + ": cannot connect to " + server + ": " + failed);
            co_await detail::write_line(s->link, "ERR the agent cannot connect to " + server + ": " + failed);
            co_return;
        }
        co_await detail::write_line(s->link, "OK");
        if (only_check) co_return;
        if (!opt.password_file.empty() && !co_await sign_in(s, passwords, server)) co_return;
        s->server = server;
        if (!s->id.empty()) {
            std::lock_guard lk(sessions.mu);
            std::erase_if(sessions.by_id, [](const auto& e) { return e.second.expired(); });
            sessions.by_id[s->id] = s;
        }
        auto ex = s->link.get_executor();
        asio::co_spawn(ex, to_server(s), asio::detached);
        asio::co_spawn(ex, to_client(s), asio::detached);
    } catch (const std::exception& e) {
        s->log(true, "client " + s->client + " at " + s->from + ": " + e.what());
    }
}

awaitable<void> accept_loop(tcp::acceptor& acc, asio::ssl::context& ctx, const agent_options& opt,
                            const std::string& passwords, session_registry& sessions, memory_budget& budget,
                            const log_fn& log) {
    // A failed accept (too many open files) is logged and the agent goes on
    // after a pause: out of a detached coroutine it would end the agent.
    for (;;) {
        boost::system::error_code ec;
        // Each session on a strand of its own: its steps in order, other sessions beside it.
        tcp::socket sock(asio::make_strand(acc.get_executor()));
        co_await acc.async_accept(sock, asio::redirect_error(use_awaitable, ec));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {
            log(true, "could not accept a connection: " + ec.message());
            asio::steady_timer pause(acc.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        sock.set_option(asio::socket_base::keep_alive(true), ec);
        auto ex = sock.get_executor();
        asio::co_spawn(
            ex,
            serve(std::make_shared<session>(std::move(sock), ctx, opt.level, opt.max_level, budget, log), opt,
                  passwords, sessions),
            asio::detached);
    }
}

}  // namespace

void run_agent(const agent_options& opt, const log_fn& log) {
    if (opt.allow.empty())
        throw error(exit_code::usage, "the agent needs --allow: the servers it may connect clients to",
                    "e.g. --allow db-a.internal:5432 (repeat it for more)");
    for (auto& a : opt.allow) detail::split_address(a, "--allow");
    auto ctx = server_context(opt.tls, {"--client-ca", "--tls-cert", "--tls-key"});
    // Read once: the agent's own secrets, never sent anywhere but to the server.
    std::string passwords;
    if (!opt.password_file.empty()) {
        bool loose = false;
        auto text = read_password_file(opt.password_file, loose);
        if (loose)
            throw error(exit_code::usage,
                        "--password-file " + opt.password_file + " may be read by others than its owner",
                        "chmod 0600 " + opt.password_file);
        if (!text)
            throw error(exit_code::usage, "--password-file " + opt.password_file + ": no such file",
                        "check the path");
        passwords = std::move(*text);
    }
    auto [host, port] = detail::split_address(opt.listen, "--listen");
    if (opt.memory_limit < static_cast<std::int64_t>(session_memory(opt.level)))
        throw error(exit_code::usage,
                    "--memory-limit " + format_size(opt.memory_limit) + " is less than one session needs at zstd level " +
                        std::to_string(opt.level) + " (" +
                        format_size(static_cast<std::int64_t>(session_memory(opt.level))) + ")",
                    "give the agent more memory, or a lower --compression-level");
    // Both outlive the io_context, which may destroy the last sessions.
    session_registry sessions;
    memory_budget budget(static_cast<std::size_t>(opt.memory_limit));
    const int threads =
        opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    asio::io_context io(threads);
    tcp::acceptor acc(io);
    try {
        tcp::resolver resolver(io);
        auto ep = resolver.resolve(host, port, tcp::resolver::passive)->endpoint();
        acc.open(ep.protocol());
        acc.set_option(tcp::acceptor::reuse_address(true));
        acc.bind(ep);
        acc.listen();
    } catch (const boost::system::system_error& e) {
        throw error(exit_code::usage, "cannot listen on " + opt.listen + ": " + e.code().message(),
                    "choose a free port, or an address of this host");
    }
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
        log(false, std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
        io.stop();
    });
    std::string allowed;
    for (auto& a : opt.allow) allowed += (allowed.empty() ? "" : ", ") + a;
    log(false, "listening on " + acc.local_endpoint().address().to_string() + ":" +
                   std::to_string(acc.local_endpoint().port()) + " for " + allowed + " (zstd level " +
                   std::to_string(opt.level) +
                   (opt.max_level > opt.level ? ", adapting up to " + std::to_string(opt.max_level)
                                              : std::string()) +
                   "; sessions within " + format_size(opt.memory_limit) + ", on " + std::to_string(threads) +
                   (threads == 1 ? " thread)" : " threads)"));
    asio::co_spawn(io, accept_loop(acc, ctx, opt, passwords, sessions, budget, log), asio::detached);
    {
        // Joined before the io_context and what its sessions refer to go.
        std::vector<std::jthread> more;
        for (int i = 1; i < threads; ++i) more.emplace_back([&io] { io.run(); });
        io.run();
    }
}

namespace detail {

std::pair<std::string, std::string> split_address(const std::string& address, const std::string& what) {
    std::string host, port;
    if (address.starts_with("[")) {
        auto close = address.find("]:");
        if (close != std::string::npos) host = address.substr(1, close - 1), port = address.substr(close + 2);
    } else if (auto colon = address.rfind(':'); colon != std::string::npos) {
        host = address.substr(0, colon), port = address.substr(colon + 1);
    }
    if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
        throw error(exit_code::usage, what + " \"" + address + "\" is not host:port",
                    "e.g. db-a.internal:5432, 0.0.0.0:7433 or [::1]:7433");
    return {host, port};
}

}  // namespace detail

}  // namespace pghaul::link
