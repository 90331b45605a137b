// TLS for the agent link: both ends present certificates and check the
// other's against a CA they were given (mutual authentication), TLS 1.2 at
// least. Bad or unreadable files are usage errors that name the option and file.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "io/link/tls_files.hpp"

namespace pghaul::link {

// `options`: the flags' names for errors, e.g. {"--client-ca", "--tls-cert", "--tls-key"}.
boost::asio::ssl::context server_context(const tls_files& f, const tls_files& options);
boost::asio::ssl::context client_context(const tls_files& f, const tls_files& options);

}  // namespace pghaul::link
