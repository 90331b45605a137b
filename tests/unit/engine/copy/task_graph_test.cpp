// The copy plan's rules, with no server: dependencies, ranking, affinity,
// caps, batching, retry and a failed source's removal.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/copy/task_graph.hpp"

using namespace pghaul::engine;

namespace {

constexpr std::int64_t MB = 1 << 20;
constexpr std::int64_t KB = 1 << 10;

source_plan::table table(std::int64_t bytes, std::vector<std::size_t> indexes = {}, bool after = false) {
    source_plan::table t;
    t.bytes = bytes;
    t.indexes = std::move(indexes);
    t.has_after = after;
    return t;
}

// "copy 2" for a load of table 2, "post-data 0,1" for a batch, and so on.
std::string describe(const task& t) {
    std::string out = step_name(t.what);
    auto list = [&](const std::vector<std::size_t>& v) {
        out += " ";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
    };
    if (auto* l = std::get_if<load_step>(&t.what)) {
        out += " " + std::to_string(l->table);
        if (l->part) out += "/" + std::to_string(*l->part);
    } else if (auto* x = std::get_if<index_step>(&t.what)) {
        out += " " + std::to_string(x->table) + "." + std::to_string(x->index);
    } else if (auto* a = std::get_if<attach_step>(&t.what)) {
        out += " " + std::to_string(a->table);
    } else if (auto* d = std::get_if<landed_step>(&t.what)) {
        out += " " + std::to_string(d->table);
    } else if (auto* p = std::get_if<table_post_step>(&t.what)) {
        list(p->tables);
        if (!p->analyze.empty()) {
            out += " analyze";
            list(p->analyze);
        }
    } else if (auto* f = std::get_if<foreign_key_step>(&t.what)) {
        list(f->foreign_keys);
    }
    return out;
}

// One worker runs everything to the end, each task completing at once; the
// plan is handed over when the source's prepare is taken.
std::vector<std::string> run_alone(task_graph& g, const std::vector<source_plan>& plans) {
    std::vector<std::string> order;
    task_graph::worker_view view;
    while (auto t = g.take(0, view)) {
        order.push_back(std::to_string(t->source) + ": " + describe(*t));
        if (std::holds_alternative<prepare_step>(t->what)) g.prepared(t->source, plans.at(t->source));
        view.target = view.reader = t->source;
        g.completed(*t);
    }
    CHECK(g.drained());
    return order;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::size_t position(const std::vector<std::string>& v, const std::string& s) {
    auto it = std::find(v.begin(), v.end(), s);
    REQUIRE_MESSAGE(it != v.end(), s);
    return static_cast<std::size_t>(it - v.begin());
}

}  // namespace

TEST_CASE("a source is prepared, loaded largest first, indexed, constrained and finished") {
    graph_options opt;
    opt.tail_bytes = 0;  // no tail rule here: plain largest first
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    p.tables = {table(100 * MB, {0, 1}, true), table(300 * MB, {2}), table(200 * MB)};
    auto order = run_alone(g, {p});
    // Post-data of a landed table goes before the next load; loads largest first.
    CHECK(order == std::vector<std::string>{"0: schema", "0: copy 1", "0: index 1.2", "0: constraints 1",
                                            "0: copy 2", "0: constraints 2", "0: copy 0", "0: index 0.0",
                                            "0: index 0.1", "0: constraints 0", "0: finish"});
    CHECK(g.done(0));
}

TEST_CASE("without ANALYZE a big table with no constraints needs no attach step") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.analyze = false;
    p.tables = {table(100 * MB, {0})};
    CHECK(run_alone(g, {p}) ==
          std::vector<std::string>{"0: schema", "0: copy 0", "0: index 0.0", "0: finish"});
}

TEST_CASE("small tables: every index and constraint in one batched task, ANALYZE left to finish") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(100 * KB, {0, 1}, true), table(200 * KB, {2}), table(0), table(300 * KB, {}, true)};
    auto order = run_alone(g, {p});
    // All loads first (the source is in its tail), then one post-data batch.
    CHECK(order == std::vector<std::string>{"0: schema", "0: copy 3", "0: copy 1", "0: copy 0", "0: copy 2",
                                            "0: post-data 3,1,0", "0: finish"});
    // Table 2 has no indexes or constraints: it is complete once loaded, yet still analyzed.
    auto later = g.deferred_analyze(0);
    std::sort(later.begin(), later.end());
    CHECK(later == std::vector<std::size_t>{0, 1, 2, 3});
}

