// SCRAM-SHA-256 (RFC 5802, 7677) and PostgreSQL's md5 exchange, client side:
// the agent signs in to the source with a password it holds, so the
// migration host never has it. Pure apart from the nonce.
#pragma once

#include <optional>
#include <string>

namespace pghaul::link {

class scram_client {
public:
    // `nonce`: for tests (RFC 7677's); empty makes a random one.
    scram_client(std::string password, std::string nonce = {});
    // "n,,n=,r=<nonce>" (PostgreSQL takes the user from the startup packet).
    std::string first_message() const;
    // The server's "r=...,s=...,i=..." in, "c=biws,r=...,p=<proof>" out;
    // throws pghaul::error on a reply that is not SCRAM or a nonce it did not extend.
    std::string final_message(const std::string& server_first);
    // The server's "v=<signature>": true only if it proves it knew the password too.
    bool verify(const std::string& server_final) const;

private:
    std::string password_, nonce_, client_first_bare_;
    std::string auth_message_, salted_password_;
};

// PostgreSQL's md5 answer: "md5" + md5(md5(password + user) + salt).
std::string md5_password(const std::string& user, const std::string& password, const std::string& salt);

}  // namespace pghaul::link
