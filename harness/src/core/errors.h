// Errors a subcommand raises; main() prints them and exits with exit_code.
#pragma once

#include <stdexcept>
#include <string>

namespace nozero {

// Exit statuses shared by every subcommand, so scripts can rely on them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the measured thing failed (regression, leak)
inline constexpr int kExitUsage = 2;    // bad flag, bad input file, missing setup

class CommandError : public std::runtime_error {
 public:
  explicit CommandError(const std::string& message, int exit_code = kExitUsage)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace nozero
