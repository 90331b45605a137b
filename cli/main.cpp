// The pghaul executable: commands and flags, logging set-up, and the mapping
// of outcomes to exit codes. The work itself lives in engine/.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <CLI/CLI.hpp>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/logging.hpp"
#include "cli/manifest.hpp"
#include "cli/progress.hpp"
#include "cli/run_settings.hpp"
#include "cli/selection_flags.hpp"
#include "cli/shard_flags.hpp"
#include "cli/via_flags.hpp"
#include "engine/common/interrupt.hpp"
#include "engine/copy/run.hpp"
#include "engine/copy/source_expand.hpp"
#include "engine/report/html.hpp"
#include "io/process.hpp"
#include "protocol/conninfo.hpp"
#include "protocol/error.hpp"
#include "protocol/suggest.hpp"

namespace {

constexpr const char* version = PGHAUL_VERSION;

// First SIGINT/SIGTERM: ask the engine to stop (it cancels running statements
// and keeps what is unfinished for --resume). A second one: exit at once.
extern "C" void on_signal(int sig) {
    if (pghaul::engine::interrupt_signal().load() != 0) _exit(128 + sig);
    pghaul::engine::note_interrupt(sig);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // `pghaul ... | head` closes the pipe early: a write that fails must not
    // kill a run half-way and leave an INCOMPLETE database. Writes to a gone
    // reader fail with EPIPE, which the progress and log writers ignore.
    signal(SIGPIPE, SIG_IGN);
    // A file size limit (ulimit -f) would kill pghaul with SIGXFSZ at the
    // spool's first write past it; ignored, the write fails with EFBIG, which
    // the spool treats as a full disk (wait for the target, say so).
    signal(SIGXFSZ, SIG_IGN);
}

// The progress bar of copy and run, taken off the screen before a fatal
// error is printed (else its clean-up at exit would wipe the error).
pghaul::cli::progress_display* bar = nullptr;

int report(const pghaul::error& e) {
    if (bar) bar->stop();
    pghaul::cli::log_fatal(e);
    std::fprintf(stderr, "pghaul: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "HINT: %s\n", e.hint().c_str());
    return static_cast<int>(e.code());
}

// --only / --exclude: [[source]] names; a name the manifest lacks is a
// typo, not an empty selection. One database of a multi-database source is
// named as the report and the dry run name it, "<source>.<database>": it
// narrows that source's databases (or excludes one) before expansion.
void select_sources(pghaul::engine::run_config& cfg, const std::vector<std::string>& only,
                    const std::vector<std::string>& exclude) {
    if (only.empty() && exclude.empty()) return;
    cfg.partial_selection = true;
    using pghaul::engine::source_config;
    auto multi = [&](const std::string& n) -> std::pair<source_config*, std::string> {
        for (auto& s : cfg.sources)
            if (!s.databases.empty() && n.size() > s.name.size() + 1 && n.rfind(s.name + ".", 0) == 0)
                return {&s, n.substr(s.name.size() + 1)};
        return {nullptr, ""};
    };
    std::set<std::string> names;
    for (auto& s : cfg.sources) names.insert(s.name);
    // Per multi-database source, the databases named with --only, --exclude.
    std::map<std::string, std::vector<std::string>> only_dbs, excluded_dbs;
    for (const auto* list : {&only, &exclude})
        for (auto& n : *list) {
            if (names.count(n)) continue;
            if (auto [src, db] = multi(n); src) {
                const bool matches = std::any_of(src->databases.begin(), src->databases.end(),
                                                 [&](auto& p) { return pghaul::engine::glob_match(p, db); });
                if (!matches)
                    throw pghaul::error(pghaul::exit_code::usage,
                                        "\"" + n + "\": source \"" + src->name +
                                            "\"'s databases do not include \"" + db + "\"",
                                        "pghaul run MANIFEST --dry-run lists the databases it matches");
                (list == &only ? only_dbs : excluded_dbs)[src->name].push_back(db);
                src->named_databases.push_back(db);
                continue;
            }
            std::string all;
            for (auto& x : names) all += (all.empty() ? "" : ", ") + x;
            throw pghaul::error(
                pghaul::exit_code::usage, "no [[source]] named \"" + n + "\" in the manifest",
                "its sources are: " + all + " (one database of a multi-database source: SOURCE.DATABASE)");
        }
    // A database named with --only comes even where the manifest's exclude
    // patterns would leave it out: the command line is the later word.
    for (auto& s : cfg.sources) {
        auto& excluded = excluded_dbs[s.name];
        if (auto it = only_dbs.find(s.name); it != only_dbs.end()) {
            s.databases = it->second;
            s.exclude_databases = excluded;
        } else {
            s.exclude_databases.insert(s.exclude_databases.end(), excluded.begin(), excluded.end());
        }
    }
    std::erase_if(cfg.sources, [&](const source_config& s) {
        bool in = only.empty() || only_dbs.count(s.name) ||
                  std::find(only.begin(), only.end(), s.name) != only.end();
        return !in || std::find(exclude.begin(), exclude.end(), s.name) != exclude.end();
    });
    // Nothing to do is a mistake in the command (--only a --exclude a), not a
    // run that finished everything.
    if (cfg.sources.empty())
        throw pghaul::error(pghaul::exit_code::usage, "--only and --exclude leave no source to copy",
                            "name with --exclude only sources that --only does not choose");
}

// Journals must be found again the next morning from any directory (cron
// starts in $HOME, a terminal wherever it is): a per-user absolute place,
// as the XDG base directory spec puts state.
std::string default_state_dir() {
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/')
        return std::string(xdg) + "/pghaul";
    if (const char* home = std::getenv("HOME"); home && *home == '/')
        return std::string(home) + "/.local/state/pghaul";
    return std::filesystem::absolute("pghaul-state").string();
}

void apply_recovery(pghaul::engine::run_config& cfg, bool resume, bool restart,
                    const std::string& state_dir) {
    using earlier = pghaul::engine::run_config::earlier_state;
    cfg.earlier = resume ? earlier::resume : restart ? earlier::restart : earlier::refuse;
    cfg.state_dir = state_dir;
}

// --profile: where pghaul's own time went, from the report's "profile".
void print_profile(const nlohmann::json& p) {
    auto num = [&](const nlohmann::json& o, const char* k) { return o.value(k, 0.0); };
    const auto& r = p["readers"];
    const auto& w = p["writers"];
    std::fprintf(stderr,
                 "profile (pghaul's own time; thread times are summed over %llu units):\n"
                 "  process    CPU %.2f s (user %.2f, system %.2f) in %.1f s wall, %.1f%% of one core; "
                 "peak RSS %.0f MiB; pg_dump CPU %.2f s\n"
                 "  readers    CPU %.2f s   waiting for the sources %.1f s   held back (memory and spool "
                 "full) %.1f s\n"
                 "  writers    CPU %.2f s   waiting for the targets %.1f s   waiting for data %.1f s\n"
                 "  elsewhere  CPU %.2f s (catalog, schema, scheduling, progress, large objects)\n",
                 static_cast<unsigned long long>(p.value("units", 0ULL)), num(p, "cpu_s"),
                 num(p, "cpu_user_s"), num(p, "cpu_system_s"), num(p, "wall_s"),
                 num(p, "wall_s") > 0 ? 100.0 * num(p, "cpu_s") / num(p, "wall_s") : 0.0,
                 num(p, "peak_rss_mib"), num(p, "children_cpu_s"), num(r, "cpu_s"),
                 num(r, "waiting_for_sources_s"), num(r, "held_back_s"), num(w, "cpu_s"),
                 num(w, "waiting_for_targets_s"), num(w, "waiting_for_data_s"), num(p, "elsewhere_cpu_s"));
    if (p.contains("connections")) {
        const auto& c = p["connections"];
        std::fprintf(stderr,
                     "  workers    opened %d connections (%d target, %d reader); moved to another source %d "
                     "times\n",
                     c.value("opened", 0), c.value("target_opened", 0), c.value("reader_opened", 0),
                     c.value("source_switches", 0));
    }
}

// The command line as /proc shows it once pghaul is running: passwords
// overwritten (hide_command_line_secrets). The report quotes it.
std::vector<std::string> command_line;

std::string wall_clock(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm local{};
    localtime_r(&tt, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &local);
    std::string s = buf;  // +0100 -> +01:00, as ISO 8601 readers expect
    if (s.size() > 2) s.insert(s.size() - 2, ":");
    return s;
}

// When, where and how the run happened, for whoever reads the report the
// next morning: wall-clock start and end with their UTC offset, the host,
// the pghaul version and the command line.
void stamp(nlohmann::json& report, std::chrono::system_clock::time_point started) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    report["started_at"] = wall_clock(started);
    report["ended_at"] = wall_clock(std::chrono::system_clock::now());
    report["host"] = host;
    report["pghaul_version"] = version;
    report["command"] = command_line;
}

void write_reports(const nlohmann::json& report, const std::string& json_path, const std::string& html_path) {
    if (!json_path.empty()) {
        std::ofstream f(json_path);
        f << report.dump(2) << "\n";
        if (!f)
            throw pghaul::error(pghaul::exit_code::local, "cannot write the report to \"" + json_path + "\"");
        spdlog::info("report written to {}", json_path);
    }
    if (!html_path.empty()) {
        std::ofstream f(html_path);
        f << pghaul::engine::render_html_report(report);
        if (!f)
            throw pghaul::error(pghaul::exit_code::local,
                                "cannot write the HTML report to \"" + html_path + "\"");
        spdlog::info("HTML report written to {}", html_path);
    }
}

// A run that failed before it had sources to report on (a refused target
// login, a bad manifest source) still gets its report: yesterday's success
// must not stay on disk where monitoring reads it.
nlohmann::json failed_run_report(const pghaul::engine::run_config& cfg, const pghaul::error& e,
                                 double seconds) {
    nlohmann::json sources = nlohmann::json::array();
    for (auto& s : cfg.sources)
        sources.push_back({{"name", s.name},
                           {"source", s.endpoint.ci.endpoint()},
                           {"target_db", s.target_db},
                           {"status", "failed"},
                           {"tables", 0},
                           {"tables_planned", 0},
                           {"rows", 0},
                           {"bytes", 0},
                           {"seconds", 0.0},
                           {"timeline", nlohmann::json::array()},
                           {"table_details", nlohmann::json::array()}});
    nlohmann::json out = {{"target", cfg.target.ci.endpoint()},
                          {"seconds", seconds},
                          {"sources", sources},
                          {"exit_code", static_cast<int>(e.code())},
                          {"error",
                           {{"code", static_cast<int>(e.code())},
                            {"message", e.what()},
                            {"hint", e.hint()},
                            {"sqlstate", e.sqlstate()}}}};
    // Which shard failed; with no "assignment": it failed before the split,
    // so its sources are the manifest's, not the shard's.
    if (cfg.shard.count > 0) out["shard"] = {{"index", cfg.shard.index}, {"count", cfg.shard.count}};
    return out;
}

// Runs the engine and reports: the summary table, the one-line summary, the
// JSON report file, and for a single source its own error as the exit code.
int execute(const pghaul::engine::run_config& cfg, bool dry_run, bool table,
            pghaul::cli::progress_display& progress, const std::string& html_path, bool profile) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto started = std::chrono::system_clock::now();
    pghaul::engine::run_result res;
    try {
        res = pghaul::engine::run(cfg, dry_run, [&](const nlohmann::json& e) { progress.on_event(e); });
    } catch (const pghaul::error& e) {
        // The JSON stream ends as every run does, with what ended it.
        progress.on_event({{"event", "run_finished"},
                           {"exit_code", static_cast<int>(e.code())},
                           {"error", e.what()},
                           {"hint", e.hint()}});
        if (!dry_run) {
            try {
                auto failed = failed_run_report(
                    cfg, e, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
                stamp(failed, started);
                write_reports(failed, cfg.report_path, html_path);
            } catch (const std::exception& w) {
                spdlog::error("{}", w.what());
            }
        }
        throw;
    }
    // One source (after a databases = [...] entry became one per database),
    // and it failed: its own error and exit code are the run's.
    const bool lone_failure =
        res.failures.size() == 1 && res.report.contains("sources") && res.report["sources"].size() == 1;
    if (dry_run) {
        std::cout << res.plan;
    } else {
        // In json progress mode stdout carries only the events.
        if (table && progress.mode() != pghaul::cli::progress_mode::json) std::cout << res.summary;
        // A lone source that failed before copying anything: its error says
        // it all, without "finished with failures: 0 tables" above it.
        const bool nothing_copied = lone_failure && res.report["sources"][0].value("tables", 0) == 0;
        if (!nothing_copied)
            spdlog::info("{}: {}", res.code == pghaul::exit_code::ok ? "done" : "finished with failures",
                         res.summary_line);
    }
    if (profile && res.report.contains("profile")) print_profile(res.report["profile"]);
    if (!dry_run) {
        stamp(res.report, started);
        write_reports(res.report, cfg.report_path, html_path);
    }
    if (lone_failure) return report(res.failures.front());
    // A recap: in a long run the failures scrolled past hours ago.
    progress.stop();
    for (auto& f : res.failures) {
        pghaul::cli::log_fatal(f);
        std::fprintf(stderr, "pghaul: error: %s\n", f.what());
        if (!f.hint().empty()) std::fprintf(stderr, "HINT: %s\n", f.hint().c_str());
    }
    return static_cast<int>(res.code);
}

}  // namespace

