// Addresses hard-coded in function bodies, and the code that must not look like one.
#include <doctest/doctest.h>

#include "engine/audit/address_scan.hpp"

using pghaul::engine::find_addresses;

namespace {

std::vector<std::string> texts(std::string_view body) {
    std::vector<std::string> out;
    for (auto& m : find_addresses(body)) out.push_back(m.kind + ": " + m.text);
    return out;
}

}  // namespace

TEST_CASE("connection strings, URIs, IPs and host names are found") {
    CHECK(texts("PERFORM dblink_connect('host=10.1.2.3 port=5432 dbname=sales user=rep');") ==
          std::vector<std::string>{"connection string: host=10.1.2.3 port=5432 dbname=sales user=rep"});
    CHECK(texts("v := 'postgresql://app@db-b.internal:5432/orders';") ==
          std::vector<std::string>{"connection URI: postgresql://app@db-b.internal:5432/orders"});
    CHECK(texts("SELECT * FROM dblink('hostaddr=192.168.0.10 dbname=x', 'select 1')") ==
          std::vector<std::string>{"connection string: hostaddr=192.168.0.10 dbname=x"});
    CHECK(texts("IF inet_client_addr() = '10.0.0.7' THEN") ==
          std::vector<std::string>{"IP address: 10.0.0.7"});
    CHECK(texts("PERFORM http_get('https://api.example.com/v1/hook');") ==
          std::vector<std::string>{"connection URI: https://api.example.com/v1/hook"});
    CHECK(texts("-- replica lives on reports.prod.example.net now") ==
          std::vector<std::string>{"host name: reports.prod.example.net"});
    CHECK(texts("x := 'host=localhost dbname=a'; y := 'localhost'") ==
          std::vector<std::string>{"connection string: host=localhost dbname=a", "host name: localhost"});
    CHECK(texts("allowed := ARRAY['fe80::1', '2001:db8:0:0:0:0:0:1']") ==
          std::vector<std::string>{"IP address: fe80::1", "IP address: 2001:db8:0:0:0:0:0:1"});
    CHECK(texts("conn := 'db-a.corp';") == std::vector<std::string>{"host name: db-a.corp"});
}

TEST_CASE("each address is reported once") {
    CHECK(texts("a := '10.0.0.1'; b := '10.0.0.1'; c := '10.0.0.2'") ==
          std::vector<std::string>{"IP address: 10.0.0.1", "IP address: 10.0.0.2"});
}

TEST_CASE("passwords in found connection strings are redacted") {
    auto found = find_addresses("dblink('host=db.internal dbname=x password=hunter2')");
    REQUIRE(found.size() == 1);
    CHECK(found[0].text.find("hunter2") == std::string::npos);
    CHECK(found[0].text.find("password=********") != std::string::npos);
    found = find_addresses("'postgresql://app:hunter2@10.0.0.1/db' 'mysql://u:s3cret@h.example.com/d'");
    REQUIRE(found.size() == 2);
    for (auto& m : found) {
        CHECK(m.text.find("hunter2") == std::string::npos);
        CHECK(m.text.find("s3cret") == std::string::npos);
    }
}

TEST_CASE("ordinary code is not an address") {
    for (const char* body : {
             "SELECT o.id, o.total FROM public.orders o WHERE o.created_at > now() - interval '1 day'",
             "RETURN NEW.amount::numeric(12,2) + x::int + a::date + 0::bigint;",
             "IF t > '12:30:00'::time THEN RAISE NOTICE 'version 1.2.3.4.5 and oid 1.3.6.1.4.1';",
             "PERFORM notify_user('ops@example.com');",
             "UPDATE sales.net_totals SET net = s.net FROM staging.net s WHERE host = $1",
             "SELECT format('%s=%s', k, v) FROM each(h) WHERE k = 'a' AND v = 'b'",
             "a=1 b=2",
             "x := my_localhost_check(); y := localhost_table.col;",
             "",
         }) {
        CAPTURE(body);
        CHECK(texts(body).empty());
    }
}
