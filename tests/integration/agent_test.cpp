// Issue 14: sources reached through a pghaul agent. A real agent process on
// loopback, real certificates (openssl), real servers: the copy through it
// must equal its source, the agent must refuse what it should, and every
// bad TLS file must be a clear usage error.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/common/endpoint.hpp"
#include "engine/common/via.hpp"
#include "harness.hpp"

using namespace harness;
namespace fs = std::filesystem;

namespace {

// A CA, the agent's certificate (localhost, 127.0.0.1) and a migration host's,
// and a second CA with a host certificate of its own, in a temporary directory.
struct pki {
    fs::path dir = fs::temp_directory_path() / unique_name("pghaul-pki");
    pki() {
        fs::create_directories(dir);
        auto sh = [&](const std::string& cmd) {
            auto r = pghaul::run_process({"sh", "-c", "cd '" + dir.string() + "' && " + cmd + " 2>&1"});
            REQUIRE_MESSAGE(r.exit_status == 0, r.out);
        };
        for (std::string ca : {"ca", "other_ca"})
            sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + ca + ".key -out " + ca +
               ".crt -days 2 -subj '/CN=" + ca + "'");
        auto issue = [&](const std::string& name, const std::string& cn, const std::string& ca,
                         const std::string& ext) {
            sh("openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name +
               ".csr -subj '/CN=" + cn + "' && printf '" + ext + "\\n' > " + name +
               ".ext && openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
               ".key -CAcreateserial -out " + name + ".crt -days 2 -extfile " + name + ".ext");
        };
        issue("agent", "localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:198.18.201.2");
        issue("host", "migration-host", "ca", "basicConstraints=CA:FALSE");
        issue("stranger", "stranger-host", "other_ca", "basicConstraints=CA:FALSE");
    }
    ~pki() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string operator()(const std::string& file) const { return (dir / file).string(); }
};

int free_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

