// A parsed libpq connection string (key/value or URI form), with the one
// rendering that is safe to print: redacted().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pghaul {

class conninfo {
public:
    // Parses with libpq's own parser; throws pghaul::error (usage) naming the
    // redacted input and libpq's complaint.
    static conninfo parse(std::string_view text, std::string_view what = "connection string");

    std::optional<std::string> get(std::string_view key) const;
    void set(std::string_view key, std::string value);
    void set_default(std::string_view key, std::string value);  // only when absent
    void erase(std::string_view key);

    // The dbname given explicitly (conninfo, not PGDATABASE).
    std::optional<std::string> dbname() const { return get("dbname"); }
    conninfo with_dbname(std::string dbname) const;

    // Every key but the secrets, as key/value text: safe for logs and errors.
    std::string redacted() const;
    // user@host:port/dbname, with libpq's environment defaults filled in, for messages.
    std::string endpoint() const;
    // Where the connection really goes, for endpoint(), when host and port
    // are a local stand-in (the agent link's forwarder): "host:port", and
    // what follows the dbname (" through the agent at ...").
    void show_as(std::string server, std::string suffix);
    // The full string including any password: only for libpq and child processes.
    std::string to_string() const;

    const std::vector<std::pair<std::string, std::string>>& options() const { return options_; }

private:
    std::vector<std::pair<std::string, std::string>> options_;
    std::string shown_server_, shown_suffix_;
};

// Hides the password value of a key/value string, or the userinfo secret of a URI,
// for text that did not parse (so the error can still quote it).
std::string redact_conninfo_text(std::string_view text);
// Where those secrets are in `text`: (offset, length) pairs in order.
std::vector<std::pair<std::size_t, std::size_t>> conninfo_secret_spans(std::string_view text);

}  // namespace pghaul
