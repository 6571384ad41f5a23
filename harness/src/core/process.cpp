#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

extern char** environ;

namespace nozero {
namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Environment of the parent with `overrides` applied, as "NAME=value" strings.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text{*entry};
    auto equals = text.find('=');
    std::string name{text.substr(0, equals)};
    if (!overrides.contains(name)) entries.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Child side of fork(): only async-signal-safe calls until exec. A failure is
// sent to the parent through `error_fd` as an errno value plus a step number.
[[noreturn]] void exec_child(char** argv, char** envp, const char* cwd, int stdin_fd,
                             int stdout_fd, int stderr_fd, const std::vector<int>& keep_fds,
                             int error_fd) {
  auto fail = [error_fd](int step) {
    int report[2] = {errno, step};
    ssize_t ignored = ::write(error_fd, report, sizeof report);
    (void)ignored;
    ::_exit(127);
  };
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (stdin_fd >= 0 && ::dup2(stdin_fd, 0) < 0) fail(1);
  if (stdout_fd >= 0 && ::dup2(stdout_fd, 1) < 0) fail(1);
  if (stderr_fd >= 0 && ::dup2(stderr_fd, 2) < 0) fail(1);
  for (int fd : keep_fds) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) fail(2);
  }
  if (cwd != nullptr && ::chdir(cwd) < 0) fail(3);
  ::execvpe(argv[0], argv, envp);
  fail(4);
  ::_exit(127);  // Not reached: fail() exits, but the compiler cannot see that.
}

}  // namespace

int shell_exit_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) throw CommandError("cannot start a process: the command is empty");

  // Everything the child needs is prepared before fork().
  std::vector<std::string> arguments = argv;
  std::vector<char*> argv_pointers = c_strings(arguments);
  std::vector<std::string> environment = merged_environment(options.env);
  std::vector<char*> envp_pointers = c_strings(environment);
  std::string cwd = options.cwd.string();

  int null_fd = -1;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int error_pipe[2] = {-1, -1};
  auto cleanup = [&] {
    close_fd(null_fd);
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    close_fd(err_pipe[0]);
    close_fd(err_pipe[1]);
    close_fd(error_pipe[0]);
    close_fd(error_pipe[1]);
  };
  bool need_null = options.stdin_mode == Stream::null || options.stdout_mode == Stream::null ||
                   options.stderr_mode == Stream::null;
  if (need_null) null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if ((need_null && null_fd < 0) ||
      (options.stdout_mode == Stream::pipe && ::pipe2(out_pipe, O_CLOEXEC) < 0) ||
      (options.stderr_mode == Stream::pipe && ::pipe2(err_pipe, O_CLOEXEC) < 0) ||
      ::pipe2(error_pipe, O_CLOEXEC) < 0) {
    int saved = errno;
    cleanup();
    throw CommandError("cannot start " + argv[0] + ": " + std::strerror(saved), kExitFailure);
  }

  auto pick = [&](Stream mode, int pipe_end) {
    if (mode == Stream::null) return null_fd;
    if (mode == Stream::pipe) return pipe_end;
    return -1;
  };
  int child_stdin = pick(options.stdin_mode, -1);
  int child_stdout = pick(options.stdout_mode, out_pipe[1]);
  int child_stderr = pick(options.stderr_mode, err_pipe[1]);

  pid_ = ::fork();
  if (pid_ < 0) {
    int saved = errno;
    cleanup();
    throw CommandError("cannot fork to start " + argv[0] + ": " + std::strerror(saved),
                       kExitFailure);
  }
  if (pid_ == 0) {
    exec_child(argv_pointers.data(), envp_pointers.data(), cwd.empty() ? nullptr : cwd.c_str(),
               child_stdin, child_stdout, child_stderr, options.keep_fds, error_pipe[1]);
  }

  close_fd(error_pipe[1]);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  close_fd(null_fd);
  stdout_fd_ = out_pipe[0];
  stderr_fd_ = err_pipe[0];
  out_pipe[0] = err_pipe[0] = -1;

  // exec() closes the error pipe on success; otherwise the child wrote why.
  int report[2] = {0, 0};
  ssize_t got = ::read(error_pipe[0], report, sizeof report);
  close_fd(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof report)) {
    wait();
    close_stdout();
    close_stderr();
    const char* step = report[1] == 3 ? "cannot enter the working directory " : "cannot run ";
    std::string what = report[1] == 3 ? cwd : argv[0];
    std::string hint = report[0] == ENOENT && report[1] == 4
                           ? " (not installed? scripts/install-deps installs the packages)"
                           : "";
    throw CommandError(step + what + ": " + std::strerror(report[0]) + hint, kExitFailure);
  }

  // glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the system call directly.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  close_fd(pidfd_);
  close_stdout();
  close_stderr();
}

void ChildProcess::close_stdout() { close_fd(stdout_fd_); }
void ChildProcess::close_stderr() { close_fd(stderr_fd_); }

void ChildProcess::kill(int signal) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, signal);
}

int ChildProcess::wait() {
  while (!reaped_) {
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, 0);
    if (got == pid_) {
      reaped_ = true;
      status_ = shell_exit_status(status);
    } else if (got < 0 && errno != EINTR) {
      reaped_ = true;
      status_ = -1;
    }
  }
  return status_;
}

std::optional<int> ChildProcess::try_wait() {
  if (reaped_) return status_;
  int status = 0;
  pid_t got = ::waitpid(pid_, &status, WNOHANG);
  if (got != pid_) return std::nullopt;
  reaped_ = true;
  status_ = shell_exit_status(status);
  return status_;
}

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options) {
  SpawnOptions spawn;
  spawn.cwd = options.cwd;
  spawn.env = options.env;
  auto started = Clock::now();
  ChildProcess child(argv, spawn);

  ProcessResult result;
  std::optional<Clock::time_point> deadline;
  if (options.timeout) deadline = started + *options.timeout;

  char buffer[65536];
  while (child.stdout_fd() >= 0 || child.stderr_fd() >= 0) {
    pollfd fds[2] = {{child.stdout_fd(), POLLIN, 0}, {child.stderr_fd(), POLLIN, 0}};
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<long long>(0, left.count()));
    }
    int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      result.timed_out = true;
      child.kill(SIGKILL);
      break;
    }
    for (int index = 0; index < 2; ++index) {
      if (fds[index].fd < 0 || fds[index].revents == 0) continue;
      ssize_t got = ::read(fds[index].fd, buffer, sizeof buffer);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        if (index == 0) child.close_stdout();
        else child.close_stderr();
        continue;
      }
      std::string_view chunk{buffer, static_cast<size_t>(got)};
      if (options.on_output) options.on_output(chunk);
      else if (index == 0) result.stdout_text.append(chunk);
      else result.stderr_text.append(chunk);
    }
  }

  // A child may close its output and keep running: the deadline still applies.
  if (deadline && !result.timed_out && child.pidfd() >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
    pollfd exited{child.pidfd(), POLLIN, 0};
    if (::poll(&exited, 1, static_cast<int>(std::max<long long>(0, left.count()))) == 0) {
      result.timed_out = true;
      child.kill(SIGKILL);
    }
  }

  result.exit_status = child.wait();
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& argument : argv) {
    if (!line.empty()) line += ' ';
    bool plain = !argument.empty() &&
                 argument.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      line += argument;
      continue;
    }
    line += '\'';
    for (char c : argument) {
      if (c == '\'') line += "'\\''";
      else line += c;
    }
    line += '\'';
  }
  return line;
}

}  // namespace nozero
