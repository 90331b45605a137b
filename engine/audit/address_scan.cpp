// Address scanning with std::regex over ranges; overlapping matches keep the
// widest kind found first (a URI beats the host name inside it).
#include "engine/audit/address_scan.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <utility>

#include "protocol/conninfo.hpp"

namespace pghaul::engine {
namespace {

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::string redact(std::string s) {
    s = redact_conninfo_text(s);
    // Any scheme's userinfo (mysql://u:secret@h), not only postgres's.
    static const std::regex userinfo(R"((://[^:/@\s]*):[^@\s]*@)");
    return std::regex_replace(s, userinfo, "$1:********@");
}

// libpq's key words: a run of at least two of them, one naming a host or
// service, is a connection string ("host=10.0.0.5 dbname=sales").
const std::set<std::string> conninfo_keys = {"host",
                                             "hostaddr",
                                             "port",
                                             "dbname",
                                             "user",
                                             "password",
                                             "passfile",
                                             "sslmode",
                                             "service",
                                             "options",
                                             "sslcert",
                                             "sslkey",
                                             "sslrootcert",
                                             "application_name",
                                             "connect_timeout",
                                             "target_session_attrs",
                                             "channel_binding",
                                             "gssencmode",
                                             "krbsrvname",
                                             "requiressl",
                                             "fallback_application_name"};

const char* host_suffixes =
    "com|net|org|io|dev|app|cloud|internal|local|localdomain|lan|corp|intra|intranet|edu|gov|biz|info|"
    "uk|eu|de|fr|nl|au|jp|ru";

struct scanner {
    std::string_view text;
    std::vector<std::pair<std::size_t, std::size_t>> taken;  // [begin, end) already reported
    std::vector<std::pair<std::size_t, address_match>> found;

    bool overlaps(std::size_t b, std::size_t e) const {
        for (auto& [tb, te] : taken)
            if (b < te && tb < e) return true;
        return false;
    }
    char at(std::size_t i) const { return i < text.size() ? text[i] : '\0'; }

    template <class Accept>
    void scan(const std::regex& re, const char* kind, Accept accept) {
        std::string s(text);
        for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
            auto b = static_cast<std::size_t>(it->position(0));
            auto e = b + static_cast<std::size_t>(it->length(0));
            if (overlaps(b, e) || !accept(*it, b, e)) continue;
            taken.emplace_back(b, e);
            found.emplace_back(b, address_match{kind, redact(it->str(0))});
        }
    }
};

// Marks the characters inside string literals ('...', "...", $tag$...$tag$)
// and comments: host names count only there, because outside them a dotted
// name is a schema.table or table.column reference.
std::vector<bool> literal_mask(std::string_view t) {
    std::vector<bool> mask(t.size(), false);
    std::size_t i = 0;
    auto mark = [&](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < std::min(e, t.size()); ++k) mask[k] = true;
    };
    while (i < t.size()) {
        char c = t[i];
        std::size_t end = std::string_view::npos;
        if (c == '\'' || c == '"') {
            end = i + 1;
            while (end < t.size() && !(t[end] == c && (end + 1 >= t.size() || t[end + 1] != c))) {
                end += (t[end] == c) ? 2 : 1;  // a doubled quote stays inside
            }
            ++end;
        } else if (c == '-' && i + 1 < t.size() && t[i + 1] == '-') {
            end = t.find('\n', i);
        } else if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
            end = t.find("*/", i + 2);
            if (end != std::string_view::npos) end += 2;
        } else if (c == '$') {
            std::size_t k = i + 1;
            while (k < t.size() &&
                   (word_char(t[k]) && !(k == i + 1 && std::isdigit(static_cast<unsigned char>(t[k])))))
                ++k;
            if (k < t.size() && t[k] == '$') {
                std::string_view tag = t.substr(i, k - i + 1);
                end = t.find(tag, k + 1);
                if (end != std::string_view::npos) end += tag.size();
            } else {
                ++i;
                continue;
            }
        } else {
            ++i;
            continue;
        }
        if (end == std::string_view::npos || end > t.size()) end = t.size();
        mark(i, end);
        i = end;
    }
    return mask;
}

