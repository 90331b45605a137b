// pghaul report: renders a saved JSON run report (from copy or run --report)
// as one self-contained HTML page, optionally with a bench comparison (TSV or
// JSON); with --merge, first merges the reports of a sharded run's shards.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "engine/report/html.hpp"
#include "engine/report/merge.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

struct report_args {
    std::vector<std::string> inputs;
    std::string json_path, html_path, bench_path;
    bool merge = false;
};

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

// Inputs that cannot be read are bad arguments: nothing was written yet.
std::string read_input(const std::string& path, const char* what) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw error(exit_code::usage,
                    std::string("cannot read ") + what + " " + quoted(path) + ": " + std::strerror(EISDIR));
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw error(exit_code::usage,
                    std::string("cannot open ") + what + " " + quoted(path) + ": " + std::strerror(errno));
    std::ostringstream text;
    text << f.rdbuf();
    if (f.bad() || (f.fail() && !f.eof()))
        throw error(exit_code::usage, std::string("cannot read ") + what + " " + quoted(path));
    return std::move(text).str();
}

nlohmann::json read_report(const std::string& path) {
    auto text = read_input(path, "report");
    nlohmann::json report;
    try {
        report = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw error(exit_code::usage,
                    "report " + quoted(path) + " is not valid JSON (at byte " + std::to_string(e.byte) + ")",
                    "give the file pghaul copy/run wrote with --report");
    }
    if (!report.is_object() || !report.contains("sources") || !report["sources"].is_array())
        throw error(exit_code::usage, "report " + quoted(path) + " is not a pghaul run report",
                    "it has no \"sources\" list; give the file pghaul copy/run wrote with --report");
    return report;
}

void write_output(const std::string& path, const std::string& text, const char* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        throw error(exit_code::local, std::string("cannot write the ") + what + " to " + quoted(path) + ": " +
                                          std::strerror(errno));
    spdlog::info("{} written to {}", what, path);
}

int run(const report_args& a) {
    if (!a.merge && a.inputs.size() != 1)
        throw error(exit_code::usage,
                    "pghaul report renders one report; " + std::to_string(a.inputs.size()) + " were given",
                    "to combine the reports of a sharded run's shards: pghaul report --merge FILE.json... "
                    "--json OUT.json --html OUT.html");
    if (a.merge && a.json_path.empty() && a.html_path.empty())
        throw error(exit_code::usage, "pghaul report --merge writes nothing without --json or --html",
                    "give --json OUT.json, --html OUT.html or both");
    if (!a.merge && (a.html_path.empty() || !a.json_path.empty()))
        throw error(
            exit_code::usage,
            a.html_path.empty() ? "pghaul report needs --html OUT.html" : "--json is for --merge",
            "pghaul report FILE.json --html OUT.html renders a report; pghaul report --help says more");
    // Every input is read and checked before anything is written.
    std::vector<engine::shard_report> shards;
    for (auto& path : a.inputs) shards.push_back({path, read_report(path)});
    std::optional<std::string> bench;
    if (!a.bench_path.empty()) {
        try {
            bench = engine::bench_results_as_tsv(read_input(a.bench_path, "bench results"));
        } catch (const error& e) {
            if (e.code() != exit_code::usage || std::string_view(e.what()).starts_with("cannot ")) throw;
            throw error(exit_code::usage, "bench results " + quoted(a.bench_path) + ": " + e.what(),
                        "give a results file bench/compare.sh, consolidate.sh or fleet.sh wrote "
                        "(bench/results/*.tsv or *.json)");
        }
    }

    if (!a.merge) {
        write_output(a.html_path, engine::render_html_report(shards.front().report, bench), "HTML report");
        return 0;
    }
    auto merged = engine::merge_shard_reports(shards);
    std::map<std::string, int> by_status;
    for (auto& src : merged.report["sources"]) {
        const auto it = src.find("status");
        ++by_status[it != src.end() && it->is_string() ? it->get<std::string>() : "-"];
    }
    std::string counts;
    for (auto& [status, n] : by_status)
        counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
    spdlog::info("merged {} of {} shards: {} sources ({})", shards.size(), merged.report["shards"].size(),
                 merged.report["sources"].size(), counts);
    if (!a.json_path.empty()) write_output(a.json_path, merged.report.dump(2) + "\n", "merged report");
    if (!a.html_path.empty())
        write_output(a.html_path, engine::render_html_report(merged.report, bench), "HTML report");
    // What to run again, once the outputs exist: a missing shard, a failed one.
    for (auto& e : merged.to_rerun) {
        std::fprintf(stderr, "pghaul: error: %s\n", e.what());
        if (!e.hint().empty()) std::fprintf(stderr, "HINT: %s\n", e.hint().c_str());
    }
    const auto& code = merged.report["exit_code"];
    return code.is_number_integer() ? code.get<int>() : 0;
}

}  // namespace

CLI::App* add_report_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<report_args>();
    auto* sub = app.add_subcommand("report",
                                   "render a saved JSON run report as one self-contained HTML page, or merge "
                                   "the reports of a sharded run");
    sub->add_option("FILE.json", a->inputs,
                    "the JSON report written by copy or run with --report; with --merge, the reports of "
                    "the shards of one run")
        ->required();
    sub->add_flag("--merge", a->merge,
                  "merge the reports of a sharded run (pghaul run --shard I/N) into one, each source marked "
                  "with its shard; a missing shard's sources are listed as missing")
        ->envname("PGHAUL_MERGE")
        ->group("Output");
    sub->add_option("--html", a->html_path, "write the HTML page here (it needs no network to view)")
        ->envname("PGHAUL_HTML")
        ->group("Output");
    sub->add_option("--json", a->json_path, "with --merge: write the merged JSON report here")
        ->envname("PGHAUL_JSON")
        ->group("Output");
    sub->add_option(
           "--bench", a->bench_path,
           "add the comparison with pg_dump from a bench results file (bench/results/*.tsv or *.json)")
        ->envname("PGHAUL_BENCH")
        ->group("Output");
    sub->footer(
        "Examples:\n"
        "  pghaul report report.json --html report.html\n"
        "  pghaul report --merge report.shard-*-of-8.json --json merged.json --html merged.html\n"
        "\n"
        "Exit codes: 0 written, 2 a report or bench file cannot be read or parsed (or, with --merge, the\n"
        "  reports are not of one sharded run), 6 cannot write. With --merge, once written: the merged\n"
        "  report's exit_code, which is 0 when every shard was given, exited 0 and has all its sources;\n"
        "  else 8 when a shard or a source is missing (the error says which shard to run again); else\n"
        "  130/143 when a shard was interrupted (the first by shard index); else the shards' own code\n"
        "  when all exited with the same one; else 8 (some sources failed, the others are done).");
    sub->callback([&handler, a] { handler = [a] { return run(*a); }; });
    return sub;
}

}  // namespace pghaul::cli
