// Text helpers of the HTML run report: escaping, tolerant JSON reads and the
// number formats the page shows.
#include <fmt/format.h>

#include <cmath>

#include "engine/report/detail/html.hpp"
#include "protocol/size.hpp"

namespace pghaul::engine::detail {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string json_str(const nlohmann::json& j, const char* key, const std::string& def) {
    if (!j.is_object()) return def;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return def;
    if (it->is_string()) return it->get<std::string>();
    return it->dump();  // a number or flag where text was expected: show it as is
}

double json_num(const nlohmann::json& j, const char* key, double def) {
    if (!j.is_object()) return def;
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return def;
    double v = it->get<double>();
    return std::isfinite(v) ? v : def;
}

bool json_bool(const nlohmann::json& j, const char* key, bool def) {
    if (!j.is_object()) return def;
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

namespace {
const nlohmann::json& empty_array() {
    static const nlohmann::json a = nlohmann::json::array();
    return a;
}
const nlohmann::json& empty_object() {
    static const nlohmann::json o = nlohmann::json::object();
    return o;
}
}  // namespace

const nlohmann::json& json_arr(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return empty_array();
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : empty_array();
}

const nlohmann::json& json_obj(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return empty_object();
    auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty_object();
}

std::string utf8_prefix(const std::string& s, std::size_t bytes) {
    if (s.size() <= bytes) return s;
    while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
    return s.substr(0, bytes);
}

std::string fmt_num(double v, int decimals) {
    if (!std::isfinite(v)) return "-";
    return fmt::format("{:.{}f}", v, decimals);
}

std::string fmt_int(double v) {
    if (!std::isfinite(v)) return "-";
    auto digits = fmt::format("{:.0f}", std::fabs(v));
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return v < 0 ? "-" + out : out;
}

std::string fmt_bytes(double v) {
    if (!std::isfinite(v) || v < 0) return "-";
    return format_size(static_cast<std::int64_t>(v));
}

std::string fmt_seconds(double v) {
    if (!std::isfinite(v) || v < 0) return "-";
    if (v < 10) return fmt::format("{:.2f} s", v);
    if (v < 60) return fmt::format("{:.1f} s", v);
    auto s = static_cast<long long>(std::llround(v));
    if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
    return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

std::string fmt_mbs(double bytes, double seconds) {
    if (!std::isfinite(bytes) || !std::isfinite(seconds) || seconds <= 0) return "-";
    return fmt::format("{:.1f}", bytes / (1024.0 * 1024.0) / seconds);
}

const char* phase_colour(std::string_view phase) {
    if (phase == "schema") return "#b4a7d6";
    if (phase == "copy") return "#4f93d2";
    if (phase == "part") return "#9fc5e8";
    if (phase == "index") return "#f6b26b";
    if (phase == "constraints") return "#ffd966";
    if (phase == "foreign key") return "#e06666";
    if (phase == "finish") return "#93c47d";
    if (phase == "verify") return "#76a5af";
    return "#cccccc";
}

}  // namespace pghaul::engine::detail
