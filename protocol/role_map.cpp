// Role renaming in pg_dump DDL: a small SQL tokenizer (strings, quoted identifiers,
// dollar quotes, comments) and, per statement, the keyword contexts where pg_dump
// writes a role name.
#include "protocol/role_map.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <vector>

#include "protocol/sql_quote.hpp"

namespace pghaul {
namespace {

// Every keyword that is not UNRESERVED_KEYWORD in PostgreSQL 15 (reserved, col_name and
// type_func_name), from `select word from pg_get_keywords() where catcode <> 'U'`:
// exactly the words fmtId quotes. Sorted for binary_search.
// clang-format off
constexpr std::array<std::string_view, 151> quoted_keywords = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check",
    "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create", "cross",
    "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc", "distinct",
    "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
    "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in",
    "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull",
    "join", "lateral", "leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
    "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric",
    "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing", "position",
    "precision", "primary", "real", "references", "returning", "right", "row", "select", "session_user",
    "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample", "then",
    "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using",
    "values", "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
    "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi",
    "xmlroot", "xmlserialize", "xmltable"};
// clang-format on

bool is_quoted_keyword(std::string_view word) {
    return std::binary_search(quoted_keywords.begin(), quoted_keywords.end(), word);
}

enum class tok { word, quoted_ident, string, dollar_string, comment, space, symbol };

struct token {
    tok kind;
    std::size_t pos;
    std::size_t len;
};

bool ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}
bool ident_char(char c) {
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// End of a quoted run opened at `i` by `q`; a doubled quote is an escaped one, and
// with `backslash` (E'' strings) a backslash escapes the next byte. Unterminated: end.
std::size_t quoted_end(std::string_view s, std::size_t i, char q, bool backslash) {
    for (++i; i < s.size(); ++i) {
        if (backslash && s[i] == '\\') {
            ++i;
        } else if (s[i] == q) {
            if (i + 1 < s.size() && s[i + 1] == q) {
                ++i;
            } else {
                return i + 1;
            }
        }
    }
    return s.size();
}

// `$tag$` at i (tag may be empty): the end of the dollar-quoted string, or nullopt when
// this `$` does not open one ($1 parameters).
std::optional<std::size_t> dollar_end(std::string_view s, std::size_t i) {
    std::size_t j = i + 1;
    if (j < s.size() && ident_start(s[j])) {
        while (j < s.size() && ident_char(s[j]) && s[j] != '$') ++j;
    }
    if (j >= s.size() || s[j] != '$') return std::nullopt;
    std::string_view delim = s.substr(i, j - i + 1);
    std::size_t close = s.find(delim, j + 1);
    return close == std::string_view::npos ? s.size() : close + delim.size();
}

std::size_t block_comment_end(std::string_view s, std::size_t i) {
    int depth = 0;  // PostgreSQL block comments nest
    while (i < s.size()) {
        if (s.compare(i, 2, "/*") == 0) {
            ++depth;
            i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
            i += 2;
            if (--depth == 0) return i;
        } else {
            ++i;
        }
    }
    return s.size();
}

std::vector<token> tokenize(std::string_view s) {
    std::vector<token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        std::size_t end = i + 1;
        tok kind = tok::symbol;
        if (is_space(c)) {
            kind = tok::space;
            while (end < s.size() && is_space(s[end])) ++end;
        } else if (s.compare(i, 2, "--") == 0) {
            kind = tok::comment;
            end = s.find('\n', i);
            end = end == std::string_view::npos ? s.size() : end;
        } else if (s.compare(i, 2, "/*") == 0) {
            kind = tok::comment;
            end = block_comment_end(s, i);
        } else if (c == '\'') {
            kind = tok::string;
            end = quoted_end(s, i, '\'', false);
        } else if ((c == 'e' || c == 'E') && i + 1 < s.size() && s[i + 1] == '\'') {
            kind = tok::string;
            end = quoted_end(s, i + 1, '\'', true);
        } else if (c == '"') {
            kind = tok::quoted_ident;
            end = quoted_end(s, i, '"', false);
        } else if (ident_start(c)) {
            kind = tok::word;
            while (end < s.size() && ident_char(s[end])) ++end;
        } else if (c == '$') {
            if (auto d = dollar_end(s, i)) {
                kind = tok::dollar_string;
                end = *d;
            }
        } else if (c >= '0' && c <= '9') {
            while (end < s.size() && (ident_char(s[end]) || s[end] == '.')) ++end;
        }
        out.push_back({kind, i, end - i});
        i = end;
    }
    return out;
}

