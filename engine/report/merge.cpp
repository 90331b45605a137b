// The shards' reports of one sharded run as one report: the checks that they
// are of one split, the sources no report has, the run's exit code.
#include "engine/report/merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "engine/report/detail/html.hpp"

namespace pghaul::engine {
namespace {

using detail::json_arr;
using detail::json_num;
using detail::json_obj;
using detail::json_str;
using nlohmann::json;

// Far beyond any fleet; a hand-edited count must not make a billion entries.
constexpr long long max_shards = 100000;

std::string quote(const std::string& s) {
    return "\"" + s + "\"";
}

struct shard {
    int index = 0, count = 1;
    const shard_report* in = nullptr;
    const json& assignment() const { return json_obj(json_obj(in->report, "shard"), "assignment"); }
};

// A shard's report: "shard": {"index": I, "count": N, "assignment": {source: shard}} and
// its "exit_code". Absent "shard": a run's report without --shard.
std::optional<shard> shard_of(const shard_report& r) {
    const auto it = r.report.find("shard");
    if (it == r.report.end()) return std::nullopt;
    const auto& s = *it;
    auto integer = [](const json& o, const char* k, long long from, long long to) {
        return o.is_object() && o.contains(k) && o[k].is_number_integer() && o[k].get<long long>() >= from &&
               o[k].get<long long>() < to;
    };
    bool ok = integer(s, "count", 1, max_shards + 1);
    const long long count = ok ? s["count"].get<long long>() : 0;
    ok = ok && integer(s, "index", 0, count) && (!s.contains("assignment") || s["assignment"].is_object());
    for (auto& [name, at] : json_obj(s, "assignment").items())
        ok = ok && at.is_number_integer() && at.get<long long>() >= 0 && at.get<long long>() < count;
    if (!ok)
        throw error(exit_code::usage,
                    "report " + quote(r.file) + " has a malformed \"shard\" (index, count, assignment)",
                    "give the reports pghaul run --shard I/N wrote, unedited");
    const auto& sources = json_arr(r.report, "sources");
    if (!integer(r.report, "exit_code", 0, 256) ||
        !std::all_of(sources.begin(), sources.end(), [](auto& src) { return src.is_object(); }))
        throw error(exit_code::usage,
                    "report " + quote(r.file) +
                        " is not a finished shard's report (its \"exit_code\" or "
                        "\"sources\" are missing or malformed)",
                    "give the reports pghaul run --shard I/N wrote, unedited");
    return shard{s["index"].get<int>(), static_cast<int>(count), &r};
}

// Same count, each index once, and the same source to shard map in all:
// shards that sized the sources apart split them apart.
void check_one_split(const std::vector<shard>& shards) {
    const auto& first = shards.front();
    for (std::size_t k = 0; k < shards.size(); ++k) {
        const auto& s = shards[k];
        if (s.count != first.count)
            throw error(exit_code::usage,
                        fmt::format("{} is shard {} of {} but {} is shard {} of {}", quote(first.in->file),
                                    first.index, first.count, quote(s.in->file), s.index, s.count),
                        "merge the reports of one sharded run (the same N in --shard I/N)");
        if (k > 0 && shards[k - 1].index == s.index)
            throw error(exit_code::usage,
                        fmt::format("{} and {} are both shard {} of {}", quote(shards[k - 1].in->file),
                                    quote(s.in->file), s.index, s.count),
                        "give each shard's report once (from the shard's latest run)");
        const auto &a = first.assignment(), &b = s.assignment();
        auto where = [](const json& split, const std::string& name) {
            const auto at = split.find(name);
            return at == split.end() ? std::string("no shard") : "shard " + at->dump();
        };
        for (const auto* side : {&a, &b})
            for (auto& [name, _] : side->items())
                if (where(a, name) != where(b, name))
                    throw error(exit_code::usage,
                                fmt::format("source {} is in {} by {} but in {} by {}: the shards split the "
                                            "manifest differently",
                                            quote(name), where(a, name), quote(first.in->file),
                                            where(b, name), quote(s.in->file)),
                                "re-run them with the same --sizes file");
    }
}

// "pghaul run fleet.toml --shard 3/8": the manifest as the shards' command line named it.
std::string rerun_command(const std::vector<shard>& shards, int index, int count) {
    std::string manifest = "MANIFEST";
    for (auto s = shards.rbegin(); s != shards.rend(); ++s) {
        const auto& cmd = json_arr(s->in->report, "command");
        for (std::size_t k = 0; k + 1 < cmd.size(); ++k)
            if (cmd[k] == "run" && cmd[k + 1].is_string() && !cmd[k + 1].get<std::string>().starts_with("-"))
                manifest = cmd[k + 1].get<std::string>();
    }
    return fmt::format("pghaul run {} --shard {}/{}", manifest, index, count);
}

json shard_entry(const shard_report& r, int index) {
    const int code = static_cast<int>(json_num(r.report, "exit_code", -1));
    json e = {{"index", index},
              {"file", r.file},
              {"status", code == 0                    ? "done"
                         : code == 130 || code == 143 ? "interrupted"
                                                      : "failed"},
              {"exit_code", code < 0 ? json() : json(code)},
              {"sources", json_arr(r.report, "sources").size()},
              {"seconds", json_num(r.report, "seconds")}};
    for (const char* k : {"started_at", "ended_at", "host", "pghaul_version", "error"})
        if (r.report.contains(k)) e[k] = r.report[k];
    if (auto from = json_str(json_obj(r.report, "shard"), "sizes_from"); !from.empty())
        e["sizes_from"] = from;
    return e;
}

// Roles are global on the target: the shards' lists joined, each name once.
// (A role named by sources of two shards is shared too, which neither
// shard's report can say.)
json merge_roles(const std::vector<const json*>& reports) {
    json out = {{"created", json::array()},
                {"to_create", json::array()},
                {"missing", json::object()},
                {"shared", json::array()}};
    auto add = [](json& list, const json& v) {
        if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
    };
    std::map<std::string, json> shared;
    for (const auto* r : reports) {
        const auto& roles = json_obj(*r, "roles");
        if (!out.contains("mode") && roles.contains("mode")) out["mode"] = roles["mode"];
        for (const char* k : {"created", "to_create"})
            for (auto& n : json_arr(roles, k)) add(out[k], n);
        for (auto& [source, names] : json_obj(roles, "missing").items()) out["missing"][source] = names;
        for (auto& s : json_arr(roles, "shared")) {
            auto& sources = shared.try_emplace(json_str(s, "role"), json::array()).first->second;
            for (auto& n : json_arr(s, "sources")) add(sources, n);
        }
    }
    for (auto& [role, sources] : shared) out["shared"].push_back({{"role", role}, {"sources", sources}});
    return out;
}

json missing_source(const std::string& name, int shard, const std::string& why, const std::string& rerun) {
    return {
        {"name", name},
        {"status", "missing"},
        {"shard", shard},
        {"tables", 0},
        {"tables_planned", 0},
        {"rows", 0},
        {"bytes", 0},
        {"seconds", 0.0},
        {"warnings", json::array()},
        {"timeline", json::array()},
        {"table_details", json::array()},
        {"error",
         {{"code", static_cast<int>(exit_code::partial)}, {"message", why}, {"hint", "run it: " + rerun}}}};
}

int merged_exit_code(const std::vector<int>& codes, bool missing) {
    if (missing) return static_cast<int>(exit_code::partial);
    // An interrupted run says so whatever else happened, as pghaul run does.
    for (int c : codes)
        if (c == 130 || c == 143) return c;
    if (std::all_of(codes.begin(), codes.end(), [&](int c) { return c == codes.front(); }))
        return codes.front();  // 0 when all are done
    return static_cast<int>(exit_code::partial);
}

// Every source the reports have, and whose it is: none may be in two.
std::map<std::string, const shard*> sources_by_name(const std::vector<shard>& shards) {
    std::map<std::string, const shard*> run_by;
    for (auto& s : shards)
        for (auto& src : json_arr(s.in->report, "sources")) {
            const auto name = json_str(src, "name");
            const auto [at, fresh] = run_by.emplace(name, &s);
            if (!fresh && at->second != &s)
                throw error(
                    exit_code::usage,
                    fmt::format("source {} is in two shards' reports: {} (shard {}) and {} (shard {})",
                                quote(name), quote(at->second->in->file), at->second->index,
                                quote(s.in->file), s.index),
                    "give each shard's report once; if they are, the shards split the manifest "
                    "differently: re-run them with the same --sizes file");
        }
    return run_by;
}

// The merged report as it is built, shard index by shard index.
struct merger {
    merged_report out;
    json sources = json::array(), entries = json::array(), links = json::array();
    std::vector<const json*> given;
    std::vector<int> codes;
    bool missing = false;
    double seconds = 0;

