// SHA-256 digests (OpenSSL) for cache keys and recorded file identities.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace nozero {

// Incremental SHA-256. digest_hex() returns 64 lowercase hex digits.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::string_view data);
  // Feeds a file's contents; throws CommandError naming the file if it cannot be read.
  Sha256& update_file(const std::filesystem::path& path);
  std::string digest_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& path);

}  // namespace nozero
