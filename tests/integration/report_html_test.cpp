// The HTML run report of a real copy, opened in headless Chromium: the page
// renders and its script runs, the Gantt chart has one bar per task, the
// table list one row per table, and a screenshot is taken for a human to see.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <tuple>

#include "harness.hpp"

using namespace harness;
namespace fs = std::filesystem;

namespace {

std::size_t count_matches(const std::string& text, const std::regex& re) {
    return static_cast<std::size_t>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

// Headless Chromium with a fresh profile and nothing that reaches the network;
// `timeout` so a stuck browser fails the test instead of hanging it.
pghaul::process_result chromium(const fs::path& work, const std::vector<std::string>& args) {
    auto profile = work / ("profile-" + unique_name("c"));
    fs::create_directories(profile);
    std::vector<std::string> argv = {"timeout",
                                     "120",
                                     "chromium",
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = pghaul::run_process(argv);
    fs::remove_all(profile);
    INFO("chromium stderr: " << r.err.substr(0, 2000));
    REQUIRE(r.exit_status == 0);
    return r;
}

}  // namespace

TEST_CASE("the HTML report of a real copy renders in headless Chromium with one bar per task") {
    const auto source_db = unique_name("html_src"), target_db = unique_name("html_tgt");
    create_database_from("PGHAUL_SRC_A_SUPER", source_db, "");
    connect("PGHAUL_SRC_A_SUPER", source_db)
        .exec(
            "CREATE TABLE big (id int PRIMARY KEY, pad text);"
            "INSERT INTO big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 40000) i;"
            "CREATE INDEX big_pad ON big (pad);"
            "CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL);"
            "INSERT INTO orders (customer) SELECT 'c' || i FROM generate_series(1, 5000) i;"
            "CREATE TABLE \"odd <name> & 'q'\" (id int PRIMARY KEY); INSERT INTO \"odd <name> & 'q'\" VALUES "
            "(1);"
            "CREATE TABLE empty_one (id int)");
    temp_file report("report.json", "");
    const fs::path work = fs::path(report.path).parent_path();
    const auto html = (work / "report.html").string(), png = (work / "report.png").string();

    auto copy = run_pghaul({"copy", "--source", server("PGHAUL_SRC_A", source_db).to_string(), "--target",
                            server("PGHAUL_TGT", target_db).to_string(), "--jobs", "3", "--no-owner",
                            "--split-tables-larger-than", "1MB", "--split-part-size", "1MB", "--report",
                            report.path});
    REQUIRE(copy.exit_status == 0);
    auto rep = nlohmann::json::parse(read_file(report.path));
    std::size_t entries = 0, tables = 0, parts = 0;
    for (auto& s : rep["sources"]) {
        entries += s["timeline"].size();
        tables += s["table_details"].size();
        for (auto& e : s["timeline"]) parts += e["phase"] == "part";
    }
    CHECK(tables == 4);
    CHECK(parts > 1);  // the big table was split: the chart shows its parts

    auto rendered = run_pghaul({"report", report.path, "--html", html});
    REQUIRE(rendered.exit_status == 0);

    // The DOM after the page's script ran.
    auto dom = chromium(work, {"--dump-dom", "file://" + html}).out;
    REQUIRE(dom.size() > 1000);
    CHECK(dom.find("data-js=\"ok\"") != std::string::npos);  // the script ran to its end
    CHECK(count_matches(dom, std::regex(R"(<rect class="bar( failed)?")")) == entries);
    CHECK(count_matches(dom, std::regex(R"(<tr class="trow">)")) == tables);
    CHECK(dom.find("undefined") == std::string::npos);
    CHECK(dom.find("NaN") == std::string::npos);
    CHECK(dom.find("odd &lt;name&gt; &amp; 'q'") != std::string::npos);  // text, not markup
    CHECK(dom.find("<name>") == std::string::npos);

    // Clicking a header sorts: the size column, largest first on the first click and
    // smallest first on the second (the report lists tables largest first already).
    auto page = read_file(html);
    const auto sorted_html = (work / "sorted.html").string();
    std::ofstream(sorted_html) << page.insert(
        page.rfind("</body>"),
        "<script>var th = document.querySelectorAll('#table-details th')[3];"
        "th.click(); th.click();</script>");
    auto sorted = chromium(work, {"--dump-dom", "file://" + sorted_html}).out;
    std::vector<double> sizes;
    const std::regex row(R"(<tr class="trow">.*?</tr>)"), value(R"re(data-v="([^"]*)")re");
    for (auto it = std::sregex_iterator(sorted.begin(), sorted.end(), row); it != std::sregex_iterator();
         ++it) {
        auto text = it->str();
        auto v = std::sregex_iterator(text.begin(), text.end(), value);
        REQUIRE(v != std::sregex_iterator());
        sizes.push_back(std::stod((*++v)[1].str()));  // rows, then size
    }
    CHECK(sizes.size() == tables);
    CHECK(std::is_sorted(sizes.begin(), sizes.end()));
    CHECK(sizes.front() < sizes.back());
    CHECK(sorted.find("aria-sort=\"ascending\"") != std::string::npos);

    chromium(work, {"--screenshot=" + png, "--window-size=1400,1000", "file://" + html});
    REQUIRE(fs::exists(png));
    CHECK(fs::file_size(png) > 10 * 1024);
    // Kept where a human can look at it (the temporary one goes with the test).
    const fs::path kept = fs::path(PGHAUL_BUILD_ROOT) / "report-screenshot.png";
    fs::create_directories(kept.parent_path());
    fs::copy_file(png, kept, fs::copy_options::overwrite_existing);
    fs::copy_file(html, kept.parent_path() / "report-sample.html", fs::copy_options::overwrite_existing);
    MESSAGE("report screenshot: " << png << " (" << fs::file_size(png) << " bytes), kept as " << kept.string()
                                  << " with the page as "
                                  << (kept.parent_path() / "report-sample.html").string());

    drop_database("PGHAUL_TGT_SUPER", target_db);
    drop_database("PGHAUL_SRC_A_SUPER", source_db);
}

TEST_CASE("pghaul report: a missing or malformed JSON file is a usage error naming it") {
    temp_file bad("bad.json", "{\"sources\": [");
    const auto out = (fs::path(bad.path).parent_path() / "out.html").string();

    auto missing = run_pghaul({"report", bad.path + ".nope", "--html", out});
    CHECK(missing.exit_status == 2);
    CHECK(missing.err.find(bad.path + ".nope") != std::string::npos);

    auto malformed = run_pghaul({"report", bad.path, "--html", out});
    CHECK(malformed.exit_status == 2);
    CHECK(malformed.err.find(bad.path) != std::string::npos);
    CHECK(malformed.err.find("not valid JSON") != std::string::npos);

    temp_file other("other.json", "{\"hello\": 1}");
    auto not_report = run_pghaul({"report", other.path, "--html", out});
    CHECK(not_report.exit_status == 2);
    CHECK(not_report.err.find("not a pghaul run report") != std::string::npos);

    temp_file empty("empty.json", "{\"sources\": []}");
    auto no_bench = run_pghaul({"report", empty.path, "--html", out, "--bench", bad.path + ".tsv"});
    CHECK(no_bench.exit_status == 2);
    CHECK(no_bench.err.find(bad.path + ".tsv") != std::string::npos);
    CHECK_FALSE(fs::exists(out));  // nothing written on a usage error

    // Bench results that are neither the scripts' TSV nor their JSON.
    for (auto& [name, text, says] :
         {std::tuple{"cut.json", "[{\"method\": \"pghaul\"", "not valid JSON"},
          std::tuple{"shape.json", "{\"method\": \"pghaul\"}", "not a list of result rows"},
          std::tuple{"words.tsv", "hello\tworld\n1\t2\n", "no method (or approach) and wall_s columns"}}) {
        CAPTURE(name);
        temp_file bench(name, text);
        auto r = run_pghaul({"report", empty.path, "--html", out, "--bench", bench.path});
        CHECK(r.exit_status == 2);
        CHECK(r.err.find("bench results \"" + bench.path + "\": ") != std::string::npos);
        CHECK(r.err.find(says) != std::string::npos);
        CHECK_FALSE(fs::exists(out));
    }
    // The JSON the bench scripts write (bench/results/*.json) is taken as their TSV is.
    temp_file bench_json("compare.json",
                         R"([{"timestamp": "s1", "method": "pghaul", "result": "OK", "wall_s": 5.8,
                              "ratio_vs_pghaul": 1.0, "ratio_vs_floor": null},
                             {"timestamp": "s1", "method": "dump_fc", "result": "OK", "wall_s": 9.24,
                              "ratio_vs_pghaul": 1.59, "ratio_vs_floor": null}])");
    auto ok = run_pghaul({"report", empty.path, "--html", out, "--bench", bench_json.path});
    CHECK(ok.exit_status == 0);
    const auto html = read_file(out);
    CHECK(html.find("Compared with pg_dump") != std::string::npos);
    CHECK(html.find("1.59×") != std::string::npos);
}
