// The task graph's rules: dependencies, ranking, affinity and batching.
#include "engine/copy/task_graph.hpp"

#include <algorithm>

namespace pghaul::engine {
namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

bool is_load(const task& t) {
    return std::holds_alternative<load_step>(t.what);
}

}  // namespace

std::string step_name(const step& s) {
    return std::visit(
        overloaded{[](const prepare_step&) { return "schema"; },
                   [](const load_step& l) { return l.part ? "part" : "copy"; },
                   [](const landed_step&) { return "count"; }, [](const index_step&) { return "index"; },
                   [](const attach_step&) { return "constraints"; },
                   [](const table_post_step&) { return "post-data"; },
                   [](const foreign_key_step&) { return "foreign key"; },
                   [](const finish_step&) { return "finish"; }},
        s);
}

source_id task_graph::add_source(int reader_cap, std::int64_t bytes) {
    sources_.emplace_back();
    sources_.back().reader_cap = reader_cap;
    const source_id s = sources_.size() - 1;
    queue(s, prepare_step{}, bytes);
    return s;
}

void task_graph::prepared(source_id s, source_plan plan) {
    auto& st = sources_.at(s);
    st.prepared = true;
    st.plan = std::move(plan);
    st.outstanding = st.plan.tables.size() + st.plan.foreign_keys.size();
    st.fks_waiting = st.plan.foreign_keys;
    if (st.outstanding == 0) return queue(s, finish_step{});
    for (std::size_t i = 0; i < st.plan.tables.size(); ++i) {
        const auto& t = st.plan.tables[i];
        if (t.loaded_earlier) {
            queue_post_data(s, i);
            continue;
        }
        if (t.parts == 0) {
            queue(s, load_step{i, std::nullopt}, t.bytes);
            continue;
        }
        st.parts_left[i] = t.parts;
        for (std::size_t p = 0; p < t.parts; ++p)
            queue(s, load_step{i, p}, t.bytes / static_cast<std::int64_t>(t.parts));
    }
}

void task_graph::queue(source_id s, step what, std::int64_t bytes) {
    task t{s, std::move(what), 0, bytes};
    if (is_load(t)) sources_[s].queued_load_bytes += bytes;
    queue_.push_back(std::move(t));
}

// A split table is never small: its parts exist because it is not.
bool task_graph::small(source_id s, std::size_t table) const {
    const auto& t = sources_[s].plan.tables.at(table);
    return t.bytes <= opt_.small_table_bytes && t.parts == 0;
}

// A table's rows are in: its post-data. A small table's goes in one task
// (batched at take()); a big table's index builds each get their own.
void task_graph::queue_post_data(source_id s, std::size_t i) {
    auto& st = sources_[s];
    const auto& t = st.plan.tables[i];
    const bool after = t.has_after && !t.attached_earlier;
    if (small(s, i)) {
        const bool analyze = st.plan.analyze && !t.attached_earlier;
        if (analyze && t.bytes > opt_.analyze_together_bytes) return queue(s, table_post_step{{i}, {i}});
        if (analyze) st.analyze_later.push_back(i);
        if (t.indexes.empty() && !after) return table_complete(s, i);
        return queue(s, table_post_step{{i}, {}});
    }
    if (t.indexes.empty()) return indexed(s, i);
    st.indexes_left[i] = t.indexes.size();
    for (auto idx : t.indexes) queue(s, index_step{i, idx});
}

void task_graph::indexed(source_id s, std::size_t i) {
    const auto& st = sources_[s];
    const auto& t = st.plan.tables[i];
    if ((t.has_after || st.plan.analyze) && !t.attached_earlier) return queue(s, attach_step{i});
    table_complete(s, i);
}

// Foreign keys whose two tables are now complete can go: small ones in one
// task, a big one (its validation scans) on its own.
void task_graph::table_complete(source_id s, std::size_t i) {
    auto& st = sources_[s];
    st.complete.insert(i);
    std::vector<std::size_t> batch;
    std::erase_if(st.fks_waiting, [&](const source_plan::foreign_key& fk) {
        if (!st.complete.contains(fk.table) || !st.complete.contains(fk.referenced)) return false;
        if (small(s, fk.table) && small(s, fk.referenced))
            batch.push_back(fk.id);
        else
            queue(s, foreign_key_step{{fk.id}, false},
                  st.plan.tables[fk.table].bytes + st.plan.tables[fk.referenced].bytes);
        return true;
    });
    if (!batch.empty()) queue(s, foreign_key_step{std::move(batch), true});
    unit_complete(s);
}

