// Plan rendering. Tables are already sorted largest first by the catalog query.
#include "engine/copy/dry_run.hpp"
#include "protocol/size.hpp"

#include <fmt/format.h>

#include <map>

namespace pghaul::engine {

std::string describe_tables(const source_catalog& cat) {
    std::string out = fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}\n", "#", "table", "size",
                                  "rows (est)", "indexes", "parts", "format");
    int n = 0;
    for (auto& t : cat.tables)
        out += fmt::format("  {:>4}  {:<48} {:>10} {:>12} {:>7} {:>5}  {}{}\n", ++n, t.display(),
                           format_size(t.bytes), t.estimated_rows, t.index_count,
                           t.parts.empty() ? 1 : t.parts.size(),
                           t.data_excluded ? "rows left out (--exclude-table-data)"
                           : t.binary()    ? "binary"
                                           : "text",
                           t.binary() || t.data_excluded ? "" : " (" + t.text_reason + ")");
    if (!cat.excluded.empty()) {
        out += "  left out (--table, --schema, --exclude-table, --exclude-schema):\n";
        for (auto& e : cat.excluded) out += "        " + e + "\n";
    }
    return out;
}

namespace {

source_plan plan_from_catalog(const source_catalog& cat, bool analyze) {
    source_plan p;
    p.analyze = analyze;
    std::map<std::uint32_t, std::size_t> position;
    for (std::size_t i = 0; i < cat.tables.size(); ++i) {
        position[cat.tables[i].oid] = i;
        source_plan::table t;
        t.bytes = cat.tables[i].bytes;
        t.parts = cat.tables[i].parts.size();
        p.tables.push_back(t);
    }
    for (auto& [name, table] : cat.index_owner)
        if (auto it = position.find(table); it != position.end())
            p.tables[it->second].indexes.push_back(p.tables[it->second].indexes.size());
    for (auto& [name, c] : cat.constraint_owner)
        if (auto it = position.find(c.table); it != position.end()) p.tables[it->second].has_after = true;
    std::size_t id = 0;
    for (auto& [name, fk] : cat.foreign_keys) {
        auto t = position.find(fk.table), r = position.find(fk.referenced);
        if (t != position.end() && r != position.end())
            p.foreign_keys.push_back({id++, t->second, r->second});
    }
    return p;
}

// How many objects a step covers, for the folded listing.
std::size_t size_of(const step& s) {
    if (auto* p = std::get_if<table_post_step>(&s)) return p->tables.size();
    if (auto* f = std::get_if<foreign_key_step>(&s)) return f->foreign_keys.size();
    return 1;
}

}  // namespace

std::string describe_steps(const source_catalog& cat, bool analyze) {
    task_graph g;
    g.add_source(0);
    std::vector<std::pair<std::string, std::vector<std::size_t>>> runs;  // kind, sizes of its tasks
    task_graph::worker_view view;
    while (auto t = g.take(0, view)) {
        if (std::holds_alternative<prepare_step>(t->what)) g.prepared(0, plan_from_catalog(cat, analyze));
        view.target = view.reader = 0;
        auto name = step_name(t->what);
        if (runs.empty() || runs.back().first != name) runs.push_back({name, {}});
        runs.back().second.push_back(size_of(t->what));
        g.completed(*t);
    }
    std::string out;
    for (auto& [name, sizes] : runs) {
        out += (out.empty() ? "" : " -> ") + name;
        std::size_t objects = 0;
        for (auto n : sizes) objects += n;
        if (name == "post-data" || name == "foreign key")
            out +=
                fmt::format(" ({} {} in {} transaction{})", objects, name == "post-data" ? "tables" : "keys",
                            sizes.size(), sizes.size() == 1 ? "" : "s");
        else if (sizes.size() > 1)
            out += fmt::format(" x{}", sizes.size());
    }
    return out;
}

}  // namespace pghaul::engine
