// The audit report as text for a terminal, Markdown for a ticket or wiki
// page, and JSON for tools. Findings are grouped by the team that owns them,
// blockers first.
#include <fmt/format.h>

#include <algorithm>

#include "engine/audit/audit.hpp"

namespace pghaul::engine {
namespace {

constexpr owner_group groups[] = {owner_group::security, owner_group::platform, owner_group::application};
constexpr severity levels[] = {severity::blocker, severity::warning, severity::info};
constexpr std::size_t text_object_limit = 25;  // the JSON always has all

const char* group_title(owner_group g) {
    switch (g) {
        case owner_group::security:
            return "security: access and roles";
        case owner_group::platform:
            return "platform: versions, extensions, settings, target";
        case owner_group::application:
            return "application teams: clients and integrations";
    }
    return "";
}

// Findings of one group in severity order (stable within a severity).
std::vector<const finding*> of_group(const audit_report& r, owner_group g) {
    std::vector<const finding*> out;
    for (auto s : levels)
        for (auto& f : r.findings)
            if (f.group == g && f.level == s) out.push_back(&f);
    return out;
}

std::string summary_line(const audit_report& r) {
    return fmt::format("{} blocker(s), {} warning(s), {} info", r.count(severity::blocker),
                       r.count(severity::warning), r.count(severity::info));
}

std::string heading(const audit_report& r) {
    std::string s = "pghaul audit of database \"" + r.source_db + "\" on " + r.source_endpoint;
    if (!r.target_endpoint.empty())
        s += "\ntarget: " + r.target_endpoint +
             (r.target_db.empty() ? std::string() : ", new database \"" + r.target_db + "\"");
    else
        s += "\ntarget: none given (target checks skipped)";
    return s;
}

std::string upper(const char* s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
    return out;
}

// Escapes what Markdown would otherwise interpret in object names (GitHub's dialect
// ignores underscores inside words, and names are full of them).
std::string md(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|' || c == '*' || c == '`' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' ||
            c == '#')
            out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string render_audit_text(const audit_report& r) {
    std::string out = heading(r) + "\n" + summary_line(r) + "\n";
    for (auto g : groups) {
        auto fs = of_group(r, g);
        if (fs.empty()) continue;
        out += "\n== " + std::string(group_title(g)) + " ==\n";
        for (auto* f : fs) {
            out += fmt::format("{:<8} [{}] {}\n", upper(to_string(f->level)), f->category, f->what);
            for (std::size_t i = 0; i < f->objects.size() && i < text_object_limit; ++i)
                out += "           - " + f->objects[i] + "\n";
            if (f->objects.size() > text_object_limit)
                out += fmt::format("           ... and {} more (see --format json)\n",
                                   f->objects.size() - text_object_limit);
            if (!f->why.empty()) out += "         why: " + f->why + "\n";
            if (!f->todo.empty()) out += "         do:  " + f->todo + "\n";
        }
    }
    out += "\n" + summary_line(r) +
           (r.has_blockers() ? ": the move is blocked until the blockers are resolved\n"
                             : ": nothing blocks the move\n");
    return out;
}

std::string render_audit_markdown(const audit_report& r) {
    std::string out = "# pghaul audit: " + md(r.source_db) + "\n\n";
    out += "- source: `" + r.source_endpoint + "`\n";
    out += r.target_endpoint.empty()
               ? "- target: none given (target checks skipped)\n"
               : "- target: `" + r.target_endpoint + "`" +
                     (r.target_db.empty() ? "" : ", new database `" + r.target_db + "`") + "\n";
    out += "- " + summary_line(r) + "\n";
    for (auto g : groups) {
        auto fs = of_group(r, g);
        if (fs.empty()) continue;
        out += "\n## " + md(group_title(g)) + "\n";
        for (auto* f : fs) {
            out +=
                "\n### " + upper(to_string(f->level)) + " · " + md(f->category) + ": " + md(f->what) + "\n\n";
            for (auto& o : f->objects) out += "- " + md(o) + "\n";
            if (!f->objects.empty()) out += "\n";
            if (!f->why.empty()) out += "**Why:** " + md(f->why) + "\n\n";
            if (!f->todo.empty()) out += "**To do:** " + md(f->todo) + "\n\n";
        }
    }
    return out;
}

nlohmann::json audit_json(const audit_report& r) {
    nlohmann::json findings = nlohmann::json::array();
    for (auto g : groups)
        for (auto* f : of_group(r, g))
            findings.push_back({{"severity", to_string(f->level)},
                                {"group", to_string(f->group)},
                                {"category", f->category},
                                {"what", f->what},
                                {"objects", f->objects},
                                {"why", f->why},
                                {"todo", f->todo}});
    return {{"source", {{"endpoint", r.source_endpoint}, {"database", r.source_db}}},
            {"target", r.target_endpoint.empty()
                           ? nlohmann::json(nullptr)
                           : nlohmann::json{{"endpoint", r.target_endpoint}, {"database", r.target_db}}},
            {"summary",
             {{"blockers", r.count(severity::blocker)},
              {"warnings", r.count(severity::warning)},
              {"info", r.count(severity::info)}}},
            {"findings", findings}};
}

}  // namespace pghaul::engine
