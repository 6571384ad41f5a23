// Child processes: spawn with pipes, stream or capture their output, enforce a
// deadline. Used to run make, patch, tar, QEMU and the probes of `doctor`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nozero {

// Converts a wait(2) status to a shell-style exit status: 0 to 255 for a normal
// exit, 128 + signal number for a process killed by a signal.
int shell_exit_status(int wait_status);

// What a child's stdin, stdout or stderr is connected to.
enum class Stream { inherit, null, pipe };

struct SpawnOptions {
  Stream stdin_mode = Stream::null;
  Stream stdout_mode = Stream::pipe;
  Stream stderr_mode = Stream::pipe;
  // Empty: the parent's working directory.
  std::filesystem::path cwd;
  // Added to (or replacing entries of) the parent's environment.
  std::map<std::string, std::string> env;
  // Descriptors the child keeps open at the same numbers (everything else is
  // closed on exec because the harness opens files with O_CLOEXEC).
  std::vector<int> keep_fds;
};

// A running child. Destroying it kills the child (SIGKILL) and reaps it, so an
// exception never leaves a stray QEMU or make behind.
class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH). Throws CommandError naming the program
  // when it cannot be started, for example when it is not installed.
  ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // A pidfd that polls readable once the child has exited.
  int pidfd() const { return pidfd_; }
  // Read ends of the child's stdout and stderr pipes, or -1.
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void close_stdout();
  void close_stderr();

  // Sends a signal unless the child was already reaped.
  void kill(int signal);
  // Waits for the child and returns its shell-style exit status.
  int wait();
  // Returns the exit status if the child has exited, without blocking.
  std::optional<int> try_wait();
  bool reaped() const { return reaped_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

struct RunOptions {
  std::filesystem::path cwd;
  std::map<std::string, std::string> env;
  // Killed with SIGKILL when this much time has passed; nullopt waits forever.
  std::optional<std::chrono::milliseconds> timeout;
  // When set, receives stdout and stderr (interleaved) as they arrive instead of
  // collecting them in ProcessResult.
  std::function<void(std::string_view chunk)> on_output;
};

struct ProcessResult {
  int exit_status = -1;
  bool timed_out = false;
  std::string stdout_text;
  std::string stderr_text;
  double elapsed_s = 0;
};

// Runs argv to completion and collects its output (or streams it, see
// RunOptions::on_output). Throws CommandError when the program cannot start.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options = {});

// Joins argv into one line a user can paste into a shell.
std::string shell_quote(const std::vector<std::string>& argv);

}  // namespace nozero
