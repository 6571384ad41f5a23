#include "testing/run_program.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace nozero::testing {
namespace {

std::string temporary_root() {
  const char* tmpdir = std::getenv("TMPDIR");
  return (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
}

// An unlinked temporary file that collects one output stream of the child.
int open_capture_file() {
  std::string pattern = temporary_root() + "/nozero-test-output.XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp " + pattern);
  ::unlink(pattern.c_str());
  return fd;
}

std::string read_all(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[65536];
  ssize_t count;
  while ((count = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(count));
  return text;
}

// True when /proc/PID/status lists a handler for `signal_number` in SigCgt.
bool catches_signal(pid_t pid, int signal_number) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) != 0) continue;
    unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
    return (mask >> (signal_number - 1)) & 1;
  }
  return false;
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  return run_program_and_signal(argv, timeout + timeout, 0, timeout);
}

ProgramOutput run_program_and_signal(const std::vector<std::string>& argv, std::chrono::milliseconds delay,
                                     int signal_number, std::chrono::milliseconds timeout) {
  if (argv.empty()) throw std::invalid_argument("run_program: argv is empty");
  int out_fd = open_capture_file();
  int err_fd = open_capture_file();

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }

  ProgramOutput output;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  bool signalled = signal_number == 0;
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
    if (!signalled && std::chrono::steady_clock::now() > start + delay && catches_signal(pid, signal_number)) {
      ::kill(pid, signal_number);
      signalled = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      output.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  output.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  output.out = read_all(out_fd);
  output.err = read_all(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  return output;
}

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = temporary_root() + "/nozero-test.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_text_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace nozero::testing