// `pghaul agent` in the background, its log in a file, stopped with SIGTERM.
struct agent_process {
    pid_t pid = -1;
    int port;
    temp_file log{"agent.log", ""};
    std::string host = "localhost";
    // `prefix`: e.g. {"ip", "netns", "exec", NS} to run it in another network namespace.
    agent_process(const pki& p, const std::vector<std::string>& allow, int listen_port = free_port(),
                  const std::string& listen_host = "127.0.0.1", std::vector<std::string> prefix = {},
                  std::vector<std::string> extra = {})
        : port(listen_port), host(listen_host == "127.0.0.1" ? "localhost" : listen_host) {
        std::vector<std::string> args = std::move(prefix);
        for (std::string a : {std::string(PGHAUL_BIN), std::string("agent"), std::string("--listen"),
                              listen_host + ":" + std::to_string(port), std::string("--tls-cert"),
                              p("agent.crt"), std::string("--tls-key"), p("agent.key"),
                              std::string("--client-ca"), p("ca.crt")})
            args.push_back(a);
        for (auto& a : allow) args.insert(args.end(), {"--allow", a});
        args.insert(args.end(), extra.begin(), extra.end());
        pid = fork();
        if (pid == 0) {
            FILE* f = std::fopen(log.path.c_str(), "w");
            dup2(fileno(f), 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execvp(argv[0], argv.data());
            _exit(127);
        }
        for (int i = 0; i < 500 && text().find("listening on") == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE_MESSAGE(text().find("listening on") != std::string::npos, text());
    }
    ~agent_process() {
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
    }
    std::string text() const { return read_file(log.path); }
    std::string address() const { return host + ":" + std::to_string(port); }
};

std::string host_port(const std::string& var) {
    auto ci = server(var);
    return ci.get("host").value_or("") + ":" + ci.get("port").value_or("");
}

std::vector<std::string> via_flags(const pki& p, const agent_process& a, const std::string& cert = "host") {
    return {"--via",      a.address(),      "--via-ca",  p("ca.crt"),
            "--via-cert", p(cert + ".crt"), "--via-key", p(cert + ".key")};
}

// A TCP relay between pghaul and the agent on loopback, whose connections
// can all be cut at once: a link that drops while the agent stays up (a
// VPN or NAT that forgets its flows), which killing the agent cannot show.
class link_cutter {
public:
    explicit link_cutter(int agent_port) : agent_port_(agent_port) {
        listener_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(listen(listener_, 64) == 0);
        socklen_t len = sizeof a;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        REQUIRE(pipe(wake_) == 0);
        thread_ = std::thread([this] { relay(); });
    }
    ~link_cutter() {
        stop_ = true;
        poke();
        thread_.join();
        for (int fd : {listener_, wake_[0], wake_[1]}) close(fd);
    }
    // Resets every connection through it; new ones go through as before.
    void cut() {
        cut_ = true;
        poke();
        while (cut_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string address() const { return "localhost:" + std::to_string(port); }
    int port = 0;

private:
    void poke() { (void)!write(wake_[1], "x", 1); }
    void relay() {
        std::vector<std::pair<int, int>> pairs;  // client, agent
        std::vector<char> buf(64 * 1024);
        while (!stop_) {
            std::vector<pollfd> fds = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            for (auto [c, a] : pairs) fds.insert(fds.end(), {{c, POLLIN, 0}, {a, POLLIN, 0}});
            poll(fds.data(), fds.size(), 1000);
            if (fds[1].revents) {
                char x[16];
                (void)!read(wake_[0], x, sizeof x);
            }
            if (cut_) {
                for (auto [c, a] : pairs)
                    for (int fd : {c, a}) {
                        linger l{1, 0};  // a reset, as a middlebox that forgot the flow sends
                        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                        close(fd);
                    }
                pairs.clear();
                cut_ = false;
                continue;
            }
            const std::size_t polled = pairs.size();  // fds describe these; an accepted pair waits for the next poll
            if (fds[0].revents & POLLIN) {
                int c = accept(listener_, nullptr, nullptr);
                int a = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in to{};
                to.sin_family = AF_INET;
                to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                to.sin_port = htons(static_cast<std::uint16_t>(agent_port_));
                if (c >= 0 && connect(a, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0)
                    pairs.emplace_back(c, a);
                else
                    for (int fd : {c, a}) close(fd);
            }
            std::vector<std::pair<int, int>> open(pairs.begin() + static_cast<std::ptrdiff_t>(polled), pairs.end());
            for (std::size_t i = 0; i < polled; ++i) {
                auto [c, a] = pairs[i];
                bool ok = true;
                for (auto [from, to, ev] : {std::tuple{c, a, fds[2 + 2 * i].revents}, std::tuple{a, c, fds[3 + 2 * i].revents}})
                    if (ok && ev) {
                        const auto n = read(from, buf.data(), buf.size());
                        ok = n > 0 && write(to, buf.data(), static_cast<std::size_t>(n)) == n;
                    }
                if (ok)
                    open.emplace_back(c, a);
                else
                    for (int fd : {c, a}) close(fd);
            }
            pairs = std::move(open);
        }
        for (auto [c, a] : pairs)
            for (int fd : {c, a}) close(fd);
    }
    int agent_port_, listener_ = -1, wake_[2] = {-1, -1};
    std::atomic<bool> stop_{false}, cut_{false};
    std::thread thread_;
};

std::string toml(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}

}  // namespace

TEST_CASE("a copy and a two-source run through an agent equal their sources; the agent logs each session") {
    pki p;
    agent_process agent(p, {host_port("PGHAUL_SRC_A"), host_port("PGHAUL_SRC_B")});
    const auto db_a = unique_name("via_src_a"), db_b = unique_name("via_src_b");
    const auto tgt_a = unique_name("via_tgt_a"), tgt_b = unique_name("via_tgt_b");
    create_database_from("PGHAUL_SRC_A_SUPER", db_a, "rich_source.sql");
    create_database_from("PGHAUL_SRC_B_SUPER", db_b, "");
    connect("PGHAUL_SRC_B_SUPER", db_b)
        .exec(
            "CREATE TABLE events (id bigserial PRIMARY KEY, kind text, body text);"
            "INSERT INTO events (kind, body) SELECT 'kind ' || g % 7, repeat('payload ' || g % 13, 20) "
            "FROM generate_series(1, 20000) g");
    ensure_target_roles();

    temp_file report("report.json", ""), html("report.html", "");
    std::vector<std::string> args = {"copy",        "--source", src(db_a), "--target",   tgt(tgt_a),
                                     "--report",    report.path, "--report-html", html.path,
                                     "--progress",  "json"};
    for (auto& f : via_flags(p, agent)) args.push_back(f);
    auto r = run_pghaul(args);
    REQUIRE(r.exit_status == 0);
    CHECK(r.err.find("through the agent at " + agent.address()) != std::string::npos);
    CHECK_FALSE(contains_any(r.out + r.err + agent.text(), sandbox_passwords()));
    {
        auto s = connect("PGHAUL_SRC_A_SUPER", db_a);
        auto t = connect("PGHAUL_TGT_SUPER", tgt_a);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        CHECK(sequence_states(t) == sequence_states(s));
        CHECK(large_objects(t) == large_objects(s));
    }
    CHECK(schema_dump("PGHAUL_TGT_SUPER", tgt_a) == schema_dump("PGHAUL_SRC_A_SUPER", db_a));
    auto rep = nlohmann::json::parse(read_file(report.path));
    REQUIRE(rep["links"].size() == 1);
    auto& link = rep["links"][0];
    CHECK(link["server"] == host_port("PGHAUL_SRC_A"));
    // Everything read from the source came through the link, compressed.
    CHECK(link["received_bytes"].get<std::uint64_t>() > link["received_wire_bytes"].get<std::uint64_t>());
    CHECK(link["connections"].get<int>() >= 3);  // the snapshot, pg_dump, a reader (and the check)
    CHECK(agent.text().find("session ended: client migration-host") != std::string::npos);
    // The snapshot's session was held against a dropped link, and let go before its clean close.
    CHECK(agent.text().find("dropped") == std::string::npos);
    // The link in the progress events, the source's report entry and the HTML report.
    CHECK(r.out.find("\"link_wire_bytes\":") != std::string::npos);
    CHECK(rep["sources"][0]["via"]["agent"] == agent.address());
    const auto page = read_file(html.path);
    CHECK(page.find("<h2>Agent links</h2>") != std::string::npos);
    CHECK(page.find(host_port("PGHAUL_SRC_A")) != std::string::npos);
    // audit, verify and clients read the source through the agent too.
    auto through = [&](std::vector<std::string> args) {
        for (auto& f : via_flags(p, agent)) args.push_back(f);
        return run_pghaul(args);
    };
    const auto sessions_before = agent.text().size();
    auto v = through({"verify", "--source", src(db_a), "--target", server("PGHAUL_TGT_SUPER", tgt_a).to_string(),
                      "--checksums", "--role-map", "postgres=haul_admin"});
    INFO(v.out.substr(0, 2000));
    // Every table and object equal; the one difference is real: the
    // non-superuser target login could not copy a role's database setting
    // (the copy warned of it).
    CHECK(v.exit_status == 7);
    CHECK(v.out.find(": 1 mismatch(es)") != std::string::npos);
    CHECK(v.out.find("MISMATCH [setting] setting work_mem for role fx_reader") != std::string::npos);
    auto audit = through({"audit", "--source", src(db_a), "--format", "json"});
    CHECK(nlohmann::json::parse(audit.out)["source"]["database"] == db_a);
    auto clients = through({"clients", "--source", src(db_a), "--format", "json"});
    CHECK(clients.exit_status == 0);
    CHECK(agent.text().find("session ended", sessions_before) != std::string::npos);

    // Two sources, one per server, both through the agent, from a manifest.
    auto via = "via = { address = " + toml(agent.address()) + ", ca = " + toml(p("ca.crt")) +
               ", cert = " + toml(p("host.crt")) + ", key = " + toml(p("host.key")) + " }\n";
    temp_file manifest(
        "m.toml",
        "[target]\nconninfo = " + toml(server("PGHAUL_TGT").to_string()) +
            "\n[run]\nmissing_roles = \"owner\"\n[[source]]\nname = \"a\"\nconninfo = " +
            toml(server("PGHAUL_SRC_A", db_a).to_string()) + "\ntarget_db = " + toml(tgt_b + "_a") + "\n" +
            via + "[[source]]\nname = \"b\"\nconninfo = " + toml(server("PGHAUL_SRC_B", db_b).to_string()) +
            "\ntarget_db = " + toml(tgt_b) + "\n" + via);
    auto run = run_pghaul({"run", manifest.path});
    REQUIRE(run.exit_status == 0);
    {
        auto s = connect("PGHAUL_SRC_B_SUPER", db_b);
        auto t = connect("PGHAUL_TGT_SUPER", tgt_b);
        CHECK(table_fingerprints(t) == table_fingerprints(s));
        CHECK(sequence_states(t) == sequence_states(s));
        auto sa = connect("PGHAUL_SRC_A_SUPER", db_a);
        auto ta = connect("PGHAUL_TGT_SUPER", tgt_b + "_a");
        CHECK(table_fingerprints(ta) == table_fingerprints(sa));
    }
    CHECK(run.err.find("link to " + host_port("PGHAUL_SRC_B")) != std::string::npos);
    for (auto& db : {tgt_a, tgt_b, tgt_b + "_a"}) drop_database("PGHAUL_TGT_SUPER", db);
    drop_database("PGHAUL_SRC_A_SUPER", db_a);
    drop_database("PGHAUL_SRC_B_SUPER", db_b);
}

TEST_CASE(
    "the agent is no open proxy: a stranger's certificate and a server it does not --allow are refused") {
    pki p;
    agent_process agent(p, {host_port("PGHAUL_SRC_B")});  // source A's server is not allowed
    const auto db = unique_name("via_refused");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    const auto target_db = unique_name("via_refused_tgt");
    auto copy = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"copy", "--source", src(db), "--target", tgt(target_db)};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_pghaul(args);
    };

    auto not_allowed = copy(via_flags(p, agent));
    CHECK(not_allowed.exit_status == 3);
    CHECK(not_allowed.err.find("does not connect to " + host_port("PGHAUL_SRC_A")) != std::string::npos);
    CHECK(agent.text().find("is not --allow'ed") != std::string::npos);

    auto stranger = copy(via_flags(p, agent, "stranger"));
    CHECK(stranger.exit_status == 3);
    CHECK(stranger.err.find("through the agent at " + agent.address()) != std::string::npos);
    CHECK(agent.text().find("refused a client at 127.0.0.1: TLS handshake failed") != std::string::npos);

    // This host does not trust the agent's certificate (another CA).
    auto untrusted = copy({"--via", agent.address(), "--via-ca", p("other_ca.crt"), "--via-cert",
                           p("host.crt"), "--via-key", p("host.key")});
    CHECK(untrusted.exit_status == 3);
    CHECK(untrusted.err.find("certificate verify failed") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));

    // Bad TLS files: usage errors naming the option and the file, nothing contacted.
    auto missing = copy({"--via", agent.address(), "--via-ca", p("ca.crt"), "--via-cert", p("nope.crt"),
                         "--via-key", p("host.key")});
    CHECK(missing.exit_status == 2);
    CHECK(missing.err.find("--via-cert " + p("nope.crt") + ": no such file") != std::string::npos);
    auto wrong_key = copy({"--via", agent.address(), "--via-ca", p("ca.crt"), "--via-cert", p("host.crt"),
                           "--via-key", p("agent.key")});
    CHECK(wrong_key.exit_status == 2);
    CHECK(wrong_key.err.find("is not the key of --via-cert") != std::string::npos);
    auto not_pem = copy({"--via", agent.address(), "--via-ca", p("host.csr"), "--via-cert", p("host.crt"),
                         "--via-key", p("host.key")});
    CHECK(not_pem.exit_status == 2);
    CHECK(not_pem.err.find("--via-ca " + p("host.csr") + " cannot be used") != std::string::npos);
    auto bad_agent =
        run_pghaul({"agent", "--listen", "127.0.0.1:0", "--tls-cert", p("agent.crt"), "--tls-key",
                    p("host.key"), "--client-ca", p("ca.crt"), "--allow", "127.0.0.1:1"});
    CHECK(bad_agent.exit_status == 2);
    CHECK(bad_agent.err.find("is not the key of --tls-cert") != std::string::npos);
    CHECK_FALSE(target_has_database(target_db));
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// An address that takes the connection and never answers (a stopped agent
// behind a load balancer, a black-holed port): the forwarder gives up on
// the TLS handshake after its setup deadline, and pghaul says which agent.
TEST_CASE("an agent address that never answers fails the copy after the link's 15 s deadline, named") {
    pki p;
    // Listening, never accepting: the kernel completes TCP, nothing speaks TLS.
    int silent = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(silent >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(silent, 16) == 0);
    socklen_t len = sizeof a;
    getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
    const std::string address = "localhost:" + std::to_string(ntohs(a.sin_port));
    const auto db = unique_name("via_silent");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    const auto target_db = unique_name("via_silent_tgt");
    const auto start = std::chrono::steady_clock::now();
    auto r = run_pghaul({"copy", "--source", src(db), "--target", tgt(target_db), "--via", address,
                         "--via-ca", p("ca.crt"), "--via-cert", p("host.crt"), "--via-key", p("host.key")});
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    close(silent);
    CHECK(r.exit_status == 3);
    CHECK(r.err.find("the agent at " + address + " did not answer within 15 s") != std::string::npos);
    CHECK(took >= 14.0);
    CHECK(took < 45.0);
    CHECK_FALSE(target_has_database(target_db));
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// The link drops mid-COPY (the agent killed, as a VM restart would): the copy
// fails as a lost source, with the unfinished database marked INCOMPLETE,
// and once the agent is back --resume finishes it equal to the source.
TEST_CASE(
    "the agent killed mid-COPY: nothing passes as complete, and --resume through the restarted agent "
    "finishes") {
    pki p;
    const auto source_db = make_big_source();
    const auto target_db = unique_name("via_killed_tgt");
    auto agent = std::make_unique<agent_process>(p, std::vector<std::string>{host_port("PGHAUL_SRC_A")});
    const int port = agent->port;
    std::vector<std::string> args = {"copy",         "--source",   src(source_db),   "--target",
                                     tgt(target_db), "--no-owner", "--retry-window", "3s"};
    for (auto& f : via_flags(p, *agent)) args.push_back(f);
    auto copy = std::async(std::launch::async, [&] { return run_pghaul(args); });
    REQUIRE(wait_for_statement("PGHAUL_SRC_A_SUPER", "pghaul/reader", "COPY%"));
    kill(agent->pid, SIGKILL);
    agent.reset();
    auto r = copy.get();
    CHECK(r.exit_status == 4);
    CHECK(r.err.find("--resume") != std::string::npos);
    CHECK(r.err.find("HINT: the link said: the agent link to localhost:" + std::to_string(port) +
                     " failed: Connection refused") != std::string::npos);
    if (target_has_database(target_db))
        CHECK(connect("PGHAUL_TGT_SUPER", target_db)
                  .exec("SELECT coalesce(shobj_description(oid, 'pg_database') LIKE 'pghaul: INCOMPLETE%', "
                        "false) "
                        "FROM pg_database WHERE datname = current_database()")
                  .boolean(0, 0));

    agent_process again(p, {host_port("PGHAUL_SRC_A")}, port);
    args.push_back("--resume");
    auto resumed = run_pghaul(args);
    CHECK(resumed.exit_status == 0);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == big_source_fingerprints());
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// The link drops while the agent stays up: the agent keeps the session that
// holds the source snapshot (pghaul asked it to), so the readers pghaul
// reconnects import the same snapshot and the copy finishes in this run,
// equal to its source, large object included; the hold ends with the copy.
TEST_CASE("the link drops mid-COPY with the agent up: the agent holds the snapshot and the copy finishes") {
    pki p;
    const auto source_db = make_big_source();
    connect("PGHAUL_SRC_A_SUPER", source_db).exec("SELECT lo_from_bytea(0, 'read after the link dropped')");
    const auto target_db = unique_name("via_cut_tgt");
    agent_process agent(p, {host_port("PGHAUL_SRC_A")});
    link_cutter link(agent.port);
    std::vector<std::string> args = {"copy",         "--source",   src(source_db),   "--target",
                                     tgt(target_db), "--no-owner", "--retry-window", "60s",
                                     "--via",        link.address(), "--via-ca",     p("ca.crt"),
                                     "--via-cert",   p("host.crt"),  "--via-key",    p("host.key")};
    auto copy = std::async(std::launch::async, [&] { return run_pghaul(args); });
    REQUIRE(wait_for_statement("PGHAUL_SRC_A_SUPER", "pghaul/reader", "COPY%"));
    link.cut();
    auto r = copy.get();
    CHECK_MESSAGE(r.exit_status == 0, r.err);
    CHECK(agent.text().find("its server session is held") != std::string::npos);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == big_source_fingerprints());
    auto src_conn = connect("PGHAUL_SRC_A_SUPER", source_db);
    auto tgt_conn = connect("PGHAUL_TGT_SUPER", target_db);
    CHECK(large_objects(tgt_conn).size() == 1);
    CHECK(large_objects(tgt_conn).begin()->second.substr(0, 32) == large_objects(src_conn).begin()->second.substr(0, 32));
    // Released at the end: no pghaul session is left on the source (within 30 s:
    // a loaded machine is slow to end backends; the hold itself lasts 60).
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(100)))
        gone = src_conn.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pghaul/%' AND datname = current_database()")
                   .i64(0, 0) == 0;
    CHECK_MESSAGE(gone, src_conn
                            .exec("SELECT string_agg(application_name || ' ' || state || ' ' || "
                                  "left(query, 60), '; ') FROM pg_stat_activity WHERE application_name LIKE "
                                  "'pghaul/%' AND datname = current_database()")
                            .str(0, 0));
    CHECK(agent.text().find("released") != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

// The agent's memory is bounded: a limit below one session is refused at
// start; a full agent makes a session wait, then refuses it with the reason
// pghaul passes on; with room, the same copy goes through.
TEST_CASE(
    "the agent's --memory-limit: too small to start, full of idle sessions for a copy, and a run of more "
    "sources than it holds compressors for") {
    pki p;
    auto tiny = run_pghaul({"agent", "--listen", "127.0.0.1:0", "--tls-cert", p("agent.crt"), "--tls-key",
                            p("agent.key"), "--client-ca", p("ca.crt"), "--allow", "127.0.0.1:1",
                            "--memory-limit", "1MB"});
    CHECK(tiny.exit_status == 2);
    CHECK(tiny.err.find("is less than one session needs at zstd level 1") != std::string::npos);

    const auto db = unique_name("via_mem");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db).exec("CREATE TABLE t AS SELECT i, md5(i::text) FROM generate_series(1, 5000) i");
    const auto target_db = unique_name("via_mem_tgt");
    auto copy = [&](const agent_process& a) {
        std::vector<std::string> args = {"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"};
        for (auto& f : via_flags(p, a)) args.push_back(f);
        return run_pghaul(args);
    };
    {
        // 4 MB: the buffers of five sessions (0.7 MB each). Five idle
        // sessions, signed in and waiting for a query as a held snapshot
        // session does, take them all: their compressors went back when the
        // server said ReadyForQuery. The copy's first session waits and is
        // refused, with the reason, before libpq's connect_timeout.
        agent_process full(p, {host_port("PGHAUL_SRC_A")}, free_port(), "127.0.0.1", {},
                           {"--memory-limit", "4MB"});
        pghaul::engine::endpoint_config ep;
        ep.ci = server("PGHAUL_SRC_A").with_dbname(db);
        ep.via = {full.address(), {p("ca.crt"), p("host.crt"), p("host.key")}};
        pghaul::engine::open_route(ep, "the idle sessions' source", 1);
        std::vector<pghaul::pg::connection> idle;
        for (int i = 0; i < 5; ++i)
            idle.push_back(pghaul::pg::connection::open(pghaul::engine::reroute(ep, ep.ci), "idle",
                                                        pghaul::exit_code::source));
        for (auto& c : idle) CHECK(c.exec("SELECT count(*) FROM t").str(0, 0) == "5000");
        auto r = copy(full);
        CHECK(r.exit_status != 0);
        CHECK_MESSAGE(r.err.find("the agent is at its --memory-limit of 4.0 MB") != std::string::npos, r.err);
        CHECK(full.text().find("waits for memory") != std::string::npos);
        CHECK(full.text().find("stayed taken for 8 s") != std::string::npos);
        CHECK_FALSE(target_has_database(target_db));
    }
    agent_process roomy(p, {host_port("PGHAUL_SRC_A")}, free_port(), "127.0.0.1", {}, {"--memory-limit", "64MB"});
    auto ok = copy(roomy);
    CHECK_MESSAGE(ok.exit_status == 0, ok.err);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));
    CHECK(roomy.text().find("sessions within 64.0 MB") != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);

    // A run holds a snapshot session per source through the link from the
    // start. Six sources under 8 MB: when each session kept its contexts
    // (3.5 MB at level 1) the agent let two in and refused the rest; now
    // the waiting sources cost their buffers, and reads with no room for a
    // compressor go stored. Every copy equals its source.
    agent_process tight(p, {host_port("PGHAUL_SRC_A")}, free_port(), "127.0.0.1", {},
                        {"--memory-limit", "8MB"});
    std::vector<std::string> targets;
    std::string manifest = "[target]\nconninfo = " + toml(server("PGHAUL_TGT").to_string()) +
                           "\n[run]\njobs = 2\nmissing_roles = \"owner\"\n";
    for (int i = 0; i < 6; ++i) {
        targets.push_back(unique_name("via_many_tgt"));
        manifest += "[[source]]\nname = \"s" + std::to_string(i) +
                    "\"\nconninfo = " + toml(server("PGHAUL_SRC_A", db).to_string()) +
                    "\ntarget_db = " + toml(targets.back()) + "\nvia = { address = " + toml(tight.address()) +
                    ", ca = " + toml(p("ca.crt")) + ", cert = " + toml(p("host.crt")) +
                    ", key = " + toml(p("host.key")) + " }\n";
    }
    temp_file m("many.toml", manifest);
    auto run = run_pghaul({"run", m.path});
    CHECK_MESSAGE(run.exit_status == 0, run.err);
    CHECK(tight.text().find("refused") == std::string::npos);
    const auto want = table_fingerprints("PGHAUL_SRC_A_SUPER", db);
    for (auto& t : targets) {
        CHECK(table_fingerprints("PGHAUL_TGT_SUPER", t) == want);
        drop_database("PGHAUL_TGT_SUPER", t);
    }
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// The link as it is meant to be used, on one machine: the agent in a
// "source site" network namespace behind a veth pair shaped to 20 Mbit/s
// (198.18.201.0/24, the benchmarking range; removed at the end), reaching the
// source server through its Unix socket as an agent on the database host
// would. The copy crosses the shaped link compressed and equals its source.
TEST_CASE("a shaped link: the agent in a namespace behind 20 Mbit/s, the copy compressed and equal") {
    const std::string ns = "pghaul-a" + std::to_string(getpid()), veth = "pha" + std::to_string(getpid());
    auto sh = [](const std::string& cmd) { return pghaul::run_process({"sh", "-c", cmd + " 2>&1"}); };
    if (sh("ip netns add " + ns).exit_status != 0) {
        MESSAGE("SKIPPED: ip netns is refused here (needs root)");
        return;
    }
    struct teardown {
        std::function<void()> f;
        ~teardown() { f(); }
    } down{[&] {
        sh("ip netns del " + ns);
        sh("ip link del " + veth + "a");
    }};
    for (auto cmd : {"ip link add " + veth + "a type veth peer name " + veth + "b",
                     "ip link set " + veth + "b netns " + ns,
                     "ip addr add 198.18.201.1/24 dev " + veth + "a", "ip link set " + veth + "a up",
                     "ip netns exec " + ns + " ip addr add 198.18.201.2/24 dev " + veth + "b",
                     "ip netns exec " + ns + " ip link set " + veth + "b up",
                     "tc qdisc add dev " + veth + "a root tbf rate 20mbit burst 64kb latency 50ms",
                     "ip netns exec " + ns + " tc qdisc add dev " + veth +
                         "b root tbf rate 20mbit burst 64kb latency 50ms"}) {
        auto r = sh(cmd);
        INFO(cmd, ": ", r.out);
        REQUIRE(r.exit_status == 0);
    }
    pki p;
    auto socket = server("PGHAUL_SRC_A_SUPER");
    const auto site = socket.get("host").value_or("") + ":" + socket.get("port").value_or("");
    agent_process agent(p, {site}, 7433, "198.18.201.2", {"ip", "netns", "exec", ns});
    const auto db = unique_name("via_shaped"), target_db = unique_name("via_shaped_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec("CREATE TABLE orders (id int PRIMARY KEY, status text, note text, at timestamptz);"
              "INSERT INTO orders SELECT g, (ARRAY['new','paid','shipped'])[1 + g % 3], "
              "'order ' || g || ' for customer ' || g % 977, '2026-01-01'::timestamptz + g * interval '1 min' "
              "FROM generate_series(1, 60000) g");
    temp_file report("report.json", "");
    std::vector<std::string> args = {"copy", "--source", server("PGHAUL_SRC_A_SUPER", db).to_string(),
                                     "--target", tgt(target_db), "--no-owner", "--report", report.path};
    for (auto& f : via_flags(p, agent)) args.push_back(f);
    auto r = run_pghaul(args);
    REQUIRE(r.exit_status == 0);
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));
    auto link = nlohmann::json::parse(read_file(report.path))["links"][0];
    CHECK(link["server"] == site);
    CHECK(link["ratio"].get<double>() > 2.0);
    CHECK(agent.text().find("session ended: client migration-host (198.18.201.1)") != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}

