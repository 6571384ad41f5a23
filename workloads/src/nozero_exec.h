// nozero-exec: run an unmodified program with the process-wide MAP_NOZERO opt-in.
#pragma once

#include <string>
#include <vector>

#include "nozero/cli.h"

namespace nozero_exec {

struct Options {
  std::vector<std::string> command;
  nozero::cli::JsonDestination json;
};

// Exit statuses of the command itself, following env(1) and nice(1).
inline constexpr int kExitCannotSetUp = 125;  // prctl(PR_SET_NOZERO) failed
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// The status nozero-exec exits with when execvp fails with `error`.
int exec_failure_status(int error);

int nozero_exec_main(int argc, char** argv);

}  // namespace nozero_exec
