// Splits pg_dump plain output at its entry headers.
#include "protocol/dump_script.hpp"

#include <optional>

namespace pghaul {
namespace {

std::optional<dump_entry> parse_header(std::string_view line) {
    constexpr std::string_view prefix = "-- Name: ";
    if (!line.starts_with(prefix)) return std::nullopt;
    line.remove_prefix(prefix.size());
    // Parse from the right: names may hold "; " but the fixed labels follow them.
    auto owner_at = line.rfind("; Owner: ");
    if (owner_at == std::string_view::npos) return std::nullopt;
    auto schema_at = line.rfind("; Schema: ", owner_at);
    if (schema_at == std::string_view::npos) return std::nullopt;
    auto type_at = line.rfind("; Type: ", schema_at);
    if (type_at == std::string_view::npos) return std::nullopt;
    dump_entry e;
    e.name = line.substr(0, type_at);
    e.type = line.substr(type_at + 8, schema_at - type_at - 8);
    e.schema = line.substr(schema_at + 10, owner_at - schema_at - 10);
    e.owner = line.substr(owner_at + 9);
    return e;
}

bool is_meta_command(std::string_view line) {
    return line.starts_with("\\connect") || line.starts_with("\\restrict") ||
           line.starts_with("\\unrestrict");
}

}  // namespace

dump_script parse_dump_script(std::string_view text) {
    dump_script out;
    std::string* sink = &out.preamble;
    bool skip_separator = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;

        if (auto header = parse_header(line)) {
            // Headers are framed by "--" lines; drop the one already taken.
            if (sink->ends_with("--\n")) sink->resize(sink->size() - 3);
            out.entries.push_back(std::move(*header));
            sink = &out.entries.back().sql;
            skip_separator = true;
            continue;
        }
        if (skip_separator && line == "--") {
            skip_separator = false;
            continue;
        }
        skip_separator = false;
        if (is_meta_command(line)) {
            // Settings re-emitted after \connect belong to every session, not to
            // the entry before them.
            if (line.starts_with("\\connect")) {
                out.preamble.clear();
                sink = &out.preamble;
            }
            continue;
        }
        if (sink == &out.preamble && line.starts_with("--")) continue;
        *sink += line;
        *sink += '\n';
    }
    for (auto& e : out.entries) {
        while (!e.sql.empty() && (e.sql.back() == '\n' || e.sql.back() == ' ')) e.sql.pop_back();
        e.sql.erase(0, e.sql.find_first_not_of('\n'));
    }
    return out;
}

}  // namespace pghaul