void task_graph::unit_complete(source_id s) {
    if (--sources_[s].outstanding == 0) queue(s, finish_step{});
}

void task_graph::ended(const task& t) {
    auto& st = sources_.at(t.source);
    --running_;
    --st.running;
    if (is_load(t)) --st.loading;
    posting_.erase(t.worker);
    if (auto* f = std::get_if<foreign_key_step>(&t.what); f && f->small) st.small_fks_running = false;
}

void task_graph::completed(const task& t) {
    auto& st = sources_.at(t.source);
    ended(t);
    if (st.failed) return;
    const source_id s = t.source;
    std::visit(overloaded{[](const prepare_step&) {},
                          [&](const load_step& l) {
                              if (!l.part) return queue_post_data(s, l.table);
                              if (--st.parts_left[l.table] == 0) queue(s, landed_step{l.table});
                          },
                          [&](const landed_step& l) { queue_post_data(s, l.table); },
                          [&](const index_step& x) {
                              if (--st.indexes_left[x.table] == 0) indexed(s, x.table);
                          },
                          [&](const attach_step& a) { table_complete(s, a.table); },
                          [&](const table_post_step& p) {
                              for (auto i : p.tables) table_complete(s, i);
                          },
                          [&](const foreign_key_step& f) {
                              for (std::size_t n = 0; n < f.foreign_keys.size(); ++n) unit_complete(s);
                          },
                          [&](const finish_step&) { st.done = true; }},
               t.what);
}

bool task_graph::retry(const task& t) {
    auto& st = sources_.at(t.source);
    ended(t);
    if (st.failed) return false;
    task again = t;
    ++again.attempt;
    if (is_load(again)) st.queued_load_bytes += again.bytes;
    queue_.push_back(std::move(again));
    return true;
}

void task_graph::abandon(const task& t) {
    ended(t);
}

void task_graph::fail_source(source_id s) {
    sources_.at(s).failed = true;
    std::erase_if(queue_, [&](const task& t) { return t.source == s; });
}

// Adding a foreign key locks both its tables until commit (SHARE ROW
// EXCLUSIVE, which conflicts with itself): two batches of one source on two
// connections wait for each other, up to a deadlock. One at a time, then;
// the next one takes all that became ready meanwhile.
bool task_graph::runnable(const task& t, const worker_view& v) const {
    const auto& st = sources_[t.source];
    if (auto* f = std::get_if<foreign_key_step>(&t.what)) return !(f->small && st.small_fks_running);
    if (!is_load(t)) return true;
    return st.reader_cap <= 0 || v.reader == t.source || st.readers < st.reader_cap;
}

// Post-data first, then finishing and preparing sources, then loads largest
// first; a source's tail loads before everything. Small tables' post-data
// waits for the loads, so it runs in a few big batches (2000 tiny tables:
// 647 batches when each ran as soon as its table landed, 20 after).
int task_graph::rank(const task& t) const {
    return std::visit(
        overloaded{[](const landed_step&) { return 0; }, [](const index_step&) { return 0; },
                   [](const table_post_step&) { return 11; }, [](const attach_step&) { return 2; },
                   [](const foreign_key_step&) { return 4; }, [](const finish_step&) { return 6; },
                   [](const prepare_step&) { return 8; },
                   [&](const load_step&) {
                       return sources_[t.source].queued_load_bytes <= opt_.tail_bytes ? -1 : 10;
                   }},
        t.what);
}

bool task_graph::better(const task& a, const task& b) const {
    const int ra = rank(a), rb = rank(b);
    return ra < rb || (ra == rb && a.bytes > b.bytes);
}

int task_graph::workers_on(source_id s, std::size_t except) const {
    int n = 0;
    for (auto& [w, src] : where_)
        if (w != except && src == s) ++n;
    return n;
}

// Workers on the source that will want a share of its post-data: all but
// those already running a batch of it.
int task_graph::sharers_on(source_id s, std::size_t except) const {
    int n = 0;
    for (auto& [w, src] : where_)
        if (w != except && src == s && !posting_.contains(w)) ++n;
    return n;
}

