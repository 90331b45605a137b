// The settings of a run, each declared once, in the table of run_settings.cpp:
// its manifest key, its flag on both copy and run, its type with its range or
// choices, its help and the default run_config holds. From that one row come
// the flag (and its PGHAUL_* variable, by main.cpp's one rule for every
// option), the manifest's check of the key, `--help`, the man pages (help2man
// reads --help) and the shell completion (it reads --help's option names and
// {choices}). A flag given wins over the environment, which wins over the
// manifest; copy starts from run_config's defaults.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/copy/run_config.hpp"

namespace pghaul::cli {

enum class setting_kind {
    integer,   // within [lo, hi]
    size,      // "512MB", or a number of bytes
    duration,  // "30s", "10m", or a number of seconds
    choice,    // one of `choices`
    text,      // a non-empty string
    path,      // a non-empty string; a manifest's relative path is taken beside the manifest
    flag,      // a boolean; the command-line flag sets `flag_sets`
};

// A setting's value as read from a flag, a variable or the manifest.
using setting_value = std::variant<std::int64_t, std::chrono::seconds, std::string, bool>;

struct run_setting {
    std::string_view key{};      // the manifest key; the flag is --key with '-' for '_' unless `names` says
    std::string_view section{};  // the manifest table that holds it: "run", or "target"
    std::string_view names{};    // CLI11's names when not derived from the key ("-j,--jobs", "--no-analyze")
    setting_kind kind = setting_kind::text;
    std::string_view help{};
    std::string_view default_text{};  // as run_config has it (a unit test checks), shown in --help
    std::string_view group{};         // --help's heading
    std::int64_t lo = 0, hi = 0;      // integer
    std::vector<std::string_view> choices{};
    bool zero_allowed = false;  // duration: 0 is a meaningful value ("no limit", "no retry")
    bool flag_sets = true;      // flag: the value the command-line flag gives the key
    void (*apply)(engine::run_config&, const setting_value&) = nullptr;

    std::string flag_names() const;  // names, or "--" + the key with '-'
};

// Every setting, in --help's order.
const std::vector<run_setting>& run_settings();

// The setting behind a manifest key of [section], or null.
const run_setting* find_run_setting(std::string_view section, std::string_view key);

// The text of a flag or variable as the setting's value. Throws
// exit_code::usage naming the flag for one that does not parse or is out of range.
setting_value parse_setting_text(const run_setting& s, const std::string& text);

// What the command line (and the environment) gave, by manifest key.
struct run_setting_flags {
    std::map<std::string, std::optional<std::string>, std::less<>> values;
    std::map<std::string, bool, std::less<>> flags;
};

// Adds every setting's flag to `sub` (copy or run), in its help group.
void add_run_setting_flags(CLI::App& sub, run_setting_flags& flags);

// The flags that were given, over `cfg` (the manifest's settings, or the
// defaults). Throws exit_code::usage for a value that does not parse.
void apply_run_setting_flags(const run_setting_flags& flags, engine::run_config& cfg);

engine::on_existing parse_on_existing(const std::string& s);
engine::missing_roles_mode parse_missing_roles(const std::string& s);

}  // namespace pghaul::cli
