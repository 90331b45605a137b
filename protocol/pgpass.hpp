// libpq's password file, read by pghaul for a source it reaches through an
// agent: libpq then connects to a local port, and would look its password
// up under that port instead of the source's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pghaul {

// pgpass escaping: ':' and '\' are backslash-escaped (pgpass_lookup undoes it).
std::string pgpass_escape(std::string_view s);

// The password of the first line of `text` (hostname:port:database:username:
// password; * matches anything, \: and \\ are escapes, # starts a comment)
// that matches, as libpq chooses it.
std::optional<std::string> pgpass_lookup(std::string_view text, std::string_view host, std::string_view port,
                                         std::string_view database, std::string_view user);

}  // namespace pghaul