TEST_CASE("small tables over 1 MB are analyzed in their post-data step, on any worker; tiny ones at finish") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    // 4 MB with an index, 3 MB with none (it gets a step of its own for its
    // ANALYZE), 100 kB and an empty table (left to finish's one statement).
    p.tables = {table(4 * MB, {0}), table(3 * MB), table(100 * KB, {1}), table(0)};
    auto order = run_alone(g, {p});
    CHECK(order == std::vector<std::string>{"0: schema", "0: copy 0", "0: copy 1", "0: copy 2", "0: copy 3",
                                            "0: post-data 0,1,2 analyze 0,1", "0: finish"});
    auto later = g.deferred_analyze(0);
    std::sort(later.begin(), later.end());
    CHECK(later == std::vector<std::size_t>{2, 3});

    // Without ANALYZE (--no-analyze), the table without indexes needs no step.
    task_graph quiet;
    quiet.add_source(0);
    p.analyze = false;
    CHECK(run_alone(quiet, {p}) == std::vector<std::string>{"0: schema", "0: copy 0", "0: copy 1",
                                                            "0: copy 2", "0: copy 3", "0: post-data 0,2",
                                                            "0: finish"});
    CHECK(quiet.deferred_analyze(0).empty());
}

TEST_CASE("a foreign key waits for both of its tables; ready small ones go together") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(100 * KB, {0}), table(200 * KB, {1}), table(300 * KB, {2})};
    p.foreign_keys = {{7, 0, 1}, {8, 2, 1}, {9, 2, 2}};
    auto order = run_alone(g, {p});
    CHECK(order == std::vector<std::string>{"0: schema", "0: copy 2", "0: copy 1", "0: copy 0",
                                            "0: post-data 2,1,0", "0: foreign key 9,8,7", "0: finish"});
}

TEST_CASE("a foreign key between big tables runs alone, after both tables are complete") {
    graph_options opt;
    opt.tail_bytes = 0;
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    p.analyze = false;
    p.tables = {table(300 * MB, {0}), table(100 * MB, {1}), table(200 * MB, {2})};
    p.foreign_keys = {{5, 1, 2}};
    auto order = run_alone(g, {p});
    auto fk = position(order, "0: foreign key 5");
    CHECK(fk > position(order, "0: index 1.1"));
    CHECK(fk > position(order, "0: index 2.2"));
    CHECK(fk < position(order, "0: finish"));
}

TEST_CASE("a split table's post-data waits for its last part") {
    graph_options opt;
    opt.tail_bytes = 0;
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    p.analyze = false;
    p.tables = {table(900 * MB, {0})};
    p.tables[0].parts = 3;
    task_graph::worker_view view{0, 0};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    auto a = g.take(0, view), b = g.take(1, view), c = g.take(2, view);
    REQUIRE((a && b && c));
    CHECK(!g.take(3, view));  // nothing else can run until the parts are in
    g.completed(*a);
    g.completed(*c);
    CHECK(!g.take(0, view));
    g.completed(*b);
    auto landed = g.take(0, view);
    REQUIRE(landed);
    CHECK(describe(*landed) == "count 0");
    g.completed(*landed);
    auto idx = g.take(0, view);
    REQUIRE(idx);
    CHECK(describe(*idx) == "index 0.0");
}

TEST_CASE("a source in its tail has its loads first, even before post-data") {
    task_graph g;  // tail: 64 MB
    g.add_source(0);
    source_plan p;
    p.tables = {table(100 * MB, {0}), table(10 * MB, {1}), table(5 * MB, {2})};
    auto order = run_alone(g, {p});
    // After the big load, 15 MB are left: the tail loads go before its index.
    CHECK(position(order, "0: copy 1") < position(order, "0: index 0.0"));
    CHECK(position(order, "0: copy 2") < position(order, "0: index 0.0"));
}

TEST_CASE("--resume: tables loaded earlier queue only their post-data") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(20 * MB, {0, 1}), table(2 * MB, {2}, true), table(30 * MB)};
    p.tables[0].loaded_earlier = true;
    p.tables[0].indexes = {1};  // index 0 was built before the interruption
    p.tables[1].loaded_earlier = true;
    p.tables[1].attached_earlier = true;
    p.tables[1].indexes = {};
    auto order = run_alone(g, {p});
    CHECK(!contains(order, "0: copy 0"));
    CHECK(!contains(order, "0: copy 1"));
    CHECK(contains(order, "0: copy 2"));
    CHECK(contains(order, "0: index 0.1"));
    CHECK(!contains(order, "0: index 0.0"));
    CHECK(!contains(order, "0: post-data 1"));
    CHECK(order.back() == "0: finish");
    CHECK(g.deferred_analyze(0).empty());  // table 1 was analyzed before
}

TEST_CASE("an empty source goes straight to finish") {
    task_graph g;
    g.add_source(0);
    CHECK(run_alone(g, {source_plan{}}) == std::vector<std::string>{"0: schema", "0: finish"});
}

