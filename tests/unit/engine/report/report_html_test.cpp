// The HTML run report from hand-made JSON: hostile names are escaped
// everywhere, one bar per task, a split table's bytes shared by its parts,
// missing fields tolerated, and the bench TSV compared.
#include <doctest/doctest.h>

#include <regex>

#include "engine/report/detail/html.hpp"
#include "engine/report/html.hpp"

using namespace pghaul::engine;
using nlohmann::json;

namespace {

const std::string evil = "<script>alert(\"x&y\")</script>'";

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

json hostile_report() {
    return {
        {"target", "admin@tgt:5432/postgres " + evil},
        {"seconds", 4.0},
        {"exit_code", 8},
        {"roles",
         {{"mode", "create"},
          {"created", {evil}},
          {"to_create", json::array()},
          {"missing", {{evil, {evil}}}},
          {"shared", {{{"role", evil}, {"sources", {evil, "b"}}}}}}},
        {"sources",
         {{{"name", evil},
           {"source", "app@db-a/" + evil},
           {"target_db", evil},
           {"status", "failed"},
           {"error", {{"code", 5}, {"message", evil}, {"hint", evil}, {"sqlstate", "42501"}}},
           {"tables", 1},
           {"tables_planned", 2},
           {"rows", 10},
           {"bytes", 10485760},
           {"seconds", 3.0},
           {"mb_per_s", 3.3},
           {"verified", false},
           {"verification", evil},
           {"snapshot_released_after_s", 2.0},
           {"started_s", 0.5},
           {"ended_s", 3.5},
           {"warnings", {evil}},
           {"table_details",
            {{{"name", "public." + evil},
              {"rows", 10},
              {"bytes", 10485760},
              {"seconds", 2.0},
              {"format", "text"},
              {"spooled_bytes", 0}}}},
           {"timeline",
            {{{"phase", "schema"},
              {"object", ""},
              {"worker", 1},
              {"start_s", 0.5},
              {"end_s", 1.0},
              {"ok", true}},
             {{"phase", "part"},
              {"object", "public." + evil + " pages 0-10"},
              {"worker", 1},
              {"start_s", 1.0},
              {"end_s", 2.0},
              {"ok", true}},
             {{"phase", "part"},
              {"object", "public." + evil + " pages 10-end"},
              {"worker", 2},
              {"start_s", 2.0},
              {"end_s", 3.0},
              {"ok", true}},
             {{"phase", "index"},
              {"object", evil},
              {"worker", 2},
              {"start_s", 3.0},
              {"end_s", 3.5},
              {"ok", false}}}}}}},
    };
}

}  // namespace

