// nozero-exec: run an unmodified program with the process-wide MAP_NOZERO opt-in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nozero/cli.h"

namespace nozero_exec {

struct Options {
  std::vector<std::string> command;
  nozero::cli::JsonDestination json;
};

// The library nozero-exec preloads into the command with the opt-in: a calloc()
// that clears, as glibc's assumes memory new from brk() is zero.
inline constexpr const char* kCallocLibrary = "libnozero-calloc.so";

// Returns the LD_PRELOAD value for the command: `library` first, then what
// `current` (the inherited LD_PRELOAD, or null) already names.
std::string preload_value(const std::string& library, const char* current);

// Returns the path of kCallocLibrary next to the running program, or nullopt
// with `error` set to a message that names the path and the fix.
std::optional<std::string> calloc_library(std::string& error);

// Exit statuses of the command itself, following env(1) and nice(1).
inline constexpr int kExitCannotSetUp = 125;  // prctl(PR_SET_NOZERO) failed
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// The status nozero-exec exits with when execvp fails with `error`.
int exec_failure_status(int error);

int nozero_exec_main(int argc, char** argv);

}  // namespace nozero_exec