bool is_connection_string(const std::string& run) {
    static const std::regex pair(R"(([A-Za-z_]+)\s*=)");
    int keys = 0;
    bool host = false;
    for (auto it = std::sregex_iterator(run.begin(), run.end(), pair); it != std::sregex_iterator(); ++it) {
        std::string k = (*it)[1].str();
        for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!conninfo_keys.count(k)) return false;
        ++keys;
        host = host || k == "host" || k == "hostaddr" || k == "service";
    }
    return keys >= 2 && host;
}

}  // namespace

std::vector<address_match> find_addresses(std::string_view text) {
    using std::regex;
    scanner sc{text, {}, {}};
    const auto quoted = literal_mask(text);
    const auto icase = regex::ECMAScript | regex::icase;

    static const regex uri(
        R"(\b(?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|https?|s?ftp|ldaps?|s3|kafka)://[^\s'"<>()\]\\]+)",
        icase);
    sc.scan(uri, "connection URI", [](auto&, auto, auto) { return true; });

    static const regex kv(R"(\b[A-Za-z_]+\s*=\s*[^\s'"=,;()]+(?:\s+[A-Za-z_]+\s*=\s*[^\s'"=,;()]+)+)", icase);
    sc.scan(kv, "connection string",
            [](const std::smatch& m, auto, auto) { return is_connection_string(m.str(0)); });

    static const regex ipv4(
        R"(\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b)");
    sc.scan(ipv4, "IP address", [&](auto&, std::size_t b, std::size_t e) {
        // Not part of a longer dotted number (a version 1.2.3.4.5, an SNMP OID).
        if (b > 0 && (sc.at(b - 1) == '.' || std::isdigit(static_cast<unsigned char>(sc.at(b - 1)))))
            return false;
        return !(sc.at(e) == '.' && std::isdigit(static_cast<unsigned char>(sc.at(e + 1))));
    });

    // IPv6 only in forms code does not otherwise produce: eight full groups, or
    // a "::" with at least two groups (fe80::1) — never x::int or 12:30:00.
    static const regex ipv6(
        R"((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}|::1\b)", icase);
    sc.scan(ipv6, "IP address", [&](const std::smatch& m, std::size_t b, std::size_t e) {
        if (b > 0 && (word_char(sc.at(b - 1)) || sc.at(b - 1) == ':')) return false;
        if (word_char(sc.at(e)) || sc.at(e) == ':') return false;
        std::string s = m.str(0);
        if (s == "::1") return true;
        if (s.find("::") == std::string::npos) return true;  // eight groups
        // At least one group of two or more digits: not a cast like a::b.
        static const regex wide(R"([0-9a-f]{2,4})", regex::icase);
        return std::regex_search(s, wide);
    });

    static const regex host(std::string(R"((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:)") + host_suffixes +
                                R"()\b|\blocalhost\b)",
                            icase);
    sc.scan(host, "host name", [&](auto&, std::size_t b, std::size_t e) {
        if (!quoted[b]) return false;
        if (b > 0 &&
            (word_char(sc.at(b - 1)) || sc.at(b - 1) == '@' || sc.at(b - 1) == '.' || sc.at(b - 1) == '-'))
            return false;  // e-mail addresses and the tail of a longer name
        return !(sc.at(e) == '-' || sc.at(e) == '_' || sc.at(e) == '@');
    });

    std::sort(sc.found.begin(), sc.found.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<address_match> out;
    std::set<std::string> seen;
    for (auto& [pos, m] : sc.found)
        if (seen.insert(m.text).second) out.push_back(std::move(m));
    return out;
}

}  // namespace pghaul::engine