// The source's password stays in the source's account: the agent holds it
// (--password-file) and signs in itself (SCRAM here), and pghaul runs with a
// password file that has the target's entry only. Without the agent's file
// the same copy cannot sign in.
TEST_CASE("the agent signs in with a password it holds: the migration host never has the source's") {
    pki p;
    const auto site = host_port("PGHAUL_SRC_A");
    temp_file agent_passwords("agent.pgpass", site + ":*:haul:" + sandbox_password("PGHAUL_SRC_A") + "\n");
    chmod(agent_passwords.path.c_str(), 0600);
    const auto tgt_port = server("PGHAUL_TGT").get("port").value();
    temp_file host_passwords("host.pgpass", "127.0.0.1:" + tgt_port + ":*:haul_admin:" +
                                                sandbox_password("PGHAUL_TGT") + "\n");
    chmod(host_passwords.path.c_str(), 0600);
    const std::vector<std::string> host_env = {"PGPASSFILE=" + host_passwords.path};
    const auto db = unique_name("via_creds"), target_db = unique_name("via_creds_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db).exec("CREATE TABLE t AS SELECT i, md5(i::text) m FROM generate_series(1, 5000) i");

    {  // the agent holds no password: pghaul cannot sign in to the source
        agent_process agent(p, {site});
        std::vector<std::string> args = {"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"};
        for (auto& f : via_flags(p, agent)) args.push_back(f);
        auto r = run_pghaul(args, host_env);
        CHECK(r.exit_status == 3);
        CHECK(r.err.find("password") != std::string::npos);
        CHECK_FALSE(target_has_database(target_db));
    }
    agent_process agent(p, {site}, free_port(), "127.0.0.1", {}, {"--password-file", agent_passwords.path});
    std::vector<std::string> args = {"copy", "--source", src(db), "--target", tgt(target_db), "--no-owner"};
    for (auto& f : via_flags(p, agent)) args.push_back(f);
    auto r = run_pghaul(args, host_env);
    CHECK(r.exit_status == 0);
    CHECK(agent.text().find("signing in to " + site + " as haul for client migration-host") != std::string::npos);
    CHECK_FALSE(contains_any(r.out + r.err + agent.text(), sandbox_passwords()));
    CHECK(table_fingerprints("PGHAUL_TGT_SUPER", target_db) == table_fingerprints("PGHAUL_SRC_A_SUPER", db));

    // A password file others may read is refused, as libpq would ignore it.
    chmod(agent_passwords.path.c_str(), 0644);
    auto loose = run_pghaul({"agent", "--listen", "127.0.0.1:0", "--tls-cert", p("agent.crt"), "--tls-key",
                             p("agent.key"), "--client-ca", p("ca.crt"), "--allow", site, "--password-file",
                             agent_passwords.path});
    CHECK(loose.exit_status == 2);
    CHECK(loose.err.find("may be read by others") != std::string::npos);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", db);
}
