// pghaul report: renders a saved JSON run report (from copy or run --report)
// as one self-contained HTML page, optionally with a bench comparison (TSV or JSON).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "engine/report/html.hpp"
#include "protocol/error.hpp"

namespace pghaul::cli {
namespace {

struct report_args {
    std::string json_path, html_path, bench_path;
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

int run(const report_args& a) {
    auto text = read_input(a.json_path, "report");
    nlohmann::json report;
    try {
        report = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw error(
            exit_code::usage,
            "report " + quoted(a.json_path) + " is not valid JSON (at byte " + std::to_string(e.byte) + ")",
            "give the file pghaul copy/run wrote with --report");
    }
    if (!report.is_object() || !report.contains("sources") || !report["sources"].is_array())
        throw error(exit_code::usage, "report " + quoted(a.json_path) + " is not a pghaul run report",
                    "it has no \"sources\" list; give the file pghaul copy/run wrote with --report");
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

    auto html = engine::render_html_report(report, bench);
    std::ofstream out(a.html_path, std::ios::binary | std::ios::trunc);
    out << html;
    out.close();
    if (!out)
        throw error(exit_code::local,
                    "cannot write the HTML report to " + quoted(a.html_path) + ": " + std::strerror(errno));
    spdlog::info("HTML report written to {}", a.html_path);
    return 0;
}

}  // namespace

CLI::App* add_report_command(CLI::App& app, command_handler& handler) {
    auto a = std::make_shared<report_args>();
    auto* sub =
        app.add_subcommand("report", "render a saved JSON run report as one self-contained HTML page");
    sub->add_option("FILE.json", a->json_path, "the JSON report written by copy or run with --report")
        ->required();
    sub->add_option("--html", a->html_path, "write the HTML page here (it needs no network to view)")
        ->required()
        ->envname("PGHAUL_HTML")
        ->group("Output");
    sub->add_option(
           "--bench", a->bench_path,
           "add the comparison with pg_dump from a bench results file (bench/results/*.tsv or *.json)")
        ->envname("PGHAUL_BENCH")
        ->group("Output");
    sub->footer(
        "Exit codes: 0 written, 2 the report or bench file cannot be read or parsed, 6 cannot write.");
    sub->callback([&handler, a] { handler = [a] { return run(*a); }; });
    return sub;
}

}  // namespace pghaul::cli