// Undoes quoting of "ident", 'literal' or E'literal' (simple backslash escapes only).
std::string unquote(std::string_view text) {
    bool backslash = !text.empty() && (text[0] == 'e' || text[0] == 'E');
    if (backslash) text.remove_prefix(1);
    std::string out;
    if (text.size() < 2) return out;
    char q = text[0];
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        if (backslash && text[i] == '\\' && i + 2 < text.size()) {
            out += text[++i];
        } else {
            out += text[i];
            if (text[i] == q) ++i;
        }
    }
    return out;
}

// One statement's significant tokens (no spaces or comments, no final ';'), and the
// replacements found for them.
class statement {
public:
    statement(std::string_view sql, const std::vector<token>& toks, std::vector<std::size_t> idx,
              const std::map<std::string, std::string>& role_map,
              std::map<std::size_t, std::string>& replacements)
        : sql_(sql), toks_(toks), idx_(std::move(idx)), map_(role_map), repl_(replacements) {}

    void rewrite();

private:
    std::size_t size() const { return idx_.size(); }
    const token& at(std::size_t i) const { return toks_[idx_[i]]; }
    std::string_view text(std::size_t i) const { return sql_.substr(at(i).pos, at(i).len); }

    bool kw(std::size_t i, std::string_view word) const {
        if (i >= size() || at(i).kind != tok::word || text(i).size() != word.size()) return false;
        return std::equal(word.begin(), word.end(), text(i).begin(),
                          [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
    }
    bool kw_any(std::size_t i, std::initializer_list<std::string_view> words) const {
        return std::any_of(words.begin(), words.end(), [&](std::string_view w) { return kw(i, w); });
    }

    // First index >= from at paren depth 0 that is one of `words`, else size().
    std::size_t find_kw(std::size_t from, std::initializer_list<std::string_view> words) const {
        int depth = 0;
        for (std::size_t i = from; i < size(); ++i) {
            if (at(i).kind == tok::symbol && text(i) == "(") ++depth;
            if (at(i).kind == tok::symbol && text(i) == ")") --depth;
            if (depth == 0 && kw_any(i, words)) return i;
        }
        return size();
    }

    // Records a replacement when token i names a mapped role. Bare words that are
    // quoted keywords are CURRENT_USER and co, never role names.
    void map_one(std::size_t i, bool allow_literal = false) {
        if (i >= size()) return;
        std::string name;
        if (at(i).kind == tok::word) {
            for (char c : text(i)) name += ascii_lower(c);
            if (is_quoted_keyword(name)) return;
        } else if (at(i).kind == tok::quoted_ident || (allow_literal && at(i).kind == tok::string)) {
            name = unquote(text(i));
        } else {
            return;
        }
        if (name == "public") return;  // the grammar reads even "public" as PUBLIC
        auto it = map_.find(name);
        if (it == map_.end()) return;
        repl_[idx_[i]] = at(i).kind == tok::string ? sql::literal(it->second) : pg_dump_ident(it->second);
    }

    // A comma-separated role list from `from` up to a stop word; GROUP r is old syntax.
    std::size_t map_list(std::size_t from, std::initializer_list<std::string_view> stop) {
        std::size_t end = find_kw(from, stop);
        for (std::size_t i = from; i < end; ++i) {
            if (!kw(i, "group")) map_one(i);
        }
        return end;
    }

    void grant_or_revoke(std::size_t start);

    std::string_view sql_;
    const std::vector<token>& toks_;
    std::vector<std::size_t> idx_;
    const std::map<std::string, std::string>& map_;
    std::map<std::size_t, std::string>& repl_;
};

// GRANT privs ON obj TO grantees [WITH ...] [GRANTED BY r]; REVOKE [x OPTION FOR] privs
// ON obj FROM grantees [GRANTED BY r] [CASCADE|RESTRICT]. Without ON it is a membership
// grant, and the "privileges" are roles too.
void statement::grant_or_revoke(std::size_t start) {
    bool grant = kw(start, "grant");
    std::size_t first = start + 1;
    if (!grant && kw(first + 1, "option") && kw(first + 2, "for")) first += 3;
    std::size_t to = find_kw(first, {grant ? "to" : "from"});
    if (to == size()) return;
    if (find_kw(first, {"on"}) > to) map_list(first, {grant ? "to" : "from"});
    std::size_t end = map_list(to + 1, {"with", "granted", "cascade", "restrict"});
    std::size_t by = find_kw(end, {"granted"});
    if (kw(by + 1, "by")) map_one(by + 2);
}

void statement::rewrite() {
    std::size_t n = size();
    if (n == 0) return;
    if (kw(0, "alter") && n >= 4 && kw(n - 3, "owner") && kw(n - 2, "to")) {
        map_one(n - 1);
    } else if (kw(0, "grant") || kw(0, "revoke")) {
        grant_or_revoke(0);
    } else if (kw(0, "alter") && kw(1, "default") && kw(2, "privileges")) {
        std::size_t action = find_kw(3, {"grant", "revoke"});
        if (kw(3, "for") && kw_any(4, {"role", "user"})) map_list(5, {"in", "grant", "revoke"});
        if (action < n) grant_or_revoke(action);
    } else if (kw(0, "set") && kw(1, "session") && kw(2, "authorization") && n == 4) {
        map_one(3, true);
    } else if (kw(0, "set") && kw(1, "role") && n == 3) {
        map_one(2, true);
    } else if (kw_any(0, {"create", "alter"}) && kw(1, "policy")) {
        std::size_t to = find_kw(2, {"to"});
        if (to < n) map_list(to + 1, {"using", "with"});
    } else if (kw_any(0, {"create", "alter", "drop"}) && kw(1, "user") && kw(2, "mapping")) {
        map_one(find_kw(3, {"for"}) + 1);
    } else if (kw(0, "alter") && kw_any(1, {"role", "user"})) {
        map_one(2);
    } else if (kw(0, "create") && kw(1, "schema")) {
        std::size_t auth = find_kw(2, {"authorization"});
        if (auth < n) map_one(auth + 1);
    }
}

bool is_copy_from_stdin(std::string_view sql, const std::vector<token>& toks,
                        const std::vector<std::size_t>& idx) {
    auto word = [&](std::size_t i, std::string_view w) {
        std::string_view t = sql.substr(toks[idx[i]].pos, toks[idx[i]].len);
        return toks[idx[i]].kind == tok::word && t.size() == w.size() &&
               std::equal(t.begin(), t.end(), w.begin(), [](char a, char b) { return ascii_lower(a) == b; });
    };
    return idx.size() >= 3 && word(0, "copy") && word(idx.size() - 2, "from") &&
           word(idx.size() - 1, "stdin");
}

}  // namespace

std::string pg_dump_ident(std::string_view name) {
    bool bare = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
    for (char c : name) {
        bare = bare && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (bare && !is_quoted_keyword(name)) return std::string(name);
    return sql::ident(name);
}

std::string map_roles(std::string_view entry_type, std::string_view sql,
                      const std::map<std::string, std::string>& role_map) {
    if (role_map.empty() || entry_type == "TABLE DATA") return std::string(sql);
    std::vector<token> toks = tokenize(sql);
    std::map<std::size_t, std::string> replacements;
    std::vector<std::size_t> current;
    // Runs one statement; false at COPY ... FROM stdin, whose data lines are not SQL.
    auto finish = [&] {
        bool copy = is_copy_from_stdin(sql, toks, current);
        if (!copy) statement(sql, toks, std::move(current), role_map, replacements).rewrite();
        current.clear();
        return !copy;
    };
    bool more = true;
    for (std::size_t i = 0; i < toks.size() && more; ++i) {
        const token& t = toks[i];
        if (t.kind == tok::space || t.kind == tok::comment) continue;
        if (t.kind == tok::symbol && sql[t.pos] == ';') {
            more = finish();
        } else {
            current.push_back(i);
        }
    }
    if (more && !current.empty()) finish();
    if (replacements.empty()) return std::string(sql);
    std::string out;
    out.reserve(sql.size() + 16 * replacements.size());
    std::size_t copied = 0;
    for (const auto& [index, text] : replacements) {
        out.append(sql.substr(copied, toks[index].pos - copied));
        out.append(text);
        copied = toks[index].pos + toks[index].len;
    }
    out.append(sql.substr(copied));
    return out;
}

}  // namespace pghaul
