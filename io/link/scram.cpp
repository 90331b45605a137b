// SCRAM-SHA-256 and md5 for the agent's sign-in (see the header).
#include "io/link/scram.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <map>
#include <vector>

#include "protocol/error.hpp"

namespace pghaul::link {
namespace {

std::string base64(const std::string& raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string unbase64(const std::string& text) {
    std::string out(3 * text.size() / 4 + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) throw error(exit_code::source, "the source's SCRAM reply is not base64");
    out.resize(static_cast<std::size_t>(n));
    // EVP_DecodeBlock counts the padding as zero bytes.
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) out.pop_back();
    return out;
}

std::string hmac(const std::string& key, const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), md, &len);
    return {reinterpret_cast<char*>(md), len};
}

std::string sha256(const std::string& data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    return {reinterpret_cast<char*>(md), sizeof md};
}

std::string xor_of(std::string a, const std::string& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<char>(a[i] ^ b[i]);
    return a;
}

std::map<char, std::string> attributes(const std::string& message) {
    std::map<char, std::string> out;
    std::size_t start = 0;
    while (start < message.size()) {
        auto comma = message.find(',', start);
        auto part = message.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (part.size() >= 2 && part[1] == '=') out[part[0]] = part.substr(2);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

scram_client::scram_client(std::string password, std::string nonce)
    : password_(std::move(password)), nonce_(std::move(nonce)) {
    if (nonce_.empty()) {
        std::string raw(18, '\0');
        if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
            throw error(exit_code::local, "no random bytes for a SCRAM nonce");
        nonce_ = base64(raw);
    }
    client_first_bare_ = "n=,r=" + nonce_;
}

std::string scram_client::first_message() const {
    return "n,," + client_first_bare_;
}

std::string scram_client::final_message(const std::string& server_first) {
    auto a = attributes(server_first);
    if (!a.count('r') || !a.count('s') || !a.count('i') || !a['r'].starts_with(nonce_))
        throw error(exit_code::source, "the source's SCRAM reply is not one pghaul's agent can answer");
    const int iterations = std::stoi(a['i']);
    const auto salt = unbase64(a['s']);
    salted_password_.assign(32, '\0');
    PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                      EVP_sha256(), 32, reinterpret_cast<unsigned char*>(salted_password_.data()));
    const auto client_key = hmac(salted_password_, "Client Key");
    const std::string without_proof = "c=biws,r=" + a['r'];
    auth_message_ = client_first_bare_ + "," + server_first + "," + without_proof;
    const auto signature = hmac(sha256(client_key), auth_message_);
    return without_proof + ",p=" + base64(xor_of(client_key, signature));
}

bool scram_client::verify(const std::string& server_final) const {
    auto a = attributes(server_final);
    if (!a.count('v') || salted_password_.empty()) return false;
    return a['v'] == base64(hmac(hmac(salted_password_, "Server Key"), auth_message_));
}

std::string md5_password(const std::string& user, const std::string& password, const std::string& salt) {
    auto hex = [](const std::string& data) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < len; ++i) out += {digits[md[i] >> 4], digits[md[i] & 15]};
        return out;
    };
    return "md5" + hex(hex(password + user) + salt);
}

}  // namespace pghaul::link
