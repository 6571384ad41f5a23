// Starting a measured command: as another user, in its own process group, with a
// time limit, its output in files, and its resource usage from wait4(2).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nozero/rusage.h"

namespace nozero::run {

struct ChildOptions {
  std::vector<std::string> argv;
  // Switch to this user and group (and no supplementary groups) before exec.
  // Requires root; unset keeps the caller's identity.
  std::optional<unsigned> uid;
  std::optional<unsigned> gid;
  std::filesystem::path cwd;
  // Empty: inherit the caller's stream.
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  // Replaces the environment when not empty.
  std::map<std::string, std::string> env;
  // 0: no limit. At the limit the whole process group gets SIGKILL.
  unsigned timeout_s = 0;
  // Called in the parent with the child's pid while the child waits before its
  // set-up and exec, for example to attach counters that start at exec.
  std::function<void(pid_t)> before_exec;
};

struct ChildResult {
  // 0 to 255, or 128 + signal number; -1 when the command could not start.
  int exit_status = -1;
  bool timed_out = false;
  // From fork to the end of wait4, on CLOCK_MONOTONIC.
  double wall_s = 0;
  ResourceUsage usage;
  // Why the command did not start (exec failed, user switch failed).
  std::string error;
};

// Runs the command to completion and returns how it ended. SIGINT and SIGTERM
// received meanwhile are passed on to the command's process group.
ChildResult run_child(const ChildOptions& options);

// A command left running in the background, such as the leak checker.
class BackgroundChild {
 public:
  // Starts the command; throws std::runtime_error when it cannot start.
  explicit BackgroundChild(const ChildOptions& options);
  BackgroundChild(const BackgroundChild&) = delete;
  BackgroundChild& operator=(const BackgroundChild&) = delete;
  // Kills the process group if stop() was not called.
  ~BackgroundChild();

  // Sends `signal_number` to the process group, waits up to grace_s for the exit,
  // then sends SIGKILL. Returns the exit status as ChildResult::exit_status.
  int stop(int signal_number, unsigned grace_s);
  // True while the process has not exited.
  bool running();

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> exit_status_;
};

// True once run_child passed a SIGINT or SIGTERM on to a command: the user asked
// the whole run to stop.
bool interrupt_received();

// Formats a wait status as run_child reports it: the exit code, or 128 + signal.
int exit_status_from_wait(int status);

}  // namespace nozero::run
