// Pieces of the HTML run report shared by its sections: escaping, tolerant
// reads of the JSON, number formatting, and the section renderers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace pghaul::engine::detail {

// Text and attribute values: & < > " ' all become entities.
std::string html_escape(std::string_view s);

// Reads that never throw: a missing key, null or a wrong type gives the default.
std::string json_str(const nlohmann::json& j, const char* key, const std::string& def = {});
double json_num(const nlohmann::json& j, const char* key, double def = 0);
bool json_bool(const nlohmann::json& j, const char* key, bool def = false);
const nlohmann::json& json_arr(const nlohmann::json& j, const char* key);  // empty array when absent
const nlohmann::json& json_obj(const nlohmann::json& j, const char* key);  // empty object when absent

// At most `bytes` bytes of `s`, never cutting a UTF-8 character in two.
std::string utf8_prefix(const std::string& s, std::size_t bytes);

// Finite numbers only: NaN and infinities print as "-".
std::string fmt_num(double v, int decimals);
std::string fmt_int(double v);                      // 1234567 -> "1,234,567"
std::string fmt_bytes(double v);                    // like pg_size_pretty, 1024-based
std::string fmt_seconds(double v);                  // 0.25 s, 12.3 s, 4 min 05 s, 2 h 03 min
std::string fmt_mbs(double bytes, double seconds);  // MB/s (MiB, as the terminal summary)

// The phase colours, shared by the Gantt chart and its legend.
const char* phase_colour(std::string_view phase);

// Section renderers: each returns a <section> (or an empty string when it has
// nothing to show).
std::string render_timeline(const nlohmann::json& report);
std::string render_throughput(const nlohmann::json& report);
std::string render_bench(const std::string& tsv_text);

}  // namespace pghaul::engine::detail
