// Conninfo parsing and redaction. libpq parses (so every form users know works);
// we only keep the explicitly given keys and decide what may be printed.
#include "protocol/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <regex>
#include <vector>

#include "protocol/error.hpp"
#include "protocol/suggest.hpp"

namespace pghaul {
namespace {

bool is_secret(std::string_view key) {
    return key == "password" || key == "sslpassword";
}

// Quotes a value the way libpq's key/value syntax expects.
std::string quote_value(std::string_view v) {
    bool plain = !v.empty();
    for (char c : v)
        if (c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n') plain = false;
    if (plain) return std::string(v);
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : std::move(fallback);
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> conninfo_secret_spans(std::string_view text) {
    // key/value: password = 'quoted value' (to the end if the quote is never
    // closed: libpq refuses that, and the rest may be the secret) or bare value;
    // URI userinfo: scheme://user:secret@host
    static const std::regex kv(R"(\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*(?:'|$)|\S+))",
                               std::regex::icase);
    static const std::regex uri(R"((?:postgres|postgresql)://[^:/@\s]*:([^@\s]*)@)", std::regex::icase);
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    const std::string s(text);
    for (const auto* re : {&kv, &uri})
        for (std::sregex_iterator it(s.begin(), s.end(), *re), end; it != end; ++it)
            spans.emplace_back(static_cast<std::size_t>(it->position(1)),
                               static_cast<std::size_t>(it->length(1)));
    std::sort(spans.begin(), spans.end());
    return spans;
}

std::string redact_conninfo_text(std::string_view text) {
    std::string out;
    std::size_t at = 0;
    for (auto [first, length] : conninfo_secret_spans(text)) {
        if (first < at) {  // overlaps the span just hidden (password=... inside a URI's userinfo)
            at = std::max(at, first + length);
            continue;
        }
        out.append(text.substr(at, first - at));
        out += "********";
        at = first + length;
    }
    return out.append(text.substr(at));
}

namespace {

// Keys whose values are never secret, shown when an unparsable conninfo is
// quoted back. Any other key's value (a misspelled "passwrd" too) is hidden.
bool shown_key(std::string_view key) {
    for (std::string_view k : {"host", "hostaddr", "port", "dbname", "user", "sslmode", "connect_timeout",
                               "application_name", "target_session_attrs", "service", "options"})
        if (key == k) return true;
    return false;
}

// The text of a conninfo libpq refused, fit to print: a URI with its password
// hidden; key=value pairs with only harmless values kept. Also lists the keys
// (a quoted key name in libpq's message is kept, any other quoted fragment not).
std::string printable_conninfo(std::string_view text, std::vector<std::string>& keys) {
    std::string s = redact_conninfo_text(text);
    if (s.starts_with("postgres://") || s.starts_with("postgresql://")) {
        // A query string may carry password=...; hide everything after '?'.
        // Its parameter names are no secret (libpq's error may quote one).
        if (auto q = s.find('?'); q != std::string::npos) {
            static const std::regex name(R"((?:^|&)([A-Za-z_]+)(?==))");
            const auto query = s.substr(q + 1);
            for (std::sregex_iterator it(query.begin(), query.end(), name), end; it != end; ++it)
                keys.push_back((*it)[1].str());
            s = s.substr(0, q) + "?...";
        }
        return s;
    }
    static const std::regex pair(R"(([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*(?:'|$)|\S*))");
    std::string out;
    std::size_t last = 0;
    for (std::sregex_iterator it(s.begin(), s.end(), pair), end; it != end; ++it) {
        const auto& m = *it;
        out += s.substr(last, static_cast<std::size_t>(m.position(0)) - last);
        keys.push_back(m[1].str());
        out += m[1].str() + "=" + (shown_key(m[1].str()) || m[2].str() == "********" ? m[2].str() : "...");
        last = static_cast<std::size_t>(m.position(0) + m.length(0));
    }
    return out + s.substr(last);
}

// libpq's parse errors quote the part they choke on, which may be (part of)
// the password: "invalid percent-encoded token: "S3cret%zz"". Its own words
// stay, and a quoted key name or delimiter; any other quoted fragment goes.
std::string redact_libpq_message(std::string msg, const std::vector<std::string>& keys) {
    msg = redact_conninfo_text(msg);
    std::string out;
    for (std::size_t i = 0; i < msg.size();) {
        auto open = msg.find('"', i);
        if (open == std::string::npos) {
            out.append(msg, i, std::string::npos);
            break;
        }
        auto close = msg.find('"', open + 1);
        out.append(msg, i, open - i);
        if (close == std::string::npos) {
            out += "\"...\"";
            break;
        }
        const auto inner = msg.substr(open + 1, close - open - 1);
        const bool harmless = inner.size() <= 3 || std::find(keys.begin(), keys.end(), inner) != keys.end();
        out += harmless ? "\"" + inner + "\"" : std::string("\"...\"");
        i = close + 1;
    }
    return out;
}

}  // namespace

conninfo conninfo::parse(std::string_view text, std::string_view what) {
    char* err = nullptr;
    std::string owned(text);
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(owned.c_str(), &err),
                                                                      &PQconninfoFree);
    if (!opts) {
        std::string msg = err ? err : "out of memory";
        PQfreemem(err);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        std::vector<std::string> keys;
        const auto shown = printable_conninfo(text, keys);
        msg = redact_libpq_message(msg, keys);
        // A misspelt keyword ("sslmod") gets the one libpq knows.
        std::vector<std::string> known;
        if (std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> d(PQconndefaults(), &PQconninfoFree); d)
            for (auto* o = d.get(); o->keyword; ++o) known.emplace_back(o->keyword);
        for (auto& k : keys)
            if (std::find(known.begin(), known.end(), k) == known.end())
                if (auto best = closest(k, known); !best.empty()) {
                    msg += " (did you mean " + best + "?)";
                    break;
                }
        throw error(exit_code::usage, "invalid " + std::string(what) + " \"" + shown + "\": " + msg,
                    "use key=value pairs (host=db1 dbname=app) or a URI (postgresql://user@host:5432/app)");
    }
    conninfo ci;
    for (auto* o = opts.get(); o->keyword; ++o)
        if (o->val) ci.options_.emplace_back(o->keyword, o->val);
    return ci;
}

std::optional<std::string> conninfo::get(std::string_view key) const {
    for (auto& [k, v] : options_)
        if (k == key) return v;
    return std::nullopt;
}

void conninfo::set(std::string_view key, std::string value) {
    for (auto& [k, v] : options_)
        if (k == key) {
            v = std::move(value);
            return;
        }
    options_.emplace_back(std::string(key), std::move(value));
}

void conninfo::set_default(std::string_view key, std::string value) {
    if (!get(key)) options_.emplace_back(std::string(key), std::move(value));
}

void conninfo::erase(std::string_view key) {
    std::erase_if(options_, [&](auto& kv) { return kv.first == key; });
}

conninfo conninfo::with_dbname(std::string dbname) const {
    conninfo copy = *this;
    copy.set("dbname", std::move(dbname));
    return copy;
}

std::string conninfo::redacted() const {
    std::string out;
    for (auto& [k, v] : options_) {
        if (!out.empty()) out += ' ';
        out += k + "=" + (is_secret(k) ? std::string("********") : quote_value(v));
    }
    return out;
}

std::string conninfo::to_string() const {
    std::string out;
    for (auto& [k, v] : options_) {
        if (!out.empty()) out += ' ';
        out += k + "=" + quote_value(v);
    }
    return out;
}

std::string conninfo::endpoint() const {
    std::string user = get("user").value_or(env_or("PGUSER", env_or("USER", "?")));
    std::string db = get("dbname").value_or(env_or("PGDATABASE", user));
    if (!shown_server_.empty()) return user + "@" + shown_server_ + "/" + db + shown_suffix_;
    std::string host = get("host").value_or(get("hostaddr").value_or(env_or("PGHOST", "local socket")));
    std::string port = get("port").value_or(env_or("PGPORT", "5432"));
    return user + "@" + host + ":" + port + "/" + db;
}

void conninfo::show_as(std::string server, std::string suffix) {
    shown_server_ = std::move(server);
    shown_suffix_ = std::move(suffix);
}

}  // namespace pghaul
