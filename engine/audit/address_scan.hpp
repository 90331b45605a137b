// Finds network addresses written into code (function bodies): connection
// URIs, libpq key/value connection strings, IPv4/IPv6 addresses and host
// names. Pure text work; the audit runs it on pg_proc.prosrc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pghaul::engine {

struct address_match {
    std::string kind;  // "connection URI", "connection string", "IP address", "host name"
    std::string text;  // as written, with any password replaced by ********
};

// Every distinct address in `text`, in order of appearance. Tuned against the
// false positives code is full of: schema.table.column names, casts (x::int),
// times (12:30:00), version numbers (1.2.3.4.5) and e-mail addresses are not
// reported; a host name needs a well-known top-level or internal domain.
std::vector<address_match> find_addresses(std::string_view text);

}  // namespace pghaul::engine
