#include "io/link/scram.hpp"

#include <doctest/doctest.h>

using namespace pghaul::link;

// RFC 7677's example exchange (user "user", password "pencil"); PostgreSQL
// sends an empty n= (the user is in the startup packet), so the bare client
// first message differs from the RFC's and so do proof and signature: the
// test checks the derivation against values computed independently (Python's
// hashlib and hmac) for "n=,r=...".
TEST_CASE("SCRAM-SHA-256: the client's proof and the server's signature, as PostgreSQL exchanges them") {
    scram_client c("pencil", "rOprNGfwEbeRWgbNEkqO");
    CHECK(c.first_message() == "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
    const std::string server_first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const auto final = c.final_message(server_first);
    CHECK(final ==
          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k=");
    CHECK(c.verify("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg="));
    CHECK_FALSE(c.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjRl4Gs="));  // the RFC's, for n=user
    CHECK_FALSE(c.verify("e=invalid-proof"));
    // A reply that does not extend the client's nonce is refused.
    scram_client d("pencil", "abc");
    CHECK_THROWS(d.final_message("r=xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
}

TEST_CASE("md5: PostgreSQL's md5 password answer") {
    // md5(md5("secret" + "alice") + salt), computed independently.
    CHECK(md5_password("alice", "secret", std::string("\x01\x02\x03\x04", 4)) ==
          "md598a0412b9c31436fc53776e863350083");
}
