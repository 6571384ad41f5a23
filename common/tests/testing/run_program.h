// Runs a built program the way a user would, for the tests that check real runs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace nozero::testing {

struct ProgramOutput {
  // 0 to 255, or 128 + the signal number when a signal ended the program.
  int exit_status = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments, stdin from /dev/null, and captures stdout
// and stderr. A program still running after `timeout` is killed with SIGKILL and
// reported as timed out.
ProgramOutput run_program(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Like run_program(), but sends `signal_number` to the program once `delay` has
// passed and the program has installed a handler for it (read from SigCgt in
// /proc/PID/status), so a slow start on a busy machine cannot turn the signal
// into a kill.
ProgramOutput run_program_and_signal(const std::vector<std::string>& argv, std::chrono::milliseconds delay,
                                     int signal_number,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(120));

// A new empty directory under $TMPDIR (or /tmp), removed by the destructor.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_text_file(const std::string& path);

}  // namespace nozero::testing