namespace {

// "pghaul 0.2.0", the libpq it runs with, and the pg_dump it will use.
std::string version_text() {
    int lib = PQlibVersion();
    std::string out = fmt::format("pghaul {}\nlibpq {}.{}\n", version, lib / 10000, lib % 100);
    try {
        auto r = pghaul::run_process({"pg_dump", "--version"});
        out += "pg_dump: " +
               (r.exit_status == 0 ? r.out.substr(0, r.out.find('\n')) : std::string("not runnable"));
    } catch (const pghaul::error&) {
        out += "pg_dump: not found on PATH";
    }
    return out;
}

// Every long option can also come from PGHAUL_<NAME> (--memory-limit:
// PGHAUL_MEMORY_LIMIT); options that set their own keep it. One rule, one place.
void give_every_option_an_environment_variable(CLI::App& app) {
    for (auto* sub : app.get_subcommands({})) {
        for (auto* opt : sub->get_options()) {
            if (!opt->get_envname().empty() || opt->get_lnames().empty() || opt->get_lnames()[0] == "help")
                continue;
            std::string name = "PGHAUL_" + opt->get_lnames()[0];
            for (auto& c : name)
                c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            opt->envname(name);
        }
    }
}

}  // namespace

namespace {

// A password typed on the command line is readable by every local user
// (ps, /proc/PID/cmdline) for as long as pghaul runs. Once parsed, it is
// overwritten in place, which is what /proc shows from then on; the moments
// before are why the caller warns. Returns how many arguments held one.
int hide_command_line_secrets(int argc, char** argv) {
    int hidden = 0;
    for (int i = 1; i < argc; ++i) {
        auto spans = pghaul::conninfo_secret_spans(argv[i]);
        for (auto [first, length] : spans) std::fill_n(argv[i] + first, length, '*');
        hidden += spans.empty() ? 0 : 1;
    }
    return hidden;
}

// A command line CLI11 refused, said as pghaul says every error: what is
// wrong, the closest flag or command when it looks misspelt, where to look.
// A bare `pghaul` gets the usage.
int usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    const int usage = static_cast<int>(pghaul::exit_code::usage);
    if (argc < 2) {
        std::fputs(app.help().c_str(), stderr);
        return usage;
    }
    const std::string first = argv[1];
    CLI::App* sub = nullptr;
    std::vector<std::string> names;
    for (auto* c : app.get_subcommands([](CLI::App*) { return true; })) {
        names.push_back(c->get_name());
        if (c->get_name() == first) sub = c;
    }
    std::string message = e.what(), hint = "pghaul --help lists the commands";
    if (!sub && !first.starts_with("-")) {
        const auto best = pghaul::closest(first, names);
        message =
            "unknown command \"" + first + "\"" + (best.empty() ? "" : " (did you mean \"" + best + "\"?)");
    } else if (sub) {
        hint = "pghaul " + first + " --help lists its options";
        // CLI11 says a word is "not in range": say it is not a number.
        static const std::regex range(R"((--[\w-]+): Value (\S+) not in range (\S+) to (\S+))");
        std::smatch m;
        if (std::regex_search(message, m, range) && !std::regex_match(m[2].str(), std::regex(R"(-?[0-9.]+)")))
            message = m[1].str() + ": \"" + m[2].str() + "\" is not a number (" + m[3].str() + " to " +
                      m[4].str() + ")";
        std::vector<std::string> known;
        for (const auto* o : sub->get_options())
            for (auto& n : o->get_lnames()) known.push_back(n);
        for (int i = 2; i < argc; ++i) {
            const std::string a = argv[i];
            if (!a.starts_with("--") || a.size() == 2) continue;
            const auto name =
                a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
            if (std::find(known.begin(), known.end(), name) != known.end()) continue;
            const auto best = pghaul::closest(name, known);
            message = "unknown option --" + name + " for pghaul " + first +
                      (best.empty() ? "" : " (did you mean --" + best + "?)");
            break;
        }
    }
    std::fprintf(stderr, "pghaul: error: %s\nHINT: %s\n", message.c_str(), hint.c_str());
    return usage;
}

}  // namespace