TEST_CASE("the reader cap: a worker without a reader there may not open one past the cap") {
    task_graph g;
    g.add_source(1);
    source_plan p;
    p.tables = {table(300 * MB), table(200 * MB)};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    auto first = g.take(0, {0, std::nullopt});
    REQUIRE(first);
    g.reader_opened(0);
    CHECK(!g.take(1, {std::nullopt, std::nullopt}));  // cap 1, held by worker 0
    g.completed(*first);
    auto second = g.take(0, {0, 0});  // worker 0 holds the reader: it may
    CHECK(second);
}

TEST_CASE("J workers start J sources' pipelines before any source gets a second worker") {
    task_graph g;
    std::vector<source_plan> plans(3);
    for (auto& p : plans) p.tables = {table(1 * MB, {0}), table(2 * MB, {1})};
    for (int i = 0; i < 3; ++i) g.add_source(0);
    auto a = g.take(0, {});
    auto b = g.take(1, {});
    REQUIRE((a && b));
    CHECK(a->source != b->source);
    g.prepared(a->source, plans[a->source]);
    g.completed(*a);
    // Worker 0 stays home: its source's loads, not the third source's prepare.
    auto next = g.take(0, {a->source, a->source});
    REQUIRE(next);
    CHECK(next->source == a->source);
    CHECK(std::holds_alternative<load_step>(next->what));
    // Worker 1, its prepare still running, is not asked; a third worker goes to the unattended source.
    auto c = g.take(2, {});
    REQUIRE(c);
    CHECK(c->source != a->source);
    CHECK(c->source != b->source);
}

TEST_CASE("the biggest sources are prepared first, wherever the manifest lists them") {
    task_graph g;
    for (std::int64_t bytes : {5 * MB, 4 * MB, 900 * MB, 6 * MB}) g.add_source(0, bytes);
    auto first = g.take(0, {});
    auto second = g.take(1, {});
    REQUIRE((first && second));
    CHECK(std::holds_alternative<prepare_step>(first->what));
    CHECK(first->source == 2);
    CHECK(second->source == 3);
    // Equal sizes (or none known) keep the manifest's order.
    task_graph same;
    for (int i = 0; i < 3; ++i) same.add_source(0);
    CHECK(same.take(0, {})->source == 0);
}

TEST_CASE("a worker with nothing left at home helps another source rather than idling") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(3 * MB, {0}), table(2 * MB, {1}), table(1 * MB)};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    auto w0 = g.take(0, {0, 0});
    auto w1 = g.take(1, {});
    REQUIRE((w0 && w1));
    CHECK(w1->source == 0);
}

TEST_CASE("a source is never left unread while its loads wait: with no other reader, a worker reads first") {
    graph_options opt;
    opt.tail_bytes = 0;
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    p.tables = {table(300 * MB, {0}), table(200 * MB, {1}), table(100 * MB, {2})};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    auto a = g.take(0, {0, 0});
    auto b = g.take(1, {0, 0});
    REQUIRE((a && b));
    CHECK(describe(*a) == "copy 0");
    CHECK(describe(*b) == "copy 1");
    // Table 1 lands while worker 0 still reads table 0: worker 1 builds its index.
    g.completed(*b);
    auto c = g.take(1, {0, 0});
    REQUIRE(c);
    CHECK(describe(*c) == "index 1.1");
    // Table 0 lands while worker 1 builds: nobody would read, so worker 0 reads
    // table 2, and table 0's index waits for the builder.
    g.completed(*a);
    auto d = g.take(0, {0, 0});
    REQUIRE(d);
    CHECK(describe(*d) == "copy 2");
    g.completed(*c);
    auto e = g.take(1, {0, 0});
    REQUIRE(e);
    CHECK(describe(*e) == "index 0.0");
}

TEST_CASE("one worker alone builds a landed table's indexes before its next load (the table is in cache)") {
    graph_options opt;
    opt.tail_bytes = 0;
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    p.tables = {table(300 * MB, {0}), table(200 * MB, {1})};
    auto order = run_alone(g, {p});
    CHECK(position(order, "0: index 0.0") < position(order, "0: copy 1"));
}

TEST_CASE("affinity: a worker leaves its source only for a much bigger load") {
    task_graph g;
    g.add_source(0);
    g.add_source(0);
    source_plan small_one, big_one;
    small_one.tables = {table(10 * MB), table(5 * MB), table(90 * MB)};
    big_one.tables = {table(2000 * MB), table(100 * MB), table(80 * MB)};
    auto p0 = g.take(0, {});
    auto p1 = g.take(1, {});
    g.prepared(p0->source, p0->source == 0 ? small_one : big_one);
    g.prepared(p1->source, p1->source == 0 ? small_one : big_one);
    g.completed(*p0);
    g.completed(*p1);
    // Worker 2 sits on source 0; source 1's 2 GB load is worth the switch.
    auto t = g.take(2, {0, 0});
    REQUIRE(t);
    CHECK(t->source == 1);
    CHECK(describe(*t) == "copy 0");
    // Now the biggest load elsewhere is 100 MB against 90 MB at home: stay.
    auto u = g.take(3, {0, 0});
    REQUIRE(u);
    CHECK(u->source == 0);
    CHECK(describe(*u) == "copy 2");
}

