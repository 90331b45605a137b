// TLS contexts for the agent link (see the header).
#include "io/link/tls.hpp"

#include <openssl/ssl.h>

#include <boost/system/system_error.hpp>
#include <filesystem>

#include "protocol/error.hpp"

namespace pghaul::link {
namespace {

namespace ssl = boost::asio::ssl;

// Runs one loading step; a failure names the option, the file and OpenSSL's reason.
template <class Step>
void load(const std::string& option, const std::string& file, Step step) {
    if (file.empty())
        throw error(exit_code::usage, option + " is required for the agent link",
                    "give a PEM file (pghaul agent --help shows the options)");
    if (!std::filesystem::exists(file))
        throw error(exit_code::usage, option + " " + file + ": no such file", "check the path");
    try {
        step();
    } catch (const boost::system::system_error& e) {
        throw error(exit_code::usage, option + " " + file + " cannot be used: " + e.code().message(),
                    "it must be PEM: a certificate (chain), its private key, or the CA that signed the other "
                    "end's certificate");
    }
}

ssl::context make(ssl::context::method m, const tls_files& f, const tls_files& opt) {
    ssl::context ctx(m);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
    load(opt.cert, f.cert, [&] { ctx.use_certificate_chain_file(f.cert); });
    const auto not_its_key =
        error(exit_code::usage, opt.key + " " + f.key + " is not the key of " + opt.cert + " " + f.cert,
              "give the private key that belongs to that certificate");
    load(opt.key, f.key, [&] {
        try {
            ctx.use_private_key_file(f.key, ssl::context::pem);
        } catch (const boost::system::system_error& e) {
            // OpenSSL checks the pair as it loads the key.
            if (e.code().message().find("key values mismatch") != std::string::npos) throw not_its_key;
            throw;
        }
    });
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) throw not_its_key;
    load(opt.ca, f.ca, [&] { ctx.load_verify_file(f.ca); });
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return ctx;
}

}  // namespace

boost::asio::ssl::context server_context(const tls_files& f, const tls_files& options) {
    return make(ssl::context::tls_server, f, options);
}

boost::asio::ssl::context client_context(const tls_files& f, const tls_files& options) {
    return make(ssl::context::tls_client, f, options);
}

}  // namespace pghaul::link
