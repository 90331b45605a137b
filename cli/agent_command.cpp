// pghaul agent: options and the handler (the agent itself is io/link/agent).
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/commands.hpp"
#include "io/link/agent.hpp"
#include "protocol/size.hpp"

namespace pghaul::cli {

CLI::App* add_agent_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<link::agent_options>();
    auto* sub = app.add_subcommand(
        "agent",
        "run next to a source: forward pghaul's connections to the --allow'ed servers over "
        "zstd-compressed, mutually authenticated TLS");
    sub->add_option("--listen", a->listen, "address and port to accept pghaul on, e.g. 0.0.0.0:7433")
        ->required()
        ->envname("PGHAUL_LISTEN")
        ->group("Connection");
    sub->add_option("--tls-cert", a->tls.cert, "the agent's certificate (PEM, with its chain)")
        ->required()
        ->envname("PGHAUL_TLS_CERT")
        ->group("Connection");
    sub->add_option("--tls-key", a->tls.key, "the private key of --tls-cert (PEM)")
        ->required()
        ->envname("PGHAUL_TLS_KEY")
        ->group("Connection");
    sub->add_option("--client-ca", a->tls.ca,
                    "the CA that signed the certificates of the pghaul hosts let in")
        ->required()
        ->envname("PGHAUL_CLIENT_CA")
        ->group("Connection");
    sub->add_option("--allow", a->allow,
                    "host:port of a PostgreSQL server clients may reach through this agent (repeatable; "
                    "a socket directory as host, /var/run/postgresql:5432, for a server on this host); "
                    "nothing else is reachable")
        ->required()
        ->delimiter(',')
        ->envname("PGHAUL_ALLOW")
        ->group("Connection");
    sub->add_option("--compression-level", a->level, "zstd level the agent starts sending at (1 is fast)")
        ->capture_default_str()
        ->check(CLI::Range(-7, 19))
        ->envname("PGHAUL_AGENT_COMPRESSION_LEVEL")
        ->group("Connection");
    sub->add_option("--max-compression-level", a->max_level,
                    "raise the level up to this while the link, not the CPU, is what the agent waits for, "
                    "and lower it while the CPU is, down to sending the bytes uncompressed "
                    "(0: keep --compression-level)")
        ->capture_default_str()
        ->check(CLI::Range(0, 19))
        ->envname("PGHAUL_AGENT_MAX_COMPRESSION_LEVEL")
        ->group("Connection");
    sub->add_option("--password-file", a->password_file,
                    "passwords the agent signs in to its servers with (libpq's password file format, host:port "
                    "as --allow names them): pghaul's host then never needs them; mode 0600")
        ->envname("PGHAUL_AGENT_PASSWORD_FILE")
        ->group("Connection");
    sub->add_option("--max-hold", a->max_hold_s,
                    "seconds, at most, that a session's server connection outlives its dropped link when "
                    "pghaul asked for it (the one holding a source snapshot, so a reconnecting copy can still "
                    "read in it); 0: never")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400))
        ->envname("PGHAUL_AGENT_MAX_HOLD")
        ->group("Connection");
    sub->add_option_function<std::string>(
           "--memory-limit", [a](const std::string& v) { a->memory_limit = parse_size(v); },
           "what all sessions together may hold in memory: each session's buffers (0.7 MB) and its zstd "
           "contexts while it moves data (1.4 MB at level 1, 17.6 MB at 9), given back while its server "
           "waits for a query; a session whose buffers do not fit waits up to 8 s, then is refused with "
           "the reason, a level that does not fit is not climbed to, and bytes with no room for their "
           "level go uncompressed; e.g. 256MB")
        ->default_str("256MB")
        ->envname("PGHAUL_AGENT_MEMORY_LIMIT")
        ->group("Connection");
    sub->add_option("--threads", a->threads,
                    "threads that run the sessions' TLS and compression; a session uses one at a time, so "
                    "this is how many sessions compress at once (0: one per core)")
        ->capture_default_str()
        ->check(CLI::Range(0, 256))
        ->envname("PGHAUL_AGENT_THREADS")
        ->group("Connection");
    sub->footer(
        "Runs in the foreground until SIGINT or SIGTERM; logs one line per session (client certificate, "
        "server, bytes both ways and the compression ratio) and per refusal.\n"
        "Exit codes: 0 stopped by a signal, 2 bad arguments, TLS files or listen address.");
    sub->callback([&handler, a] {
        handler = [a] {
            link::run_agent(*a, [](bool warning, const std::string& m) {
                if (warning)
                    spdlog::warn("agent: {}", m);
                else
                    spdlog::info("agent: {}", m);
            });
            return 0;
        };
    });
    return sub;
}

}  // namespace pghaul::cli
