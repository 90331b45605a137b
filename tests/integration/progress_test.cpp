// Progress output of a real copy: JSON events against their documented
// fields, plain lines parsed, and the bar drawn in a pseudo-terminal.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace harness;

namespace {

std::string make_source(int rows) {
    auto db = unique_name("progress_src");
    create_database_from("PGHAUL_SRC_A_SUPER", db, "");
    connect("PGHAUL_SRC_A_SUPER", db)
        .exec(
            "CREATE TABLE events (id bigint PRIMARY KEY, body text);"
            "INSERT INTO events SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, " +
            std::to_string(rows) +
            ") i;"
            "CREATE TABLE tags (id int PRIMARY KEY, name text); INSERT INTO tags VALUES (1, 'a'), (2, 'b')");
    return db;
}

std::vector<std::string> small_copy_args(const std::string& src, const std::string& tgt) {
    return {"copy",
            "--source",
            server("PGHAUL_SRC_A", src).to_string(),
            "--target",
            server("PGHAUL_TGT", tgt).to_string(),
            "--no-owner",
            "--jobs",
            "2"};
}

}  // namespace

TEST_CASE("--progress json: one event per line with the documented fields") {
    const auto src = make_source(20000);
    const auto tgt = unique_name("progress_tgt");
    temp_file html("run.html", "");
    auto args = small_copy_args(src, tgt);
    args.insert(args.end(), {"--progress", "json", "--report-html", html.path});
    auto r = run_pghaul(args);
    REQUIRE(r.exit_status == 0);
    {  // --report-html wrote the one-page report
        std::ifstream in(html.path);
        std::stringstream page;
        page << in.rdbuf();
        CHECK(page.str().find("class=\"bar\"") != std::string::npos);
    }
    std::istringstream lines(r.out);
    std::map<std::string, int> kinds;
    std::multiset<std::string> open_tasks;
    nlohmann::json last_progress;
    for (std::string line; std::getline(lines, line);) {
        auto e = nlohmann::json::parse(line);  // every line parses
        REQUIRE(e.contains("event"));
        REQUIRE(e["ts"].is_number());
        auto kind = e["event"].get<std::string>();
        ++kinds[kind];
        if (kind == "task_started" || kind == "task_finished") {
            for (auto* f : {"source", "phase", "object"}) REQUIRE(e[f].is_string());
            REQUIRE(e["worker"].is_number_integer());
            auto key = e["worker"].dump() + e["phase"].get<std::string>() + e["object"].get<std::string>();
            if (kind == "task_started")
                open_tasks.insert(key);
            else {
                REQUIRE(e["ok"].is_boolean());
                REQUIRE(e["seconds"].is_number());
                REQUIRE(open_tasks.count(key));
                open_tasks.erase(open_tasks.find(key));
            }
        }
        if (kind == "progress" || kind == "run_started") {
            REQUIRE(e["bytes_read"].is_number_unsigned());
            REQUIRE(e["bytes_planned"].is_number_integer());
            if (kind == "progress") {  // one unit: never past the plan, and all of it at the end
                REQUIRE(e["bytes_done"].is_number_integer());
                CHECK(e["bytes_done"].get<std::int64_t>() <= e["bytes_planned"].get<std::int64_t>());
                last_progress = e;
            }
            REQUIRE(e["elapsed_s"].is_number());
            for (auto& s : e["sources"])
                for (auto* f : {"source", "status", "tables", "tables_done", "bytes_planned"})
                    REQUIRE(s.contains(f));
        }
        if (kind == "run_finished") {
            CHECK(e["exit_code"] == 0);
            CHECK(e["summary"].get<std::string>().find("2 tables") != std::string::npos);
        }
    }
    REQUIRE(!last_progress.is_null());
    CHECK(last_progress["bytes_done"] == last_progress["bytes_planned"]);
    CHECK(kinds["run_started"] == 1);
    CHECK(kinds["run_finished"] == 1);
    CHECK(kinds["task_started"] >= 4);  // schema, two copies, indexes, finish
    CHECK(open_tasks.empty());
    drop_database("PGHAUL_TGT_SUPER", tgt);
    drop_database("PGHAUL_SRC_A_SUPER", src);
}