int main(int argc, char** argv) {
    // Line by line even into a file or pipe: a plan or summary on stdout and
    // an error on stderr, sent to one file (> out 2>&1), stay in the order
    // they were written instead of the error landing inside a plan line.
    std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
    CLI::App app{"pghaul moves PostgreSQL databases between servers over parallel COPY streams.", "pghaul"};
    app.set_version_flag("-V,--version", version_text);
    app.require_subcommand(1);
    app.footer(
        "Examples:\n"
        "  pghaul copy --source 'postgresql://app@db-a:5432/source_database_a' \\\n"
        "              --target 'postgresql://admin@consolidated:5432/app_db_a' --jobs 4\n"
        "  pghaul run consolidate.toml --dry-run\n"
        "  pghaul audit --source 'host=db-a dbname=app' --target 'host=consolidated dbname=postgres'\n"
        "  pghaul verify --source 'host=db-a dbname=app' --target 'host=consolidated dbname=app_db_a' "
        "--checksums\n"
        "\n"
        "Environment:\n"
        "  PGHOST, PGPORT, PGUSER, PGPASSFILE, PGSERVICE, ... are libpq's defaults, as in psql;\n"
        "  every long option can also be set as PGHAUL_<OPTION> (--memory-limit: PGHAUL_MEMORY_LIMIT);\n"
        "  the command line wins.\n"
        "\n"
        "Exit codes: 0 ok, 1 internal error, 2 bad arguments or manifest, 3 preflight failed (nothing\n"
        "  written), 4 source failed, 5 target failed, 6 local failure, 7 verification mismatch,\n"
        "  8 pghaul run: some sources failed (the others are done), 9 audit found blockers,\n"
        "  130/143 interrupted (SIGINT/SIGTERM).\n"
        "\n"
        "Report bugs with the command, its log (-v) and the JSON report (--report) to the pghaul issue "
        "tracker.");

    // Settings copy and run both take, one set per command: CLI11 applies a
    // PGHAUL_* variable to every subcommand's options, parsed or not, so a
    // variable shared by both commands let the environment override a flag.
    struct session_flags {
        bool dry_run = false, resume = false, restart = false, profile = false;
        std::string progress_text = "auto", html_path, state_dir;
        int progress_interval = 10;
        pghaul::cli::logging_options log;
    };
    session_flags copy_flags, run_flags;
    std::string source_text, target_text, manifest;
    pghaul::cli::run_setting_flags copy_settings, run_settings;
    std::vector<std::string> role_map_args;
    pghaul::cli::selection_flags selection;
    pghaul::engine::run_config cfg;
    bool no_owner = false;

    auto* copy =
        app.add_subcommand("copy", "copy one database into a new, renamed database on another server");
    copy->add_option("-s,--source", source_text,
                     "source connection string (its dbname is the database to copy)")
        ->required()
        ->envname("PGHAUL_SOURCE")
        ->group("Connection");
    copy->add_option("-t,--target", target_text,
                     "target connection string; its dbname is the NEW database to create")
        ->required()
        ->envname("PGHAUL_TARGET")
        ->group("Connection");
    pghaul::cli::add_run_setting_flags(*copy, copy_settings);
    copy->add_flag("-O,--no-owner", no_owner,
                   "objects are owned by the target login, not the source's owners")
        ->envname("PGHAUL_NO_OWNER")
        ->group("Selection");
    pghaul::cli::add_selection_flags(*copy, selection, pghaul::cli::selection_use::copy);
    copy->add_option("--role-map", role_map_args,
                     "rename a role on the way in: SOURCE_ROLE=TARGET_ROLE (repeatable)")
        ->envname("PGHAUL_ROLE_MAP")
        ->group("Selection");

    pghaul::engine::endpoint_config::via_config via;
    pghaul::cli::add_via_flags(*copy, via);

    std::string snapshot;
    copy->add_option("--snapshot", snapshot,
                     "copy as of this exported snapshot, held open elsewhere (pg_export_snapshot()), "
                     "e.g. so a --resume reads what the interrupted run read")
        ->envname("PGHAUL_SNAPSHOT")
        ->group("Connection");

    auto* run =
        app.add_subcommand("run", "consolidate many source databases into one target, from a TOML manifest");
    run->add_option("manifest", manifest, "the manifest file ([target], [run], [[source]] ...)")->required();
    // The [run] settings as flags over the manifest (flag over PGHAUL_* over
    // manifest), and a way to redo some sources without editing it.
    pghaul::cli::add_run_setting_flags(*run, run_settings);
    struct {
        std::vector<std::string> only, exclude;
    } run_over;
    run->add_option(
           "--only", run_over.only,
           "run only these [[source]] names, or SOURCE.DATABASE for one database of a multi-database "
           "source (repeatable)")
        ->delimiter(',')  // also PGHAUL_ONLY=a,b
        ->envname("PGHAUL_ONLY")
        ->group("Selection");
    run->add_option("--exclude", run_over.exclude,
                    "leave out these [[source]] names or SOURCE.DATABASE (repeatable)")
        ->delimiter(',')
        ->envname("PGHAUL_EXCLUDE")
        ->group("Selection");

    pghaul::cli::shard_flags shard_over;  // run only: copy has one source
    pghaul::cli::add_shard_flags(*run, shard_over);

    pghaul::cli::logging_options log;  // audit, verify, clients, report
    for (auto [sub, f] : {std::pair{copy, &copy_flags}, std::pair{run, &run_flags}}) {
        f->state_dir = default_state_dir();
        sub->add_option(
               "--progress", f->progress_text,
               "auto (bar on a terminal, plain otherwise), bar, plain, json (events on stdout) or none")
            ->capture_default_str()
            ->check(CLI::IsMember({"auto", "bar", "plain", "json", "none"}))
            ->envname("PGHAUL_PROGRESS")
            ->group("Output");
        sub->add_option("--progress-interval", f->progress_interval, "seconds between plain progress lines")
            ->capture_default_str()
            ->check(CLI::Range(1, 3600))
            ->envname("PGHAUL_PROGRESS_INTERVAL")
            ->group("Output");
        sub->add_option("--log-format", f->log.format, "text or json (one object per line)")
            ->capture_default_str()
            ->check(CLI::IsMember({"text", "json"}))
            ->envname("PGHAUL_LOG_FORMAT")
            ->group("Output");
        sub->add_option("--report-html", f->html_path, "write the run report as one self-contained HTML page")
            ->envname("PGHAUL_REPORT_HTML")
            ->group("Output");
        sub->add_option("--log-file", f->log.file, "also append the log to this file")
            ->envname("PGHAUL_LOG_FILE")
            ->group("Output");
        sub->add_flag("--resume", f->resume,
                      "continue an interrupted run from its state journal (committed tables are kept)")
            ->envname("PGHAUL_RESUME")
            ->group("Recovery");
        sub->add_flag("--restart", f->restart,
                      "drop the unfinished databases an interrupted run left and start over")
            ->excludes(sub->get_option("--resume"))
            ->envname("PGHAUL_RESTART")
            ->group("Recovery");
        sub->add_option("--state-dir", f->state_dir,
                        "where the state journal lives (one file per target database; default "
                        "$XDG_STATE_HOME/pghaul, else ~/.local/state/pghaul)")
            ->capture_default_str()
            ->envname("PGHAUL_STATE_DIR")
            ->group("Recovery");
        sub->add_flag("--profile", f->profile,
                      "at the end, where pghaul's own time went: CPU per role, time waiting for the "
                      "sources, the targets, memory (also in the report)")
            ->envname("PGHAUL_PROFILE")
            ->group("Output");
        sub->add_flag("--dry-run", f->dry_run, "print the plan and what will go wrong; write nothing")
            ->envname("PGHAUL_DRY_RUN")
            ->group("Output");
        sub->add_flag("-v,--verbose", f->log.verbosity, "more detail (repeat for SQL)")->group("Output");
        sub->add_flag("-q,--quiet", f->log.quiet, "warnings and errors only")->group("Output");
    }
    pghaul::cli::command_handler handler;  // set by audit, verify, clients, report (cli/commands.hpp)
    for (auto* sub :
         {pghaul::cli::add_audit_command(app, handler), pghaul::cli::add_verify_command(app, handler),
          pghaul::cli::add_clients_command(app, handler), pghaul::cli::add_report_command(app, handler),
          pghaul::cli::add_agent_command(app, handler)}) {
        sub->add_flag("-v,--verbose", log.verbosity, "more detail (repeat for SQL)")->group("Output");
        sub->add_flag("-q,--quiet", log.quiet, "warnings and errors only")->group("Output");
    }

    give_every_option_an_environment_variable(app);
    // `pghaul help [COMMAND]` is `pghaul [COMMAND] --help`.
    std::vector<std::string> help_args;
    std::vector<char*> help_argv;
    if (argc >= 2 && std::string_view(argv[1]) == "help") {
        help_args = {argv[0]};
        if (argc >= 3) help_args.emplace_back(argv[2]);
        help_args.emplace_back("--help");
        for (auto& a : help_args) help_argv.push_back(a.data());
        argc = static_cast<int>(help_argv.size());
        argv = help_argv.data();
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        return usage_error(app, e, argc, argv);
    }
    const bool secrets_on_command_line = hide_command_line_secrets(argc, argv) > 0;
    for (int i = 0; i < argc; ++i) command_line.emplace_back(argv[i]);
    // Progress only where the run goes on long enough to watch: copy and run, not dry runs.
    auto& f = *run ? run_flags : copy_flags;
    auto mode = (*copy || *run) && !f.dry_run
                    ? pghaul::cli::parse_progress_mode(f.progress_text, isatty(STDERR_FILENO))
                    : pghaul::cli::progress_mode::none;
    pghaul::cli::progress_display progress(mode, std::chrono::seconds(f.progress_interval));
    bar = &progress;
    pghaul::engine::interrupt_watch stop_on_signal;
    install_signal_handlers();

    try {
        pghaul::cli::set_up_logging(*copy || *run ? f.log : log, &progress);
        if (secrets_on_command_line)
            spdlog::warn(
                "a password was given on the command line, where other local users can read it (ps) while "
                "pghaul starts; put it in ~/.pgpass, PGPASSWORD or the manifest's password_command instead");
        if (handler) return handler();
        if (*run) {
            const auto shard = pghaul::cli::shard_spec_of(shard_over, f.dry_run);
            auto loaded = pghaul::cli::load_manifest(manifest);
            pghaul::cli::apply_run_setting_flags(run_settings, loaded);
            select_sources(loaded, run_over.only, run_over.exclude);
            apply_recovery(loaded, f.resume, f.restart, f.state_dir);
            // Each shard writes its own reports, for a merge to read side by side.
            loaded.shard = shard;
            loaded.report_path = pghaul::cli::shard_path(loaded.report_path, shard);
            return execute(loaded, f.dry_run, true, progress, pghaul::cli::shard_path(f.html_path, shard),
                           f.profile);
        }
        // copy: the one-source shorthand of the same engine.
        pghaul::cli::apply_run_setting_flags(copy_settings, cfg);
        auto source = pghaul::conninfo::parse(source_text, "source connection string");
        auto target = pghaul::conninfo::parse(target_text, "target connection string");
        auto db = target.dbname();
        if (!db || db->empty())
            throw pghaul::error(
                pghaul::exit_code::usage, "the target connection string names no database",
                "its dbname is the NEW database to create, e.g. --target 'host=... dbname=app_db_a'");
        if (db->size() > 63 || *db == cfg.maintenance_db || *db == "template0" || *db == "template1")
            throw pghaul::error(
                pghaul::exit_code::usage,
                "target database name \"" + *db + "\" is too long or names a system database",
                "choose a new name of at most 63 bytes; pghaul creates the target database itself");
        pghaul::engine::source_config src;
        src.name = source.dbname().value_or("source");
        src.endpoint.ci = source;
        pghaul::cli::check_via_flags(via);
        src.endpoint.via = via;
        src.target_db = *db;
        for (auto& m : role_map_args) {
            auto eq = m.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
                throw pghaul::error(pghaul::exit_code::usage, "invalid --role-map \"" + m + "\"",
                                    "write it as SOURCE_ROLE=TARGET_ROLE");
            src.role_map[m.substr(0, eq)] = m.substr(eq + 1);
        }
        cfg.target.ci = target;
        if (no_owner) cfg.missing_roles = pghaul::engine::missing_roles_mode::owner;
        src.snapshot = snapshot;
        src.exclude_table_data = pghaul::cli::table_data_patterns(selection);
        src.exclude = pghaul::cli::relation_filter_of(selection);
        cfg.sources.push_back(std::move(src));
        apply_recovery(cfg, f.resume, f.restart, f.state_dir);
        return execute(cfg, f.dry_run, false, progress, f.html_path, f.profile);
    } catch (const pghaul::error& e) {
        return report(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "pghaul: internal error: %s\nHINT: please report this with the command and log\n",
                     e.what());
        return static_cast<int>(pghaul::exit_code::internal);
    }
}