std::optional<task> task_graph::take(std::size_t worker, const worker_view& view) {
    if (view.target)
        where_[worker] = *view.target;
    else
        where_.erase(worker);
    std::optional<std::size_t> own, any, fresh;
    auto consider = [&](std::optional<std::size_t>& best, std::size_t i) {
        if (!best || better(queue_[i], queue_[*best])) best = i;
    };
    for (std::size_t i = 0; i < queue_.size(); ++i) {
        const auto& t = queue_[i];
        if (!runnable(t, view)) continue;
        consider(any, i);
        if (view.target == t.source)
            consider(own, i);
        else if (workers_on(t.source, worker) == 0)
            consider(fresh, i);
    }
    std::optional<std::size_t> pick;
    if (own) {
        // Stay, unless a load elsewhere is big enough to be worth starting
        // now (largest first matters for the night's length; a reconnect
        // costs milliseconds).
        const auto& home = queue_[*own];
        const auto& away = queue_[*any];
        const bool home_is_light = is_load(home) || std::holds_alternative<prepare_step>(home.what);
        pick = (home_is_light && is_load(away) && away.source != home.source &&
                away.bytes >= opt_.switch_bytes && away.bytes > 8 * home.bytes)
                   ? any
                   : own;
    } else {
        pick = fresh ? fresh : any;
    }
    if (!pick) return std::nullopt;
    // Keep a source read from while its loads wait: a big table's index
    // builds go to this worker only if another one is reading from that
    // source; else this one reads and a worker that comes free builds them.
    // Over a slow link (an agent's, 100 Mbit/s) both workers building at once
    // left the link idle for a fifth of the copy (bench/README.md).
    if (const auto& p = queue_[*pick];
        where_.size() > 1 && sources_[p.source].loading == 0 &&
        (std::holds_alternative<index_step>(p.what) || std::holds_alternative<landed_step>(p.what) ||
         std::holds_alternative<attach_step>(p.what))) {
        std::optional<std::size_t> load;
        for (std::size_t i = 0; i < queue_.size(); ++i)
            if (queue_[i].source == p.source && is_load(queue_[i]) && runnable(queue_[i], view))
                consider(load, i);
        if (load) pick = load;
    }
    task t = pop(*pick);
    coalesce(t, sharers_on(t.source, worker) + 1);
    ++running_;
    ++sources_[t.source].running;
    if (is_load(t)) ++sources_[t.source].loading;
    where_[worker] = t.source;
    if (std::holds_alternative<table_post_step>(t.what)) posting_.insert(worker);
    if (auto* f = std::get_if<foreign_key_step>(&t.what); f && f->small)
        sources_[t.source].small_fks_running = true;
    t.worker = worker;
    return t;
}

task task_graph::pop(std::size_t i) {
    task t = std::move(queue_[i]);
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    if (is_load(t)) sources_[t.source].queued_load_bytes -= t.bytes;
    return t;
}

// Small tables' post-data and small foreign keys of the same source that are
// ready together run together: one transaction, one commit. Workers on the
// same source share what is ready (each takes its part), so a lone source
// does not build its indexes on one connection while the others wait.
void task_graph::coalesce(task& t, int sharing) {
    if (t.attempt > 0) return;  // a retry runs what failed, no more
    if (auto* post = std::get_if<table_post_step>(&t.what)) {
        std::size_t ready = post->tables.size();
        for (auto& q : queue_)
            if (auto* other = std::get_if<table_post_step>(&q.what);
                other && q.source == t.source && q.attempt == 0)
                ready += other->tables.size();
        const std::size_t share =
            (ready + static_cast<std::size_t>(sharing) - 1) / static_cast<std::size_t>(sharing);
        const std::size_t limit = std::min(opt_.max_batch_tables, share);
        for (std::size_t i = 0; i < queue_.size() && post->tables.size() < limit;) {
            auto* other = std::get_if<table_post_step>(&queue_[i].what);
            if (!other || queue_[i].source != t.source || queue_[i].attempt > 0) {
                ++i;
                continue;
            }
            post->tables.insert(post->tables.end(), other->tables.begin(), other->tables.end());
            post->analyze.insert(post->analyze.end(), other->analyze.begin(), other->analyze.end());
            queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    } else if (auto* fks = std::get_if<foreign_key_step>(&t.what); fks && fks->small) {
        for (std::size_t i = 0; i < queue_.size();) {
            auto* other = std::get_if<foreign_key_step>(&queue_[i].what);
            if (!other || !other->small || queue_[i].source != t.source || queue_[i].attempt > 0) {
                ++i;
                continue;
            }
            fks->foreign_keys.insert(fks->foreign_keys.end(), other->foreign_keys.begin(),
                                     other->foreign_keys.end());
            queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
}

}  // namespace pghaul::engine
