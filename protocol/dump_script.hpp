// pg_dump's plain-format output split into its entries ("-- Name: x; Type: y;
// Schema: z; Owner: w" headers), so pghaul can run each where and when it belongs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pghaul {

struct dump_entry {
    std::string name;    // the TOC tag: "a a_pkey" for constraints, "TABLE a" for ACLs
    std::string type;    // "TABLE", "INDEX", "FK CONSTRAINT", "ACL", ...
    std::string schema;  // "-" when none
    std::string owner;
    std::string sql;
};

struct dump_script {
    // Session settings pg_dump emits before the first entry (and again after each
    // \connect): every connection that runs entries needs them first.
    std::string preamble;
    std::vector<dump_entry> entries;
};

// psql meta-commands (\connect, \restrict, \unrestrict) are dropped: pghaul
// picks the connection itself and runs SQL through libpq.
dump_script parse_dump_script(std::string_view text);

}  // namespace pghaul
