// verify's catalog comparison: missing, extra and changed entries, and no
// repeated owner/privilege noise for an object that is missing altogether.
#include <doctest/doctest.h>

#include "engine/verify/detail/catalog_entries.hpp"

using namespace pghaul::engine;
using detail::catalog_entries;

TEST_CASE("catalog entries compare by key") {
    catalog_entries s = {
        {{"schema", "table public.a", ""}, ""},
        {{"schema", "index public.a_idx", ""}, "CREATE INDEX a_idx ON public.a USING btree (x)"},
        {{"schema", "table public.gone", ""}, ""},
        {{"owner", "table public.gone", ""}, "app"},
        {{"privileges", "table public.gone", "reader"}, "SELECT"},
        {{"privileges", "table public.a", "reader"}, "SELECT"},
        {{"owner", "table public.a", ""}, "app"},
        {{"sequence", "sequence public.s", ""}, "last_value 42, called"},
        {{"setting", "database setting work_mem", ""}, "12MB"},
    };
    catalog_entries t = {
        {{"schema", "table public.a", ""}, ""},
        {{"schema", "index public.a_idx", ""}, "CREATE INDEX a_idx ON public.a USING btree (y)"},
        {{"schema", "table public.new", ""}, ""},
        {{"owner", "table public.a", ""}, "app"},
        {{"sequence", "sequence public.s", ""}, "last_value 1, not called"},
        {{"setting", "database setting work_mem", ""}, "12MB"},
    };
    verify_result r;
    detail::compare_entries(s, t, r);
    std::vector<std::string> got;
    for (auto& m : r.mismatches) got.push_back(m.kind + " " + m.object + ": " + m.source + " / " + m.target);
    CHECK(got == std::vector<std::string>{
                     "privileges table public.a, grantee reader: SELECT / ",
                     "definition index public.a_idx: CREATE INDEX a_idx ON public.a USING btree (x) / "
                     "CREATE INDEX a_idx ON public.a USING btree (y)",
                     "missing table public.gone:  / ",
                     "extra table public.new:  / ",
                     "sequence sequence public.s: last_value 42, called / last_value 1, not called",
                 });
    CHECK(r.objects == 4);
    CHECK(r.privileges == 4);
    CHECK(r.sequences == 1);
    CHECK(r.settings == 1);
    CHECK_FALSE(r.equal());
    auto text = render_verify_text(r);
    CHECK(text.find("MISMATCH [missing] table public.gone\n    source: exists\n    target: (none)") !=
          std::string::npos);
    CHECK(text.find("DIFFERENT:") != std::string::npos);
    CHECK(verify_json(r)["mismatches"].size() == 5);
}

TEST_CASE("equal catalogs give an equal result") {
    catalog_entries s = {{{"schema", "table public.a", ""}, ""}, {{"owner", "table public.a", ""}, "app"}};
    verify_result r;
    detail::compare_entries(s, s, r);
    CHECK(r.equal());
    CHECK(render_verify_text(r).find("equal:") == 0);
    CHECK(verify_json(r)["equal"] == true);
}