TEST_CASE("a failed source's tasks vanish and its retries are dropped") {
    task_graph g;
    g.add_source(0);
    g.add_source(0);
    source_plan p;
    p.tables = {table(300 * MB), table(200 * MB)};
    auto a = g.take(0, {});
    auto b = g.take(1, {});
    g.prepared(a->source, p);
    g.prepared(b->source, p);
    g.completed(*a);
    g.completed(*b);
    auto load = g.take(0, {0, 0});
    REQUIRE(load);
    REQUIRE(load->source == 0);
    g.fail_source(0);
    CHECK(!g.retry(*load));  // nothing to redo for a failed source
    std::vector<source_id> seen;
    task_graph::worker_view view{1, 1};
    while (auto t = g.take(1, view)) {
        seen.push_back(t->source);
        g.completed(*t);
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](source_id s) { return s == 1; }));
    CHECK(g.done(1));
    CHECK(!g.done(0));
    CHECK(g.drained());
}

TEST_CASE("a retry is queued once per attempt and runs alone") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(100 * KB, {0}), table(200 * KB, {1})};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    task_graph::worker_view view{0, 0};
    auto l1 = g.take(0, view), l2 = g.take(0, view);
    g.completed(*l1);
    g.completed(*l2);
    auto post = g.take(0, view);
    REQUIRE(post);
    CHECK(describe(*post) == "post-data 1,0");
    CHECK(g.retry(*post));
    auto again = g.take(0, view);
    REQUIRE(again);
    CHECK(again->attempt == 1);
    CHECK(describe(*again) == "post-data 1,0");
    CHECK(g.queued() == 0);
    CHECK(g.retry(*again));
    auto third = g.take(0, view);
    REQUIRE(third);
    CHECK(third->attempt == 2);
    g.completed(*third);
    auto fin = g.take(0, view);
    REQUIRE(fin);
    CHECK(describe(*fin) == "finish");
}

TEST_CASE("post-data batches stop at the batch size") {
    graph_options opt;
    opt.max_batch_tables = 3;
    task_graph g(opt);
    g.add_source(0);
    source_plan p;
    for (int i = 0; i < 7; ++i) p.tables.push_back(table(MB, {static_cast<std::size_t>(i)}));
    auto order = run_alone(g, {p});
    int batches = 0;
    for (auto& o : order) batches += o.starts_with("0: post-data");
    CHECK(batches == 3);
}

TEST_CASE("workers on the same source split its ready post-data between them") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    for (int i = 0; i < 10; ++i) p.tables.push_back(table(MB, {static_cast<std::size_t>(i)}));
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    task_graph::worker_view home{0, 0};
    std::vector<task> loads;
    while (auto t = g.take(0, home)) loads.push_back(*t);
    for (auto& t : loads) g.completed(t);
    g.take(1, home);  // worker 1 sits on the source too (and takes nothing: all is post-data now)
    auto a = g.take(0, home);
    REQUIRE(a);
    auto* batch = std::get_if<table_post_step>(&a->what);
    REQUIRE(batch);
    CHECK(batch->tables.size() == 5);
}

TEST_CASE("one batch of small foreign keys at a time per source; the next takes all that became ready") {
    task_graph g;
    g.add_source(0);
    source_plan p;
    p.tables = {table(MB, {0}), table(MB, {1}), table(MB, {2}), table(MB, {3})};
    p.foreign_keys = {{0, 0, 1}, {1, 2, 3}, {2, 3, 1}};
    auto prep = g.take(0, {});
    g.prepared(0, p);
    g.completed(*prep);
    task_graph::worker_view home{0, 0};
    std::vector<task> loads;
    while (auto t = g.take(0, home)) loads.push_back(*t);
    CHECK(!g.take(1, home));  // worker 1 joins the source: nothing to do yet
    for (auto& t : loads) g.completed(t);
    // Two workers, each with half of the post-data.
    auto a = g.take(0, home);
    auto b = g.take(1, home);
    REQUIRE((a && b));
    g.completed(*a);
    auto fk1 = g.take(0, home);
    REQUIRE(fk1);
    REQUIRE(std::holds_alternative<foreign_key_step>(fk1->what));
    g.completed(*b);  // makes the other foreign keys ready while the first batch runs
    CHECK(!g.take(1, home));
    g.completed(*fk1);
    auto fk2 = g.take(1, home);
    REQUIRE(fk2);
    CHECK(std::get<foreign_key_step>(fk2->what).foreign_keys.size() +
              std::get<foreign_key_step>(fk1->what).foreign_keys.size() ==
          3);
}
