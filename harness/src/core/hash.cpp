#include "core/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "core/errors.h"

namespace nozero {

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL could not start a SHA-256 digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->context); }

Sha256& Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(state_->context, data.data(), data.size()) != 1)
    throw std::runtime_error("OpenSSL SHA-256 update failed");
  return *this;
}

Sha256& Sha256::update_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) throw CommandError("cannot read " + path.string() + ": no such file or no permission");
  std::string buffer(1 << 20, '\0');
  while (input) {
    input.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    update(std::string_view{buffer.data(), static_cast<size_t>(input.gcount())});
  }
  if (input.bad()) throw CommandError("cannot read " + path.string() + ": read error");
  return *this;
}

std::string Sha256::digest_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(state_->context, digest, &length) != 1)
    throw std::runtime_error("OpenSSL SHA-256 final failed");
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

std::string sha256_hex(std::string_view data) { return Sha256{}.update(data).digest_hex(); }

std::string sha256_file(const std::filesystem::path& path) {
  return Sha256{}.update_file(path).digest_hex();
}

}  // namespace nozero
