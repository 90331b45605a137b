// The TLS files of one end of the agent link (light: no Asio, no OpenSSL).
#pragma once

#include <string>

namespace pghaul::link {

struct tls_files {
    std::string ca;    // the CA that signed the other end's certificate
    std::string cert;  // this end's certificate (chain), PEM
    std::string key;   // its private key, PEM
};

}  // namespace pghaul::link