TEST_CASE("html_escape turns every markup character into an entity") {
    CHECK(detail::html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
    CHECK(detail::html_escape("plain") == "plain");
}

TEST_CASE("labels are cut at a UTF-8 character boundary") {
    const std::string s = "ab\xc3\xbc\xc3\x9f";  // "abüß"
    CHECK(detail::utf8_prefix(s, 3) == "ab");
    CHECK(detail::utf8_prefix(s, 4) == "ab\xc3\xbc");
    CHECK(detail::utf8_prefix(s, 99) == s);
}

TEST_CASE("hostile names in every field are escaped; the page has only its own script") {
    auto html = render_html_report(hostile_report());
    CHECK(count(html, "<script") == 1);  // ours, at the end
    CHECK(html.find("alert(\"") == std::string::npos);
    CHECK(html.find("x&y") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;") != std::string::npos);
    // Attribute values cannot be broken out of.
    CHECK(html.find(R"(data-source="&lt;script&gt;)") != std::string::npos);
    CHECK(html.find("NaN") == std::string::npos);
    CHECK(html.find("undefined") == std::string::npos);
}

TEST_CASE("the chart has one bar per task, failed ones marked, and parts share their table's bytes") {
    auto html = render_html_report(hostile_report());
    CHECK(count(html, "<rect class=\"bar") == 4);
    CHECK(count(html, "<rect class=\"bar failed\"") == 1);
    CHECK(count(html, "data-phase=\"part\"") == 2);
    // 10 MiB over two part bars of one second each: 5 MB/s, never 10.
    CHECK(html.find("Peak 5.0 MB/s") != std::string::npos);
    CHECK(count(html, "<tr class=\"trow\">") == 1);
    CHECK(html.find("1 of 1 source failed") != std::string::npos);
    CHECK(html.find("SQLSTATE 42501") != std::string::npos);
    CHECK(html.find("http://") == std::string::npos);  // nothing fetched
    CHECK(html.find("https://") == std::string::npos);
}

TEST_CASE("an empty or incomplete report renders without numbers that are not numbers") {
    for (auto& j : {json::object(), json{{"sources", json::array()}},
                    json{{"sources", {json::object(), json{{"name", 3}, {"timeline", "x"}}}}},
                    json{{"seconds", nullptr}, {"sources", {{{"timeline", {json::object()}}}}}}}) {
        auto html = render_html_report(j);
        CHECK(html.find("NaN") == std::string::npos);
        CHECK(html.find("inf") == std::string::npos);
        CHECK(html.find("</html>") != std::string::npos);
    }
}

TEST_CASE("a bench TSV becomes the comparison with pg_dump, escaped") {
    std::string tsv =
        "timestamp\tmethod\tresult\twall_s\tratio_vs_pghaul\tmb_per_s\tpeak_rss_mib\ttool_cpu_"
        "s\tverified\tjobs\t"
        "source_db\tsource_bytes\ttarget_bytes\tsrc_fsync\ttgt_fsync\n"
        "s1\tpghaul\tOK\t5.00\t1.00\t200.0\t70\t1.5\tOK\t2\tbench\t1048576000\t1\ton\ton\n"
        "s1\tdump_fd\tOK\t10.00\t2.00\t100.0\t12\t0.8\tOK\t2\tbench\t1048576000\t1\ton\ton\n"
        "s1\t" +
        evil + "\tFAILED: exit 1\t3.00\t-\t-\t1\t1\tno db\t2\tbench\t1048576000\t1\ton\ton\n";
    auto html = render_html_report(hostile_report(), tsv);
    CHECK(html.find("Compared with pg_dump") != std::string::npos);
    CHECK(html.find("2.00×") != std::string::npos);
    CHECK(html.find("took <b>2.00×</b>") != std::string::npos);  // the fastest other method that succeeded
    CHECK(count(html, "<script") == 1);
    CHECK(html.find("1000.0 MB of source data") != std::string::npos);

    auto consolidate =
        render_html_report(json::object(),
                           "timestamp\tapproach\tscope\tresult\twall_s\tratio_seq_vs_pghaul\tmb_per_s\n"
                           "s\tpghaul\tall\tOK\t4\t1.00\t200\ns\tsequential\tall\tOK\t12\t3."
                           "00\t80\ns\tsequential\tsrc_1\tOK\t5\t-\t90\n");
    CHECK(consolidate.find("sequential (src_1)") != std::string::npos);
    CHECK(consolidate.find("took <b>3.00×</b>") != std::string::npos);

    CHECK(render_html_report(json::object(), "").find("no results") != std::string::npos);
}

TEST_CASE("roles the run created are not listed as missing; roles still missing are") {
    json report = {{"roles",
                    {{"mode", "create"},
                     {"created", {"app_rw"}},
                     {"missing", {{"a", {"app_rw"}}, {"b", {"app_rw", "legacy"}}}}}}};
    auto html = render_html_report(report);
    CHECK(html.find("missing for a") == std::string::npos);
    CHECK(html.find("missing for b: <span class=\"bad\">legacy</span>") != std::string::npos);
    CHECK(html.find("created: app_rw") != std::string::npos);

    report["roles"]["missing"] = {{"a", {"app_rw"}}};
    html = render_html_report(report);
    CHECK(html.find("missing: none") != std::string::npos);
    CHECK(html.find("class=\"bad\"") == std::string::npos);
}

TEST_CASE("an overnight run's time axis reads in clock time on round steps; a short run's in seconds") {
    json night = {
        {"seconds", 8 * 3600.0},
        {"started_at", "2026-12-02T23:40:10+01:00"},
        {"sources",
         {{{"name", "a"},
           {"status", "done"},
           {"started_s", 0.0},
           {"ended_s", 8 * 3600.0},
           {"timeline",
            {{{"phase", "copy"}, {"object", "t"}, {"worker", 1}, {"start_s", 10.0}, {"end_s", 28000.0}}}}}}}};
    auto html = render_html_report(night);
    CHECK(html.find("clock time (UTC+01:00)") != std::string::npos);
    CHECK(html.find("seconds since start") == std::string::npos);
    // Hourly ticks on the hour, across midnight: 00:00 is 20 min 50 s in.
    for (const char* tick : {">00:00<", ">01:00<", ">07:00<"}) CHECK(html.find(tick) != std::string::npos);
    CHECK(html.find(">23:40<") == std::string::npos);
    CHECK(html.find(">08:00<") == std::string::npos);  // 07:40:10 is the end

    json quick = night;
    quick["seconds"] = 4.0;
    quick["sources"][0]["ended_s"] = 4.0;
    quick["sources"][0]["timeline"][0]["end_s"] = 3.0;
    html = render_html_report(quick);
    CHECK(html.find("seconds since start") != std::string::npos);
    CHECK(html.find("clock time") == std::string::npos);
}