    void add(const shard& s, const std::string& rerun) {
        const auto& r = s.in->report;
        given.push_back(&r);
        std::size_t failed = 0;
        for (auto src : json_arr(r, "sources")) {
            failed += json_str(src, "status") == "failed";
            src["shard"] = s.index;
            sources.push_back(std::move(src));
        }
        for (auto link : json_arr(r, "links")) {
            link["shard"] = s.index;
            links.push_back(std::move(link));
        }
        seconds = std::max(seconds, json_num(r, "seconds"));
        codes.push_back(r["exit_code"].get<int>());
        entries.push_back(shard_entry(*s.in, s.index));
        if (codes.back() != 0)
            out.to_rerun.emplace_back(
                static_cast<exit_code>(codes.back()),
                fmt::format("shard {} of {} ({}) exited {}: {} of {} sources failed", s.index, s.count,
                            quote(s.in->file), codes.back(), failed, json_arr(r, "sources").size()),
                "its report says why; " + rerun + " --resume finishes it");
    }

    // Sources of shard `index`'s part of the split that no report has; `s` its report, if given.
    void add_missing(int index, int count, const shard* s, const std::vector<std::string>& absent,
                     const std::string& rerun) {
        if (!s)
            entries.push_back({{"index", index},
                               {"file", nullptr},
                               {"status", "missing"},
                               {"exit_code", nullptr},
                               {"sources", absent.size()},
                               {"seconds", 0.0}});
        if (s && absent.empty()) return;
        const auto why =
            s ? fmt::format("not in the report of shard {} of {} ({})", index, count, quote(s->in->file))
              : fmt::format("shard {} of {}: no report given", index, count);
        std::string names;
        for (auto& name : absent) {
            sources.push_back(missing_source(name, index, why, rerun));
            names += (names.empty() ? "" : ", ") + quote(name);
        }
        missing = true;
        out.to_rerun.emplace_back(
            exit_code::partial,
            s ? (absent.size() == 1 ? "source " + names + " is " : "sources " + names + " are ") + why
              : why + (absent.empty() ? "" : "; listed as missing: " + names),
            "run it: " + rerun + " (with --resume if it ran before), then merge again");
    }
};

}  // namespace

merged_report merge_shard_reports(const std::vector<shard_report>& in) {
    if (in.empty())
        throw error(exit_code::usage, "no report to merge",
                    "give the JSON reports of the shards (pghaul run --shard I/N --report FILE)");
    std::vector<shard> shards;
    for (auto& r : in) {
        if (auto s = shard_of(r)) {
            shards.push_back(*s);
            continue;
        }
        if (in.size() > 1)
            throw error(exit_code::usage,
                        "report " + quote(r.file) + " has no \"shard\": it is not a shard's",
                        "merge the reports of one run with --shard I/N; a report of a run without it "
                        "renders alone: pghaul report " +
                            r.file + " --html OUT.html");
        merged_report out{r.report, {}};
        out.report["shards"] = json::array({shard_entry(r, 0)});
        return out;
    }
    std::stable_sort(shards.begin(), shards.end(), [](auto& a, auto& b) { return a.index < b.index; });
    check_one_split(shards);
    const auto run_by = sources_by_name(shards);
    // A multi-database source is split as one; the reports name its databases SOURCE.DATABASE.
    auto reported = [&](const std::string& name) {
        const auto db = run_by.lower_bound(name + ".");
        return run_by.contains(name) || (db != run_by.end() && db->first.starts_with(name + "."));
    };

    const int count = shards.front().count;
    const json& split = shards.front().assignment();
    merger m;
    auto next = shards.begin();
    for (int i = 0; i < count; ++i) {
        const shard* s = next != shards.end() && next->index == i ? &*next++ : nullptr;
        const auto rerun = rerun_command(shards, i, count);
        if (s) m.add(*s, rerun);
        std::vector<std::string> absent;
        for (auto& [name, at] : split.items())
            if (at == i && !reported(name)) absent.push_back(name);
        m.add_missing(i, count, s, absent, rerun);
    }

    auto& out = m.out.report;
    const auto& first = shards.front().in->report;
    for (const char* k : {"target", "target_transport", "pghaul_version"})
        if (first.contains(k)) out[k] = first[k];
    out["seconds"] = m.seconds;  // the shards' timelines each start at 0
    out["exit_code"] = merged_exit_code(m.codes, m.missing);
    out["roles"] = merge_roles(m.given);
    out["sources"] = std::move(m.sources);
    if (!m.links.empty()) out["links"] = std::move(m.links);
    out["shards"] = std::move(m.entries);
    return std::move(m.out);
}

}  // namespace pghaul::engine
