// Conninfo parsing and redaction. libpq parses (so every form users know works);
// we only keep the explicitly given keys and decide what may be printed.
#include "protocol/conninfo.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <regex>

#include "protocol/error.hpp"

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

std::string redact_conninfo_text(std::string_view text) {
    std::string s(text);
    // key/value: password = 'quoted value' or bare value
    static const std::regex kv(R"((\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))", std::regex::icase);
    s = std::regex_replace(s, kv, "$1********");
    // URI userinfo: scheme://user:secret@host
    static const std::regex uri(R"(((?:postgres|postgresql)://[^:/@\s]*):[^@\s]*@)", std::regex::icase);
    s = std::regex_replace(s, uri, "$1:********@");
    return s;
}

conninfo conninfo::parse(std::string_view text, std::string_view what) {
    char* err = nullptr;
    std::string owned(text);
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(owned.c_str(), &err),
                                                                      &PQconninfoFree);
    if (!opts) {
        std::string msg = err ? err : "out of memory";
        PQfreemem(err);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        msg = redact_conninfo_text(msg);  // libpq quotes a bad URI back in full
        throw error(exit_code::usage,
                    "invalid " + std::string(what) + " \"" + redact_conninfo_text(text) + "\": " + msg,
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
    std::string host = get("host").value_or(get("hostaddr").value_or(env_or("PGHOST", "local socket")));
    std::string port = get("port").value_or(env_or("PGPORT", "5432"));
    std::string db = get("dbname").value_or(env_or("PGDATABASE", user));
    return user + "@" + host + ":" + port + "/" + db;
}

}  // namespace pghaul
