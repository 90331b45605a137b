#include <doctest/doctest.h>

#include "engine/copy/schema_plan.hpp"

using pghaul::dump_entry;
using pghaul::engine::entry_display;

TEST_CASE("an entry as the log names it: a constraint by its name on its table, not its tag quoted whole") {
    CHECK(entry_display({"orders orders_customer_fkey", "FK CONSTRAINT", "public", "app", ""}) ==
          "FK CONSTRAINT orders_customer_fkey on public.orders");
    CHECK(entry_display({"t t_pkey", "CONSTRAINT", "app", "app", ""}) == "CONSTRAINT t_pkey on app.t");
    CHECK(entry_display({"Orders note_change", "TRIGGER", "public", "app", ""}) ==
          "TRIGGER note_change on public.\"Orders\"");
    CHECK(entry_display({"orders_pkey", "INDEX", "public", "app", ""}) == "INDEX public.orders_pkey");
    CHECK(entry_display({"app", "SCHEMA", "-", "app", ""}) == "SCHEMA app");
}
