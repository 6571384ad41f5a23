#include "run/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace nozero::run {

int exit_status_from_wait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

namespace {

// The step of the child's set-up that failed, sent to the parent with its errno.
struct ChildFailure {
  int step = 0;
  int error = 0;
};

constexpr const char* kSteps[] = {"open stdout file", "open stderr file", "setgroups", "setgid",
                                  "setuid", "chdir", "exec"};
enum Step { kOpenStdout, kOpenStderr, kSetgroups, kSetgid, kSetuid, kChdir, kExec };

[[noreturn]] void fail_in_child(int pipe_fd, Step step) {
  ChildFailure failure{step, errno};
  ssize_t ignored = write(pipe_fd, &failure, sizeof failure);
  (void)ignored;
  _exit(127);
}

void redirect(const std::filesystem::path& path, int target_fd, int pipe_fd, Step step) {
  if (path.empty()) return;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || dup2(fd, target_fd) < 0) fail_in_child(pipe_fd, step);
  close(fd);
}

struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;
  std::string error;
};

// Forks and execs the command. Everything the child needs is prepared before fork,
// because only async-signal-safe calls are allowed between fork and exec.
Spawned spawn(const ChildOptions& options) {
  if (options.argv.empty()) return {-1, -1, "empty command"};
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {-1, -1, std::string{"pipe2 failed: "} + std::strerror(errno)};
  // The child blocks on go_fds until before_exec returned.
  int go_fds[2] = {-1, -1};
  if (options.before_exec && pipe2(go_fds, O_CLOEXEC) != 0) {
    int error = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return {-1, -1, std::string{"pipe2 failed: "} + std::strerror(error)};
  }

  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    for (int fd : {pipe_fds[0], pipe_fds[1], go_fds[0], go_fds[1]}) {
      if (fd >= 0) close(fd);
    }
    return {-1, -1, std::string{"fork failed: "} + std::strerror(error)};
  }
  if (pid == 0) {
    // A process group of its own, so a timeout or Ctrl-C reaches every descendant.
    setpgid(0, 0);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal_number : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) sigaction(signal_number, &default_action, nullptr);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);
    if (go_fds[0] >= 0) {
      char go = 0;
      while (read(go_fds[0], &go, 1) < 0 && errno == EINTR) {
      }
    }

    redirect(options.stdout_path, STDOUT_FILENO, pipe_fds[1], kOpenStdout);
    redirect(options.stderr_path, STDERR_FILENO, pipe_fds[1], kOpenStderr);
    if (options.uid || options.gid) {
      if (setgroups(0, nullptr) != 0) fail_in_child(pipe_fds[1], kSetgroups);
    }
    if (options.gid && setgid(*options.gid) != 0) fail_in_child(pipe_fds[1], kSetgid);
    if (options.uid && setuid(*options.uid) != 0) fail_in_child(pipe_fds[1], kSetuid);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) fail_in_child(pipe_fds[1], kChdir);
    if (options.env.empty()) {
      execvp(argv[0], argv.data());
    } else {
      execvpe(argv[0], argv.data(), envp.data());
    }
    fail_in_child(pipe_fds[1], kExec);
  }

  close(pipe_fds[1]);
  // Set the group from the parent too, so kill(-pid) works even before the child ran.
  setpgid(pid, pid);
  if (go_fds[0] >= 0) {
    close(go_fds[0]);
    try {
      options.before_exec(pid);
    } catch (...) {
      close(go_fds[1]);
      close(pipe_fds[0]);
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      throw;
    }
    char go = 1;
    ssize_t ignored = write(go_fds[1], &go, 1);
    (void)ignored;
    close(go_fds[1]);
  }
  ChildFailure failure;
  ssize_t got;
  do {
    got = read(pipe_fds[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    waitpid(pid, &status, 0);
    std::string description = kSteps[failure.step];
    if (failure.step == kOpenStdout) description += " " + options.stdout_path.string();
    if (failure.step == kOpenStderr) description += " " + options.stderr_path.string();
    if (failure.step == kChdir) description += " " + options.cwd.string();
    if (failure.step == kExec) description += " " + options.argv.front();
    return {-1, -1, description + " failed: " + std::strerror(failure.error)};
  }

  // Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int error = errno;
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return {-1, -1, std::string{"pidfd_open failed: "} + std::strerror(error)};
  }
  return {pid, pidfd, ""};
}

volatile sig_atomic_t g_forward_signal = 0;
volatile sig_atomic_t g_interrupted = 0;

void remember_signal(int signal_number) {
  g_forward_signal = signal_number;
  g_interrupted = 1;
}

// Installs handlers that record SIGINT and SIGTERM while a command runs, and puts
// the previous handlers back when destroyed.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_forward_signal = 0;
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// Waits until the pidfd is readable (the process exited). Returns false at the
// deadline. Signals recorded by SignalForwarding are passed to the process group.
bool wait_for_exit(pid_t pid, int pidfd, std::chrono::steady_clock::time_point deadline, bool has_deadline) {
  while (true) {
    int timeout_ms = -1;
    if (has_deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
    }
    struct pollfd entry {pidfd, POLLIN, 0};
    int ready = poll(&entry, 1, timeout_ms);
    if (g_forward_signal != 0) {
      kill(-pid, g_forward_signal);
      g_forward_signal = 0;
    }
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true;  // wait4 below reports the state
  }
}

}  // namespace

bool interrupt_received() { return g_interrupted != 0; }

ChildResult run_child(const ChildOptions& options) {
  ChildResult result;
  SignalForwarding forwarding;
  auto start = std::chrono::steady_clock::now();
  Spawned child = spawn(options);
  if (child.pid < 0) {
    result.error = child.error;
    return result;
  }

  auto deadline = start + std::chrono::seconds(options.timeout_s);
  if (!wait_for_exit(child.pid, child.pidfd, deadline, options.timeout_s != 0)) {
    result.timed_out = true;
    kill(-child.pid, SIGKILL);
  }
  int status = 0;
  struct rusage usage {};
  while (wait4(child.pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(child.pidfd);
  // Descendants that outlived the command (daemonised or orphaned) end with it.
  kill(-child.pid, SIGKILL);
  result.exit_status = exit_status_from_wait(status);
  result.usage = from_rusage(usage);
  return result;
}

BackgroundChild::BackgroundChild(const ChildOptions& options) {
  Spawned child = spawn(options);
  if (child.pid < 0) throw std::runtime_error(options.argv.empty() ? child.error : options.argv[0] + ": " + child.error);
  pid_ = child.pid;
  pidfd_ = child.pidfd;
}

BackgroundChild::~BackgroundChild() {
  if (pid_ > 0 && !exit_status_) stop(SIGKILL, 5);
  if (pidfd_ >= 0) close(pidfd_);
}

bool BackgroundChild::running() {
  if (exit_status_) return false;
  struct pollfd entry {pidfd_, POLLIN, 0};
  return poll(&entry, 1, 0) == 0;
}

int BackgroundChild::stop(int signal_number, unsigned grace_s) {
  if (exit_status_) return *exit_status_;
  kill(-pid_, signal_number);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  if (!wait_for_exit(pid_, pidfd_, deadline, true)) kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  kill(-pid_, SIGKILL);
  exit_status_ = exit_status_from_wait(status);
  return *exit_status_;
}

}  // namespace nozero::run
