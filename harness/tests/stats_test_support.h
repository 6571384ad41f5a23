// Helpers shared by the stats, compare, gate and report tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace nozero::stats::testing {

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path{NOZERO_TEST_FIXTURES} / name;
}

// A fresh directory under the build tree for one test's output.
inline std::filesystem::path output_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path{NOZERO_TEST_OUTPUT} / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct CommandResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

// Runs nozero-bench with arguments (already quoted for the shell).
inline CommandResult run_nozero_bench(const std::string& arguments) {
  CommandResult result;
  const std::string command = std::string{"'"} + NOZERO_BENCH_BINARY + "' " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.output.append(buffer, count);
  }
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace nozero::stats::testing