TEST_CASE("--progress plain prints a parseable line every interval; the bar draws in a terminal") {
    const auto src = make_source(1500000);  // long enough for a one-second progress tick
    const auto tgt = unique_name("progress_tgt");
    auto args = small_copy_args(src, tgt);
    args.insert(args.end(), {"--progress", "plain", "--progress-interval", "1"});
    auto r = run_pghaul(args);
    REQUIRE(r.exit_status == 0);
    static const std::regex line(
        R"(pghaul \d+s  [0-9.]+ [kMG]?B of [0-9.]+ [kMG]?B copied \(\d+%\)  [0-9.]+ MB/s  ETA [^;]+; )"
        R"(progress_src_\S+ \d+/2 tables)");
    CHECK(std::regex_search(r.err, line));

    // The bar: drawn in place (cursor up, clear line) in a pseudo-terminal,
    // with log lines above it, and cleared at the end.
    temp_file typescript("typescript", "");
    std::string cmd = std::string(PGHAUL_BIN);
    auto bar_args = small_copy_args(src, tgt);
    bar_args.insert(bar_args.end(), {"--on-existing", "replace"});
    for (auto& a : bar_args) cmd += " '" + a + "'";
    auto s = pghaul::run_process({"script", "-qfec", cmd, typescript.path});
    REQUIRE_MESSAGE(s.exit_status == 0, s.out.substr(0, 4000) << s.err.substr(0, 2000));
    std::ifstream in(typescript.path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto screen = ss.str();
    CHECK(screen.find("\033[K") != std::string::npos);
    CHECK(screen.find("ETA") != std::string::npos);
    CHECK(screen.find("] progress_src_") != std::string::npos);  // a running task line
    // a source's line: its tables, its bytes, its rate
    CHECK(std::regex_search(screen, std::regex(R"(\d+/\d+ tables  \S+ \S+ of \S+ \S+  \d+\.\d MB/s)")));
    CHECK(screen.find("done: 2 tables") != std::string::npos);
    auto tail = screen.substr(screen.rfind("done: 2 tables"));
    CHECK(tail.find("\033[J") != std::string::npos);  // the bar is cleared after the summary
    drop_database("PGHAUL_TGT_SUPER", tgt);
    drop_database("PGHAUL_SRC_A_SUPER", src);
}

TEST_CASE("--profile prints where pghaul's own time went; the report carries the same numbers") {
    const auto src = make_source(200000);
    const auto tgt = unique_name("profile_tgt");
    temp_file report("report.json", "");
    auto args = small_copy_args(src, tgt);
    args.insert(args.end(), {"--profile", "--report", report.path});
    auto r = run_pghaul(args);
    REQUIRE(r.exit_status == 0);
    CHECK(r.err.find("profile (pghaul's own time; thread times are summed over 2 units)") !=
          std::string::npos);
    CHECK(r.err.find("waiting for the targets") != std::string::npos);
    auto p = nlohmann::json::parse(std::ifstream(report.path))["profile"];
    CHECK(p["units"] == 2);
    // The readers did the copying into the streams: their CPU is real, and
    // no thread is credited more CPU than the process used.
    CHECK(p["readers"]["cpu_s"].get<double>() > 0.0);
    CHECK(p["readers"]["cpu_s"].get<double>() + p["writers"]["cpu_s"].get<double>() <=
          p["cpu_s"].get<double>() + 0.01);
    CHECK(p["readers"]["wall_s"].get<double>() >= p["readers"]["cpu_s"].get<double>());
    CHECK(p["peak_rss_mib"].get<double>() > 1.0);
    drop_database("PGHAUL_TGT_SUPER", tgt);
    drop_database("PGHAUL_SRC_A_SUPER", src);
}

TEST_CASE("a fatal error stays the last thing on a terminal and reaches the log file and the JSON stream") {
    // A source table another session keeps locked: the copy gives up after
    // --lock-wait-timeout, with the bar already drawn.
    const auto src = make_source(10);
    const auto tgt = unique_name("progress_tgt");
    auto holder = connect("PGHAUL_SRC_A_SUPER", src);
    holder.exec("BEGIN; LOCK TABLE tags IN ACCESS EXCLUSIVE MODE");
    temp_file typescript("typescript", "");
    temp_file log("pghaul.log", "");
    std::string cmd = std::string(PGHAUL_BIN);
    auto args = small_copy_args(src, tgt);
    args.insert(args.end(), {"--lock-wait-timeout", "2s", "--log-file", log.path});
    for (auto& a : args) cmd += " '" + a + "'";
    auto s = pghaul::run_process({"script", "-qfec", cmd, typescript.path});
    CHECK(s.exit_status == 4);
    std::ifstream in(typescript.path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto screen = ss.str();
    auto error_at = screen.rfind("pghaul: error: gave up after");
    REQUIRE(error_at != std::string::npos);
    // Nothing moves the cursor or clears the screen after the error.
    CHECK(screen.find("\033[", error_at) == std::string::npos);
    CHECK(screen.find("HINT: end or wait for that session", error_at) != std::string::npos);
    std::ifstream lf(log.path);
    std::stringstream ls;
    ls << lf.rdbuf();
    CHECK(ls.str().find("error: gave up after") != std::string::npos);
    CHECK(ls.str().find("HINT: end or wait for that session") != std::string::npos);
    // --progress json: the stream's last event says how the run ended.
    auto j = run_pghaul([&] {
        auto a = small_copy_args(src, tgt);
        a.insert(a.end(), {"--lock-wait-timeout", "1s", "--progress", "json"});
        return a;
    }());
    CHECK(j.exit_status == 4);
    auto trimmed = j.out.substr(0, j.out.find_last_not_of('\n') + 1);
    auto last = trimmed.substr(trimmed.rfind('\n') + 1);
    auto e = nlohmann::json::parse(last);
    CHECK(e["event"] == "run_finished");
    CHECK(e["exit_code"] == 4);
    CHECK(e["error"].get<std::string>().find("gave up after") != std::string::npos);
    CHECK(e["hint"].get<std::string>().find("--lock-wait-timeout") != std::string::npos);
    holder.exec("ROLLBACK");
    drop_database("PGHAUL_SRC_A_SUPER", src);
}

// A server's WARNING (here CREATE PUBLICATION's, at wal_level replica) goes
// into the log in its format, named by server, not raw onto stderr where it
// breaks --log-format json.
TEST_CASE("server warnings go into the log, with the server named, in JSON when the log is JSON") {
    const auto source_db = unique_name("notice_src");
    const auto target_db = unique_name("notice_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER", source_db)
        .exec(
            "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); CREATE PUBLICATION notice_pub "
            "FOR TABLE t");
    REQUIRE(connect("PGHAUL_TGT_SUPER").exec("SHOW wal_level").str(0, 0) != "logical");
    auto r = run_pghaul({"copy", "--source", server("PGHAUL_SRC_A", source_db).to_string(), "--target",
                         server("PGHAUL_TGT", target_db).to_string(), "--no-owner", "--log-format", "json",
                         "--progress", "none"});
    CHECK(r.exit_status == 0);
    std::istringstream lines(r.err);
    bool saw_warning = false;
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        auto j = nlohmann::json::parse(line);  // every line of the log parses
        const auto msg = j.value("msg", "");
        if (msg.find("wal_level is insufficient") != std::string::npos) {
            saw_warning = true;
            CHECK(msg.find("server haul_admin@127.0.0.1") != std::string::npos);
        }
    }
    CHECK(saw_warning);
    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}
